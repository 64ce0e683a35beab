# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The iSCSI naming core: the one place that knows the rules for iSCSI names,
RFC 4173 root paths, MAC addresses, sizes and CHAP credentials.

Plain Python with no Ansible imports, so that modules, filter and test plugins,
roles (through those plugins) and unit tests all share the same rules.
Every error is a NamingError whose message names the offending value (never a
secret) and the rule it broke; callers prefix the option name.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata


class NamingError(ValueError):
    """A value broke one of the naming rules. The message names the value and the rule."""


# --- iSCSI names (RFC 3720 section 3.2.6, RFC 3722, RFC 3980) -------------------------------

ISCSI_NAME_MAX_BYTES = 223
ISCSI_TCP_PORT = 3260
TCP_PROTOCOL = 6

_IQN_RULE = "iqn.yyyy-mm.reversed.domain[:unique-string], for example iqn.1991-05.com.microsoft:server01"
_ANY_NAME_RULE = "an iSCSI name: " + _IQN_RULE + ", eui. followed by 16 hex digits, or naa. followed by 16 or 32 hex digits"
_DOMAIN_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_IQN_HEAD = re.compile(r"^iqn\.(?P<year>\d{4})-(?P<month>\d{2})\.(?P<authority>[^:]*)(?::(?P<unique>.*))?$", re.DOTALL)
_EUI = re.compile(r"^eui\.[0-9a-f]{16}$")
_NAA = re.compile(r"^naa\.(?:[0-9a-f]{16}|[0-9a-f]{32})$")
# After RFC 3722 stringprep the only ASCII punctuation left in a name is '-', '.' and ':'.
_ASCII_FORBIDDEN = re.compile(r"[\x00-\x2c\x2f\x3b-\x40\x5b-\x60\x7b-\x7f]")


def _describe_char(char: str) -> str:
    if char.isspace():
        return "white space"
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return "a control character"
    return "'%s'" % char


def _prepare_name(value) -> str:
    """Apply the parts of RFC 3722 stringprep that matter in practice: NFKC and case folding."""
    if not isinstance(value, str):
        raise NamingError("%r is not an iSCSI name: expected a string, got %s" % (value, type(value).__name__))
    text = value.strip()
    if not text:
        raise NamingError("an empty string is not an iSCSI name: expected %s" % _ANY_NAME_RULE)
    return unicodedata.normalize("NFKC", text).lower()


def _check_iqn(original: str, name: str) -> None:
    match = _IQN_HEAD.match(name)
    if not match:
        if re.match(r"^iqn\.\d{4}\.", name) or re.match(r"^iqn\.\d{4}\d{2}\.", name):
            raise NamingError("'%s' is not a valid IQN: the date must be written yyyy-mm (RFC 3720 3.2.6.3.1), as in %s"
                              % (original, _IQN_RULE))
        raise NamingError("'%s' is not a valid IQN: expected %s" % (original, _IQN_RULE))
    month = int(match.group("month"))
    year = int(match.group("year"))
    if not 1 <= month <= 12:
        raise NamingError("'%s' is not a valid IQN: month %02d in the date is not 01 to 12" % (original, month))
    if year < 1970:
        raise NamingError("'%s' is not a valid IQN: year %d is before any domain could have been registered" % (original, year))
    authority = match.group("authority")
    if not authority:
        raise NamingError("'%s' is not a valid IQN: the naming authority (a reversed domain name such as com.example) "
                          "is missing after the date" % original)
    for label in authority.split("."):
        if not _DOMAIN_LABEL.match(label):
            raise NamingError("'%s' is not a valid IQN: '%s' in the naming authority is not a domain label "
                              "(letters, digits and inner hyphens, dot-separated, as in com.example)" % (original, label))
    unique = match.group("unique")
    if unique is not None and not unique:
        raise NamingError("'%s' is not a valid IQN: nothing follows the ':' after the naming authority" % original)
    bad = _ASCII_FORBIDDEN.search(unique or "")
    if bad:
        raise NamingError("'%s' is not a valid IQN: %s is not allowed; after the naming authority only letters, "
                          "digits, '-', '.' and ':' may appear (RFC 3722)" % (original, _describe_char(bad.group())))


