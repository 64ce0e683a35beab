# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils import naming
from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import NamingError

# Initiator and target names as real products generate them.
REAL_IQNS = [
    "iqn.1991-05.com.microsoft:win-boot01.contoso.local",    # Windows initiator default
    "iqn.1993-08.org.debian:01:3f2a8b1c9d4e",                 # open-iscsi on Debian
    "iqn.1994-05.com.redhat:8a1b2c3d4e5f",                    # open-iscsi on RHEL
    "iqn.1998-01.com.vmware:esx01-4f2a1b3c",                  # ESXi software adapter
    "iqn.2001-05.com.equallogic:0-8a0906-5b3f47c02-3fe000000284f0e3-boot01",
    "iqn.1992-08.com.netapp:sn.4082367740",
    "iqn.2010-06.com.purestorage:flasharray.2f5a1b3c4d5e6f70",
    "iqn.2003-10.com.lefthandnetworks:group1:25:vol1",         # colons inside the unique part
    "iqn.2004-04.com.qnap:ts-453d:iscsi.boot01.c8a1b2",
    "iqn.2005-10.org.freenas.ctl:boot01",
    "iqn.1986-03.com.ibm:2145.cluster1.node1",
    "iqn.2026-11.test:boot1",                                  # single-label naming authority
    "iqn.2001-05.com.example",                                 # the unique part is optional
]

REAL_OTHER_NAMES = [
    "eui.02004567a425678d",
    "naa.52004567ba64678d",
    "naa.60060160a5b2240058e4d3c3f4a5e611",
]


@pytest.mark.parametrize("name", REAL_IQNS)
def test_real_iqns_are_valid_and_canonical(name):
    assert naming.normalize_iscsi_name(name) == name
    assert naming.normalize_iqn(name) == name
    assert naming.is_iqn(name)


@pytest.mark.parametrize("name", REAL_OTHER_NAMES)
def test_eui_and_naa_are_iscsi_names_but_not_iqns(name):
    assert naming.normalize_iscsi_name(name.upper()) == name
    assert not naming.is_iqn(name)
    with pytest.raises(NamingError, match="not an IQN"):
        naming.normalize_iqn(name)


def test_iqn_case_is_folded_and_compared_insensitively():
    assert naming.normalize_iqn("IQN.1991-05.COM.Microsoft:Win-Boot01") == "iqn.1991-05.com.microsoft:win-boot01"
    assert naming.iscsi_names_equal("iqn.2026-11.test:Client1", "IQN.2026-11.TEST:client1")
    assert not naming.iscsi_names_equal("iqn.2026-11.test:client1", "iqn.2026-11.test:client2")
    assert not naming.iscsi_names_equal("boot01", "boot01")  # invalid names are never "equal"


def test_surrounding_white_space_is_dropped():
    assert naming.normalize_iqn("  iqn.2026-11.test:boot1\n") == "iqn.2026-11.test:boot1"


@pytest.mark.parametrize("value, rule", [
    ("boot01", "target alias"),                                   # the seed's trap
    ("WinBoot01-Target", "target alias"),
    ("Boot Target 01", "target alias"),
    ("iqn.2001-5.com.example:boot01", "expected iqn.yyyy-mm"),
    ("iqn.2001.com.example:boot01", "yyyy-mm"),
    ("iqn.200105.com.example:boot01", "yyyy-mm"),
    ("iqn.2001-13.com.example:boot01", "month 13"),
    ("iqn.2001-00.com.example:boot01", "month 00"),
    ("iqn.1601-05.com.example:boot01", "year 1601"),
    ("iqn.2001-05:boot01", "expected iqn.yyyy-mm"),
    ("iqn.2001-05.:boot01", "naming authority"),
    ("iqn.2001-05.com..example:boot01", "'' in the naming authority"),
    ("iqn.2001-05.-com.example:boot01", "'-com'"),
    ("iqn.2001-05.com.ex_ample:boot01", "'ex_ample'"),
    ("iqn.2001-05.com.example:", "nothing follows"),
    ("iqn.2001-05.com.example:boot_01", "'_' is not allowed"),
    ("iqn.2001-05.com.example:boot 01", "white space is not allowed"),
    ("iqn.2001-05.com.example:boot/01", "'/' is not allowed"),
    ("iqn.2001-05.com.example:boot\t01", "white space"),
    ("iqn.2001-05.com.example:" + "x" * 220, "bytes long, the limit is 223"),
    ("eui.02004567A425678", "exactly 16 hex digits"),
    ("eui.02004567A425678G", "exactly 16 hex digits"),
    ("naa.1234", "16 or 32 hex digits"),
    ("10.0.0.5", "not an iSCSI name"),
    ("", "empty string"),
    ("   ", "empty string"),
])
def test_malformed_names_say_which_rule(value, rule):
    with pytest.raises(NamingError) as info:
        naming.normalize_iscsi_name(value)
    assert rule in str(info.value)
    assert not naming.is_iqn(value)


