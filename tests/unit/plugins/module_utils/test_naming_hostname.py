# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""naming.validate_hostname, appended to the naming core for DHCP reservations (option 12)."""

from __future__ import annotations

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import NamingError, validate_hostname


@pytest.mark.parametrize("value, expected", [
    ("winboot01", "winboot01"),
    ("WinBoot01.Example.com", "WinBoot01.Example.com"),  # case kept: the server hands it out as given
    (" winboot01 ", "winboot01"),
    ("winboot01.example.com.", "winboot01.example.com."),
    ("a" * 63, "a" * 63),
])
def test_valid_host_names(value, expected):
    assert validate_hostname(value) == expected


@pytest.mark.parametrize("value, message", [
    ("", "hostname must be a non-empty host name"),
    (None, "hostname must be a non-empty host name"),
    ("win_boot01", "hostname 'win_boot01' is not a host name: 'win_boot01' is not a label"),
    ("-winboot", "'-winboot' is not a label"),
    ("winboot..example", "'' is not a label"),
    ("a" * 64, "is not a label of letters, digits and inner hyphens (1 to 63 characters"),
    (".".join(["a" * 60] * 5), "a host name has at most 253"),
])
def test_invalid_host_names_name_the_rule(value, message):
    with pytest.raises(NamingError) as info:
        validate_hostname(value)
    assert message in str(info.value)


def test_the_option_name_is_used_in_the_message():
    with pytest.raises(NamingError, match=r"^reservation\.hostname 'a b'"):
        validate_hostname("a b", "reservation.hostname")