def normalize_iscsi_name(value) -> str:
    """Return the canonical (RFC 3722, lowercase) form of an iqn., eui. or naa. name, or raise NamingError."""
    name = _prepare_name(value)
    original = value.strip()
    if len(name.encode("utf-8")) > ISCSI_NAME_MAX_BYTES:
        raise NamingError("'%s' is not a valid iSCSI name: it is %d bytes long, the limit is %d (RFC 3720 3.2.6.1)"
                          % (original, len(name.encode("utf-8")), ISCSI_NAME_MAX_BYTES))
    if name.startswith("iqn."):
        _check_iqn(original, name)
        return name
    if name.startswith("eui."):
        if not _EUI.match(name):
            raise NamingError("'%s' is not a valid EUI iSCSI name: expected eui. followed by exactly 16 hex digits "
                              "(RFC 3720 3.2.6.3.2)" % original)
        return name
    if name.startswith("naa."):
        if not _NAA.match(name):
            raise NamingError("'%s' is not a valid NAA iSCSI name: expected naa. followed by 16 or 32 hex digits "
                              "(RFC 3980)" % original)
        return name
    if "." not in name and ":" not in name:
        # The seed's trap: boot ROMs cannot resolve a target alias, only the full name.
        raise NamingError("'%s' looks like a target alias or host name, not an iSCSI name: boot firmware needs the "
                          "full name, %s" % (original, _ANY_NAME_RULE))
    raise NamingError("'%s' is not an iSCSI name: expected %s" % (original, _ANY_NAME_RULE))


def normalize_iqn(value) -> str:
    """Like normalize_iscsi_name, but only the iqn. form is accepted (initiator names, the 'iqn' test)."""
    name = normalize_iscsi_name(value)
    if not name.startswith("iqn."):
        raise NamingError("'%s' is an iSCSI name but not an IQN: expected %s" % (value.strip(), _IQN_RULE))
    return name


def is_iqn(value) -> bool:
    try:
        normalize_iqn(value)
    except NamingError:
        return False
    return True


def iscsi_names_equal(first, second) -> bool:
    """iSCSI names compare case-insensitively (RFC 3722); invalid names are never equal."""
    try:
        return normalize_iscsi_name(first) == normalize_iscsi_name(second)
    except NamingError:
        return False


# --- Network values -----------------------------------------------------------------------

_HOSTNAME_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)


def normalize_server(value) -> str:
    """An IPv4 or IPv6 address or a DNS host name (RFC 1123), as used for an iSCSI portal."""
    if not isinstance(value, str) or not value.strip():
        raise NamingError("%r is not a server address: expected an IPv4 or IPv6 address or a DNS name" % (value,))
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if re.match(r"^[\d.]+$", text):
        raise NamingError("'%s' is not a valid IPv4 address" % value)
    name = text[:-1] if text.endswith(".") else text
    if len(name) > 253 or not all(_HOSTNAME_LABEL.match(label) for label in name.split(".")):
        raise NamingError("'%s' is not a server address: expected an IPv4 or IPv6 address or a DNS name "
                          "(labels of letters, digits and inner hyphens)" % value)
    return name.lower()


def validate_port(value, what: str = "port") -> int:
    port = _to_int(value, what)
    if not 1 <= port <= 65535:
        raise NamingError("%s %s is out of range: a TCP port is 1 to 65535" % (what, value))
    return port


def _to_int(value, what: str) -> int:
    if isinstance(value, bool):
        raise NamingError("%s %r is not a number" % (what, value))
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.match(r"^\s*\d+\s*$", value):
        return int(value)
    raise NamingError("%s %r is not a whole number" % (what, value))


