# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The initiator plan: node name, boot session check, boot NICs, MPIO, Windows Server 2003."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils.windows import initiator as wi

PROBE = {
    "os_version": "10.0.20348", "system_root": "C:\\Windows", "node_name": "iqn.1991-05.com.microsoft:winboot01",
    "iscsibcg_present": False, "boot_disk": {"number": 0, "bus_type": "iSCSI"},
    "boot_sessions": [{"target_iqn": "iqn.2026-11.test:boot01", "initiator_iqn": "iqn.1991-05.com.microsoft:winboot01",
                       "initiator_address": "10.77.0.60", "target_address": "10.77.0.1", "target_port": 3260,
                       "is_persistent": False, "source": "Get-IscsiSession"}],
    "persistent_targets": [],
    "adapters": [{"name": "Ethernet", "mac": "52:54:00:12:34:56", "dhcp_enabled": False, "ip_addresses": ["10.77.0.60"]},
                 {"name": "Ethernet 2", "mac": "52:54:00:12:34:57", "dhcp_enabled": False, "ip_addresses": ["10.78.0.60"]},
                 {"name": "Management", "mac": "52:54:00:AA:00:01", "dhcp_enabled": True, "ip_addresses": []}],
    "mpio": {"available": False, "iscsi_claimed": None, "policy": None},
    "reboot_pending": False,
}


def probe(**overrides):
    result = copy.deepcopy(PROBE)
    result.update(overrides)
    return result


def test_the_node_name_is_only_changed_when_it_differs_case_insensitively():
    assert not wi.plan_initiator(probe(), {"iqn": "IQN.1991-05.COM.Microsoft:WinBoot01"})["node_name"]["change"]
    plan = wi.plan_initiator(probe(), {"iqn": "IQN.1991-05.com.microsoft:WinBoot02"})
    assert plan["node_name"] == {"current": "iqn.1991-05.com.microsoft:winboot01",
                                 "desired": "iqn.1991-05.com.microsoft:winboot02", "change": True}


def test_an_unset_iqn_only_reports_the_current_node_name():
    plan = wi.plan_initiator(probe(), {"iqn": ""})
    assert plan["node_name"] == {"current": "iqn.1991-05.com.microsoft:winboot01", "desired": "", "change": False}


def test_a_node_name_that_differs_from_the_firmwares_is_warned_about():
    plan = wi.plan_initiator(probe(), {"iqn": "iqn.1991-05.com.microsoft:other"})
    assert any("the boot firmware logs on as iqn.1991-05.com.microsoft:winboot01" in warning for warning in plan["warnings"])


def test_the_boot_session_is_checked_against_the_expected_target():
    assert wi.plan_initiator(probe(), {"boot_target_iqn": "IQN.2026-11.TEST:BOOT01"})["failures"] == []
    plan = wi.plan_initiator(probe(), {"boot_target_iqn": "iqn.2026-11.test:boot02"})
    assert plan["failures"] == ["win_iscsi_initiator_boot_target_iqn: the boot session goes to iqn.2026-11.test:boot01, "
                                "not to iqn.2026-11.test:boot02"]


def test_no_boot_session_warns_or_fails_as_asked():
    local = probe(boot_disk={"number": 0, "bus_type": "SAS"}, boot_sessions=[])
    assert wi.plan_initiator(local, {})["failures"] == []
    assert "no iSCSI boot session" in wi.plan_initiator(local, {})["warnings"][0]
    failed = wi.plan_initiator(local, {"require_boot_session": True})["failures"]
    assert failed and "win_iscsi_initiator_require_boot_session is true" in failed[0]


def test_a_persistent_login_to_the_boot_target_is_warned_about():
    plan = wi.plan_initiator(probe(persistent_targets=["IQN.2026-11.test:boot01"]), {})
    assert any("persistent (favorite) target" in warning for warning in plan["warnings"])


def test_boot_nics_by_mac_or_alias_and_the_one_carrying_the_boot_session_is_left_alone():
    plan = wi.plan_initiator(probe(), {"boot_nics": [{"mac": "5254.0012.3456"}, {"alias": "ethernet 2"},
                                                     {"mac": "52-54-00-aa-00-01"}]})
    assert plan["nics"] == {"to_dhcp": [{"name": "Ethernet 2", "mac": "52:54:00:12:34:57"}],
                            "unchanged": [{"name": "Management", "mac": "52:54:00:aa:00:01"}],
                            "protected": [{"name": "Ethernet", "mac": "52:54:00:12:34:56"}]}
    assert any("Ethernet (52:54:00:12:34:56) is left as it is" in warning for warning in plan["warnings"])


