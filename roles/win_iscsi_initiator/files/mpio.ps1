# sanboot.iscsi simulator model: win_iscsi_initiator/mpio
# MSDSM settings of the Multipath-IO feature: automatic claim of iSCSI disks (takes effect at the
# next restart) and the global default load-balance policy. Changes only what differs.
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory = $true)]
    [bool]
    $ClaimIscsi,

    [Parameter(Mandatory = $true)]
    [ValidateSet('FOO', 'RR', 'LQD', 'LB', 'None')]
    [string]
    $Policy
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

if (-not (Get-Command -Name Get-MSDSMAutomaticClaimSettings -ErrorAction SilentlyContinue)) {
    # The MPIO module arrives with the Multipath-IO feature.
    $Ansible.Result = @{ available = $false; changes = @(); reboot_reasons = @() }
    return
}

$changes = @()
$rebootReasons = @()
$claimed = [bool](Get-MSDSMAutomaticClaimSettings)['iSCSI']
if ($claimed -ne $ClaimIscsi) {
    $change = $(if ($ClaimIscsi) { 'enabled' } else { 'disabled' }) + ' automatic claim of iSCSI disks'
    $changes += $change
    # MSDSM claims disks when they arrive, that is at the next boot for the boot disk.
    $rebootReasons += $change
    if ($PSCmdlet.ShouldProcess('MSDSM', $change)) {
        if ($ClaimIscsi) {
            Enable-MSDSMAutomaticClaim -BusType iSCSI -Confirm:$false
        }
        else {
            Disable-MSDSMAutomaticClaim -BusType iSCSI -Confirm:$false
        }
    }
}

$current = [string](Get-MSDSMGlobalDefaultLoadBalancePolicy)
if (-not $current) {
    $current = 'None'
}
if ($current -ne $Policy) {
    $change = "default load-balance policy $current -> $Policy"
    $changes += $change
    if ($PSCmdlet.ShouldProcess('MSDSM', $change)) {
        Set-MSDSMGlobalDefaultLoadBalancePolicy -Policy $Policy
    }
}

$Ansible.Changed = $changes.Count -gt 0
$Ansible.Result = @{ available = $true; changes = $changes; reboot_reasons = $rebootReasons }
