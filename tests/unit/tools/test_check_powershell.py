# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PowerShell grammar check of `make lint` (tools/check_powershell.py): it parses with the
real grammar from PyPI, fails on syntax errors and on PowerShell 7-only syntax with file and line,
accepts the Windows PowerShell 5.1 the roles are written in, and passes on the whole tree."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
_SPEC = importlib.util.spec_from_file_location("check_powershell", REPO / "tools" / "check_powershell.py")
check = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = check
_SPEC.loader.exec_module(check)


def messages(source):
    return [(finding.line, finding.message) for finding in check.check_source(textwrap.dedent(source))]


def test_a_broken_brace_fails_with_file_and_line(tmp_path):
    script = tmp_path / "broken.ps1"
    script.write_text("$ErrorActionPreference = 'Stop'\nif ($true) {\n    Write-Output 'never closed'\n")
    findings, checked = check.check_paths([script])
    assert checked == 1
    assert [str(finding) for finding in findings] == [
        "%s:3:32: missing '}' (an unclosed brace, parenthesis or string?)" % script]
    assert check.main([str(script)]) == 1


def test_a_null_coalescing_operator_fails_naming_powershell_7(tmp_path):
    script = tmp_path / "seven.ps1"
    script.write_text("$a = $null\n$b = $a ?? 'default'\n")
    findings, _checked = check.check_paths([script])
    assert len(findings) == 1
    assert (findings[0].line, findings[0].column) == (2, 9)
    assert findings[0].message.startswith("the null-coalescing operator '??' is PowerShell 7 syntax")


@pytest.mark.parametrize("source, expected", [
    ("$a ??= 'x'", "the null-coalescing assignment '??=' is PowerShell 7 syntax"),
    ("$b = ${a}?.Name", "null-conditional member access '?.' is PowerShell 7 syntax"),
    ("$b = ${a}?[0]", "null-conditional indexing '?[' is PowerShell 7 syntax"),
    ("$b = $a -gt 1 ? 'big' : 'small'", "the ternary operator 'condition ? a : b' is PowerShell 7 syntax"),
    ("iscsicli.exe ListTargets && Write-Output ok", "'&&' / '||' between pipelines is PowerShell 7 syntax"),
    ("iscsicli.exe ListTargets || Write-Output failed", "'&&' / '||' between pipelines is PowerShell 7 syntax"),
], ids=["??=", "?.", "?[", "ternary", "&&", "||"])
def test_every_powershell_7_only_form_fails(source, expected):
    found = messages(source)
    assert len(found) == 1 and found[0][0] == 1
    assert found[0][1].startswith(expected), found


@pytest.mark.parametrize("source, expected", [
    ("$x = @(1, 2", "syntax error near '$x = @(1, 2'"),
    ("function Get-X {\n    param ([string]$a\n}\n", "syntax error"),
    ("$s = 'unterminated\n", "syntax error"),
])
def test_other_syntax_errors_fail(source, expected):
    found = messages(source)
    assert found and found[0][1].startswith(expected), found


WINDOWS_POWERSHELL_51 = r'''
    #Requires -Version 5.1
    <#
    .SYNOPSIS
    A comment block.
    #>
    [CmdletBinding(SupportsShouldProcess)]
    param (
        [Parameter(Mandatory = $true)]
        [ValidateSet('FOO', 'RR')]
        [string[]]
        $Name,

        [System.Collections.IDictionary]
        $Values = @{},

        [int[]]
        $InterfaceIndex = @()
    )

    $ErrorActionPreference = 'Stop'
    $Ansible.Changed = $false
    $expandable = @"
    node $Name at $(Get-Date) in ${env:SystemRoot}
    "@
    $literal = @'
    nothing $expands here
    '@
    $splat = @{ Path = 'HKLM:\SOFTWARE\x'; Force = $true }
    New-Item @splat | Out-Null
    $number = [int]'3' + [int64]$Values.Count
    $mac = ($Name[0] -replace '[^0-9A-Fa-f]', '').ToUpperInvariant()
    $query = { param ([scriptblock]$Inner) try { & $Inner } catch { return } }
    $adapters = @(Get-WmiObject -Class Win32_NetworkAdapter | Where-Object { $_.MACAddress -and $_.NetConnectionID })
    $short = @(Get-ChildItem | ? Length -gt 0 | % Name)
    try {
        $route = @(Find-NetRoute -RemoteIPAddress '10.0.0.1' -ErrorAction Stop)
    }
    catch [System.Management.Automation.CommandNotFoundException] {
        $route = @()
    }
    catch {
        throw "Find-NetRoute failed: $($_.Exception.Message)"
    }
    finally {
        $null = 1
    }
    switch -Regex ($mac) {
        '^00' { 'zero' }
        default { 'other' }
    }
    foreach ($index in $InterfaceIndex) {
        if ($index -lt 0) { continue } elseif ($index -eq 0) { break } else { $null = $index }
    }
    $text = '{0} of {1}' -f 1, 2
    $flag = -not $false -and ($number -ne 0) -or !$true
    $bits = 0x10 -band 0xFF -bor (1 -shl 2)
    $key = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SOFTWARE', $false)
    $ordered = [ordered]@{ b = 1; a = @(1, 2) }
    $object = [PSCustomObject]@{ Name = 'x' }
    $first, $rest = 1, 2, 3
    $value = $(if ($flag) { 'yes' } else { 'no' })
    $output = & iscsicli.exe NodeName 'iqn.1991-05.com.microsoft:x' 2>&1 | Out-String
    $exitCode = $LASTEXITCODE
    $size = 4GB
    if ($PSCmdlet.ShouldProcess('MSDSM', 'Enable automatic claim')) {
        Enable-MSDSMAutomaticClaim -BusType iSCSI -Confirm:$false
    }
    $Ansible.Result = @{ claimed = ([string]$value -eq 'True'); count = $adapters.Count }
'''


def test_the_windows_powershell_51_the_roles_use_parses_clean():
    assert messages(WINDOWS_POWERSHELL_51) == []


def test_inline_scripts_of_win_powershell_tasks_are_checked_at_their_line(tmp_path):
    tasks = tmp_path / "tasks.yml"
    tasks.write_text(textwrap.dedent("""\
        ---
        - name: A file of the role; it is checked on its own
          ansible.windows.win_powershell:
            script: "{{ lookup('ansible.builtin.file', 'probe.ps1') }}"

        - name: Templated but fine
          ansible.windows.win_powershell:
            script: |
              $name = '{{ inventory_hostname }}'
              Write-Output {{ item }}

        - name: In a block
          block:
            - name: Broken
              ansible.windows.win_powershell:
                script: |
                  $ErrorActionPreference = 'Stop'
                  $value = $Ansible.Result ?? @{}
        """))
    findings, checked = check.check_paths([tasks])
    assert checked == 2
    assert [(finding.line, finding.column) for finding in findings] == [(18, 36)]
    assert findings[0].message.startswith("the null-coalescing operator '??' is PowerShell 7 syntax")


def test_the_whole_tree_passes():
    findings, checked = check.check_paths(check.tree_files(REPO))
    assert checked >= 10
    assert [str(finding) for finding in findings] == []
