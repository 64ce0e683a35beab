# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.sanboot.iscsi.plugins.filter.boot_chain_mismatches import FilterModule as MismatchFilters
from ansible_collections.sanboot.iscsi.plugins.filter.boot_chain_table import FilterModule as TableFilters
from ansible_collections.sanboot.iscsi.plugins.module_utils.boot_chain import host_mismatches, mismatches, table

IQN = "iqn.1991-05.com.microsoft:winboot01.example.com"
TARGET = "iqn.2026-11.com.example.san01:winboot01"
ROOT_PATH = "iscsi:10.20.0.5:6:3260:1:" + TARGET

GOOD = {
    "expected": {"initiator_iqn": IQN, "mac": "00:1b:21:3a:4f:10", "ip": "10.20.0.101", "lun": "1",
                 "chap_username": "winboot01", "chap_secret_length": "13", "dhcp_chap": True},
    "san": {"volume": {"name": "winboot01", "initiators": [IQN], "lun": 1, "target_iqn": TARGET, "root_path": ROOT_PATH,
                       "chap_username": "winboot01", "loaded": True},
            "chap_secret_differs": False, "error": None},
    "dhcp": {"checked": True, "error": None, "chap_secret_differs": False,
             "reservation": {"mac": "00:1b:21:3a:4f:10", "ip": "10.20.0.101", "options": [
                 {"space": "dhcp4", "code": 17, "data": ROOT_PATH},
                 {"space": "dhcp4", "code": 203, "data": IQN.upper()},     # IQNs compare case-insensitively
                 {"space": "ipxe", "code": 190, "data": "winboot01"},
                 {"space": "ipxe", "code": 191, "data": "********"}]}},
    "switch": {"checked": True, "portfast": True, "error": None},
    "portal": {"checked": True, "address": "10.20.0.5:3260", "reachable": True, "error": None},
    "windows": {"checked": True, "initiator_iqn": IQN, "error": None},
}


def changed(**paths):
    observation = copy.deepcopy(GOOD)
    for path, value in paths.items():
        node = observation
        keys = path.split("__")
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return observation


def fields(observation):
    return [(row["field"], row["expected"], row["found"]) for row in host_mismatches("winboot01", observation)]


def test_a_consistent_chain_has_no_mismatch():
    assert host_mismatches("winboot01", GOOD) == []


def test_iqn_typo_in_dhcp_is_named_against_the_inventory_and_the_san_acl():
    typo = "iqn.1991-05.com.microsoft:winboot10.example.com"
    observation = copy.deepcopy(GOOD)
    observation["dhcp"]["reservation"]["options"][1]["data"] = typo
    assert fields(observation) == [("dhcp.option 203 (initiator IQN)", IQN, typo), ("dhcp.option 203 vs san.acl", IQN, typo)]


@pytest.mark.parametrize("paths, expected", [
    ({"san__volume": None}, [("san.volume", "present", "missing")]),
    ({"san__volume__initiators": ["iqn.1991-05.com.microsoft:other"]},
     [("san.acl initiator", IQN, "iqn.1991-05.com.microsoft:other"),
      ("dhcp.option 203 vs san.acl", "iqn.1991-05.com.microsoft:other", IQN.upper())]),
    ({"san__volume__lun": 2}, [("san.lun", "1", "2"), ]),
    ({"san__chap_secret_differs": True}, [("san.chap secret", "the inventory's secret", "a different secret")]),
    ({"dhcp__chap_secret_differs": True}, [("dhcp.chap secret (option 191)", "the inventory's secret", "a different secret")]),
    ({"expected__chap_secret_length": "10"}, [("chap.secret length", "12 to 16 characters", "10 characters")]),
    ({"switch__portfast": False}, [("switch.portfast", "enabled", "disabled")]),
    ({"portal__reachable": False, "portal__error": "Timeout when waiting for 10.20.0.5:3260"},
     [("portal tcp", "10.20.0.5:3260 accepts connections", "Timeout when waiting for 10.20.0.5:3260")]),
    ({"windows__initiator_iqn": "iqn.1991-05.com.microsoft:localhost"},
     [("windows.initiator_iqn", IQN, "iqn.1991-05.com.microsoft:localhost")]),
    ({"dhcp__reservation": None}, [("dhcp.reservation", "present for 00:1b:21:3a:4f:10", "missing")]),
    ({"dhcp__error": "HTTP 401 unauthorised"}, [("dhcp", "readable", "HTTP 401 unauthorised")]),
])
def test_each_fault_is_named_by_field(paths, expected):
    assert fields(changed(**paths)) == expected


