# sanboot.iscsi simulator model: win_dhcp_boot_reservation/option_values
# Sets the options this role owns (ManagedOptionIds) on one reservation to exactly the given
# values: a differing value is set, an owned option not given is removed, other options stay.
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory = $true)]
    [string]
    $ReservedIP,

    [Parameter(Mandatory = $true)]
    [System.Collections.IDictionary]
    $Values,

    [Parameter(Mandatory = $true)]
    [int[]]
    $ManagedOptionIds
)

$ErrorActionPreference = 'Stop'
Import-Module -Name DhcpServer

$reservation = $null
try {
    $reservation = Get-DhcpServerv4Reservation -IPAddress $ReservedIP
}
catch {
    $reservation = $null
}
if (-not $reservation) {
    if ($Ansible.CheckMode) {
        # In check mode the reservation task only reported that it would create the reservation.
        $Ansible.Changed = $true
        $Ansible.Result = @{ set = @($Values.Keys | ForEach-Object { [string]$_ } | Sort-Object); removed = @(); reservation = $false }
        return
    }
    throw "Get-DhcpServerv4Reservation: no reservation for $ReservedIP"
}

$current = @{}
foreach ($optionValue in @(Get-DhcpServerv4OptionValue -ReservedIP $ReservedIP)) {
    $current[[string]$optionValue.OptionId] = (@($optionValue.Value) -join ',')
}

$set = @()
$removed = @()
foreach ($optionId in $ManagedOptionIds) {
    $key = [string]$optionId
    if ($Values.Contains($key)) {
        $wanted = [string]$Values[$key]
        if (-not $current.ContainsKey($key) -or ($current[$key] -cne $wanted)) {
            $set += $key
            if ($PSCmdlet.ShouldProcess("reservation $ReservedIP", "Set option $key to $wanted")) {
                Set-DhcpServerv4OptionValue -ReservedIP $ReservedIP -OptionId $optionId -Value $wanted
            }
        }
    }
    elseif ($current.ContainsKey($key)) {
        $removed += $key
        if ($PSCmdlet.ShouldProcess("reservation $ReservedIP", "Remove option $key")) {
            Remove-DhcpServerv4OptionValue -ReservedIP $ReservedIP -OptionId $optionId
        }
    }
}

$Ansible.Changed = ($set.Count + $removed.Count) -gt 0
$Ansible.Result = @{ set = $set; removed = $removed; reservation = $true }