def parse_portal(value) -> tuple:
    """'address[:port]' (an IPv6 address in brackets when a port is given) -> (server, port or None)."""
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not text:
        raise NamingError("%r is not a portal: expected address[:port], for example 10.0.0.5:3260 or [fd00::5]:3260"
                          % (value,))
    port = None
    if text.startswith("["):
        address, _bracket, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise NamingError("'%s' is not a portal: expected [IPv6 address]:port" % value)
            port = rest[1:]
    elif text.count(":") == 1:
        address, port = text.split(":")
    else:
        address = text
    server = normalize_server(address)
    if port is not None:
        port = validate_port(port, "portal port")
    return server, port


def format_portal(server, port) -> str:
    return "[%s]:%d" % (server, port) if ":" in server else "%s:%d" % (server, port)


# --- LUNs -----------------------------------------------------------------------------------

# SAM flat space addressing: 14 bits. Boot ROMs and tgt handle LUNs in this range.
LUN_MAX = 16383


def validate_lun(value, minimum: int = 0, maximum: int = LUN_MAX) -> int:
    lun = _to_int(value, "LUN")
    if not minimum <= lun <= maximum:
        raise NamingError("LUN %s is out of range: it must be %d to %d" % (value, minimum, maximum))
    return lun


def format_lun_hex(lun) -> str:
    """LUN as RFC 4173 writes it: hexadecimal, no padding (as OpenStack Ironic renders it)."""
    return format(validate_lun(lun), "x")


def parse_lun_hex(text: str) -> int:
    """Parse the LUN field of a root path: hex, optionally as SAM's four dash-separated 16-bit groups."""
    if text == "":
        return 0
    groups = text.split("-")
    if len(groups) > 4 or not all(re.match(r"^[0-9a-fA-F]{1,4}$", group) for group in groups):
        raise NamingError("LUN field '%s' is not hexadecimal (RFC 4173: up to four dash-separated groups of 1 to 4 "
                          "hex digits)" % text)
    if any(int(group, 16) for group in groups[1:]):
        raise NamingError("LUN field '%s' is a multi-level LUN; only single-level LUNs (0 to %d) are supported"
                          % (text, LUN_MAX))
    # The top two bits of the first level select the SAM addressing method, not the number.
    return validate_lun(int(groups[0], 16) & 0x3FFF)


# --- RFC 4173 root paths -------------------------------------------------------------------

ROOT_PATH_KEYS = ("server", "protocol", "port", "lun", "target_iqn")


def build_root_path(server, target_iqn, port=None, lun=None, protocol=None) -> str:
    """iscsi:<server>:<protocol>:<port>:<LUN>:<targetname>, the DHCP option 17 value.

    Defaults: protocol 6 (TCP, the only one defined), port 3260, LUN 0. All fields are written
    out, so that every boot ROM reads the same values without relying on its defaults.
    """
    address = normalize_server(server)
    if ":" in address:
        address = "[%s]" % address
    if protocol in (None, ""):
        protocol = TCP_PROTOCOL
    if _to_int(protocol, "protocol") != TCP_PROTOCOL:
        raise NamingError("protocol %s is not supported: RFC 4173 defines only 6 (TCP)" % protocol)
    port = ISCSI_TCP_PORT if port in (None, "") else validate_port(port)
    lun = 0 if lun in (None, "") else lun
    target = normalize_iscsi_name(target_iqn)
    return "iscsi:%s:%d:%d:%s:%s" % (address, TCP_PROTOCOL, port, format_lun_hex(lun), target)


