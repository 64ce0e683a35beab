# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Sysprep plan of the reference host: what stands in the way (each refusal saying what to do),
the servers table, which clone takes which identity, and the answer file the role renders."""

from __future__ import annotations

import base64
import copy
import json
from xml.etree import ElementTree
from pathlib import Path

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils.windows import sysprep as sp

ROLE = Path(__file__).resolve().parents[5] / "roles" / "win_sysprep_image"
UNATTEND = "{urn:schemas-microsoft-com:unattend}"

# The reference host ready for Sysprep: booted from iSCSI through Ethernet (4), which is on DHCP.
BOOT = {
    "service": {"status": "Running", "start_type": "Automatic"},
    "boot_disk": {"number": 0, "bus_type": "iSCSI", "bus_types": ["iSCSI"]},
    "boot_sessions": [{"target_iqn": "iqn.2026-11.test:golden", "initiator_iqn": "iqn.2026-11.test:reference",
                       "connections": [{"initiator_address": "0.0.0.0", "target_address": "10.77.0.1",
                                        "target_port": 3260, "route": {"interface_indexes": [4]}}]}],
    "firmware_boot": [], "boot_errors": [],
    "adapters": [{"name": "Ethernet", "mac": "52:54:00:12:34:56", "dhcp_enabled": True, "interface_index": 4},
                 {"name": "Ethernet 2", "mac": "52:54:00:12:34:57", "dhcp_enabled": False, "interface_index": 6}],
}
HOST = {"windows_reasons": [], "marked": False, "os_version": "10.0.20348.0"}
PROBE = {"system_root": "C:\\Windows", "sysprep_present": True, "image_state": "IMAGE_STATE_COMPLETE",
         "generalization_state": 7, "upgraded": False, "remaining_rearm_count": 1001,
         "automatic_managed_pagefile": False, "pagefiles": [{"name": "D:\\pagefile.sys", "bus_type": "SAS"}]}
SERVERS = [{"name": "winboot02", "initiator_iqn": "IQN.2026-11.Test:WinBoot02"},
           {"name": "WINBOOT03", "mac": "52-54-00-12-34-99"}]


def plan(boot=None, host=None, probe=None, **settings):
    return sp.plan_sysprep(boot or BOOT, host or HOST, probe or PROBE, dict({"servers": SERVERS}, **settings))


def changed(base, **overrides):
    result = copy.deepcopy(base)
    result.update(overrides)
    return result


def test_a_ready_host_has_no_refusal_and_the_table_is_canonical():
    result = plan()
    assert result["refusals"] == [] and result["warnings"] == []
    assert result["servers"] == [{"name": "winboot02", "initiator_iqn": "iqn.2026-11.test:winboot02", "mac": ""},
                                 {"name": "WINBOOT03", "initiator_iqn": "", "mac": "52:54:00:12:34:99"}]
    assert json.loads(result["servers_json"]) == {"servers": result["servers"], "name_from_iqn": True}
    assert json.loads(plan(name_from_iqn=False)["servers_json"])["name_from_iqn"] is False
    assert result["sysprep_arguments"] == ["/generalize", "/oobe", "/shutdown", "/quiet"]
    assert result["specialize_command"] == ('powershell.exe -NoProfile -ExecutionPolicy Bypass -File '
                                            '"C:\\Windows\\Setup\\Scripts\\sanboot-specialize.ps1"')


STATIC_BOOT_NIC = changed(BOOT, adapters=[dict(BOOT["adapters"][0], dhcp_enabled=False), BOOT["adapters"][1]])


@pytest.mark.parametrize("boot, host, probe, refusal", [
    (changed(BOOT, boot_disk={"number": 0, "bus_type": "SAS", "bus_types": ["SAS"]}, boot_sessions=[]), HOST, PROBE,
     "the reference host does not boot from iSCSI (its boot disk is on SAS)"),
    (changed(BOOT, boot_errors=["Get-IscsiSession: not running"]), HOST, PROBE,
     "the NICs that carry the boot disk cannot be identified"),
    (STATIC_BOOT_NIC, HOST, PROBE, "Ethernet (52:54:00:12:34:56) carries the boot disk and has a static address"),
    (changed(BOOT, service={"status": "Running", "start_type": "Manual"}), HOST, PROBE,
     "the Microsoft iSCSI Initiator Service starts Manual, not automatically"),
    (BOOT, HOST, changed(PROBE, automatic_managed_pagefile=True), "Windows manages the pagefile"),
    (BOOT, HOST, changed(PROBE, pagefiles=[{"name": "C:\\pagefile.sys", "bus_type": "iSCSI"}]),
     "the pagefile C:\\pagefile.sys is on the iSCSI boot disk"),
    (BOOT, changed(HOST, windows_reasons=["Component Based Servicing: RebootPending"]), PROBE,
     "Windows waits for a restart (Component Based Servicing: RebootPending)"),
    (BOOT, HOST, changed(PROBE, image_state="IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"),
     "this installation was generalized already (Sysprep ran)"),
    (BOOT, changed(HOST, os_version="6.3.9600.0"), changed(PROBE, upgraded=True),
     "upgraded in place (HKLM\\SYSTEM\\Setup\\Upgrade) and is older than Windows Server 2016 (build 9600)"),
    (BOOT, HOST, changed(PROBE, remaining_rearm_count=0), "this image was rearmed too often (remaining Windows rearm count 0)"),
    (BOOT, HOST, changed(PROBE, remaining_rearm_count=None), "the remaining Windows rearm count could not be read"),
    (BOOT, HOST, changed(PROBE, sysprep_present=False), "sysprep.exe is not on the host"),
], ids=["not iSCSI", "boot NIC unknown", "static boot NIC", "service manual", "pagefile managed", "pagefile on iSCSI",
        "pending restart", "generalized already", "upgraded", "rearmed too often", "rearm unknown",
        "no sysprep.exe"])
def test_each_documented_bad_state_is_refused_saying_what_to_do(boot, host, probe, refusal):
    refusals = plan(boot, host, probe)["refusals"]
    assert len(refusals) == 1 and refusal in refusals[0], refusals


def test_skip_rearm_lets_an_image_rearmed_too_often_through_with_a_warning():
    result = plan(probe=changed(PROBE, remaining_rearm_count=0), skip_rearm=True)
    assert result["refusals"] == [] and "SkipRearm=1" in result["warnings"][0]


def test_an_unusual_generalization_state_is_a_warning_as_microsoft_documents_no_such_precondition():
    result = plan(probe=changed(PROBE, generalization_state=4))
    assert result["refusals"] == [] and "GeneralizationState is 4, not 7" in result["warnings"][0]


def test_an_upgraded_installation_generalizes_from_windows_server_2016_on():
    for version in ("10.0.14393.0", "10.0.20348.0"):
        assert plan(host=changed(HOST, os_version=version), probe=changed(PROBE, upgraded=True))["refusals"] == []


def test_a_domain_member_is_a_warning_that_sysprep_takes_it_out_of_the_domain():
    result = plan(probe=changed(PROBE, domain_member=True, domain="corp.example.com"))
    assert result["refusals"] == []
    assert "a member of the domain corp.example.com: Sysprep takes it out of the domain" in result["warnings"][0]


def test_an_empty_table_is_a_warning():
    assert "every clone keeps the computer name Windows generates" in plan(servers=[])["warnings"][0]


@pytest.mark.parametrize("settings, message", [
    ({"servers": [{"name": "winboot-number-002"}]}, "win_sysprep_image_servers[0].name: 'winboot-number-002' is not a"),
    ({"servers": [{"name": "12345", "mac": "52:54:00:12:34:56"}]}, "win_sysprep_image_servers[0].name: '12345'"),
    ({"servers": [{"name": "a1"}]}, "win_sysprep_image_servers[0]: give initiator_iqn"),
    ({"servers": [{"name": "a1", "initiator_iqn": "boot01"}]}, "win_sysprep_image_servers[0].initiator_iqn: 'boot01' looks"),
    ({"servers": [{"name": "a1", "mac": 41135085296}]}, "win_sysprep_image_servers[0].mac: 41135085296 is a number"),
    ({"servers": [{"name": "a1", "mac": "52:54:00:12:34:56"}, {"name": "A1", "mac": "52:54:00:12:34:57"}]},
     "win_sysprep_image_servers[1]: the name A1 is also in win_sysprep_image_servers[0]"),
    ({"servers": [{"name": "a1", "initiator_iqn": "iqn.2026-11.test:x", "role": "web"}]},
     "win_sysprep_image_servers[0]: unknown key(s) role"),
    ({"group_hosts": [{"host": "winboot-number-004.example.test", "name": "winboot-number-004",
                       "initiator_iqn": "iqn.2026-11.test:4"}]},
     "win_sysprep_image_servers_group host winboot-number-004.example.test: 'winboot-number-004' is not a computer name"),
    ({"group_hosts": [{"host": "winboot05", "name": "winboot05", "initiator_iqn": "", "mac": ""}]},
     "win_sysprep_image_servers_group host winboot05: give sanboot_initiator_iqn"),
    ({"group_hosts": [{"host": "winboot05", "name": "winboot05", "mac": "52:54:00:12:34"}]},
     "win_sysprep_image_servers_group host winboot05 sanboot_mac: "),
    ({"group_hosts": [{"host": "b", "name": "winboot02", "mac": "52:54:00:12:34:50"}]},
     "win_sysprep_image_servers_group host b: the name winboot02 is also in win_sysprep_image_servers[0]"),
    ({"servers_group": "clones", "group_hosts": None}, "win_sysprep_image_servers_group: clones is not a group of the inv"),
    ({"unattend_path": "unattend.xml"}, "win_sysprep_image_unattend_path: 'unattend.xml' is not an absolute Windows path"),
    ({"unattend_path": "C:\\Windows\\Panther\\unattend.txt"}, "win_sysprep_image_unattend_path: 'C:\\\\Windows"),
    ({"timezone": "Europe/Berlin<"}, "win_sysprep_image_timezone: 'Europe/Berlin<' is not a Windows time zone name"),
])
def test_bad_input_names_the_variable_and_the_rule(settings, message):
    errors = sp.validate_settings(dict({"servers": SERVERS}, **settings))
    assert errors and errors[0].startswith(message), errors
    with pytest.raises(sp.SysprepError, match="win_sysprep_image_"):
        sp.plan_sysprep(BOOT, HOST, PROBE, dict({"servers": SERVERS}, **settings))


def test_the_servers_of_an_inventory_group_join_the_table():
    result = plan(group_hosts=[{"host": "winboot04.example.test", "name": "winboot04",
                                "initiator_iqn": "IQN.2026-11.test:winboot04", "mac": "5254.0012.3404"}])
    assert result["servers"][-1] == {"name": "winboot04", "initiator_iqn": "iqn.2026-11.test:winboot04",
                                     "mac": "52:54:00:12:34:04"}
    assert len(result["servers"]) == len(SERVERS) + 1


def test_a_clone_takes_the_identity_of_the_server_its_firmware_logs_on_as_else_of_its_mac():
    servers = sp.normalize_servers(SERVERS)
    assert sp.identify_clone(servers, "iqn.2026-11.test:WINBOOT02", ["52:54:00:00:00:01"]) == {
        "computer_name": "winboot02", "node_name": "iqn.2026-11.test:WINBOOT02", "matched": True,
        "source": "initiator name"}
    assert sp.identify_clone(servers, "iqn.2026-11.test:dhcp-only", ["52-54-00-12-34-99"]) == {
        "computer_name": "WINBOOT03", "node_name": "iqn.2026-11.test:dhcp-only", "matched": True, "source": "MAC"}
    assert sp.identify_clone(servers, "iqn.2026-11.test:stranger", ["52:54:00:00:00:01"]) == {
        "computer_name": "", "node_name": "iqn.2026-11.test:stranger", "matched": False, "source": ""}


@pytest.mark.parametrize("firmware_iqn, allowed, name", [
    ("iqn.1991-05.com.microsoft:winboot07.example.test", True, "winboot07"),
    ("IQN.1991-05.COM.MICROSOFT:WINBOOT07", True, "WINBOOT07"),
    ("iqn.1991-05.com.microsoft:winboot07.example.test", False, ""),
    ("iqn.1991-05.com.microsoft:a-name-longer-than-fifteen.example.test", True, ""),
    ("iqn.1991-05.com.microsoft:12345.example.test", True, ""),
    ("iqn.2026-11.test:winboot07", True, ""),
])
def test_without_an_entry_a_windows_default_initiator_name_gives_the_computer_name(firmware_iqn, allowed, name):
    found = sp.identify_clone([], firmware_iqn, [], name_from_iqn=allowed)
    assert (found["computer_name"], found["node_name"], found["matched"]) == (name, firmware_iqn, False)


def render(**variables):
    """The role's answer file template, rendered by Ansible's own templating."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    defaults = {"win_sysprep_image_persist_devices": True, "win_sysprep_image_skip_rearm": False,
                "win_sysprep_image_timezone": "", "win_sysprep_image_administrator_password": "",
                "__win_sysprep_image_plan": plan()}
    defaults.update(variables)
    templar = Templar(loader=DataLoader(), variables=defaults)
    return templar.template(trust_as_template((ROLE / "templates" / "unattend.xml.j2").read_text()))


