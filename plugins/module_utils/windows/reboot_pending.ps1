# sanboot.iscsi simulator model: reboot_pending
# Whether Windows waits for a restart, and the collection's own marks of changes that wait for one.
# The sanboot.iscsi.win_reboot_pending action runs this script (through win_powershell) for every
# Windows role of the collection: it is the one place this code lives.
# A mark is a volatile registry key, HKLM\SOFTWARE\sanboot.iscsi.RebootPending\<Name>: Windows drops
# volatile keys at shutdown, so a mark lasts exactly until the next restart, and later runs report
# the pending restart correctly, neither forgetting it nor reporting it forever.
[CmdletBinding(SupportsShouldProcess)]
param (
    [string]
    $Name = '',

    [bool]
    $Mark = $false
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

function Test-LocalMachineKey {
    param ([string]$Path)
    $key = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($Path)
    if ($key) {
        $key.Close()
        return $true
    }
    return $false
}

$parentPath = 'SOFTWARE\sanboot.iscsi.RebootPending'
$marked = $false
if ($Name) {
    $marked = Test-LocalMachineKey -Path "$parentPath\$Name"
    if ($Mark -and -not $marked) {
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
        $marked = $true
    }
}

# Windows' own signs of a restart it waits for: servicing (CBS), Windows Update, file operations
# queued for the next boot, and a computer name change.
$reasons = @()
if (Test-LocalMachineKey -Path 'SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending') {
    $reasons += 'Component Based Servicing: RebootPending'
}
if (Test-LocalMachineKey -Path 'SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired') {
    $reasons += 'Windows Update: RebootRequired'
}
$sessionManager = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SYSTEM\CurrentControlSet\Control\Session Manager')
if ($sessionManager) {
    try {
        if (@($sessionManager.GetValue('PendingFileRenameOperations', $null) | Where-Object { $_ }).Count -gt 0) {
            $reasons += 'Session Manager: PendingFileRenameOperations'
        }
    }
    finally {
        $sessionManager.Close()
    }
}
$names = @('ActiveComputerName', 'ComputerName') | ForEach-Object {
    $key = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey("SYSTEM\CurrentControlSet\Control\ComputerName\$_")
    if ($key) {
        try {
            [string]$key.GetValue('ComputerName', '')
        }
        finally {
            $key.Close()
        }
    }
}
if (@($names).Count -eq 2 -and $names[0] -and $names[1] -and $names[0] -ne $names[1]) {
    $reasons += "computer name change: $($names[0]) -> $($names[1])"
}

$Ansible.Result = @{
    marked = $marked
    windows_reasons = $reasons
    os_version = [string][Environment]::OSVersion.Version
    powershell_version = [string]$PSVersionTable.PSVersion
}
