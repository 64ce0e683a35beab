# sanboot.iscsi simulator model: win_sysprep_image/specialize
# Runs once on every clone of the golden image, in the specialize pass of its first boot (the
# answer file's RunSynchronous command), before anyone logs on. It gives the clone its identity:
# the server of sanboot-servers.json whose initiator name is the one the boot firmware logged on
# with (DHCP option 203 or the NIC boot BIOS), else one of whose MACs the clone has; the computer
# name of that entry, and the firmware's initiator name as the initiator node name (what the SAN's
# ACL allows). A clone not in the table takes the first label of a firmware initiator name in
# Windows' default form (iqn.1991-05.com.microsoft:<fqdn>) when the table allows it, else keeps the
# name Windows generated. Logs to
# sanboot-specialize.log next to this script.
# Runs at specialize (RunSynchronous), not through win_powershell.
[CmdletBinding()]
param (
    [string]
    $ServersPath = (Join-Path -Path $PSScriptRoot -ChildPath 'sanboot-servers.json')
)

$ErrorActionPreference = 'Stop'
$log = Join-Path -Path $PSScriptRoot -ChildPath 'sanboot-specialize.log'

function Write-Log {
    param ([string]$Message)
    Add-Content -LiteralPath $log -Value ('{0:s} {1}' -f (Get-Date), $Message)
}

function Get-BareMac {
    param ([string]$Mac)
    ($Mac -replace '[^0-9A-Fa-f]', '').ToUpperInvariant()
}

$servers = @()
$nameFromIqn = $false
if (Test-Path -LiteralPath $ServersPath -PathType Leaf) {
    $table = Get-Content -LiteralPath $ServersPath -Raw | ConvertFrom-Json
    $servers = @($table.servers)
    $nameFromIqn = [bool]$table.name_from_iqn
}

# The boot session's initiator name is the one the firmware logged on with.
$firmwareIqn = ''
try {
    Start-Service -Name MSiSCSI
    $boot = @(Get-IscsiSession | Where-Object { @($_ | Get-Disk | Where-Object { $_.IsBoot }).Count -gt 0 })
    if ($boot.Count -gt 0) {
        $firmwareIqn = [string]$boot[0].InitiatorNodeAddress
    }
}
catch {
    Write-Log "the boot session could not be read: $($_.Exception.Message)"
}
$macs = @(Get-NetAdapter | ForEach-Object { Get-BareMac -Mac $_.MacAddress })

$match = $null
if ($firmwareIqn) {
    $match = @($servers | Where-Object { $_.initiator_iqn -and $_.initiator_iqn -eq $firmwareIqn })[0]
}
if (-not $match) {
    $match = @($servers | Where-Object { $_.mac -and ($macs -contains (Get-BareMac -Mac $_.mac)) })[0]
}

$name = ''
$source = ''
if ($match) {
    $name = [string]$match.name
    $source = $(if ($firmwareIqn -and $match.initiator_iqn -eq $firmwareIqn) { 'initiator name' } else { 'MAC' })
}
elseif ($nameFromIqn -and $firmwareIqn -match '^iqn\.1991-05\.com\.microsoft:([^.:]+)') {
    # Windows' default initiator name form, iqn.1991-05.com.microsoft:<fqdn>: the first label, if Windows takes it.
    $label = $Matches[1]
    if ($label.Length -le 15 -and $label -match '^[A-Za-z0-9-]+$' -and $label -notmatch '^[0-9]+$' -and
        -not $label.StartsWith('-') -and -not $label.EndsWith('-')) {
        $name = $label
        $source = "Windows' default initiator name"
    }
}

$nodeName = $firmwareIqn
if (-not $nodeName -and $match) {
    $nodeName = [string]$match.initiator_iqn
}
if ($nodeName) {
    $ErrorActionPreference = 'Continue'
    $output = & iscsicli.exe NodeName $nodeName 2>&1 | Out-String
    $exitCode = $LASTEXITCODE
    $ErrorActionPreference = 'Stop'
    Write-Log "initiator node name $nodeName (iscsicli exit $exitCode) $($output.Trim())"
}
if ($name) {
    Rename-Computer -NewName $name -Force
    Write-Log "computer name $name (found by $source)"
}
else {
    Write-Log "no entry of $ServersPath for initiator $firmwareIqn or MACs $($macs -join ', '): the computer name stays the one Windows generated"
}
