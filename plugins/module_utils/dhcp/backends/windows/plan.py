# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""iSCSI boot reservations on a Windows DHCP Server: the dhcp_reservation contract (mac, ip,
hostname, scope, iscsi) turned into win_dhcp_lease arguments and option values.

Option values come from dhcp/boot_options (normalize_iscsi, option_values), the same code the Kea backend uses, so both
DHCP servers hand out byte-identical root paths and initiator names for the same input.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.boot_options import (
    OPTION_HOSTNAME,
    OPTION_INITIATOR_IQN,
    OPTION_ROOT_PATH,
    lun_warning,
    normalize_iscsi,
    option_values,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.core import find_conflicts
from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import NamingError, normalize_mac
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.host import WindowsHostError

VARIABLE = "win_dhcp_boot_reservation_reservations"
# The options this role owns on a reservation; any others (set by hand) are left alone.
MANAGED_OPTIONS = (OPTION_HOSTNAME, OPTION_ROOT_PATH, OPTION_INITIATOR_IQN)
OPTION_203_DEFAULT_NAME = "iSCSI initiator IQN"
RESERVATION_KEYS = ("mac", "ip", "hostname", "scope", "iscsi", "state", "description")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$",
                       re.IGNORECASE)
CHAP_REFUSED = ("iscsi.chap is not supported on Windows DHCP Server: iPXE reads CHAP from option 175 encapsulating "
                "190/191, which Windows DHCP cannot serve per reservation; set CHAP in the NIC boot BIOS instead "
                "(DHCP would send it in clear text anyway)")


# YAML 1.1 reads 52:54:00:12:34:56 unquoted as a base-60 number.
SEXAGESIMAL_HINT = ("%s: %r is a number, not a MAC address: YAML reads an unquoted MAC made of digits and colons as a "
                    "base-60 number; quote it ('52:54:00:12:34:56')")


class DhcpPlanError(WindowsHostError):
    """A reservation is invalid or conflicts with the server; the message names the variable."""


def _scope(value, ip, where: str):
    """Windows scope id (the network address). Accepts 10.77.0.0 or 10.77.0.0/24 (then checks the IP)."""
    text = str(value or "").strip()
    try:
        network = ipaddress.IPv4Network(text, strict=False) if "/" in text else None
        address = ipaddress.IPv4Address(text.split("/", 1)[0])
    except ValueError:
        raise DhcpPlanError("%s.scope: '%s' is not a scope id (an IPv4 network address such as 10.77.0.0, or "
                            "10.77.0.0/24)" % (where, text)) from None
    if network is None:
        return str(address)
    if network.network_address != address:
        raise DhcpPlanError("%s.scope: %s is not a network address (did you mean %s?)" % (where, text, network))
    if ip is not None and ip not in network:
        raise DhcpPlanError("%s.ip: %s is outside the scope %s" % (where, ip, network))
    return str(network.network_address)


def normalize_reservation(reservation, position: int) -> dict:
    """One reservation of the role input, validated; errors name win_dhcp_boot_reservation_reservations[n].key."""
    where = "%s[%d]" % (VARIABLE, position)
    if not isinstance(reservation, dict):
        raise DhcpPlanError("%s: expected a dictionary with mac, ip, scope and iscsi" % where)
    unknown = sorted(set(reservation) - set(RESERVATION_KEYS))
    if unknown:
        raise DhcpPlanError("%s: unknown key(s) %s; the keys are %s" % (where, ", ".join(unknown), ", ".join(RESERVATION_KEYS)))
    state = reservation.get("state") or "present"
    if state not in ("present", "absent"):
        raise DhcpPlanError("%s.state: '%s' is not present or absent" % (where, state))
    if not reservation.get("mac"):
        raise DhcpPlanError("%s.mac is required" % where)
    if isinstance(reservation["mac"], int):
        raise DhcpPlanError(SEXAGESIMAL_HINT % ("%s.mac" % where, reservation["mac"]))
    try:
        mac = normalize_mac(str(reservation["mac"]), style="dash")
    except NamingError as exc:
        raise DhcpPlanError("%s.mac: %s" % (where, exc)) from None
    result = {"mac": mac, "state": state, "description": reservation.get("description") or None}
    if state == "absent":
        result.update({"ip": None, "scope_id": None, "hostname": None, "options": {}})
        return result
    for required in ("ip", "scope"):
        if not reservation.get(required):
            raise DhcpPlanError("%s.%s is required when state is present" % (where, required))
    try:
        ip = ipaddress.IPv4Address(str(reservation["ip"]).strip())
    except ValueError:
        raise DhcpPlanError("%s.ip: '%s' is not an IPv4 address (Windows DHCP reservations are IPv4)"
                            % (where, reservation["ip"])) from None
    scope_id = _scope(reservation["scope"], ip, where)
    hostname = reservation.get("hostname") or None
    if hostname is not None and not (isinstance(hostname, str) and _HOSTNAME.match(hostname)):
        raise DhcpPlanError("%s.hostname: '%s' is not a host name (letters, digits and inner hyphens, dot-separated "
                            "labels)" % (where, hostname))
    iscsi = reservation.get("iscsi")
    if isinstance(iscsi, dict) and iscsi.get("chap"):
        raise DhcpPlanError("%s.%s" % (where, CHAP_REFUSED))
    if iscsi in (None, {}):
        # No boot options (the server's NIC takes them from its BMC): the address and host name only, and the
        # options this role owns that the reservation had are removed, as dhcp_reservation does without iscsi.
        values, warning = ({OPTION_HOSTNAME: hostname} if hostname else {}), None
    else:
        if isinstance(iscsi, dict):
            iscsi = {key: value for key, value in iscsi.items() if key != "chap"}
        try:
            settings = normalize_iscsi(iscsi)
        except NamingError as exc:
            raise DhcpPlanError("%s.%s" % (where, exc)) from None
        values, warning = option_values(settings, hostname=hostname), lun_warning(settings["lun"])
    result.update({"ip": str(ip), "scope_id": scope_id, "hostname": hostname,
                   "options": {str(code): value for code, value in sorted(values.items())},
                   "lun_warning": warning})
    return result