def test_root_path_problems():
    observation = copy.deepcopy(GOOD)
    observation["dhcp"]["reservation"]["options"][0]["data"] = "iscsi:10.20.0.5:6:3260:2:" + TARGET
    assert fields(observation) == [("dhcp.option 17 (root path)", ROOT_PATH, "iscsi:10.20.0.5:6:3260:2:" + TARGET)]
    observation["dhcp"]["reservation"]["options"][0]["data"] = "iscsi:10.20.0.5:6:3260:1:winboot01"
    rows = fields(observation)
    assert rows[0][0] == "dhcp.option 17 (root path)" and "looks like a target alias" in rows[0][2]
    # The same root path written differently (defaults left empty, name in capitals) is no mismatch.
    observation["dhcp"]["reservation"]["options"][0]["data"] = "iscsi:10.20.0.5:::1:" + TARGET.upper()
    assert fields(observation) == []


def test_unchecked_parts_are_not_reported():
    observation = changed(switch__checked=False, switch__portfast=None, portal__checked=False, windows__checked=False,
                          windows__initiator_iqn=None)
    assert fields(observation) == []


def test_no_secret_ever_appears_because_none_goes_in():
    rows = mismatches({"b": changed(san__chap_secret_differs=True), "a": changed(dhcp__chap_secret_differs=True)})
    assert [row["host"] for row in rows] == ["a", "b"]


def test_table_aligns_columns_and_says_when_all_is_well():
    rows = host_mismatches("winboot01", changed(switch__portfast=False))
    lines = table(rows)
    assert lines[0].split() == ["HOST", "FIELD", "EXPECTED", "FOUND"]
    assert lines[2].split() == ["winboot01", "switch.portfast", "enabled", "disabled"]
    assert lines[0].index("FIELD") == lines[2].index("switch.portfast")
    assert table([], 2) == ["boot chain verified: no mismatch on 2 host(s)"]


def test_filters():
    rows = MismatchFilters().filters()["boot_chain_mismatches"]({"winboot01": changed(switch__portfast=False)})
    assert rows == [{"host": "winboot01", "field": "switch.portfast", "expected": "enabled", "found": "disabled"}]
    assert TableFilters().filters()["boot_chain_table"](rows, hosts=1)[2].startswith("winboot01")
    with pytest.raises(AnsibleFilterError, match="not a dictionary"):
        MismatchFilters().filters()["boot_chain_mismatches"]([1])
    with pytest.raises(AnsibleFilterError, match="list of rows"):
        TableFilters().filters()["boot_chain_table"]([{"host": "x"}])


# --- boot parameters through the BMC -------------------------------------------------------------------------------

BMC_FUNCTION = {
    "function_uri": "/redfish/v1/Chassis/1/NetworkAdapters/1/NetworkDeviceFunctions/1", "mac_address": "00:1b:21:3a:4f:10",
    "boot_mode": "iSCSI", "pending": None,
    "iscsi_boot": {"InitiatorName": IQN, "TargetInfoViaDHCP": False, "IPMaskDNSViaDHCP": True,
                   "PrimaryTargetName": TARGET, "PrimaryTargetIPAddress": "10.20.0.5", "PrimaryTargetTCPPort": 3260,
                   "PrimaryLUN": 1, "AuthenticationMethod": "CHAP", "CHAPUsername": "winboot01",
                   "MutualCHAPUsername": None},
}
OTHER_FUNCTION = dict(BMC_FUNCTION, mac_address="00:1b:21:3a:4f:11", boot_mode="Disabled",
                      function_uri=BMC_FUNCTION["function_uri"][:-1] + "2")


