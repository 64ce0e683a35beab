# sanboot.iscsi simulator model: win_dhcp_boot_reservation/probe
# Reads the DHCP server's scopes, the reservations and dynamic leases held by the given MAC
# addresses or IP addresses (to find conflicts before changing anything) and the definition of
# option 203.
# Changes nothing.
[CmdletBinding(SupportsShouldProcess)]
param (
    [string[]]
    $MacAddresses = @(),

    [string[]]
    $IPAddresses = @()
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
Import-Module -Name DhcpServer

$wantedClients = @($MacAddresses | ForEach-Object { ($_ -replace '[^0-9A-Fa-f]', '').ToLowerInvariant() })
$scopes = @(Get-DhcpServerv4Scope)
$reservations = @()
foreach ($scope in $scopes) {
    foreach ($held in @(Get-DhcpServerv4Reservation -ScopeId $scope.ScopeId)) {
        $client = ([string]$held.ClientId -replace '[^0-9A-Fa-f]', '').ToLowerInvariant()
        $address = $held.IPAddress.IPAddressToString
        if (($wantedClients -contains $client) -or ($IPAddresses -contains $address)) {
            $reservations += @{
                scope_id = $scope.ScopeId.IPAddressToString
                ip = $address
                client_id = [string]$held.ClientId
                name = [string]$held.Name
                description = [string]$held.Description
            }
        }
    }
}

# Dynamic leases of the same MACs and addresses: ansible.windows.win_dhcp_lease finds a MAC's lease
# before anything else and turns it into a reservation at the lease's own address, so the role must
# know them. Get-DhcpServerv4Lease lists reservations too; those are read above.
$leases = @()
foreach ($scope in $scopes) {
    foreach ($held in @(Get-DhcpServerv4Lease -ScopeId $scope.ScopeId)) {
        if ([string]$held.AddressState -like '*Reservation*') {
            continue
        }
        $client = ([string]$held.ClientId -replace '[^0-9A-Fa-f]', '').ToLowerInvariant()
        $address = $held.IPAddress.IPAddressToString
        if (($wantedClients -contains $client) -or ($IPAddresses -contains $address)) {
            $leases += @{
                scope_id = $scope.ScopeId.IPAddressToString
                ip = $address
                client_id = [string]$held.ClientId
                hostname = [string]$held.HostName
                address_state = [string]$held.AddressState
            }
        }
    }
}

$definitions = @{}
foreach ($definition in @(Get-DhcpServerv4OptionDefinition | Where-Object { $_.OptionId -eq 203 })) {
    $definitions['203'] = @{ name = [string]$definition.Name; type = [string]$definition.Type }
}

$Ansible.Result = @{
    scopes = @($scopes | ForEach-Object { $_.ScopeId.IPAddressToString })
    reservations = $reservations
    leases = $leases
    option_definitions = $definitions
}
