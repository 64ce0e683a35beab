# sanboot.iscsi simulator model: reboot_marker
# Remembers that a change of this role waits for a restart, in a volatile registry key: Windows
# drops volatile keys at shutdown, so the mark lasts exactly until the next restart and later runs
# report the pending restart correctly, neither forgetting it nor reporting it forever.
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory = $true)]
    [string]
    $Name
)

$ErrorActionPreference = 'Stop'

$parentPath = 'SOFTWARE\sanboot.iscsi.RebootPending'
$existing = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey("$parentPath\$Name")
if ($existing) {
    $existing.Close()
    $Ansible.Changed = $false
    $Ansible.Result = @{ marked = $true }
    return
}

$Ansible.Changed = $true
if ($PSCmdlet.ShouldProcess("HKLM\$parentPath\$Name", 'Mark a restart as pending until the next boot')) {
    $volatile = [Microsoft.Win32.RegistryOptions]::Volatile
    $check = [Microsoft.Win32.RegistryKeyPermissionCheck]::Default
    $parent = [Microsoft.Win32.Registry]::LocalMachine.CreateSubKey($parentPath, $check, $volatile)
    try {
        $parent.CreateSubKey($Name, $check, $volatile).Close()
    }
    finally {
        $parent.Close()
    }
}
$Ansible.Result = @{ marked = $true }