def test_an_unknown_boot_nic_is_refused_with_the_adapters_the_host_has():
    with pytest.raises(wi.InitiatorError) as info:
        wi.plan_initiator(probe(), {"boot_nics": [{"alias": "Ethernet 9"}]})
    assert str(info.value).startswith("win_iscsi_initiator_boot_nics[0]: no network adapter with alias 'Ethernet 9'")
    assert "Ethernet 2 (52:54:00:12:34:57)" in str(info.value)


def test_mpio_settings_and_policy_names():
    plan = wi.plan_initiator(probe(), {"mpio": True, "mpio_policy": "least_queue_depth"})
    assert plan["mpio"]["enabled"] and plan["mpio"]["policy"] == "LQD" and plan["mpio"]["feature"] == "Multipath-IO"
    assert not wi.plan_initiator(probe(), {})["mpio"]["enabled"]


def test_firewall_ports_are_joined_for_the_rule():
    firewall = wi.plan_initiator(probe(), {"firewall_ports": [3260, "3261"]})["firewall"]
    assert firewall == {"enabled": True, "remote_ports": "3260,3261"}


def test_windows_2003_installs_the_boot_initiator_package_once_and_leaves_mpio_and_the_firewall_out():
    legacy = probe(os_version="5.2.3790", iscsibcg_present=False)
    with pytest.raises(wi.InitiatorError, match="win_iscsi_initiator_legacy_package_path is required"):
        wi.plan_initiator(legacy, {})
    plan = wi.plan_initiator(legacy, {"legacy_package_path": "\\\\fs\\Initiator-2.08-boot.exe", "mpio": True})
    assert plan["legacy"] == {"is_2003": True, "install_package": True, "package_path": "\\\\fs\\Initiator-2.08-boot.exe"}
    assert not plan["mpio"]["enabled"] and not plan["firewall"]["enabled"]
    assert any("MPIO is chosen in the boot initiator package's installer" in warning for warning in plan["warnings"])
    installed = wi.plan_initiator(dict(legacy, iscsibcg_present=True), {"legacy_package_path": "x.exe"})
    assert installed["legacy"]["install_package"] is False
    assert wi.plan_initiator(probe(), {})["legacy"]["install_package"] is False


@pytest.mark.parametrize("settings, message", [
    ({"iqn": "not-an-iqn"}, "win_iscsi_initiator_iqn: 'not-an-iqn' looks like a target alias"),
    ({"iqn": "iqn.2026.test:x"}, "win_iscsi_initiator_iqn: 'iqn.2026.test:x' is not a valid IQN: the date"),
    ({"iqn": "eui.02004567a425678d"}, "win_iscsi_initiator_iqn: 'eui.02004567a425678d' is an iSCSI name but not an IQN"),
    ({"boot_target_iqn": "boot01"}, "win_iscsi_initiator_boot_target_iqn: 'boot01' looks like a target alias"),
    ({"boot_nics": [{"mac": "52:54:00:12:34"}]}, "win_iscsi_initiator_boot_nics[0].mac: '52:54:00:12:34' is not a MAC"),
    ({"boot_nics": [{"mac": 41135085296}]}, "win_iscsi_initiator_boot_nics[0].mac: 41135085296 is a number"),
    ({"boot_nics": [{"mac": "52:54:00:12:34:56", "alias": "x"}]}, "win_iscsi_initiator_boot_nics[0]: "),
    ({"boot_nics": [{"alias": "A"}, {"alias": "a"}]}, "win_iscsi_initiator_boot_nics[1]: a is listed twice"),
    ({"boot_nics": "Ethernet"}, "win_iscsi_initiator_boot_nics: expected a list"),
    ({"firewall_ports": [70000]}, "win_iscsi_initiator_firewall_ports[0]: port 70000 is out of range"),
    ({"mpio_policy": "fastest"}, "win_iscsi_initiator_mpio_policy: 'fastest'"),
])
def test_bad_input_names_the_variable_and_the_rule(settings, message):
    errors = wi.validate_settings(settings)
    assert errors and errors[0].startswith(message)
    with pytest.raises(wi.InitiatorError, match="win_iscsi_initiator_"):
        wi.plan_initiator(probe(), settings)