def through_bmc(**paths):
    """GOOD, with the boot parameters in the BMC: the reservation carries the address (and host name) only."""
    observation = changed(**paths)
    observation["expected"].update(boot_parameters="bmc", dhcp_chap=False)
    observation["dhcp"]["reservation"]["options"] = [{"space": "dhcp4", "code": 12, "data": "winboot01"}]
    observation["bmc"] = {"checked": True, "error": None,
                          "functions": [copy.deepcopy(OTHER_FUNCTION), copy.deepcopy(BMC_FUNCTION)]}
    return observation


def with_bmc_values(observation, **values):
    function = observation["bmc"]["functions"][-1]
    for name, value in values.items():
        if name == "BootMode":
            function["boot_mode"] = value
        else:
            function["iscsi_boot"][name] = value
    return observation


def test_a_consistent_chain_through_the_bmc_has_no_mismatch():
    assert fields(through_bmc()) == []
    # MACs compare in any notation; IQNs case-insensitively; addresses as addresses.
    observation = with_bmc_values(through_bmc(), PrimaryTargetName=TARGET.upper())
    observation["bmc"]["functions"][1]["mac_address"] = "00-1B-21-3A-4F-10"
    assert fields(observation) == []


@pytest.mark.parametrize("values, expected", [
    ({"InitiatorName": "iqn.1991-05.com.microsoft:winboot10.example.com"},
     [("bmc.InitiatorName (initiator IQN)", IQN, "iqn.1991-05.com.microsoft:winboot10.example.com"),
      ("bmc.InitiatorName vs san.acl", IQN, "iqn.1991-05.com.microsoft:winboot10.example.com")]),
    ({"PrimaryTargetName": "iqn.2026-11.com.example.san01:winboot02"},
     [("bmc.PrimaryTargetName (target IQN)", TARGET, "iqn.2026-11.com.example.san01:winboot02")]),
    ({"PrimaryTargetIPAddress": "10.20.0.6", "PrimaryLUN": 0, "PrimaryTargetTCPPort": 3261},
     [("bmc.PrimaryTargetIPAddress (portal)", "10.20.0.5", "10.20.0.6"), ("bmc.PrimaryTargetTCPPort", "3260", "3261"),
      ("bmc.PrimaryLUN", "1", "0")]),
    ({"BootMode": "PXE"}, [("bmc.BootMode", "iSCSI", "PXE")]),
    ({"TargetInfoViaDHCP": True}, [("bmc.TargetInfoViaDHCP", "False", "True")]),
    ({"AuthenticationMethod": "None", "CHAPUsername": None},
     [("bmc.AuthenticationMethod", "CHAP", "None"), ("bmc.CHAPUsername", "winboot01", "(not set)")]),
    ({"CHAPUsername": "winboot02"}, [("bmc.CHAPUsername", "winboot01", "winboot02")]),
    ({"IPMaskDNSViaDHCP": False, "InitiatorIPAddress": "10.20.0.99"},
     [("bmc.IPMaskDNSViaDHCP", "True (the address from DHCP)", "False (static address 10.20.0.99)")]),
])
def test_each_bmc_field_that_differs_is_named(values, expected):
    assert fields(with_bmc_values(through_bmc(), **values)) == expected


