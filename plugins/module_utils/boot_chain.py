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
                  dhcp_chap},
     "san":     {"volume": <san_volume_info entry or None>, "chap_secret_differs": bool|None, "error": str|None},
     "dhcp":    {"reservation": <dhcp_reservation_info entry or None>, "chap_secret_differs": bool|None,
                 "error": str|None},
     "switch":  {"checked": bool, "portfast": bool|None, "error": str|None},
     "portal":  {"checked": bool, "address": str, "reachable": bool, "error": str|None},
     "windows": {"checked": bool, "initiator_iqn": str|None, "error": str|None}}

Secrets never enter: only their lengths, and whether a module in check mode would change them.
"""

from __future__ import annotations

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import (
    CHAP_SECRET_MAX,
    CHAP_SECRET_MIN,
    NamingError,
    iscsi_names_equal,
    parse_root_path,
)

ROW_KEYS = ("host", "field", "expected", "found")


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

    # DHCP: the reservation, option 203 equal to the initiator (and to the SAN ACL), the root path.
    reservation = dhcp.get("reservation")
    if dhcp.get("error"):
        rows.append(_row(host, "dhcp", "readable", dhcp["error"]))
    elif dhcp.get("checked", True) and not reservation:
        rows.append(_row(host, "dhcp.reservation", "present for %s" % expected.get("mac"), "missing"))
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
