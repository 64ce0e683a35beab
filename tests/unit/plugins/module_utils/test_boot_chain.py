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
