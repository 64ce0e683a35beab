# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The batch_settings filter: each server's settings for a role's batch, in the order the single form takes them."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sanboot.iscsi.plugins.filter.batch_settings import batch_settings

HOSTVARS = {
    "srv1": {"sanboot_volume_size": "60G", "sanboot_initiator_iqn": "iqn.1991-05.com.microsoft:srv1"},
    "srv2": {"sanboot_volume_size": "60G", "san_boot_volume_size": "80G"},
    "srv3": {},
}
MAPPING = [["name", "sanboot_volume_name", "@host"], ["size", "sanboot_volume_size", None],
           ["initiator_iqn", "sanboot_initiator_iqn", None], ["state", "", "present"]]


def test_the_servers_own_variable_then_the_plays_then_the_scheme_then_the_default():
    found = batch_settings(["srv1", "srv2", "srv3"], HOSTVARS, "san_boot_volume_", MAPPING,
                           {"san_boot_volume_state": "absent", "san_boot_volume_size": "70G"})
    assert found == [
        {"host": "srv1", "name": "srv1", "size": "70G", "initiator_iqn": "iqn.1991-05.com.microsoft:srv1", "state": "absent"},
        {"host": "srv2", "name": "srv2", "size": "80G", "initiator_iqn": None, "state": "absent"},
        {"host": "srv3", "name": "srv3", "size": "70G", "initiator_iqn": None, "state": "absent"},
    ]
    # Without play-level values the scheme applies; an empty prefix reads only the scheme.
    assert [entry["size"] for entry in batch_settings(["srv1", "srv2"], HOSTVARS, "san_boot_volume_", MAPPING)] == \
        ["60G", "80G"]
    assert [entry["size"] for entry in batch_settings(["srv1", "srv2"], HOSTVARS, "", MAPPING)] == ["60G", "60G"]


@pytest.mark.parametrize("hosts, mapping, message", [
    ("srv1", MAPPING, "the input must be a list of inventory host names"),
    (["srv1"], [["name", "x"]], "mapping[0] must be [name, scheme variable, default]"),
    (["nowhere"], MAPPING, "nowhere is not a host of the inventory"),
])
def test_bad_input_is_refused_naming_the_rule(hosts, mapping, message):
    with pytest.raises(AnsibleFilterError, match=message.replace("[", r"\[").replace("]", r"\]")):
        batch_settings(hosts, HOSTVARS, "san_boot_volume_", mapping)
