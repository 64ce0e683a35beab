# sanboot.iscsi simulator model: win_sysprep_image/probe
# Reads what decides whether Sysprep may generalize this reference host, besides how it boots
# (sanboot.iscsi.win_iscsi_boot_info) and whether a restart is pending (sanboot.iscsi.win_reboot_pending):
# sysprep.exe, the Windows image state, Sysprep's own generalization state, an in-place upgrade,
# the remaining rearm count, where the pagefiles are, and domain membership. Changes nothing.
[CmdletBinding(SupportsShouldProcess)]
param ()

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

function Get-RegistryValue {
    param ([string]$Path, [string]$Name)
    $key = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($Path)
    if (-not $key) {
        return $null
    }
    try {
        $key.GetValue($Name, $null)
    }
    finally {
        $key.Close()
    }
}

function Get-DiskBusType {
    # The bus of the disk that holds a drive letter ('' when Windows does not say).
    param ([string]$Letter)
    try {
        [string](Get-Partition -DriveLetter $Letter | Get-Disk).BusType
    }
    catch {
        ''
    }
}

$sysprep = Join-Path -Path $env:SystemRoot -ChildPath 'System32\Sysprep\sysprep.exe'
$imageState = [string](Get-RegistryValue -Path 'SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State' -Name 'ImageState')
$generalization = Get-RegistryValue -Path 'SYSTEM\Setup\Status\SysprepStatus' -Name 'GeneralizationState'
$upgradeKey = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SYSTEM\Setup\Upgrade')
$upgraded = $null -ne $upgradeKey
if ($upgradeKey) {
    $upgradeKey.Close()
}

$remaining = $null
$licensing = @(Get-WmiObject -Class SoftwareLicensingService)
if ($licensing.Count -gt 0) {
    $remaining = [int]$licensing[0].RemainingWindowsReArmCount
}

$computer = Get-WmiObject -Class Win32_ComputerSystem
$pagefiles = @()
$names = @(Get-WmiObject -Class Win32_PageFileUsage | ForEach-Object { [string]$_.Name })
$names += @(Get-WmiObject -Class Win32_PageFileSetting | ForEach-Object { [string]$_.Name })
foreach ($name in @($names | Sort-Object -Unique)) {
    $letter = $name.Substring(0, 1)
    $pagefiles += @{ name = $name; bus_type = Get-DiskBusType -Letter $letter }
}

$Ansible.Result = @{
    system_root = $env:SystemRoot
    sysprep_present = Test-Path -LiteralPath $sysprep -PathType Leaf
    image_state = $imageState
    generalization_state = $(if ($null -ne $generalization) { [int]$generalization } else { $null })
    upgraded = $upgraded
    remaining_rearm_count = $remaining
    automatic_managed_pagefile = [bool]$computer.AutomaticManagedPagefile
    domain_member = [bool]$computer.PartOfDomain
    domain = [string]$computer.Domain
    pagefiles = $pagefiles
}