def parse_root_path(value) -> dict:
    """Parse an RFC 4173 root path into {server, protocol, port, lun, target_iqn}, filling defaults."""
    if not isinstance(value, str):
        raise NamingError("%r is not a root path: expected a string such as iscsi:10.0.0.5:6:3260:1:iqn.2001-05.com.example:boot01"
                          % (value,))
    text = value.strip()
    if not text.lower().startswith("iscsi:"):
        raise NamingError("'%s' is not an iSCSI root path: it must start with 'iscsi:' (RFC 4173)" % value)
    rest = text[len("iscsi:"):]
    if rest.startswith("["):
        end = rest.find("]")
        if end < 0 or rest[end + 1:end + 2] != ":":
            raise NamingError("'%s' is not a valid root path: an IPv6 server must be written in brackets followed by ':'"
                              % value)
        server, rest = rest[1:end], rest[end + 2:]
    else:
        server, _sep, rest = rest.partition(":")
    fields = rest.split(":", 3)
    if len(fields) != 4:
        raise NamingError("'%s' is not a valid root path: expected iscsi:<server>:<protocol>:<port>:<LUN>:<targetname> "
                          "(RFC 4173; empty fields are allowed but the colons are not optional)" % value)
    protocol_text, port_text, lun_text, target = fields
    if not server:
        raise NamingError("'%s' is not a valid root path: the server field is empty" % value)
    try:
        return {
            "server": normalize_server(server),
            "protocol": TCP_PROTOCOL if protocol_text == "" else _check_protocol(protocol_text),
            "port": ISCSI_TCP_PORT if port_text == "" else validate_port(port_text),
            "lun": parse_lun_hex(lun_text),
            "target_iqn": normalize_iscsi_name(target),
        }
    except NamingError as exc:
        if _looks_like_bare_ipv6(server, rest):
            raise NamingError("root path '%s': the server looks like an IPv6 address; RFC 4173 requires brackets, "
                              "as in iscsi:[fd00::5]:6:3260:1:<targetname>" % value) from None
        raise NamingError("root path '%s': %s" % (value, exc)) from None


def _looks_like_bare_ipv6(server: str, rest: str) -> bool:
    fields = [server] + rest.split(":")
    for count in range(2, min(len(fields), 9) + 1):
        try:
            ipaddress.IPv6Address(":".join(fields[:count]))
            return True
        except ValueError:
            continue
    return False


def _check_protocol(text: str) -> int:
    if text != str(TCP_PROTOCOL):
        raise NamingError("protocol '%s' is not supported: RFC 4173 defines only 6 (TCP) or empty" % text)
    return TCP_PROTOCOL


# --- MAC addresses -------------------------------------------------------------------------

MAC_STYLES = ("colon", "dash", "cisco", "bare")


def normalize_mac(value, style: str = "colon") -> str:
    """Accept 52:54:00:12:34:56, 52-54-00-12-34-56, 5254.0012.3456 or 525400123456 (any case).

    Returns lowercase colon form by default (Kea, Linux), or 'dash' (uppercase, Windows DHCP),
    'cisco' (5254.0012.3456) or 'bare' (525400123456).
    """
    if style not in MAC_STYLES:
        raise NamingError("MAC style '%s' is unknown: expected one of %s" % (style, ", ".join(MAC_STYLES)))
    if not isinstance(value, str):
        raise NamingError("%r is not a MAC address: expected a string such as 52:54:00:12:34:56" % (value,))
    text = value.strip()
    patterns = (
        r"^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$",
        r"^([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})$",
        r"^([0-9a-f]{12})$",
    )
    digits = None
    for pattern in patterns:
        match = re.match(pattern, text, re.IGNORECASE)
        if match:
            digits = re.sub(r"[^0-9a-fA-F]", "", text).lower()
            break
    if digits is None:
        raise NamingError("'%s' is not a MAC address: expected six hex octets such as 52:54:00:12:34:56, "
                          "52-54-00-12-34-56, 5254.0012.3456 or 525400123456" % value)
    if int(digits[0:2], 16) & 1:
        raise NamingError("'%s' is a multicast or broadcast MAC address, not a network card's address" % value)
    if digits == "000000000000":
        raise NamingError("'%s' is the all-zero MAC address, not a network card's address" % value)
    octets = [digits[i:i + 2] for i in range(0, 12, 2)]
    if style == "dash":
        return "-".join(octets).upper()
    if style == "cisco":
        return ".".join(digits[i:i + 4] for i in range(0, 12, 4))
    if style == "bare":
        return digits
    return ":".join(octets)


# --- Sizes ---------------------------------------------------------------------------------