@pytest.mark.parametrize("value", [None, 42, ["iqn.2026-11.test:boot1"], {"iqn": 1}])
def test_non_strings_are_not_names(value):
    with pytest.raises(NamingError, match="expected a string"):
        naming.normalize_iscsi_name(value)
    assert naming.is_iqn(value) is False


# --- root paths ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, expected", [
    (dict(server="10.0.0.5", target_iqn="iqn.2001-05.com.example:boot01", lun=1),
     "iscsi:10.0.0.5:6:3260:1:iqn.2001-05.com.example:boot01"),
    (dict(server="10.0.0.5", target_iqn="iqn.2001-05.com.example:boot01"),
     "iscsi:10.0.0.5:6:3260:0:iqn.2001-05.com.example:boot01"),
    (dict(server="10.77.0.1", target_iqn="iqn.2026-11.test:boot1", port=3260, lun=1, protocol=6),
     "iscsi:10.77.0.1:6:3260:1:iqn.2026-11.test:boot1"),
    # LUNs are hexadecimal in a root path: 10 is "a", 255 is "ff" (the decimal/hex trap).
    (dict(server="10.0.0.5", target_iqn="iqn.2001-05.com.example:boot01", lun=10),
     "iscsi:10.0.0.5:6:3260:a:iqn.2001-05.com.example:boot01"),
    (dict(server="10.0.0.5", target_iqn="iqn.2001-05.com.example:boot01", lun="255"),
     "iscsi:10.0.0.5:6:3260:ff:iqn.2001-05.com.example:boot01"),
    (dict(server="fd00::5", target_iqn="iqn.2001-05.com.example:boot02", port=3261, lun=2),
     "iscsi:[fd00::5]:6:3261:2:iqn.2001-05.com.example:boot02"),
    (dict(server="[FD00:0::5]", target_iqn="iqn.2001-05.com.example:boot02"),
     "iscsi:[fd00::5]:6:3260:0:iqn.2001-05.com.example:boot02"),
    (dict(server="SAN01.Example.COM", target_iqn="IQN.2001-05.COM.EXAMPLE:BOOT01", lun=1),
     "iscsi:san01.example.com:6:3260:1:iqn.2001-05.com.example:boot01"),
    (dict(server="10.0.0.5", target_iqn="eui.02004567A425678D", lun=0, protocol=""),
     "iscsi:10.0.0.5:6:3260:0:eui.02004567a425678d"),
])
def test_build_root_path(kwargs, expected):
    assert naming.build_root_path(**kwargs) == expected


@pytest.mark.parametrize("kwargs, rule", [
    (dict(server="10.0.0.5", target_iqn="boot01"), "target alias"),
    (dict(server="10.0.0.5", target_iqn="iqn.2001-05.com.example:boot01", protocol=17), "only 6 (TCP)"),
    (dict(server="10.0.0.5", target_iqn="iqn.2001-05.com.example:boot01", port=0), "1 to 65535"),
    (dict(server="10.0.0.5", target_iqn="iqn.2001-05.com.example:boot01", port=70000), "1 to 65535"),
    (dict(server="10.0.0.5", target_iqn="iqn.2001-05.com.example:boot01", port="http"), "not a whole number"),
    (dict(server="10.0.0.5", target_iqn="iqn.2001-05.com.example:boot01", lun=-1), "0 to 16383"),
    (dict(server="10.0.0.5", target_iqn="iqn.2001-05.com.example:boot01", lun=16384), "0 to 16383"),
    (dict(server="10.0.0.5", target_iqn="iqn.2001-05.com.example:boot01", lun="one"), "not a whole number"),
    (dict(server="10.0.0.5", target_iqn="iqn.2001-05.com.example:boot01", lun=True), "not a number"),
    (dict(server="not a host!", target_iqn="iqn.2001-05.com.example:boot01"), "not a server address"),
    (dict(server="10.0.0.256", target_iqn="iqn.2001-05.com.example:boot01"), "not a valid IPv4 address"),
])
def test_build_root_path_refuses_bad_parts(kwargs, rule):
    with pytest.raises(NamingError) as info:
        naming.build_root_path(**kwargs)
    assert rule in str(info.value)


