# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.boot_options import boot_option_values, normalize_iscsi
from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import NamingError

TARGET = "iqn.2026-11.test:boot1"


def test_defaults_are_port_3260_lun_1_tcp():
    settings = normalize_iscsi({"target_iqn": TARGET.upper(), "server": "10.77.0.1"})
    assert settings["root_path"] == "iscsi:10.77.0.1:6:3260:1:" + TARGET
    assert (settings["port"], settings["lun"], settings["protocol"], settings["target_iqn"]) == (3260, 1, 6, TARGET)


def test_option_values_for_a_full_reservation():
    values = boot_option_values({"target_iqn": TARGET, "server": "10.77.0.1", "lun": "10", "port": 3261,
                                 "initiator_iqn": "IQN.2026-11.test:VM1",
                                 "chap": {"username": "vmuser", "secret": "vmsecret12345"}}, hostname="winboot01")
    assert values == {17: "iscsi:10.77.0.1:6:3261:a:" + TARGET, 203: "iqn.2026-11.test:vm1", 12: "winboot01",
                      190: "vmuser", 191: "vmsecret12345"}


def test_only_what_is_given_becomes_an_option():
    assert boot_option_values({"target_iqn": TARGET, "server": "10.77.0.1", "initiator_iqn": None}) == \
        {17: "iscsi:10.77.0.1:6:3260:1:" + TARGET}


@pytest.mark.parametrize("iscsi, message", [
    ({"server": "10.77.0.1"}, "iscsi.target_iqn is required"),
    ({"target_iqn": TARGET}, "iscsi.server is required"),
    ({"target_iqn": "boot1", "server": "10.77.0.1"}, "iscsi: 'boot1' looks like a target alias"),
    ({"target_iqn": TARGET, "server": "10.77.0.1", "lun": "one"}, "iscsi: LUN 'one' is not a whole number"),
    ({"target_iqn": TARGET, "server": "10.77.0.1", "initiator_iqn": "eui.02004567a425678d"}, "iscsi.initiator_iqn: "),
    ({"target_iqn": TARGET, "server": "10.77.0.1", "chap": {"username": "u", "secret": "short"}}, "iscsi.chap.secret must be 12"),
    ({"target_iqn": TARGET, "server": "10.77.0.1", "portal": "x"}, "unknown key(s) portal"),
    ("iscsi:10.77.0.1::::" + TARGET, "iscsi must be a dictionary"),
])
def test_bad_settings_name_the_key(iscsi, message):
    with pytest.raises(NamingError) as info:
        normalize_iscsi(iscsi)
    assert message in str(info.value)


@pytest.mark.parametrize("server", ["fd00::5", "[fd00::5]", "FD00:0::5"])
def test_a_bracketed_ipv6_server_keeps_the_target_iqn(server):
    """The root path is parsed by the naming core only (issue 11): never split at colons here."""
    settings = normalize_iscsi({"target_iqn": TARGET, "server": server, "lun": 10})
    assert settings["root_path"] == "iscsi:[fd00::5]:6:3260:a:" + TARGET
    assert (settings["server"], settings["target_iqn"], settings["port"], settings["lun"]) == ("fd00::5", TARGET, 3260, 10)


def test_a_boot_lun_of_10_or_more_is_warned_about_with_the_reason():
    from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.boot_options import lun_warning
    assert lun_warning(9) is None
    warning = lun_warning(10)
    assert warning.startswith("iscsi.lun 10 goes into the root path (option 17) as 'a', in hexadecimal as RFC 4173 "
                              "says and iPXE reads it")
    assert "dracut and OpenStack Ironic read that field as decimal" in warning
    assert "LUNs 0 to 9" in warning
