# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Windows roles' filter plugins: thin over module_utils, errors returned (not raised) for the role to show."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sanboot.iscsi.plugins.filter.win_dhcp_boot_plan import FilterModule as DhcpFilters
from ansible_collections.sanboot.iscsi.plugins.filter.win_iscsi_initiator_plan import FilterModule as InitiatorFilters
from ansible_collections.sanboot.iscsi.plugins.filter.win_pagefile_plan import FilterModule as PagefileFilters
from ansible_collections.sanboot.iscsi.plugins.filter.win_shutdown_script_plan import FilterModule as ScriptFilters
from ansible_collections.sanboot.iscsi.plugins.filter.windows_input_errors import FilterModule as InputFilters

input_errors = InputFilters().filters()["windows_input_errors"]
initiator_plan = InitiatorFilters().filters()["win_iscsi_initiator_plan"]
pagefile_plan = PagefileFilters().filters()["win_pagefile_plan"]
script_plan = ScriptFilters().filters()["win_shutdown_script_plan"]
dhcp_plan = DhcpFilters().filters()["win_dhcp_boot_plan"]


@pytest.mark.parametrize("role, settings, message", [
    ("win_iscsi_initiator", {"iqn": "not-an-iqn"}, "win_iscsi_initiator_iqn: 'not-an-iqn'"),
    ("win_pagefile", {"drive": "12"}, "win_pagefile_drive: '12'"),
    ("win_iscsi_boot_script", {"command": ""}, "win_iscsi_boot_script_command: "),
    ("win_dhcp_boot_reservation", {"reservations": [{"mac": "x"}]}, "win_dhcp_boot_reservation_reservations[0].mac: 'x'"),
])
def test_input_errors_name_the_variable_for_each_role(role, settings, message):
    assert input_errors(settings, role)[0].startswith(message)


def test_valid_input_has_no_errors():
    assert input_errors({"iqn": "iqn.1991-05.com.microsoft:winboot01"}, "win_iscsi_initiator") == []
    assert input_errors({"command": "C:\\x.exe", "parameters": ""}, "win_iscsi_boot_script") == []


def test_input_errors_refuse_an_unknown_role_and_a_non_dictionary():
    with pytest.raises(AnsibleFilterError, match="unknown role 'win_x'"):
        input_errors({}, "win_x")
    with pytest.raises(AnsibleFilterError, match="expected a dictionary"):
        input_errors("iqn", "win_iscsi_initiator")


def test_plan_errors_are_returned_for_the_role_to_show():
    assert initiator_plan({"os_version": "10.0.20348"}, {"boot_nics": [{"alias": "Ethernet 9"}]})["errors"][0].startswith(
        "win_iscsi_initiator_boot_nics[0]: no network adapter with alias 'Ethernet 9'")
    assert pagefile_plan([], {}, {"os_version": "10.0.20348"}, {"without_local_disk": "fail"})["errors"][0].startswith(
        "win_pagefile_without_local_disk is 'fail'")
    assert "numbered 1" in script_plan({"scripts_ini": "[Shutdown]\r\n1CmdLine=x.cmd\r\n"}, "C:\\y.exe")["errors"][0]
    assert dhcp_plan({"scopes": ["10.1.0.0"]}, {"reservations": [
        {"mac": "52:54:00:12:34:56", "ip": "10.77.0.5", "scope": "10.77.0.0",
         "iscsi": {"server": "10.77.0.1", "target_iqn": "iqn.2026-11.test:b"}}]})["errors"][0].endswith(
        "is not a scope on this DHCP server (scopes: 10.1.0.0)")


def test_successful_plans_have_an_empty_error_list():
    assert initiator_plan({"os_version": "10.0.20348"}, {})["errors"] == []
    assert pagefile_plan([], {}, {"os_version": "10.0.20348"}, {})["errors"] == []
    assert script_plan({}, "C:\\Windows\\System32\\iscsibcg.exe", "/verify /fix")["errors"] == []


def test_wrong_input_types_are_programming_errors_and_raise():
    with pytest.raises(AnsibleFilterError):
        initiator_plan([], {})
    with pytest.raises(AnsibleFilterError):
        pagefile_plan("disks", {}, {}, {})
    with pytest.raises(AnsibleFilterError):
        script_plan("probe", "x")
    with pytest.raises(AnsibleFilterError):
        dhcp_plan({}, "settings")
