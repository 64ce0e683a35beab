# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.sanboot.iscsi.plugins.filter.parse_portal import FilterModule

parse_portal = FilterModule().filters()["parse_portal"]


@pytest.mark.parametrize("value, expected", [
    ("10.0.0.5:3261", {"server": "10.0.0.5", "port": 3261}),
    ("10.0.0.5", {"server": "10.0.0.5", "port": 3260}),
    ("[FD00::5]:3262", {"server": "fd00::5", "port": 3262}),
    ("fd00::5", {"server": "fd00::5", "port": 3260}),
    ("SAN01.Example.com", {"server": "san01.example.com", "port": 3260}),
])
def test_portals(value, expected):
    assert parse_portal(value) == expected


@pytest.mark.parametrize("value, message", [
    ("10.0.0.5:http", "portal port 'http' is not a whole number"),
    ("10.0.0.5:0", "1 to 65535"),
    ("[fd00::5]3260", "expected [IPv6 address]:port"),
    ("", "is not a portal"),
    (None, "is not a portal"),
    ("not a host!", "not a server address"),
])
def test_bad_portals(value, message):
    with pytest.raises(AnsibleFilterError) as info:
        parse_portal(value)
    assert message in str(info.value)
