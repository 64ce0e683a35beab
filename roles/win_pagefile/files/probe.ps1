# sanboot.iscsi simulator model: win_pagefile/probe
# Reads what the pagefile decision needs besides win_disk_facts and win_pagefile: the pagefiles
# Windows pages to now (they change only at a restart), the crash-dump settings and memory.
# Changes nothing.
[CmdletBinding(SupportsShouldProcess)]
param ()

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

$os = Get-WmiObject -Class Win32_OperatingSystem
$computer = Get-WmiObject -Class Win32_ComputerSystem
$usage = @(Get-WmiObject -Class Win32_PageFileUsage | ForEach-Object {
        @{ name = [string]$_.Name; allocated_base_size = [int]$_.AllocatedBaseSize }
    })

$crashControl = @{}
$crashKey = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SYSTEM\CurrentControlSet\Control\CrashControl')
foreach ($name in 'CrashDumpEnabled', 'DedicatedDumpFile', 'DumpFileSize') {
    $crashControl[$name] = $(if ($crashKey) { $crashKey.GetValue($name, $null, 'DoNotExpandEnvironmentNames') } else { $null })
}
if ($crashKey) {
    $crashKey.Close()
}

$Ansible.Result = @{
    os_version = [string]$os.Version
    system_root = $env:SystemRoot
    system_drive = $env:SystemDrive
    # 1048576 = 1MB (the grammar check cannot parse a multiplier suffix after an operator)
    memory_mb = [int64]($computer.TotalPhysicalMemory / 1048576)
    automatic_managed = [bool]$computer.AutomaticManagedPagefile
    usage = $usage
    crash_control = $crashControl
}
