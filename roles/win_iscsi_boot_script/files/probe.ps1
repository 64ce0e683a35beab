# sanboot.iscsi simulator model: win_iscsi_boot_script/probe
# Reads the local Group Policy files (as bytes: scripts.ini is UTF-16LE), the Group Policy
# Scripts registry keys of shutdown scripts, whether the command exists, and whether a policy
# turns local Group Policy processing off. Changes nothing; the controller computes the rest.
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory = $true)]
    [string]
    $Command
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

function Get-FileBase64 {
    param ([string]$Path)
    if (Test-Path -LiteralPath $Path -PathType Leaf) {
        [Convert]::ToBase64String([IO.File]::ReadAllBytes($Path))
    }
    else {
        ''
    }
}

function Get-KeyValue {
    param ([Microsoft.Win32.RegistryKey]$Key)
    $values = @{}
    foreach ($name in $Key.GetValueNames()) {
        $values[$name] = @{
            type = $Key.GetValueKind($name).ToString().ToLowerInvariant()
            data = $Key.GetValue($name, $null, 'DoNotExpandEnvironmentNames')
        }
    }
    $values
}

function Get-ScriptListing {
    # One entry per GPO (subkey n), each with its scripts (subkeys n\m).
    param ([string]$Path)
    $entries = @()
    $root = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($Path)
    if ($root) {
        try {
            foreach ($gpoName in $root.GetSubKeyNames()) {
                $gpo = $root.OpenSubKey($gpoName)
                $scripts = @()
                foreach ($scriptName in $gpo.GetSubKeyNames()) {
                    $scriptKey = $gpo.OpenSubKey($scriptName)
                    $scripts += @{ name = $scriptName; values = Get-KeyValue -Key $scriptKey }
                    $scriptKey.Close()
                }
                $entries += @{ name = $gpoName; values = Get-KeyValue -Key $gpo; scripts = $scripts }
                $gpo.Close()
            }
        }
        finally {
            $root.Close()
        }
    }
    , $entries
}

$groupPolicy = Join-Path -Path $env:SystemRoot -ChildPath 'System32\GroupPolicy'
$commandPath = [Environment]::ExpandEnvironmentVariables($Command)
$scriptsKey = 'SOFTWARE\Microsoft\Windows\CurrentVersion\Group Policy'

$localGpoDisabled = $false
$systemPolicy = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SOFTWARE\Policies\Microsoft\Windows\System')
if ($systemPolicy) {
    $localGpoDisabled = [int]$systemPolicy.GetValue('DisableLGPP', 0) -eq 1
    $systemPolicy.Close()
}

$Ansible.Result = @{
    os_version = [string](Get-WmiObject -Class Win32_OperatingSystem).Version
    system_root = $env:SystemRoot
    command_path = $commandPath
    command_present = Test-Path -LiteralPath $commandPath -PathType Leaf
    scripts_ini_base64 = Get-FileBase64 -Path (Join-Path -Path $groupPolicy -ChildPath 'Machine\Scripts\scripts.ini')
    gpt_ini_base64 = Get-FileBase64 -Path (Join-Path -Path $groupPolicy -ChildPath 'gpt.ini')
    registry = @{
        scripts = Get-ScriptListing -Path "$scriptsKey\Scripts\Shutdown"
        state = Get-ScriptListing -Path "$scriptsKey\State\Machine\Scripts\Shutdown"
    }
    local_gpo_disabled = $localGpoDisabled
}