def validate_settings(settings: dict) -> list:
    errors = []
    reservations = settings.get("reservations")
    if not isinstance(reservations, (list, tuple)):
        return ["%s: expected a list of reservations" % VARIABLE]
    normalized = []
    for position, reservation in enumerate(reservations):
        try:
            normalized.append((position, normalize_reservation(reservation, position)))
        except DhcpPlanError as exc:
            errors.append(str(exc))
    for key in ("mac", "ip"):
        seen = {}
        for position, entry in normalized:
            if entry.get(key) is None:
                continue
            if entry[key] in seen:
                errors.append("%s[%d].%s: %s is also in %s[%d]" % (VARIABLE, position, key, entry[key], VARIABLE, seen[entry[key]]))
            seen.setdefault(entry[key], position)
    name = settings.get("option203_name", OPTION_203_DEFAULT_NAME)
    if not isinstance(name, str) or not name.strip():
        errors.append("win_dhcp_boot_reservation_option203_name: must be a non-empty name for option 203")
    return errors


def _same_mac(first, second) -> bool:
    try:
        return normalize_mac(str(first), style="dash") == normalize_mac(str(second), style="dash")
    except NamingError:
        return False


def plan_reservations(probe: dict, settings: dict) -> dict:
    """win_dhcp_lease calls and option values for each reservation, after checking them against
    what the server holds (probe: scopes, reservations [{scope_id, ip, client_id, name}], dynamic
    leases [{scope_id, ip, client_id, hostname}], option_definitions {"203": {name, type}}).
    Conflicts are errors unless replace is true; then the conflicting reservation or lease is
    removed first, which is said in the plan's warnings.

    Dynamic leases matter because win_dhcp_lease looks a MAC up among all leases first and turns a
    dynamic lease it finds into a reservation at the lease's own address, not at ip: a dynamic lease
    of the MAC elsewhere is removed first (the client takes the reserved address at its next
    renewal), so that the reservation is created at ip."""
    errors = validate_settings(settings)
    if errors:
        raise DhcpPlanError("; ".join(errors))
    replace = bool(settings.get("replace"))
    scopes = {str(scope) for scope in probe.get("scopes") or []}
    existing = probe.get("reservations") or []
    dynamic = [held for held in probe.get("leases") or [] if "reservation" not in str(held.get("address_state")).casefold()]
    removals, lease_removals, leases, option_sets, warnings = [], [], [], [], []
    for position, reservation in enumerate(settings.get("reservations") or []):
        entry = normalize_reservation(reservation, position)
        where = "%s[%d]" % (VARIABLE, position)
        if entry["state"] == "absent":
            leases.append({"mac": entry["mac"], "state": "absent"})
            continue
        if scopes and entry["scope_id"] not in scopes:
            raise DhcpPlanError("%s.scope: %s is not a scope on this DHCP server (scopes: %s)"
                                % (where, entry["scope_id"], ", ".join(sorted(scopes))))
        # Windows reports reservations as {client_id, ip, scope_id, name}: seen through the DHCP core's rule.
        held_reservations = [dict(held, mac=held.get("client_id"), ip=str(held.get("ip"))) for held in existing]
        _same, conflicts = find_conflicts(held_reservations, entry["mac"], entry["ip"], same_mac=_same_mac)
        # A second record of this very reservation (same MAC and address) is nothing to move.
        moved = [held for kind, held in conflicts if kind == "mac" and held["ip"] != entry["ip"]]
        taken = [held for kind, held in conflicts if kind == "ip"]
        for held in moved:
            if not replace:
                raise DhcpPlanError("%s.mac: %s already has a reservation for %s in scope %s; set "
                                    "win_dhcp_boot_reservation_replace: true to move it to %s"
                                    % (where, entry["mac"], held["ip"], held.get("scope_id"), entry["ip"]))
            removals.append({"ip": held["ip"], "state": "absent"})
            warnings.append("%s: removing the reservation of %s for %s to move it to %s"
                            % (where, entry["mac"], held["ip"], entry["ip"]))
        for held in taken:
            if not replace:
                raise DhcpPlanError("%s.ip: %s is already reserved for %s (%s); set "
                                    "win_dhcp_boot_reservation_replace: true to take it over"
                                    % (where, entry["ip"], held.get("client_id"), held.get("name") or "no name"))
            removals.append({"ip": entry["ip"], "state": "absent"})
            warnings.append("%s: removing the reservation of %s for %s (%s) to give the address to %s"
                            % (where, entry["ip"], held.get("client_id"), held.get("name") or "no name", entry["mac"]))
        for held in dynamic:
            if _same_mac(held.get("client_id"), entry["mac"]) and str(held.get("ip")) != entry["ip"]:
                lease_removals.append({"ip": str(held.get("ip")), "state": "absent"})
                warnings.append("%s: %s holds a dynamic lease of %s; it is removed so that the reservation is made at %s "
                                "(the client moves to it at its next renewal)"
                                % (where, entry["mac"], held.get("ip"), entry["ip"]))
            elif str(held.get("ip")) == entry["ip"] and not _same_mac(held.get("client_id"), entry["mac"]):
                if not replace:
                    raise DhcpPlanError("%s.ip: %s is leased to %s (%s); set win_dhcp_boot_reservation_replace: true to "
                                        "take it over" % (where, entry["ip"], held.get("client_id"),
                                                          held.get("hostname") or "no host name"))
                lease_removals.append({"ip": entry["ip"], "state": "absent"})
                warnings.append("%s: removing the dynamic lease of %s for %s (%s) to give the address to %s"
                                % (where, entry["ip"], held.get("client_id"), held.get("hostname") or "no host name",
                                   entry["mac"]))
        lease = {"type": "reservation", "state": "present", "mac": entry["mac"], "ip": entry["ip"],
                 "scope_id": entry["scope_id"]}
        if entry["hostname"]:
            # Not dns_hostname: win_dhcp_lease passes it to Add-DhcpServerv4Reservation, which has no -HostName,
            # so creating a reservation with it fails. The host name reaches the client as option 12.
            lease["reservation_name"] = entry["hostname"]
        if entry["description"]:
            lease["description"] = entry["description"]
        leases.append(lease)
        option_sets.append({"scope_id": entry["scope_id"], "ip": entry["ip"], "values": entry["options"]})
        if entry["lun_warning"]:
            warnings.append("%s: %s" % (where, entry["lun_warning"]))

    def unique(items):
        result = []
        for item in items:
            if item not in result:
                result.append(item)
        return result

    removals = unique(removals)
    lease_removals = unique(lease_removals)

    definition = None
    if any(str(OPTION_INITIATOR_IQN) in options["values"] for options in option_sets):
        definition = {"option_id": OPTION_INITIATOR_IQN, "type": "String",
                      "name": settings.get("option203_name") or OPTION_203_DEFAULT_NAME,
                      "description": "iSCSI initiator name for iSCSI boot ROMs and iPXE (sanboot.iscsi)"}
        held = (probe.get("option_definitions") or {}).get(str(OPTION_INITIATOR_IQN))
        if held and str(held.get("type") or "").casefold() != "string":
            raise DhcpPlanError("option 203 is already defined on this DHCP server as %s (%s), not as a String; the "
                                "initiator IQN cannot be set in it. Remove or fix that definition by hand"
                                % (held.get("type"), held.get("name")))
    return {
        "removals": removals,
        "lease_removals": lease_removals,
        "leases": leases,
        "options": option_sets,
        "option_definition": definition,
        "managed_options": list(MANAGED_OPTIONS),
        "warnings": warnings,
    }
