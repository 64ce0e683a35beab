# sanboot.iscsi simulator model: win_iscsi_initiator/node_name
# Sets the Microsoft iSCSI initiator node name, only when it differs (iSCSI names compare
# case-insensitively, RFC 3722, as PowerShell's -eq does).
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory = $true)]
    [string]
    $NodeName
)

$ErrorActionPreference = 'Stop'

$initiator = @(Get-WmiObject -Namespace root\wmi -Class MSiSCSIInitiator_MethodClass)[0]
$current = [string]$initiator.iSCSINodeName
$Ansible.Result = @{ before = $current; after = $current }
if ($current -eq $NodeName) {
    $Ansible.Changed = $false
    return
}

$Ansible.Changed = $true
$Ansible.Result.after = $NodeName
if ($PSCmdlet.ShouldProcess($current, "Set the iSCSI initiator node name to $NodeName")) {
    # Windows PowerShell turns a native program's stderr into terminating errors under 'Stop':
    # judge iscsicli by its exit code instead.
    $ErrorActionPreference = 'Continue'
    $output = & iscsicli.exe NodeName $NodeName 2>&1 | Out-String
    $exitCode = $LASTEXITCODE
    $ErrorActionPreference = 'Stop'
    if ($exitCode -ne 0) {
        throw "iscsicli NodeName $NodeName failed (exit $exitCode): $($output.Trim())"
    }
}