def test_a_staged_bmc_change_counts_as_what_will_be_in_force():
    observation = with_bmc_values(through_bmc(), BootMode="Disabled", PrimaryLUN=0)
    observation["bmc"]["functions"][-1]["pending"] = {"BootMode": "iSCSI", "iSCSIBoot": {"PrimaryLUN": 1}}
    assert fields(observation) == []
    observation["bmc"]["functions"][-1]["pending"] = {"iSCSIBoot": {"PrimaryLUN": 2}}
    assert fields(observation) == [("bmc.BootMode", "iSCSI", "Disabled"), ("bmc.PrimaryLUN", "1", "2")]


def test_static_address_and_mutual_chap_through_the_bmc():
    observation = with_bmc_values(through_bmc(), IPMaskDNSViaDHCP=False, InitiatorIPAddress="10.20.0.101",
                                  AuthenticationMethod="MutualCHAP", MutualCHAPUsername="san01")
    observation["expected"].update(bmc_static_ip="10.20.0.101", mutual_chap_username="san01")
    assert fields(observation) == []
    with_bmc_values(observation, InitiatorIPAddress="10.20.0.102", IPMaskDNSViaDHCP=True, MutualCHAPUsername=None)
    assert fields(observation) == [("bmc.MutualCHAPUsername", "san01", "(not set)"), ("bmc.IPMaskDNSViaDHCP", "False", "True"),
                                   ("bmc.InitiatorIPAddress", "10.20.0.101", "10.20.0.102")]


def test_boot_options_left_in_dhcp_for_a_bmc_host_are_named_and_no_secret_is_shown():
    observation = through_bmc()
    observation["dhcp"]["reservation"]["options"] = copy.deepcopy(GOOD["dhcp"]["reservation"]["options"])
    observation["dhcp"]["reservation"]["options"][3]["data"] = "SbtSecret12345"
    rows = fields(observation)
    assert rows == [("dhcp.option 17 (root path)", "(none: the BMC holds the boot parameters)", ROOT_PATH),
                    ("dhcp.option 203 (initiator IQN)", "(none: the BMC holds the boot parameters)", IQN.upper()),
                    ("dhcp.chap username (option 190)", "(none: the BMC holds the boot parameters)", "winboot01"),
                    ("dhcp.chap secret (option 191)", "(none: the BMC holds the boot parameters)", "(set)")]


def test_bmc_unreadable_unknown_mac_or_not_configured():
    observation = through_bmc()
    observation["bmc"] = {"checked": True, "error": "cannot reach the BMC at https://10.20.1.101: timed out"}
    assert fields(observation) == [("bmc", "readable", "cannot reach the BMC at https://10.20.1.101: timed out")]
    observation["bmc"] = {"checked": True, "error": None, "functions": [OTHER_FUNCTION]}
    assert fields(observation) == [("bmc.function", "a network device function with MAC 00:1b:21:3a:4f:10",
                                    "missing (the BMC lists 00:1b:21:3a:4f:11)")]
    observation["bmc"] = {"checked": False}
    assert fields(observation) == [("bmc", "sanboot_bmc_address set (the boot parameters are in the BMC)", "not set")]
    assert fields(changed(expected__boot_parameters="bios")) == [("sanboot_boot_parameters", "dhcp or bmc", "bios")]


def test_a_dhcp_host_whose_nic_boots_from_stale_bmc_values_is_named():
    observation = copy.deepcopy(GOOD)
    observation["bmc"] = {"checked": True, "error": None, "functions": [copy.deepcopy(BMC_FUNCTION)]}
    rows = fields(observation)
    assert [row[0] for row in rows] == ["bmc.TargetInfoViaDHCP"] and TARGET in rows[0][2]
    # iSCSI boot with the target from DHCP, or iSCSI boot off, agrees with DHCP boot parameters.
    with_bmc_values(observation, TargetInfoViaDHCP=True)
    assert fields(observation) == []
    observation["bmc"]["functions"][0].update(boot_mode="Disabled")
    observation["bmc"]["functions"][0]["iscsi_boot"]["TargetInfoViaDHCP"] = False
    assert fields(observation) == []
