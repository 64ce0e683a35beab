# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The boot chain preflight: what each part of the chain holds for a server, compared with what the
inventory says and with each other, as one list of mismatches per host and field.

The playbook verify_boot_chain.yml gathers, per host, an observation:

    {"expected": {initiator_iqn, mac, ip, hostname, lun, chap_username, chap_secret_length,
                  dhcp_chap, boot_parameters ("dhcp" or "bmc"), mutual_chap_username, bmc_static_ip},
     "san":     {"volume": <san_volume_info entry or None>, "chap_secret_differs": bool|None, "error": str|None},
     "dhcp":    {"reservation": <dhcp_reservation_info entry or None>, "chap_secret_differs": bool|None,
                 "error": str|None},
     "bmc":     {"checked": bool, "functions": <redfish_iscsi_boot_info functions>, "error": str|None},
     "switch":  {"checked": bool, "portfast": bool|None, "error": str|None},
     "portal":  {"checked": bool, "address": str, "reachable": bool, "error": str|None},
     "windows": {"checked": bool, "initiator_iqn": str|None, "error": str|None}}

Where the boot parameters come from decides what DHCP must hold: with "dhcp", options 17 and 203
(and iPXE's CHAP when asked); with "bmc", the address only, and the boot NIC's iSCSIBoot settings in
its BMC (the values that will be in force: staged ones merged over the active ones) must name the
SAN's target, LUN and the inventory's initiator and CHAP user.

Secrets never enter: only their lengths, and whether a module in check mode would change them. A BMC
reads CHAP secrets back as null, so a different secret in a BMC cannot be seen here.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import (
    CHAP_SECRET_MAX,
    CHAP_SECRET_MIN,
    NamingError,
    iscsi_names_equal,
    normalize_mac,
    parse_root_path,
)

ROW_KEYS = ("host", "field", "expected", "found")
BOOT_PARAMETERS = ("dhcp", "bmc")
# The reservation options that carry boot parameters, with the field names the report uses.
DHCP_BOOT_OPTIONS = ((17, "dhcp.option 17 (root path)"), (203, "dhcp.option 203 (initiator IQN)"),
                     (190, "dhcp.chap username (option 190)"), (191, "dhcp.chap secret (option 191)"))
NOT_IN_DHCP = "(none: the BMC holds the boot parameters)"


def _row(host, field, expected, found):
    return {"host": host, "field": field, "expected": "" if expected is None else str(expected),
            "found": "" if found is None else str(found)}


def _option(reservation, code):
    for option in (reservation or {}).get("options") or []:
        if option.get("code") == code and option.get("space", "dhcp4") in ("dhcp4", "ipxe", None):
            return option.get("data")
    return None


def _same_name(first, second) -> bool:
    return bool(first) and bool(second) and iscsi_names_equal(first, second)


def _same_address(first, second) -> bool:
    try:
        return ipaddress.ip_address(str(first)) == ipaddress.ip_address(str(second))
    except ValueError:
        return str(first) == str(second)


def _same_mac(first, second) -> bool:
    try:
        return normalize_mac(str(first)) == normalize_mac(str(second))
    except NamingError:
        return False


def _merged(base, overlay):
    merged = dict(base or {})
    for key, value in (overlay or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def bmc_function(functions, mac):
    """The network device function with this MAC, as redfish_iscsi_boot_info lists it, or None."""
    for function in functions or []:
        if mac and _same_mac(function.get("mac_address"), mac):
            return function
    return None


def bmc_values(function: dict) -> dict:
    """What will be in force on the function: {"BootMode", "iSCSIBoot"}, staged values merged over the active ones
    (a staged change applies at the next reset, which is the boot this preflight prepares)."""
    active = {"BootMode": function.get("boot_mode"), "iSCSIBoot": function.get("iscsi_boot") or {}}
    return _merged(active, function.get("pending") or {})


def host_mismatches(host: str, observation: dict) -> list:
    """Every way this host's boot chain disagrees with the inventory or with itself."""
    rows = []
    expected = observation.get("expected") or {}
    initiator = expected.get("initiator_iqn")
    san = observation.get("san") or {}
    dhcp = observation.get("dhcp") or {}
    switch = observation.get("switch") or {}
    portal = observation.get("portal") or {}
    windows = observation.get("windows") or {}

    # CHAP as the inventory holds it: a secret outside the initiator's limits never logs in.
    length = expected.get("chap_secret_length")
    if length is not None and not CHAP_SECRET_MIN <= int(length) <= CHAP_SECRET_MAX:
        rows.append(_row(host, "chap.secret length", "%d to %d characters" % (CHAP_SECRET_MIN, CHAP_SECRET_MAX),
                         "%d characters" % int(length)))

    # The SAN: the volume exists, admits this initiator, and holds the same CHAP.
    volume = san.get("volume")
    if san.get("error"):
        rows.append(_row(host, "san", "readable", san["error"]))
    elif not volume:
        rows.append(_row(host, "san.volume", "present", "missing"))
    else:
        acl = volume.get("initiators") or []
        if initiator and not any(_same_name(initiator, name) for name in acl):
            rows.append(_row(host, "san.acl initiator", initiator, ", ".join(acl) or "(none)"))
        if expected.get("lun") is not None and volume.get("lun") != int(expected["lun"]):
            rows.append(_row(host, "san.lun", expected["lun"], volume.get("lun")))
        if expected.get("chap_username") and volume.get("chap_username") != expected["chap_username"]:
            rows.append(_row(host, "san.chap username", expected["chap_username"], volume.get("chap_username")))
        if san.get("chap_secret_differs"):
            rows.append(_row(host, "san.chap secret", "the inventory's secret", "a different secret"))
        if not volume.get("loaded", True):
            rows.append(_row(host, "san.volume", "served by the target", "recorded but not served"))

    boot_parameters = expected.get("boot_parameters") or "dhcp"
    if boot_parameters not in BOOT_PARAMETERS:
        rows.append(_row(host, "sanboot_boot_parameters", " or ".join(BOOT_PARAMETERS), boot_parameters))
    rows.extend(_dhcp_rows(host, expected, dhcp, volume, boot_parameters))
    rows.extend(_bmc_rows(host, expected, observation.get("bmc") or {}, volume, boot_parameters))

    # The portal accepts TCP from the boot network.
    if portal.get("checked") and not portal.get("reachable"):
        rows.append(_row(host, "portal tcp", "%s accepts connections" % portal.get("address"),
                         portal.get("error") or "refused or unreachable"))

    # The switch port forwards at once.
    if switch.get("error"):
        rows.append(_row(host, "switch.portfast", "enabled", switch["error"]))
    elif switch.get("checked") and not switch.get("portfast"):
        rows.append(_row(host, "switch.portfast", "enabled", "disabled"))

    # Windows, where reachable: the initiator node name.
    if windows.get("error"):
        rows.append(_row(host, "windows.initiator_iqn", initiator, windows["error"]))
    elif windows.get("checked") and initiator and not _same_name(initiator, windows.get("initiator_iqn")):
        rows.append(_row(host, "windows.initiator_iqn", initiator, windows.get("initiator_iqn") or "(not set)"))
    return rows


def _dhcp_rows(host: str, expected: dict, dhcp: dict, volume, boot_parameters: str) -> list:
    """DHCP: the reservation; with dhcp boot parameters, option 203 equal to the initiator (and to the SAN ACL) and
    the root path; with bmc, no boot option at all (the NIC takes its target from its BMC)."""
    rows = []
    initiator = expected.get("initiator_iqn")
    reservation = dhcp.get("reservation")
    if dhcp.get("error"):
        rows.append(_row(host, "dhcp", "readable", dhcp["error"]))
    elif dhcp.get("checked", True) and not reservation:
        rows.append(_row(host, "dhcp.reservation", "present for %s" % expected.get("mac"), "missing"))
    elif reservation and boot_parameters == "bmc":
        if expected.get("ip") and reservation.get("ip") != expected["ip"]:
            rows.append(_row(host, "dhcp.ip", expected["ip"], reservation.get("ip")))
        for code, field in DHCP_BOOT_OPTIONS:
            served = _option(reservation, code)
            if served is not None:
                # A secret is never shown, not even masked.
                rows.append(_row(host, field, NOT_IN_DHCP, "(set)" if code == 191 else served))
    elif reservation:
        if expected.get("ip") and reservation.get("ip") != expected["ip"]:
            rows.append(_row(host, "dhcp.ip", expected["ip"], reservation.get("ip")))
        served_initiator = _option(reservation, 203)
        if initiator and not _same_name(initiator, served_initiator):
            rows.append(_row(host, "dhcp.option 203 (initiator IQN)", initiator, served_initiator or "(not set)"))
        if volume and served_initiator and not any(_same_name(served_initiator, name)
                                                   for name in volume.get("initiators") or []):
            rows.append(_row(host, "dhcp.option 203 vs san.acl", ", ".join(volume.get("initiators") or []),
                             served_initiator))
        root_path_text = _option(reservation, 17)
        try:
            served = parse_root_path(root_path_text) if root_path_text else None
        except NamingError as exc:
            served = None
            rows.append(_row(host, "dhcp.option 17 (root path)", "an RFC 4173 root path", exc))
        if root_path_text is None:
            rows.append(_row(host, "dhcp.option 17 (root path)", (volume or {}).get("root_path"), "(not set)"))
        elif served and volume and volume.get("root_path"):
            if served != parse_root_path(volume["root_path"]):
                rows.append(_row(host, "dhcp.option 17 (root path)", volume["root_path"], root_path_text))
        if expected.get("dhcp_chap"):
            if expected.get("chap_username") and _option(reservation, 190) != expected["chap_username"]:
                rows.append(_row(host, "dhcp.chap username (option 190)", expected["chap_username"],
                                 _option(reservation, 190) or "(not set)"))
            if dhcp.get("chap_secret_differs"):
                rows.append(_row(host, "dhcp.chap secret (option 191)", "the inventory's secret", "a different secret"))
    return rows


def _bmc_rows(host: str, expected: dict, bmc: dict, volume, boot_parameters: str) -> list:
    """The BMC: with bmc boot parameters, the boot NIC's iSCSIBoot settings field by field against the inventory
    and the SAN; with dhcp, only that the NIC does not boot from stale BMC values that would override DHCP."""
    rows = []
    if boot_parameters == "bmc" and not bmc.get("checked"):
        rows.append(_row(host, "bmc", "sanboot_bmc_address set (the boot parameters are in the BMC)", "not set"))
        return rows
    if not bmc.get("checked"):
        return rows
    if bmc.get("error"):
        rows.append(_row(host, "bmc", "readable", bmc["error"]))
        return rows
    mac = expected.get("mac")
    function = bmc_function(bmc.get("functions"), mac)
    if function is None:
        if boot_parameters == "bmc":
            listed = ", ".join(str(entry.get("mac_address")) for entry in bmc.get("functions") or []) or "none"
            rows.append(_row(host, "bmc.function", "a network device function with MAC %s" % mac,
                             "missing (the BMC lists %s)" % listed))
        return rows
    values = bmc_values(function)
    boot = values.get("iSCSIBoot") or {}
    if boot_parameters != "bmc":
        if values.get("BootMode") == "iSCSI" and boot.get("TargetInfoViaDHCP") is False:
            rows.append(_row(host, "bmc.TargetInfoViaDHCP", "true, or BootMode not iSCSI (the boot parameters are in "
                             "DHCP)", "false: the NIC boots from the target in its BMC, %s"
                             % (boot.get("PrimaryTargetName") or "(none)")))
        return rows

    def check(field, wanted, found, same=None):
        if not (same or (lambda first, second: first == second))(wanted, found):
            rows.append(_row(host, "bmc.%s" % field, wanted, "(not set)" if found in (None, "") else found))

    initiator = expected.get("initiator_iqn")
    check("BootMode", "iSCSI", values.get("BootMode"))
    check("TargetInfoViaDHCP", False, boot.get("TargetInfoViaDHCP"))
    if initiator:
        check("InitiatorName (initiator IQN)", initiator, boot.get("InitiatorName"), _same_name)
    if volume and boot.get("InitiatorName") and not any(_same_name(boot["InitiatorName"], name)
                                                        for name in volume.get("initiators") or []):
        rows.append(_row(host, "bmc.InitiatorName vs san.acl", ", ".join(volume.get("initiators") or []),
                         boot["InitiatorName"]))
    try:
        target = parse_root_path(volume["root_path"]) if volume and volume.get("root_path") else None
    except NamingError:
        target = None
    if target:
        check("PrimaryTargetName (target IQN)", target["target_iqn"], boot.get("PrimaryTargetName"), _same_name)
        check("PrimaryTargetIPAddress (portal)", target["server"], boot.get("PrimaryTargetIPAddress"), _same_address)
        check("PrimaryTargetTCPPort", target["port"], boot.get("PrimaryTargetTCPPort"))
        check("PrimaryLUN", target["lun"], boot.get("PrimaryLUN"))
    method = "MutualCHAP" if expected.get("mutual_chap_username") else ("CHAP" if expected.get("chap_username") else "None")
    check("AuthenticationMethod", method, boot.get("AuthenticationMethod") or "None")
    if expected.get("chap_username"):
        check("CHAPUsername", expected["chap_username"], boot.get("CHAPUsername"))
    if expected.get("mutual_chap_username"):
        check("MutualCHAPUsername", expected["mutual_chap_username"], boot.get("MutualCHAPUsername"))
    static_ip = expected.get("bmc_static_ip")
    if static_ip:
        check("IPMaskDNSViaDHCP", False, boot.get("IPMaskDNSViaDHCP"))
        check("InitiatorIPAddress", static_ip, boot.get("InitiatorIPAddress"), _same_address)
    elif boot.get("IPMaskDNSViaDHCP") is not True:
        rows.append(_row(host, "bmc.IPMaskDNSViaDHCP", "True (the address from DHCP)", "%s (static address %s)"
                         % (boot.get("IPMaskDNSViaDHCP"), boot.get("InitiatorIPAddress") or "not set")))
    return rows


def mismatches(observations: dict) -> list:
    """Rows for all hosts, sorted by host then field order of discovery."""
    rows = []
    for host in sorted(observations):
        rows.extend(host_mismatches(host, observations[host] or {}))
    return rows


def table(rows: list, hosts_checked: int | None = None) -> list:
    """The rows as aligned text lines (a header, a rule, one line per mismatch)."""
    if not rows:
        return ["boot chain verified: no mismatch%s" % (" on %d host(s)" % hosts_checked if hosts_checked else "")]
    headings = {"host": "HOST", "field": "FIELD", "expected": "EXPECTED", "found": "FOUND"}
    widths = {key: max(len(headings[key]), *(len(row[key]) for row in rows)) for key in ROW_KEYS}
    line = "  ".join("%-*s" % (widths[key], headings[key]) for key in ROW_KEYS).rstrip()
    lines = [line, "-" * len(line)]
    for row in rows:
        lines.append("  ".join("%-*s" % (widths[key], row[key]) for key in ROW_KEYS).rstrip())
    return lines
