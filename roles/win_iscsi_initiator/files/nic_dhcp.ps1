# sanboot.iscsi simulator model: win_iscsi_initiator/nic_dhcp
# Switches the given network adapters to DHCP (address and DNS servers), only those where DHCP
# is off. The role never passes the adapter that carries the running iSCSI boot session.
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory = $true)]
    [string[]]
    $MacAddresses
)

$ErrorActionPreference = 'Stop'

$changedAdapters = @()
$rebootRequired = $false
foreach ($mac in $MacAddresses) {
    $wanted = ($mac -replace '[^0-9A-Fa-f]', '').ToUpperInvariant()
    $adapter = @(Get-WmiObject -Class Win32_NetworkAdapter | Where-Object {
            $_.MACAddress -and (($_.MACAddress -replace '[^0-9A-Fa-f]', '').ToUpperInvariant() -eq $wanted)
        })
    if ($adapter.Count -eq 0) {
        throw "no network adapter has the MAC address $mac"
    }
    $config = Get-WmiObject -Class Win32_NetworkAdapterConfiguration -Filter "Index = $($adapter[0].Index)"
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
