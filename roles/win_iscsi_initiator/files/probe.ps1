# sanboot.iscsi simulator model: win_iscsi_initiator/probe
# Reads what the win_iscsi_initiator role decides on besides how the host boots (which the
# collection's sanboot.iscsi.win_iscsi_boot_info reads): the OS, the initiator node name, the
# persistent targets and MPIO. Changes nothing.
[CmdletBinding(SupportsShouldProcess)]
param ()

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

$otherErrors = [System.Collections.Generic.List[string]]::new()

function Invoke-Query {
    # The query's results as an array, or $null when it failed (its error goes to $Errors).
    param (
        [string]$What,
        [scriptblock]$Query,
        [System.Collections.Generic.List[string]]$Errors
    )
    try {
        , @(& $Query)
    }
    catch {
        $Errors.Add("${What}: $($_.Exception.Message)")
        $null
    }
}

$os = Get-WmiObject -Class Win32_OperatingSystem

$nodeName = ''
$initiator = Invoke-Query -What 'MSiSCSIInitiator_MethodClass' -Errors $otherErrors -Query {
    Get-WmiObject -Namespace root\wmi -Class MSiSCSIInitiator_MethodClass
}
if ($null -ne $initiator -and $initiator.Count -gt 0) {
    $nodeName = [string]$initiator[0].iSCSINodeName
}

$persistentTargets = @()
$persistent = Invoke-Query -What 'MSiSCSIInitiator_PersistentLoginClass' -Errors $otherErrors -Query {
    Get-WmiObject -Namespace root\wmi -Class MSiSCSIInitiator_PersistentLoginClass
}
if ($null -ne $persistent) {
    $persistentTargets = @($persistent | ForEach-Object { [string]$_.TargetName })
}

# The MPIO module's cmdlets are on every Windows Server, but MSDSM answers only once the
# Multipath-IO feature is installed and the host has restarted: until then a call fails.
$mpio = @{ available = $false; iscsi_claimed = $null; policy = $null; reason = '' }
try {
    $claims = Get-MSDSMAutomaticClaimSettings
    $policy = [string](Get-MSDSMGlobalDefaultLoadBalancePolicy)
    $mpio = @{
        available = $true
        # Printed as True/False, and [bool] of the text 'False' is $true: compared as text.
        iscsi_claimed = ([string]$claims['iSCSI'] -eq 'True')
        policy = $(if ($policy) { $policy } else { 'None' })
        reason = ''
    }
}
catch {
    $mpio.reason = $_.Exception.Message
}

$Ansible.Result = @{
    os_version = [string]$os.Version
    caption = [string]$os.Caption
    product_type = [int]$os.ProductType
    system_root = $env:SystemRoot
    node_name = $nodeName
    errors = @($otherErrors)
    persistent_targets = $persistentTargets
    mpio = $mpio
}