@pytest.mark.parametrize("text, expected", [
    ("iscsi:10.0.0.5::::iqn.2001-05.com.example:boot01",
     dict(server="10.0.0.5", protocol=6, port=3260, lun=0, target_iqn="iqn.2001-05.com.example:boot01")),
    ("iscsi:10.77.0.1:6:3260:1:iqn.2026-11.test:boot1",
     dict(server="10.77.0.1", protocol=6, port=3260, lun=1, target_iqn="iqn.2026-11.test:boot1")),
    ("iscsi:10.0.0.5:6:3260:a:iqn.2001-05.com.example:boot01",
     dict(server="10.0.0.5", protocol=6, port=3260, lun=10, target_iqn="iqn.2001-05.com.example:boot01")),
    ("iscsi:10.0.0.5:6:3260:10:iqn.2001-05.com.example:boot01",
     dict(server="10.0.0.5", protocol=6, port=3260, lun=16, target_iqn="iqn.2001-05.com.example:boot01")),
    ("iscsi:10.0.0.5:::0001-0000-0000-0000:iqn.2001-05.com.example:boot01",
     dict(server="10.0.0.5", protocol=6, port=3260, lun=1, target_iqn="iqn.2001-05.com.example:boot01")),
    ("iscsi:[fd00::5]:6:3261:2:iqn.2001-05.com.example:boot02",
     dict(server="fd00::5", protocol=6, port=3261, lun=2, target_iqn="iqn.2001-05.com.example:boot02")),
    ("ISCSI:San01.Example.com::3262::IQN.2003-10.com.lefthandnetworks:group1:25:vol1",
     dict(server="san01.example.com", protocol=6, port=3262, lun=0,
          target_iqn="iqn.2003-10.com.lefthandnetworks:group1:25:vol1")),
    ("iscsi:10.0.0.5:6:3260:ff:eui.02004567A425678D",
     dict(server="10.0.0.5", protocol=6, port=3260, lun=255, target_iqn="eui.02004567a425678d")),
])
def test_parse_root_path(text, expected):
    parsed = naming.parse_root_path(text)
    assert parsed == expected
    assert set(parsed) == set(naming.ROOT_PATH_KEYS)


@pytest.mark.parametrize("text, rule", [
    ("nfs:10.0.0.5:/export/boot", "must start with 'iscsi:'"),
    ("iqn.2001-05.com.example:boot01", "must start with 'iscsi:'"),
    ("iscsi:10.0.0.5:6:3260:1", "colons are not optional"),
    ("iscsi:10.0.0.5", "colons are not optional"),
    ("iscsi::6:3260:1:iqn.2001-05.com.example:boot01", "server field is empty"),
    ("iscsi:10.0.0.5:17:3260:1:iqn.2001-05.com.example:boot01", "protocol '17'"),
    ("iscsi:10.0.0.5:6:port:1:iqn.2001-05.com.example:boot01", "not a whole number"),
    ("iscsi:10.0.0.5:6:3260:zz:iqn.2001-05.com.example:boot01", "not hexadecimal"),
    ("iscsi:10.0.0.5:6:3260:0001-0002-0000-0000:iqn.2001-05.com.example:boot01", "multi-level"),
    ("iscsi:10.0.0.5:6:3260:1:boot01", "target alias"),
    ("iscsi:10.0.0.5:6:3260:1:", "empty string"),
    ("iscsi:[fd00::5:6:3260:1:iqn.2001-05.com.example:boot01", "brackets"),
    ("iscsi:fd00::5:6:3260:1:iqn.2001-05.com.example:boot01", "RFC 4173 requires brackets"),
    ("iscsi:300.0.0.5:6:3260:1:iqn.2001-05.com.example:boot01", "not a valid IPv4 address"),
])
def test_parse_root_path_refuses_malformed(text, rule):
    with pytest.raises(NamingError) as info:
        naming.parse_root_path(text)
    assert rule in str(info.value)
    assert text.strip() in str(info.value) or "root path" in str(info.value)


