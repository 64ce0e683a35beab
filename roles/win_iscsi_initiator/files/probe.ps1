# sanboot.iscsi simulator model: win_iscsi_initiator/probe
# Reads what the win_iscsi_initiator role decides on: the OS, the initiator node name, the boot
# disk and the iSCSI boot sessions, the network adapters and MPIO. Changes nothing, and never logs
# on to a target: the boot firmware owns the boot session.
[CmdletBinding(SupportsShouldProcess)]
param ()

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

function Get-Optional {
    # A query whose failure means "not there" (no iSCSI initiator, no Storage or MPIO module, no HBA).
    param ([scriptblock]$Query)
    try {
        & $Query
    }
    catch {
        return
    }
}

function Get-PortalAddress {
    # ISCSI_IP_Address (iscsidef.h), embedded in ISCSI_TargetPortal.Address: Type 0 is text (a DNS
    # name or dotted decimal) in TextAddress, 1 a binary IPv4 address, 2 a binary IPv6 address, 3 none.
    # The byte order of the binary IPv4 form is not documented: better no address than a wrong one.
    param ($IpAddress)
    if ($null -eq $IpAddress) {
        return ''
    }
    $type = [int]$IpAddress.Type
    if ($type -eq 0) {
        return [string]$IpAddress.TextAddress
    }
    if ($type -eq 2) {
        return ([System.Net.IPAddress]::new([byte[]]$IpAddress.IpV6Address)).ToString()
    }
    ''
}

$os = Get-WmiObject -Class Win32_OperatingSystem

$nodeName = ''
$initiator = @(Get-Optional { Get-WmiObject -Namespace root\wmi -Class MSiSCSIInitiator_MethodClass })
if ($initiator.Count -gt 0) {
    $nodeName = [string]$initiator[0].iSCSINodeName
}

$bootDisk = $null
$bootSessions = @()
if (Get-Command -Name Get-Disk -ErrorAction SilentlyContinue) {
    $disk = @(Get-Disk | Where-Object { $_.IsBoot })
    if ($disk.Count -gt 0) {
        $bootDisk = @{ number = [int]$disk[0].Number; bus_type = [string]$disk[0].BusType }
    }
}
if (Get-Command -Name Get-IscsiSession -ErrorAction SilentlyContinue) {
    foreach ($session in @(Get-Optional { Get-IscsiSession })) {
        # The boot session is the one whose disk Windows booted from.
        $sessionDisks = @(Get-Optional { $session | Get-Disk } | Where-Object { $_.IsBoot -or $_.IsSystem })
        if ($sessionDisks.Count -eq 0) {
            continue
        }
        $connection = @(Get-Optional { $session | Get-IscsiConnection })
        $bootSessions += @{
            target_iqn = [string]$session.TargetNodeAddress
            initiator_iqn = [string]$session.InitiatorNodeAddress
            initiator_address = $(if ($connection.Count -gt 0) { [string]$connection[0].InitiatorAddress } else { $null })
            target_address = $(if ($connection.Count -gt 0) { [string]$connection[0].TargetAddress } else { $null })
            target_port = $(if ($connection.Count -gt 0) { [int]$connection[0].TargetPortNumber } else { $null })
            is_persistent = [bool]$session.IsPersistent
            source = 'Get-IscsiSession'
        }
    }
}
# iSCSI HBAs that boot on their own expose their boot target here.
foreach ($config in @(Get-Optional { Get-WmiObject -Namespace root\wmi -Class MSiSCSI_BootConfiguration })) {
    $bootSessions += @{
        target_iqn = [string]$config.TargetName
        initiator_iqn = [string]$config.InitiatorNode
        initiator_address = $null
        target_address = Get-PortalAddress -IpAddress $config.TargetPortal.Address
        target_port = [int]$config.TargetPortal.Socket
        is_persistent = $false
        source = 'MSiSCSI_BootConfiguration'
    }
}

$persistentTargets = @(Get-Optional { Get-WmiObject -Namespace root\wmi -Class MSiSCSIInitiator_PersistentLoginClass } |
        ForEach-Object { [string]$_.TargetName })

$adapters = @()
foreach ($adapter in @(Get-WmiObject -Class Win32_NetworkAdapter | Where-Object { $_.MACAddress -and $_.NetConnectionID })) {
    $config = Get-WmiObject -Class Win32_NetworkAdapterConfiguration -Filter "Index = $($adapter.Index)"
    $adapters += @{
        name = [string]$adapter.NetConnectionID
        mac = [string]$adapter.MACAddress
        dhcp_enabled = [bool]$config.DHCPEnabled
        ip_addresses = @($config.IPAddress | Where-Object { $_ })
        interface_index = [int]$adapter.InterfaceIndex
    }
}

$mpio = @{ available = $false; iscsi_claimed = $null; policy = $null }
if (Get-Command -Name Get-MSDSMAutomaticClaimSettings -ErrorAction SilentlyContinue) {
    $policy = [string](Get-MSDSMGlobalDefaultLoadBalancePolicy)
    $mpio = @{
        available = $true
        iscsi_claimed = [bool](Get-MSDSMAutomaticClaimSettings)['iSCSI']
        policy = $(if ($policy) { $policy } else { 'None' })
    }
}

$Ansible.Result = @{
    os_version = [string]$os.Version
    caption = [string]$os.Caption
    product_type = [int]$os.ProductType
    system_root = $env:SystemRoot
    node_name = $nodeName
    boot_disk = $bootDisk
    boot_sessions = $bootSessions
    persistent_targets = $persistentTargets
    adapters = $adapters
    mpio = $mpio
}