def passes(text):
    root = ElementTree.fromstring(text.encode("utf-8"))
    return {settings.get("pass"): {component.get("name"): component for component in settings}
            for settings in root.findall(UNATTEND + "settings")}


def test_the_answer_file_has_the_three_passes_and_runs_the_specialize_script():
    found = passes(render())
    assert set(found) == {"generalize", "specialize", "oobeSystem"}
    assert found["generalize"]["Microsoft-Windows-PnpSysprep"].find(UNATTEND + "PersistAllDeviceInstalls").text == "true"
    assert "Microsoft-Windows-Security-SPP" not in found["generalize"]
    command = found["specialize"]["Microsoft-Windows-Deployment"].find(
        "%sRunSynchronous/%sRunSynchronousCommand/%sPath" % (UNATTEND, UNATTEND, UNATTEND)).text
    assert command == plan()["specialize_command"]
    shell = found["oobeSystem"]["Microsoft-Windows-Shell-Setup"]
    assert shell.find(UNATTEND + "TimeZone") is None and shell.find(UNATTEND + "UserAccounts") is None


def test_skip_rearm_the_time_zone_and_the_password_as_windows_system_image_manager_writes_it():
    text = render(win_sysprep_image_skip_rearm=True, win_sysprep_image_timezone="W. Europe Standard Time",
                  win_sysprep_image_administrator_password="P&ss<w0rd>")
    found = passes(text)
    assert found["generalize"]["Microsoft-Windows-Security-SPP"].find(UNATTEND + "SkipRearm").text == "1"
    shell = found["oobeSystem"]["Microsoft-Windows-Shell-Setup"]
    assert shell.find(UNATTEND + "TimeZone").text == "W. Europe Standard Time"
    value = shell.find("%sUserAccounts/%sAdministratorPassword/%sValue" % (UNATTEND, UNATTEND, UNATTEND)).text
    assert base64.b64decode(value).decode("utf-16-le") == "P&ss<w0rd>AdministratorPassword"
    assert "P&ss<w0rd>" not in text and "P&amp;ss" not in text