def test_parse_root_path_refuses_non_strings():
    with pytest.raises(NamingError, match="not a root path"):
        naming.parse_root_path({"server": "10.0.0.5"})


@pytest.mark.parametrize("lun", [0, 1, 9, 10, 15, 16, 255, 256, 4095, 16383])
def test_root_path_round_trip(lun):
    built = naming.build_root_path("fd00::1", "iqn.2026-11.test:boot1", port=3261, lun=lun)
    assert naming.parse_root_path(built) == dict(server="fd00::1", protocol=6, port=3261, lun=lun,
                                                 target_iqn="iqn.2026-11.test:boot1")


# --- MAC addresses ------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "52:54:00:12:34:56", "52-54-00-12-34-56", "52:54:00:12:34:56".upper(), "5254.0012.3456", "525400123456",
    " 52:54:00:12:34:56 ",
])
def test_mac_notations_give_one_canonical_form(value):
    assert naming.normalize_mac(value) == "52:54:00:12:34:56"


def test_mac_styles():
    assert naming.normalize_mac("52:54:00:ab:cd:ef", "dash") == "52-54-00-AB-CD-EF"
    assert naming.normalize_mac("52:54:00:ab:cd:ef", "cisco") == "5254.00ab.cdef"
    assert naming.normalize_mac("52:54:00:ab:cd:ef", "bare") == "525400abcdef"
    with pytest.raises(NamingError, match="MAC style 'windows' is unknown"):
        naming.normalize_mac("52:54:00:ab:cd:ef", "windows")


@pytest.mark.parametrize("value, rule", [
    ("52:54:00:12:34", "six hex octets"),
    ("52:54:00:12:34:5g", "six hex octets"),
    ("52-54:00-12:34:56", "six hex octets"),     # mixed separators
    ("52:54:00:12:34:56:78", "six hex octets"),
    ("5254.0012.345", "six hex octets"),
    ("01:00:5e:00:00:01", "multicast"),
    ("ff:ff:ff:ff:ff:ff", "multicast or broadcast"),
    ("00:00:00:00:00:00", "all-zero"),
    (525400123456, "expected a string"),
])
def test_malformed_macs(value, rule):
    with pytest.raises(NamingError) as info:
        naming.normalize_mac(value)
    assert rule in str(info.value)


# --- sizes --------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("512", 512), (512, 512), ("512B", 512), ("1K", 1024), ("1KiB", 1024), ("1KB", 1000), ("1kb", 1000),
    ("64M", 64 * 1024 ** 2), ("64MiB", 64 * 1024 ** 2), ("64MB", 64 * 1000 ** 2),
    ("10G", 10 * 1024 ** 3), ("10 GiB", 10 * 1024 ** 3), ("10g", 10 * 1024 ** 3), ("10GB", 10 * 1000 ** 3),
    ("1.5G", 1536 * 1024 ** 2), ("1.5 GiB", 1536 * 1024 ** 2), ("2T", 2 * 1024 ** 4), ("2TB", 2 * 1000 ** 4),
    ("1P", 1024 ** 5), ("0.5K", 512),
])
def test_sizes(value, expected):
    assert naming.parse_size(value) == expected


@pytest.mark.parametrize("value, rule", [
    ("G", "not a size"), ("big", "not a size"), ("", "not a size"), ("-5G", "not a size"), ("0", "greater than zero"),
    ("0G", "greater than zero"), ("10X", "unknown unit 'X'"), ("10 GBit", "unknown unit"), ("1.5", "whole number of bytes"),
    ("0.3K", "whole number of bytes"), (True, "not a size"), (None, "not a size"), (1.5, "not a size"), (-1, "greater than zero"),
])
def test_bad_sizes(value, rule):
    with pytest.raises(NamingError) as info:
        naming.parse_size(value)
    assert rule in str(info.value)


def test_format_size_and_round_up():
    assert naming.format_size(10 * 1024 ** 3) == "10GiB"
    assert naming.format_size(1536 * 1024 ** 2) == "1536MiB"
    assert naming.format_size(1000) == "1000B"
    assert naming.round_up(1000, 512) == 1024
    assert naming.round_up(1024, 512) == 1024


