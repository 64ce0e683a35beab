# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils.windows import host


@pytest.mark.parametrize("version, release", [("5.2.3790", "2003"), ("6.1.7601", "2008 R2"), ("6.3.9600", "2012 R2"),
                                              ("10.0.14393", "2016"), ("10.0.17763", "2019"), ("10.0.20348", "2022"),
                                              ("10.0.26100", "2025"), ("10.0.19045", ""), ("Microsoft Windows [Version 10.0.20348.2113]", "2022")])
def test_server_release_from_the_version(version, release):
    assert host.server_release(version) == release


@pytest.mark.parametrize("version", ["6.2.9200", "6.3.9600", "10.0.17763", "10.0.20348.0", "10.0.26100"])
def test_windows_server_2012_and_later_are_supported(version):
    assert host.check_supported(version) == ""


@pytest.mark.parametrize("version, says", [
    ("5.2.3790", "this is Windows Server 2003 (5.2), older than Windows Server 2012"),
    ("6.0.6002", "this is Windows Server 2008 (6.0), older than Windows Server 2012"),
    ("6.1.7601.0", "this is Windows Server 2008 R2 (6.1), older than Windows Server 2012"),
    ("", "the host reported no usable Windows version"),
])
def test_older_windows_is_refused_with_the_manual_steps_of_the_checklist(version, says):
    message = host.check_supported(version)
    assert message.startswith(says)
    for step in ("Microsoft iSCSI Software Initiator 2.0x, boot version", "KB902113",
                 "%SystemRoot%\\System32\\iscsibcg.exe /verify /fix", "options 17 (root path) and 203"):
        assert step in message


def test_the_bootstrap_refusal_of_old_powershell_becomes_the_checklist():
    message = host.unsupported_host_message(host.POWERSHELL_REQUIRED)
    assert message.startswith("Ansible requires PowerShell v5.1. The sanboot.iscsi Windows roles manage Windows Server 2012")
    assert "(1) install the Microsoft iSCSI Software Initiator 2.0x" in message and "(5) on a Windows Server 2003 DHCP" in message


def test_a_version_that_is_not_one_is_refused():
    with pytest.raises(host.WindowsHostError, match="'Windows' is not a Windows version"):
        host.parse_windows_version("Windows")


def test_paths_compare_as_windows_compares_them():
    assert host.windows_paths_equal("%SystemRoot%\\System32\\iscsibcg.exe", "c:/windows/system32/ISCSIBCG.EXE", "C:\\Windows")
    assert host.windows_paths_equal('"C:\\x\\"', "c:\\X")
    assert not host.windows_paths_equal("C:\\x", "D:\\x")
    assert host.expand_system_root("%windir%\\a", "C:\\WINDOWS") == "C:\\WINDOWS\\a"


def test_plan_or_errors_turns_a_planners_input_error_into_the_plans_errors():
    from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import NamingError
    from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.gpo import GpoError

    def refusing(error):
        def planner(*_arguments):
            raise error
        return planner

    assert host.plan_or_errors(lambda a, b: {"sum": a + b}, 1, 2) == {"sum": 3, "errors": []}
    assert host.plan_or_errors(refusing(GpoError("scripts.ini: numbered 1 twice"))) == {
        "errors": ["scripts.ini: numbered 1 twice"]}
    assert host.plan_or_errors(refusing(NamingError("iqn: bad"))) == {"errors": ["iqn: bad"]}
    # Anything else is a defect in the planner: it must surface, not pass as a message about input.
    with pytest.raises(ValueError, match="a bug"):
        host.plan_or_errors(refusing(ValueError("a bug")))
