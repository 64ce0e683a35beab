# sanboot.iscsi simulator model: win_sysprep_image/sysprep
# Runs sysprep.exe /generalize /oobe /shutdown /quiet /unattend:<answer file> and waits for it, as
# long as the WinRM call lasts: the process stays in this call's session, which WinRM would end with
# it. On success Sysprep leaves Sysprep_succeeded.tag and the image state
# IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE and shuts the host down, and this call may lose its
# connection before it returns (the role expects that). On failure the host stays up and the lines
# Sysprep added to %WINDIR%\System32\Sysprep\Panther\setuperr.log say why.
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory = $true)]
    [string]
    $UnattendPath,

    [Parameter(Mandatory = $true)]
    [string[]]
    $Arguments,

    [Parameter(Mandatory = $true)]
    [int]
    $TimeoutSeconds
)

$ErrorActionPreference = 'Stop'

$directory = Join-Path -Path $env:SystemRoot -ChildPath 'System32\Sysprep'
$sysprep = Join-Path -Path $directory -ChildPath 'sysprep.exe'
$succeededTag = Join-Path -Path $directory -ChildPath 'Sysprep_succeeded.tag'
$errorLog = Join-Path -Path $directory -ChildPath 'Panther\setuperr.log'
$unattend = [Environment]::ExpandEnvironmentVariables($UnattendPath)
$argumentList = @($Arguments) + @("/unattend:$unattend")

$Ansible.Changed = $true
$Ansible.Result = @{
    command = "$sysprep $($argumentList -join ' ')"
    pid = $null
    exit_code = $null
    running = $false
    succeeded = $false
    image_state = ''
    errors = @()
}
if (-not $PSCmdlet.ShouldProcess($sysprep, "Run $($argumentList -join ' ')")) {
    return
}
if (-not (Test-Path -LiteralPath $unattend -PathType Leaf)) {
    throw "the answer file $unattend is not there"
}
if (@(Get-Process -Name sysprep -ErrorAction SilentlyContinue).Count -gt 0) {
    throw 'Sysprep is running already: only one instance of Sysprep can run at a time'
}

# Only what this run leaves counts: an earlier run's success mark and error lines do not.
if (Test-Path -LiteralPath $succeededTag -PathType Leaf) {
    Remove-Item -LiteralPath $succeededTag -Force
}
$knownErrorLines = 0
if (Test-Path -LiteralPath $errorLog -PathType Leaf) {
    $knownErrorLines = @(Get-Content -LiteralPath $errorLog).Count
}

# Sysprep must run from its own folder.
$process = Start-Process -FilePath $sysprep -ArgumentList $argumentList -WorkingDirectory $directory -PassThru
$Ansible.Result.pid = $process.Id
# Holding the process handle keeps its exit code readable once it has ended.
$null = $process.Handle
$exited = $process.WaitForExit($TimeoutSeconds * 1000)
$Ansible.Result.running = -not $exited
if ($exited) {
    $Ansible.Result.exit_code = $process.ExitCode
}

if (Test-Path -LiteralPath $errorLog -PathType Leaf) {
    $lines = @(Get-Content -LiteralPath $errorLog)
    # A log shorter than before was started afresh: all of it is this run's.
    $first = $(if ($lines.Count -ge $knownErrorLines) { $knownErrorLines } else { 0 })
    $Ansible.Result.errors = @($lines | Select-Object -Skip $first | Where-Object { $_ } | Select-Object -Last 20)
}
$Ansible.Result.succeeded = Test-Path -LiteralPath $succeededTag -PathType Leaf
$state = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State' -ErrorAction SilentlyContinue
if ($state) {
    $Ansible.Result.image_state = [string]$state.ImageState
}