# --- CHAP ---------------------------------------------------------------------------------

SECRET = "Sup3r-Secret-12"   # 15 characters


def test_valid_chap():
    assert naming.validate_chap({"username": "vmuser", "secret": SECRET}) == {"username": "vmuser", "secret": SECRET}
    naming.validate_chap_pair({"username": "u", "secret": SECRET}, {"username": "t", "secret": "Other-Secret-99"})


@pytest.mark.parametrize("secret, rule", [
    ("short-one", "12 to 16 characters long (the Microsoft iSCSI initiator's rule); the one given has 9"),
    ("x" * 17, "the one given has 17"),
    ("has a space!", "printable ASCII characters without spaces"),
    ("tab\tinside-it", "without spaces"),
    ("", "non-empty string"),
])
def test_bad_chap_secrets_never_echo_the_secret(secret, rule):
    with pytest.raises(NamingError) as info:
        naming.validate_chap({"username": "vmuser", "secret": secret})
    message = str(info.value)
    assert message.startswith("chap.secret")
    assert rule in message
    if secret:
        assert secret not in message


def test_chap_secret_limits_can_be_widened_for_arrays():
    naming.validate_chap_secret("x" * 40, maximum=255)
    with pytest.raises(NamingError, match="12 to 255 characters long \\(the rule here\\)"):
        naming.validate_chap_secret("x" * 11, maximum=255)


@pytest.mark.parametrize("chap, rule", [
    ({"username": "", "secret": SECRET}, "chap.username must be a non-empty string"),
    ({"username": "vm user", "secret": SECRET}, "chap.username 'vm user' may contain only printable ASCII"),
    ({"username": "u" * 224, "secret": SECRET}, "limit is 223"),
    ({"username": "vmuser"}, "chap.secret must be a non-empty string"),
    ({"username": "vmuser", "secret": SECRET, "password": "x"}, "keys username and secret"),
    ("vmuser:" + SECRET, "keys username and secret"),
])
def test_bad_chap_dicts(chap, rule):
    with pytest.raises(NamingError) as info:
        naming.validate_chap(chap)
    assert rule in str(info.value)
    assert SECRET not in str(info.value)


def test_mutual_chap_rules():
    with pytest.raises(NamingError, match="must differ from chap.secret"):
        naming.validate_chap_pair({"username": "u", "secret": SECRET}, {"username": "t", "secret": SECRET})
    with pytest.raises(NamingError, match="mutual_chap needs chap"):
        naming.validate_chap_pair(None, {"username": "t", "secret": SECRET})
    with pytest.raises(NamingError, match="^mutual_chap.secret must be 12 to 16"):
        naming.validate_chap_pair({"username": "u", "secret": SECRET}, {"username": "t", "secret": "short"})


@pytest.mark.parametrize("value, expected", [
    ("10.0.0.5", "10.0.0.5"),
    (" 10.0.0.5/32 ", "10.0.0.5"),          # tgt never matches a /32 rule: a host is written bare
    ("10.0.0.0/24", "10.0.0.0/24"),
    ("FD00::1/128", "fd00::1"),
    ("fd00:0::/64", "fd00::/64"),
    ("[fd00::5]", "fd00::5"),
    ("0.0.0.0/0", "0.0.0.0/0"),             # valid syntax; whether to allow it is the caller's policy
])
def test_ip_networks_have_one_canonical_form(value, expected):
    assert naming.normalize_ip_network(value) == expected


@pytest.mark.parametrize("value, rule", [
    ("10.0.0.5/24", "address '10.0.0.5/24' has host bits set: write the network, 10.0.0.0/24, or the single address 10.0.0.5"),
    ("10.0.0.0/33", "address '10.0.0.0/33' is not an IP address or network"),
    ("server01", "address 'server01' is not an IP address or network"),
    ("", "address '' is not an IP address or network"),
    (None, "address None is not an IP address or network"),
])
def test_bad_ip_networks(value, rule):
    with pytest.raises(NamingError) as caught:
        naming.normalize_ip_network(value)
    assert str(caught.value).startswith(rule)


def test_ip_network_messages_name_the_caller_s_option():
    with pytest.raises(NamingError, match="^allowed_addresses 'x' is not"):
        naming.normalize_ip_network("x", what="allowed_addresses")