_BINARY_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4, "p": 1024 ** 5}
_SIZE = re.compile(r"^(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[a-z]*)$", re.IGNORECASE)
SIZE_RULE = ("a number of bytes, or a number with a unit: K, M, G, T, P or KiB, MiB, GiB, TiB, PiB (powers of 1024), "
             "KB, MB, GB, TB, PB (powers of 1000)")


def parse_size(value) -> int:
    """Size with units to bytes. K/M/G/T/P and KiB..PiB are powers of 1024 (as arrays and peer
    collections use them); KB/MB/GB/TB/PB are powers of 1000; no unit or B means bytes."""
    if isinstance(value, bool):
        raise NamingError("size %r is not a size: expected %s" % (value, SIZE_RULE))
    if isinstance(value, int):
        number, multiplier, text = value, 1, str(value)
    elif isinstance(value, str):
        text = value.strip()
        match = _SIZE.match(text)
        if not match:
            raise NamingError("size '%s' is not a size: expected %s" % (value, SIZE_RULE))
        unit = match.group("unit").lower()
        if unit in _BINARY_UNITS:
            multiplier = _BINARY_UNITS[unit]
        elif len(unit) == 3 and unit.endswith("ib") and unit[0] in "kmgtp":
            multiplier = _BINARY_UNITS[unit[0]]
        elif len(unit) == 2 and unit.endswith("b") and unit[0] in "kmgtp":
            multiplier = 1000 ** ("kmgtp".index(unit[0]) + 1)
        else:
            raise NamingError("size '%s' has an unknown unit '%s': expected %s" % (value, match.group("unit"), SIZE_RULE))
        number = match.group("number")
    else:
        raise NamingError("size %r is not a size: expected %s" % (value, SIZE_RULE))
    whole, _dot, fraction = str(number).partition(".")
    numerator = int(whole + fraction) * multiplier
    denominator = 10 ** len(fraction)
    if numerator % denominator:
        raise NamingError("size '%s' is not a whole number of bytes" % text)
    size = numerator // denominator
    if size <= 0:
        raise NamingError("size '%s' must be greater than zero" % text)
    return size


