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

# The MPIO module's cmdlets are on every Windows Server, but MSDSM answers only once the
# Multipath-IO feature is installed and the host has restarted: until then the settings are
# pending, which is reported, not a failure.
try {
    $claims = Get-MSDSMAutomaticClaimSettings
    $current = [string](Get-MSDSMGlobalDefaultLoadBalancePolicy)
}
catch {
    $Ansible.Result = @{ available = $false; reason = $_.Exception.Message; changes = @(); reboot_reasons = @() }
    return
}

$changes = @()
$rebootReasons = @()
# Printed as True/False, and [bool] of the text 'False' is $true: compared as text.
$claimed = [string]$claims['iSCSI'] -eq 'True'
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
$Ansible.Result = @{ available = $true; reason = ''; changes = $changes; reboot_reasons = $rebootReasons }
