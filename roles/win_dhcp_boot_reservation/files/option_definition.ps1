# sanboot.iscsi simulator model: win_dhcp_boot_reservation/option_definition
# Defines a DHCP option on the server once (option 203, the initiator IQN, is not predefined).
# An existing definition with the same type is kept as it is; one of another type is an error,
# never silently redefined.
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory = $true)]
    [int]
    $OptionId,

    [Parameter(Mandatory = $true)]
    [string]
    $Name,

    [string]
    $Type = 'String',

    [string]
    $Description = ''
)

$ErrorActionPreference = 'Stop'
Import-Module -Name DhcpServer

$held = @(Get-DhcpServerv4OptionDefinition | Where-Object { $_.OptionId -eq $OptionId })
if ($held.Count -gt 0) {
    if ([string]$held[0].Type -ne $Type) {
        throw "option $OptionId is already defined as $($held[0].Type) ($($held[0].Name)), not $Type"
    }
    $Ansible.Changed = $false
    $Ansible.Result = @{ defined = $true; name = [string]$held[0].Name }
    return
}

$Ansible.Changed = $true
if ($PSCmdlet.ShouldProcess("option $OptionId", "Define it as $Name ($Type)")) {
    Add-DhcpServerv4OptionDefinition -OptionId $OptionId -Name $Name -Type $Type -Description $Description
}
$Ansible.Result = @{ defined = $true; name = $Name }