def format_size(size_bytes: int) -> str:
    """Shortest exact binary-unit spelling (10737418240 -> '10GiB'); plain bytes when none is exact."""
    for unit in ("PiB", "TiB", "GiB", "MiB", "KiB"):
        multiplier = _BINARY_UNITS[unit[0].lower()]
        if size_bytes >= multiplier and size_bytes % multiplier == 0:
            return "%d%s" % (size_bytes // multiplier, unit)
    return "%dB" % size_bytes


def round_up(size_bytes: int, granularity: int) -> int:
    return -(-size_bytes // granularity) * granularity


# --- CHAP ----------------------------------------------------------------------------------

# The Microsoft iSCSI initiator accepts 12 to 16 characters; RFC 3720 8.2.1 asks for at least 96 bits.
CHAP_SECRET_MIN = 12
CHAP_SECRET_MAX = 16
CHAP_USERNAME_MAX = 223
_PRINTABLE_NO_SPACE = re.compile(r"^[\x21-\x7e]+$")


def validate_chap_username(value, what: str = "chap.username") -> str:
    if not isinstance(value, str) or not value:
        raise NamingError("%s must be a non-empty string" % what)
    if len(value) > CHAP_USERNAME_MAX:
        raise NamingError("%s is %d characters long; the limit is %d" % (what, len(value), CHAP_USERNAME_MAX))
    if not _PRINTABLE_NO_SPACE.match(value):
        raise NamingError("%s '%s' may contain only printable ASCII characters without spaces" % (what, value))
    return value


def validate_chap_secret(value, what: str = "chap.secret", minimum: int = CHAP_SECRET_MIN,
                         maximum: int = CHAP_SECRET_MAX) -> str:
    """Check a CHAP secret without ever putting it in a message."""
    if not isinstance(value, str) or not value:
        raise NamingError("%s must be a non-empty string" % what)
    if not minimum <= len(value) <= maximum:
        rule = "the Microsoft iSCSI initiator's rule" if (minimum, maximum) == (CHAP_SECRET_MIN, CHAP_SECRET_MAX) else "the rule here"
        raise NamingError("%s must be %d to %d characters long (%s); the one given has %d"
                          % (what, minimum, maximum, rule, len(value)))
    if not _PRINTABLE_NO_SPACE.match(value):
        raise NamingError("%s may contain only printable ASCII characters without spaces (boot ROMs, config files "
                          "and DHCP options cannot carry the others)" % what)
    return value


def validate_chap(chap, what: str = "chap", **limits) -> dict:
    """Validate a {username, secret} pair; returns it unchanged."""
    if not isinstance(chap, dict) or set(chap) - {"username", "secret"}:
        raise NamingError("%s must be a dictionary with the keys username and secret" % what)
    validate_chap_username(chap.get("username"), what + ".username")
    validate_chap_secret(chap.get("secret"), what + ".secret", **limits)
    return chap


def validate_chap_pair(chap, mutual_chap, **limits) -> None:
    """One-way and mutual CHAP: each valid, and the secrets must differ (RFC 3720 8.2.1; the
    Microsoft initiator and most arrays refuse equal secrets)."""
    if chap:
        validate_chap(chap, "chap", **limits)
    if mutual_chap:
        if not chap:
            raise NamingError("mutual_chap needs chap: the target can only authenticate itself to an initiator "
                              "that authenticated first")
        validate_chap(mutual_chap, "mutual_chap", **limits)
        if mutual_chap["secret"] == chap["secret"]:
            raise NamingError("mutual_chap.secret must differ from chap.secret (RFC 3720 8.2.1)")


# --- Host names (appended for DHCP reservations) -------------------------------------------

HOSTNAME_MAX = 253


def validate_hostname(value, what: str = "hostname") -> str:
    """A DNS host name (RFC 1123): dot-separated labels of letters, digits and inner hyphens, each at
    most 63 characters, 253 in all. Returned unchanged (case kept: DHCP servers hand it out as given)."""
    if not isinstance(value, str) or not value.strip():
        raise NamingError("%s must be a non-empty host name such as winboot01 or winboot01.example.com" % what)
    text = value.strip()
    name = text[:-1] if text.endswith(".") else text
    if len(name) > HOSTNAME_MAX:
        raise NamingError("%s '%s' is %d characters long; a host name has at most %d" % (what, text, len(name), HOSTNAME_MAX))
    for label in name.split("."):
        if not _HOSTNAME_LABEL.match(label):
            raise NamingError("%s '%s' is not a host name: '%s' is not a label of letters, digits and inner hyphens "
                              "(1 to 63 characters, RFC 1123)" % (what, text, label))
    return text


# --- Initiator addresses (ACLs) -------------------------------------------------------------


def normalize_ip_network(value, what: str = "address") -> str:
    """An IPv4/IPv6 address or network (CIDR) as an access rule, in canonical form.

    A single host is written without a prefix (10.0.0.5, not 10.0.0.5/32): targets such as tgt
    never match a /32 or /128 rule. A network must not have host bits set (10.0.0.5/24 is refused
    with the network to write instead): targets match such a rule against nothing.
    """
    if not isinstance(value, str) or not value.strip():
        raise NamingError("%s %r is not an IP address or network: expected for example 10.0.0.5, 10.0.0.0/24 or "
                          "fd00::/64" % (what, value))
    text = value.strip()
    if text.startswith("[") and "]" in text:
        text = text[1:].replace("]", "", 1)
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise NamingError("%s '%s' is not an IP address or network: expected for example 10.0.0.5, 10.0.0.0/24 or "
                          "fd00::/64" % (what, value)) from None
    if "/" in text and network.network_address != ipaddress.ip_interface(text).ip:
        raise NamingError("%s '%s' has host bits set: write the network, %s, or the single address %s"
                          % (what, value, network, ipaddress.ip_interface(text).ip))
    if network.num_addresses == 1:
        return str(network.network_address)
    return str(network)
