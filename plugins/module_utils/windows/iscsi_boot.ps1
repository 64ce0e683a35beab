# sanboot.iscsi simulator model: iscsi_boot
# How Windows boots from iSCSI, as far as Windows knows it for certain: the initiator service's
# state, the boot disk, the iSCSI boot sessions with the interface each connection goes out of
# (Find-NetRoute to its target address), the firmware's boot configuration of an iSCSI HBA with the
# route to its portal, and the network adapters. Reads only; never logs on to a target (the boot
# firmware owns the boot session).
# The sanboot.iscsi.win_iscsi_boot_info action runs this script (through win_powershell) for every
# Windows role of the collection that must know which NIC carries the boot disk: it is the one
# place this code lives.
#
# A query that fails is reported (boot_errors), never taken for "nothing there": an unread boot
# session must not look like no boot session.
[CmdletBinding(SupportsShouldProcess)]
param ()

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

$bootErrors = [System.Collections.Generic.List[string]]::new()

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

function Get-WmiInstance {
    # Instances of a WMI class only some hosts have (an HBA's boot configuration): a class that is
    # not there means none; any other failure is reported.
    param (
        [string]$Namespace,
        [string]$Class,
        [System.Collections.Generic.List[string]]$Errors
    )
    try {
        , @(Get-WmiObject -Namespace $Namespace -Class $Class)
    }
    catch [System.Management.ManagementException] {
        if ([string]$_.Exception.ErrorCode -in @('NotFound', 'InvalidClass', 'NotSupported')) {
            , @()
        }
        else {
            $Errors.Add("${Class}: $($_.Exception.Message)")
            $null
        }
    }
    catch {
        $Errors.Add("${Class}: $($_.Exception.Message)")
        $null
    }
}

function Get-Route {
    # The interface Windows sends to an address from: Find-NetRoute returns the local address
    # (MSFT_NetIPAddress) and the route (MSFT_NetRoute), both with InterfaceIndex.
    param ([string]$Address)
    if (-not $Address) {
        return $null
    }
    $found = Invoke-Query -What "Find-NetRoute -RemoteIPAddress $Address" -Errors $bootErrors -Query {
        Find-NetRoute -RemoteIPAddress $Address
    }
    if ($null -eq $found -or $found.Count -eq 0) {
        return $null
    }
    @{
        interface_indexes = @($found | ForEach-Object { [int]$_.InterfaceIndex } | Sort-Object -Unique)
        local_addresses = @($found | Where-Object { $_.IPAddress } | ForEach-Object { [string]$_.IPAddress })
    }
}

function Get-PortalAddress {
    # ISCSI_IP_Address (iscsidef.h), embedded in ISCSI_TargetPortal.Address: Type 0 is text (a DNS
    # name or dotted decimal) in TextAddress, 1 a binary IPv4 address, 2 a binary IPv6 address, 3 none.
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
    if ($type -eq 1) {
        # The byte order of the binary IPv4 form is not documented: better unknown than a wrong address.
        $bootErrors.Add("MSiSCSI_BootConfiguration: the portal address is a binary IPv4 address (ISCSI_IP_Address Type 1), whose byte order Microsoft does not document")
    }
    ''
}

$service = Get-Service -Name MSiSCSI

$bootDisk = $null
$disks = Invoke-Query -What 'Get-Disk' -Errors $bootErrors -Query { Get-Disk | Where-Object { $_.IsBoot } }
if ($null -ne $disks -and $disks.Count -gt 0) {
    $bootDisk = @{
        number = [int]$disks[0].Number
        bus_type = [string]$disks[0].BusType
        bus_types = @($disks | ForEach-Object { [string]$_.BusType })
    }
}

$bootSessions = @()
$sessions = Invoke-Query -What 'Get-IscsiSession' -Errors $bootErrors -Query { Get-IscsiSession }
if ($null -ne $sessions) {
    foreach ($session in $sessions) {
        $id = [string]$session.SessionIdentifier
        $sessionDisks = Invoke-Query -What "Get-Disk of iSCSI session $id" -Errors $bootErrors -Query { $session | Get-Disk }
        if ($null -eq $sessionDisks) {
            continue
        }
        # The boot session is the one whose disk Windows booted from.
        if (@($sessionDisks | Where-Object { $_.IsBoot -or $_.IsSystem }).Count -eq 0) {
            continue
        }
        $connections = @()
        $found = Invoke-Query -What "Get-IscsiConnection of iSCSI session $id" -Errors $bootErrors -Query {
            $session | Get-IscsiConnection
        }
        foreach ($connection in @($found | Where-Object { $_ })) {
            $connections += @{
                initiator_address = [string]$connection.InitiatorAddress
                target_address = [string]$connection.TargetAddress
                target_port = [int]$connection.TargetPortNumber
                route = Get-Route -Address ([string]$connection.TargetAddress)
            }
        }
        $bootSessions += @{
            target_iqn = [string]$session.TargetNodeAddress
            initiator_iqn = [string]$session.InitiatorNodeAddress
            is_persistent = [bool]$session.IsPersistent
            connections = $connections
        }
    }
}

# iSCSI HBAs that boot on their own describe their boot target here (Config.mof, MSiSCSI_BootConfiguration).
$firmwareBoot = @()
$configurations = Get-WmiInstance -Namespace root\wmi -Class MSiSCSI_BootConfiguration -Errors $bootErrors
foreach ($config in @($configurations | Where-Object { $_ })) {
    $address = Get-PortalAddress -IpAddress $config.TargetPortal.Address
    $firmwareBoot += @{
        target_iqn = [string]$config.TargetName
        initiator_iqn = [string]$config.InitiatorNode
        target_address = $address
        target_port = [int]$config.TargetPortal.Socket
        route = Get-Route -Address $address
        source = 'MSiSCSI_BootConfiguration'
    }
}

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

$Ansible.Result = @{
    service = @{ status = [string]$service.Status; start_type = [string]$service.StartType }
    boot_disk = $bootDisk
    boot_sessions = $bootSessions
    firmware_boot = $firmwareBoot
    boot_errors = @($bootErrors)
    adapters = $adapters
}
