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


def test_windows_2003_and_dedicated_dump_support():
    assert host.is_windows_2003("5.2.3790") and not host.is_windows_2003("6.0.6002")
    assert not host.supports_dedicated_dump_file("5.2.3790") and host.supports_dedicated_dump_file("6.0.6002")


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
