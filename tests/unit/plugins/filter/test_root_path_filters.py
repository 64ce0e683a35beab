# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.sanboot.iscsi.plugins.filter.parse_root_path import FilterModule as ParseFilters
from ansible_collections.sanboot.iscsi.plugins.filter.root_path import FilterModule as BuildFilters

root_path = BuildFilters().filters()["root_path"]
parse_root_path = ParseFilters().filters()["parse_root_path"]


def test_root_path_filter_builds_the_rfc4173_string():
    assert root_path({"server": "10.0.0.5", "lun": 1, "target_iqn": "iqn.2001-05.com.example:boot01"}) == \
        "iscsi:10.0.0.5:6:3260:1:iqn.2001-05.com.example:boot01"
    assert root_path({"server": "fd00::5", "port": 3261, "lun": 10, "protocol": 6,
                      "target_iqn": "iqn.2001-05.com.example:boot02"}) == "iscsi:[fd00::5]:6:3261:a:iqn.2001-05.com.example:boot02"


@pytest.mark.parametrize("value, message", [
    ("iscsi:10.0.0.5::::iqn.2001-05.com.example:boot01", "is not a dictionary"),
    ({"server": "10.0.0.5"}, "target_iqn missing in the root_path input"),
    ({"target_iqn": "iqn.2001-05.com.example:boot01"}, "server missing"),
    ({"server": "10.0.0.5", "target_iqn": "iqn.2001-05.com.example:boot01", "iqn": "x"}, "unknown key(s) iqn"),
    ({"server": "10.0.0.5", "target_iqn": "boot01"}, "'boot01' looks like a target alias"),
    ({"server": "10.0.0.5", "target_iqn": "iqn.2001-05.com.example:boot01", "lun": "ten"}, "LUN 'ten' is not a whole number"),
])
def test_root_path_filter_errors_name_value_and_rule(value, message):
    with pytest.raises(AnsibleFilterError) as info:
        root_path(value)
    assert message in str(info.value)


def test_parse_root_path_filter_returns_exactly_the_documented_keys():
    parsed = parse_root_path("iscsi:10.0.0.5::::iqn.2001-05.com.example:boot01")
    assert parsed == {"server": "10.0.0.5", "protocol": 6, "port": 3260, "lun": 0,
                      "target_iqn": "iqn.2001-05.com.example:boot01"}
    assert isinstance(parsed["lun"], int) and isinstance(parsed["port"], int)


@pytest.mark.parametrize("value, message", [
    ("boot01", "'boot01' is not an iSCSI root path: it must start with 'iscsi:'"),
    (None, "None is not a root path"),
    ("iscsi:10.0.0.5:6:3260:1:winboot01", "'winboot01' looks like a target alias"),
])
def test_parse_root_path_filter_errors(value, message):
    with pytest.raises(AnsibleFilterError) as info:
        parse_root_path(value)
    assert message in str(info.value)


@pytest.mark.parametrize("server", ["fd00::5", "[fd00::5]", "[FD00:0::5]"])
def test_a_bracketed_ipv6_server_round_trips_through_both_filters(server):
    parts = {"server": server, "port": 3261, "lun": 12, "target_iqn": "iqn.2001-05.com.example:boot02"}
    built = root_path(parts)
    assert built == "iscsi:[fd00::5]:6:3261:c:iqn.2001-05.com.example:boot02"
    parsed = parse_root_path(built)
    assert parsed == {"server": "fd00::5", "protocol": 6, "port": 3261, "lun": 12,
                      "target_iqn": "iqn.2001-05.com.example:boot02"}
    assert root_path(parsed) == built
