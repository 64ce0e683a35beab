# sanboot.iscsi simulator model: win_iscsi_initiator/nic_dhcp
# Switches the planned network adapters to DHCP (address and DNS servers), only those where DHCP is
# off. Each is named by its interface index, with the MAC address the plan saw: team members, a
# Hyper-V switch port and its physical NIC share a MAC, so a MAC alone can name the wrong adapter.
# The role never passes an adapter that carries, or may carry, the iSCSI boot disk.
[CmdletBinding(SupportsShouldProcess)]
param (
    # Interface index => MAC address, as planned.
    [Parameter(Mandatory = $true)]
    [System.Collections.IDictionary]
    $Adapters
)

$ErrorActionPreference = 'Stop'

function Get-BareMac {
    param ([string]$Mac)
    ($Mac -replace '[^0-9A-Fa-f]', '').ToUpperInvariant()
}

$changedAdapters = @()
$rebootRequired = $false
foreach ($key in @($Adapters.Keys | Sort-Object -Property { [int]$_ })) {
    $index = [int]$key
    $planned = [string]$Adapters[$key]
    $adapter = @(Get-WmiObject -Class Win32_NetworkAdapter -Filter "InterfaceIndex = $index")
    if ($adapter.Count -ne 1) {
        throw "no network adapter has the interface index $index (planned with MAC $planned): the host changed since it was read; run the role again"
    }
    if ((Get-BareMac -Mac $adapter[0].MACAddress) -ne (Get-BareMac -Mac $planned)) {
        throw "the network adapter with interface index $index ($($adapter[0].NetConnectionID)) has the MAC address $($adapter[0].MACAddress), not $planned as planned: the host changed since it was read; run the role again"
    }
    $config = Get-WmiObject -Class Win32_NetworkAdapterConfiguration -Filter "InterfaceIndex = $index"
    if ($config.DHCPEnabled) {
        continue
    }
    $changedAdapters += [string]$adapter[0].NetConnectionID
    if ($PSCmdlet.ShouldProcess($adapter[0].NetConnectionID, 'Enable DHCP')) {
        $status = $config.EnableDHCP()
        # Win32_NetworkAdapterConfiguration.EnableDHCP: 0 done, 1 done but a restart is needed.
        if ($status.ReturnValue -eq 1) {
            $rebootRequired = $true
        }
        elseif ($status.ReturnValue -ne 0) {
            throw "EnableDHCP on $($adapter[0].NetConnectionID) failed with code $($status.ReturnValue)"
        }
        # An empty DNS server search order means: take the DNS servers from DHCP too.
        [void]$config.SetDNSServerSearchOrder()
    }
}

$Ansible.Changed = $changedAdapters.Count -gt 0
$Ansible.Result = @{ changed_adapters = $changedAdapters; reboot_required = $rebootRequired }
