# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The iSCSI boot settings a DHCP reservation carries, independent of the DHCP server.

One contract for every DHCP backend (Kea, Windows DHCP Server): the `iscsi` dictionary of the
dhcp_reservation module and of the win_dhcp_boot_reservation role is validated here and turned
into option values here, with the naming core's rules.
"""

from __future__ import annotations

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import (
    NamingError,
    build_root_path,
    normalize_iqn,
    parse_root_path,
    validate_chap,
)

OPTION_HOSTNAME = 12
OPTION_ROOT_PATH = 17
# Read by iPXE (initiator-iqn) and by Intel and QLogic boot ROMs as the initiator's own name.
OPTION_INITIATOR_IQN = 203
# iPXE's encapsulated options: 175 carries 190 (username) and 191 (password) for CHAP.
OPTION_IPXE_ENCAPSULATED = 175
OPTION_IPXE_USERNAME = 190
OPTION_IPXE_PASSWORD = 191

ISCSI_DEFAULTS = {"port": 3260, "lun": 1, "protocol": 6}
ISCSI_KEYS = ("target_iqn", "server", "port", "lun", "protocol", "initiator_iqn", "chap")
# DHCP carries options in clear text: any secret placed in a reservation is readable on the wire.
CLEARTEXT_WARNING = ("iscsi.chap puts the CHAP secret into DHCP options 190/191, which DHCP sends in clear text to "
                     "anyone on the segment; prefer CHAP set in the NIC boot BIOS, or an isolated boot network")
# LUNs below this read the same in hexadecimal and decimal.
LUN_READ_ALIKE = 10


def lun_warning(lun):
    """The warning for a boot LUN that hexadecimal and decimal readers of option 17 see differently, or None.

    RFC 4173 writes the LUN field in hexadecimal and iPXE reads it so; dracut and OpenStack Ironic
    read it as decimal. The collection keeps hexadecimal (the standard) and says so.
    """
    if lun < LUN_READ_ALIKE:
        return None
    hexadecimal = format(lun, "x")
    decimal_reading = ("LUN %d" % int(hexadecimal) if hexadecimal.isdigit() else
                       "no LUN at all (the field is not a decimal number)")
    return ("iscsi.lun %d goes into the root path (option 17) as '%s', in hexadecimal as RFC 4173 says and iPXE reads it; "
            "dracut and OpenStack Ironic read that field as decimal and would find %s. Boot LUNs 0 to 9 read the same "
            "everywhere: prefer one of them when such clients boot from this reservation"
            % (lun, hexadecimal, decimal_reading))


def normalize_iscsi(iscsi) -> dict:
    """Validate the `iscsi` dictionary and fill in defaults. Errors name the key (iscsi.<key>) and the rule."""
    if not isinstance(iscsi, dict):
        raise NamingError("iscsi must be a dictionary with target_iqn and server (and optionally port, lun, protocol, "
                          "initiator_iqn, chap)")
    unknown = sorted(set(iscsi) - set(ISCSI_KEYS))
    if unknown:
        raise NamingError("iscsi has unknown key(s) %s; the keys are %s" % (", ".join(unknown), ", ".join(ISCSI_KEYS)))
    for required in ("target_iqn", "server"):
        if not iscsi.get(required):
            raise NamingError("iscsi.%s is required" % required)
    settings = dict(ISCSI_DEFAULTS)
    settings.update({key: value for key, value in iscsi.items() if value is not None})
    try:
        settings["root_path"] = build_root_path(settings["server"], settings["target_iqn"], port=settings["port"],
                                                lun=settings["lun"], protocol=settings["protocol"])
    except NamingError as exc:
        raise NamingError("iscsi: %s" % exc) from None
    # The canonical values, as the root path carries them (parsed by the naming core, the one place
    # that knows root paths: an IPv6 server sits in brackets and holds colons itself).
    settings.update(parse_root_path(settings["root_path"]))
    if settings.get("initiator_iqn"):
        try:
            settings["initiator_iqn"] = normalize_iqn(settings["initiator_iqn"])
        except NamingError as exc:
            raise NamingError("iscsi.initiator_iqn: %s" % exc) from None
    if settings.get("chap"):
        validate_chap(settings["chap"], "iscsi.chap")
    return settings


def boot_option_values(iscsi, hostname=None) -> dict:
    """Option code -> value for a reservation: 17 always, 203 when an initiator IQN is given,
    12 when a hostname is given, and iPXE's 190/191 (inside 175) only when CHAP is given."""
    return option_values(normalize_iscsi(iscsi), hostname)


def option_values(settings, hostname=None) -> dict:
    """boot_option_values for settings normalize_iscsi already returned (normalise once)."""
    values = {OPTION_ROOT_PATH: settings["root_path"]}
    if settings.get("initiator_iqn"):
        values[OPTION_INITIATOR_IQN] = settings["initiator_iqn"]
    if hostname:
        values[OPTION_HOSTNAME] = hostname
    if settings.get("chap"):
        values[OPTION_IPXE_USERNAME] = settings["chap"]["username"]
        values[OPTION_IPXE_PASSWORD] = settings["chap"]["secret"]
    return values
