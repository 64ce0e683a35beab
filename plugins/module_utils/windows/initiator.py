# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The Microsoft iSCSI initiator of a server that boots from iSCSI, decided on the controller.

What the win_iscsi_initiator role's probe reports (node name, boot disk and boot sessions, network
adapters, MPIO state, OS version) goes in; what to change, what to check and what to warn about
comes out. The role never logs on to the boot target: the boot firmware owns that session, and a
second login from inside Windows would give the boot LUN two paths without MPIO to tell them apart.
"""

from __future__ import annotations

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import (
    NamingError,
    iscsi_names_equal,
    normalize_iqn,
    normalize_iscsi_name,
    normalize_mac,
    validate_port,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.backends.windows.plan import SEXAGESIMAL_HINT
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.host import WindowsHostError, server_release

# Set-MSDSMGlobalDefaultLoadBalancePolicy -Policy values.
MPIO_POLICIES = {
    "failover_only": "FOO",
    "round_robin": "RR",
    "least_queue_depth": "LQD",
    "least_blocks": "LB",
    "none": "None",
}
MPIO_FEATURE = "Multipath-IO"
SERVICE_NAME = "MSiSCSI"


class InitiatorError(WindowsHostError):
    """The host is not in a state the role may proceed from; the message says why and what to set."""


def _prefixed(what: str, exc: Exception) -> str:
    return "%s: %s" % (what, exc)


def normalize_boot_nics(boot_nics, what: str = "win_iscsi_initiator_boot_nics") -> list:
    """[{mac: ...} or {alias: ...}] -> [{"mac": "52:54:00:12:34:56"} | {"alias": "Ethernet 2"}]."""
    if boot_nics in (None, ""):
        return []
    if not isinstance(boot_nics, (list, tuple)):
        raise InitiatorError("%s: expected a list of {mac: ...} or {alias: ...}" % what)
    result, seen = [], set()
    for position, nic in enumerate(boot_nics):
        where = "%s[%d]" % (what, position)
        if not isinstance(nic, dict) or len([key for key in ("mac", "alias") if nic.get(key)]) != 1 \
                or set(nic) - {"mac", "alias"}:
            raise InitiatorError("%s: %r must have exactly one of mac (the adapter's MAC address) or alias (its "
                                 "interface alias, such as 'Ethernet 2')" % (where, nic))
        if nic.get("mac"):
            if isinstance(nic["mac"], int):
                raise InitiatorError(SEXAGESIMAL_HINT % (where + ".mac", nic["mac"]))
            try:
                entry = {"mac": normalize_mac(nic["mac"], style="colon")}
            except NamingError as exc:
                raise InitiatorError(_prefixed(where + ".mac", exc)) from None
        else:
            if not isinstance(nic["alias"], str) or not nic["alias"].strip():
                raise InitiatorError("%s.alias: %r is not an interface alias" % (where, nic["alias"]))
            entry = {"alias": nic["alias"].strip()}
        key = tuple(entry.items())[0]
        if (key[0], str(key[1]).casefold()) in seen:
            raise InitiatorError("%s: %s is listed twice" % (where, key[1]))
        seen.add((key[0], str(key[1]).casefold()))
        result.append(entry)
    return result


def validate_settings(settings: dict) -> list:
    """Errors in the role input that argument_specs cannot express, each naming its variable."""
    errors = []
    if settings.get("iqn"):
        try:
            normalize_iqn(settings["iqn"])
        except NamingError as exc:
            errors.append(_prefixed("win_iscsi_initiator_iqn", exc))
    if settings.get("boot_target_iqn"):
        try:
            normalize_iscsi_name(settings["boot_target_iqn"])
        except NamingError as exc:
            errors.append(_prefixed("win_iscsi_initiator_boot_target_iqn", exc))
    try:
        normalize_boot_nics(settings.get("boot_nics"))
    except InitiatorError as exc:
        errors.append(str(exc))
    ports = settings.get("firewall_ports", [3260])
    if not isinstance(ports, (list, tuple)) or not ports:
        errors.append("win_iscsi_initiator_firewall_ports: expected a non-empty list of TCP ports")
    else:
        for position, port in enumerate(ports):
            try:
                validate_port(port, "port")
            except NamingError as exc:
                errors.append(_prefixed("win_iscsi_initiator_firewall_ports[%d]" % position, exc))
    if settings.get("mpio_policy", "round_robin") not in MPIO_POLICIES:
        errors.append("win_iscsi_initiator_mpio_policy: '%s' is not one of %s"
                      % (settings.get("mpio_policy"), ", ".join(MPIO_POLICIES)))
    return errors


def _adapter_mac(adapter: dict) -> str:
    try:
        return normalize_mac(str(adapter.get("mac") or ""), style="colon")
    except NamingError:
        return ""


# Probe values are read defensively: a probe that failed in part, or whose result win_powershell
# cut at its depth (a nested value becomes a string), must read as "unknown", never as "none".
def _list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _interface_index(value):
    # Windows numbers interfaces from 1; 0 is NET_IFINDEX_UNSPECIFIED.
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


# MSFT_Disk.BusType names (Storage module). A name not among them, or Unknown, rules nothing out.
_BUS_TYPES = {name.casefold() for name in (
    "Unknown", "SCSI", "ATAPI", "ATA", "1394", "SSA", "Fibre Channel", "USB", "RAID", "iSCSI", "SAS", "SATA", "SD", "MMC",
    "Virtual", "File Backed Virtual", "Storage Spaces", "NVMe", "SCM", "UFS")}
# A connection's InitiatorAddress when none was chosen (the default, shown as 0.0.0.0 by
# Get-IscsiConnection and iscsicli): any interface; it names no NIC.
_ANY_ADDRESS = ("", "0.0.0.0", "::")


def boot_interfaces(probe: dict) -> dict:
    """Which network interfaces carry the boot disk, by what Windows knows for certain: the interface
    each boot connection goes out of (Find-NetRoute to its target address), an initiator address a
    NIC holds, the route to the portal of an HBA's boot configuration.

    Returns {known, booted_from_iscsi, interfaces {index: [why]}, reason}. known is True only when
    every path to the boot disk is accounted for, or when the boot disk is known not to be on iSCSI;
    reason says why not otherwise. Anything missing, failed or malformed leaves it False."""
    result = {"known": False, "booted_from_iscsi": None, "interfaces": {}, "reason": ""}
    errors = probe.get("boot_errors")
    if not isinstance(errors, (list, tuple)):
        result["reason"] = "the probe did not report how it read the boot disk and sessions"
        return result
    errors = [str(error) for error in errors]
    service = _dict(probe.get("service")).get("status")
    if errors:
        # Any query about the boot disk or its sessions that failed may hide the path to the boot disk.
        result["reason"] = "reading the boot disk and its iSCSI sessions failed: %s%s" % (
            "; ".join(errors), "" if service == "Running" else " (the Microsoft iSCSI Initiator Service is %s)"
            % (service or "in an unknown state"))
        return result
    if not all(isinstance(probe.get(key), (list, tuple)) for key in ("boot_sessions", "firmware_boot")):
        result["reason"] = "the probe's report of the boot sessions is incomplete"
        return result
    firmware = list(probe["firmware_boot"])
    boot_disk = _dict(probe.get("boot_disk"))
    bus_types = boot_disk.get("bus_types", [boot_disk.get("bus_type")])
    if not isinstance(bus_types, (list, tuple)) or not bus_types \
            or not all(isinstance(bus, str) and bus.casefold() in _BUS_TYPES for bus in bus_types):
        result["reason"] = "Windows did not say which disk it booted from, or on which bus (%r)" % (bus_types,)
        return result
    on_iscsi = bool(firmware) or any(bus.casefold() in ("iscsi", "unknown") for bus in bus_types)
    result["booted_from_iscsi"] = on_iscsi
    if not on_iscsi:
        # No NIC carries a boot disk on another bus (a local disk, a golden image not yet on its LUN).
        result["known"] = True
        return result
    sessions = _list(probe.get("boot_sessions"))
    if not sessions and not firmware:
        result["reason"] = ("Windows boots from an iSCSI disk but reports no iSCSI session for it (the Microsoft iSCSI "
                            "Initiator Service is %s)" % (service or "in an unknown state"))
        return result
    adapters = [adapter for adapter in _list(probe.get("adapters")) if isinstance(adapter, dict)]
    unknown = []

    def add(index, why):
        result["interfaces"].setdefault(index, []).append(why)

    def route_indexes(route):
        return [index for index in map(_interface_index, _list(_dict(route).get("interface_indexes"))) if index is not None]

    for session in sessions:
        if not isinstance(session, dict):
            unknown.append("a boot session Windows reported could not be read")
            continue
        target = str(session.get("target_iqn") or "an unnamed target")
        connections = _list(session.get("connections"))
        if not connections:
            unknown.append("Windows reports no connection of the boot session to %s" % target)
        for connection in connections:
            connection = _dict(connection)
            portal = "%s:%s" % (connection.get("target_address") or "?", connection.get("target_port") or "?")
            found = False
            for index in route_indexes(connection.get("route")):
                add(index, "the boot connection to %s goes out of it (Find-NetRoute)" % portal)
                found = True
            address = str(connection.get("initiator_address") or "")
            if address not in _ANY_ADDRESS:
                for adapter in adapters:
                    index = _interface_index(adapter.get("interface_index"))
                    if index is not None and address in [str(item) for item in _list(adapter.get("ip_addresses"))]:
                        add(index, "it holds %s, the boot connection's initiator address" % address)
                        found = True
            if not found:
                unknown.append("the boot connection to %s has no route Windows reports and its initiator address is %s%s"
                               % (portal, address or "empty", " (the default: any interface)" if address in _ANY_ADDRESS
                                  else ", which no NIC holds"))
    for entry in firmware:
        entry = _dict(entry)
        portal = "%s:%s" % (entry.get("target_address") or "?", entry.get("target_port") or "?")
        indexes = route_indexes(entry.get("route"))
        for index in indexes:
            add(index, "Windows routes to %s, the portal of the firmware's boot configuration, through it" % portal)
        if not indexes:
            unknown.append("the firmware's boot configuration (%s) names the portal %s, to which Windows reports no route"
                           % (entry.get("source") or "MSiSCSI_BootConfiguration", portal))
    if unknown:
        result["reason"] = "; ".join(unknown)
        return result
    result["known"] = True
    return result


def plan_boot_nics(probe: dict, boot_nics) -> dict:
    """Which adapters to switch to DHCP. A NIC that carries the boot disk is never touched:
    re-addressing it would cut the path to the boot disk under a running Windows. When the host boots
    from iSCSI and Windows does not tell for certain which NICs carry it, no NIC is touched."""
    adapters = [adapter for adapter in _list(probe.get("adapters")) if isinstance(adapter, dict)]
    boot = boot_interfaces(probe)
    to_dhcp, unchanged, protected, withheld = [], [], [], []
    for position, nic in enumerate(normalize_boot_nics(boot_nics)):
        if "mac" in nic:
            found = [adapter for adapter in adapters if _adapter_mac(adapter) == nic["mac"]]
            wanted = "MAC %s" % nic["mac"]
        else:
            found = [adapter for adapter in adapters if str(adapter.get("name") or "").casefold() == nic["alias"].casefold()]
            wanted = "alias '%s'" % nic["alias"]
        if not found:
            raise InitiatorError("win_iscsi_initiator_boot_nics[%d]: no network adapter with %s; the host has: %s"
                                 % (position, wanted, ", ".join("%s (%s)" % (adapter.get("name"), adapter.get("mac"))
                                                                for adapter in adapters) or "none"))
        if len(found) > 1:
            raise InitiatorError("win_iscsi_initiator_boot_nics[%d]: %d network adapters have %s (%s): team members, a "
                                 "Hyper-V switch port and its physical NIC share a MAC address; name the one to set to "
                                 "DHCP by its alias" % (position, len(found), wanted,
                                                        ", ".join(str(adapter.get("name")) for adapter in found)))
        adapter = found[0]
        index = _interface_index(adapter.get("interface_index"))
        entry = {"name": adapter.get("name"), "mac": _adapter_mac(adapter), "interface_index": index}
        if adapter.get("dhcp_enabled") is True:
            unchanged.append(entry)
        elif not boot["known"]:
            withheld.append(dict(entry, reason=boot["reason"]))
        elif index is None:
            withheld.append(dict(entry, reason="Windows reported no interface index for it"))
        elif index in boot["interfaces"]:
            protected.append(dict(entry, reasons=boot["interfaces"][index]))
        else:
            to_dhcp.append(entry)
    return {"to_dhcp": to_dhcp, "unchanged": unchanged, "protected": protected, "withheld": withheld,
            "boot_nic_known": boot["known"], "boot_interfaces": sorted(boot["interfaces"]), "reason": boot["reason"]}


def check_boot_session(probe: dict, expected_target: str = "", required: bool = False) -> dict:
    """Where Windows exposes the boot session (boot disk bus type, iSCSI sessions, the boot
    configuration of an iSCSI HBA), check it is there and goes to the expected target."""
    sessions = [session for session in _list(probe.get("boot_sessions")) + _list(probe.get("firmware_boot"))
                if isinstance(session, dict)]
    boot_disk = _dict(probe.get("boot_disk"))
    on_iscsi = str(boot_disk.get("bus_type") or "").casefold() == "iscsi"
    result = {"booted_from_iscsi": on_iscsi, "boot_disk": boot_disk, "sessions": sessions, "target_iqn": "",
              "initiator_iqn": "", "failures": [], "warnings": []}
    if sessions:
        result["target_iqn"] = str(sessions[0].get("target_iqn") or "")
        result["initiator_iqn"] = str(sessions[0].get("initiator_iqn") or "")
    if not on_iscsi or not sessions:
        message = ("no iSCSI boot session: the boot disk is %s and Windows reports %d boot session(s); this host does "
                   "not (yet) run from its iSCSI LUN" % (boot_disk.get("bus_type") or "unknown", len(sessions)))
        errors = [str(error) for error in _list(probe.get("boot_errors"))]
        if errors:
            message += " (reading them failed: %s)" % "; ".join(errors)
        (result["failures"] if required else result["warnings"]).append(
            message + ("" if not required else " (win_iscsi_initiator_require_boot_session is true)"))
        return result
    if expected_target:
        if not any(iscsi_names_equal(session.get("target_iqn") or "", expected_target) for session in sessions):
            result["failures"].append("win_iscsi_initiator_boot_target_iqn: the boot session goes to %s, not to %s"
                                      % (", ".join(str(session.get("target_iqn")) for session in sessions),
                                         expected_target))
    persistent = [target for target in _list(probe.get("persistent_targets"))
                  if any(iscsi_names_equal(str(target), session.get("target_iqn") or "") for session in sessions)]
    if persistent:
        result["warnings"].append("the boot target %s is also a persistent (favorite) target inside Windows: at the next "
                                  "boot Windows logs on to it a second time next to the firmware's session; remove it "
                                  "with Remove-IscsiTarget/iscsicli RemovePersistentTarget" % ", ".join(persistent))
    return result


def _release(os_version: str) -> str:
    try:
        return server_release(os_version) if os_version else ""
    except WindowsHostError:
        return ""


def plan_initiator(probe: dict, settings: dict) -> dict:
    """Everything the role decides from its probe; see the role README for the settings."""
    errors = validate_settings(settings)
    if errors:
        raise InitiatorError("; ".join(errors))
    os_version = probe.get("os_version") if isinstance(probe.get("os_version"), str) else ""
    warnings = []

    desired_iqn = normalize_iqn(settings["iqn"]) if settings.get("iqn") else ""
    current_iqn = probe.get("node_name") if isinstance(probe.get("node_name"), str) else ""
    node = {"current": current_iqn, "desired": desired_iqn,
            "change": bool(desired_iqn) and not iscsi_names_equal(current_iqn, desired_iqn)}

    boot = check_boot_session(probe, settings.get("boot_target_iqn") or "", bool(settings.get("require_boot_session")))
    warnings.extend(boot["warnings"])
    firmware_iqn = boot["initiator_iqn"]
    wanted_iqn = desired_iqn or current_iqn
    if firmware_iqn and wanted_iqn and not iscsi_names_equal(firmware_iqn, wanted_iqn):
        warnings.append("the boot firmware logs on as %s but Windows' initiator node name %s %s: the SAN's ACL and DHCP "
                        "option 203 must name the firmware's IQN" % (firmware_iqn, "is set to" if desired_iqn else "is",
                                                                     wanted_iqn))

    nics = plan_boot_nics(probe, settings.get("boot_nics"))
    for entry in nics["protected"]:
        warnings.append("%s (%s) is left as it is: it carries the iSCSI boot disk (%s), and switching it to DHCP would "
                        "re-address the path to the boot disk under a running Windows; set it to DHCP in the image "
                        "before it boots from iSCSI" % (entry["name"], entry["mac"], "; ".join(entry["reasons"])))
    if nics["withheld"]:
        reasons = []
        for entry in nics["withheld"]:
            if entry["reason"] not in reasons:
                reasons.append(entry["reason"])
        warnings.append("no NIC is switched to DHCP (%s left as they are): Windows does not tell for certain which NICs "
                        "carry the boot disk: %s. The role touches no NIC that may be the path to the boot disk"
                        % (", ".join(str(entry["name"]) for entry in nics["withheld"]), "; ".join(reasons)))
    other_errors = [str(error) for error in _list(probe.get("errors"))]
    if other_errors:
        warnings.append("the probe could not read: %s" % "; ".join(other_errors))

    mpio_wanted = bool(settings.get("mpio"))
    mpio_state = _dict(probe.get("mpio"))
    mpio = {
        "enabled": mpio_wanted,
        "feature": MPIO_FEATURE,
        "claim_iscsi": bool(settings.get("mpio_claim_iscsi", True)),
        "policy": MPIO_POLICIES[settings.get("mpio_policy", "round_robin")],
        "available": mpio_state.get("available") is True,
        "current_claim": mpio_state.get("iscsi_claimed"),
        "current_policy": mpio_state.get("policy"),
    }

    return {
        "os_version": os_version,
        "server_release": _release(os_version),
        "node_name": node,
        "boot": boot,
        "nics": nics,
        "mpio": mpio,
        "firewall": {
            "enabled": bool(settings.get("firewall", True)),
            "remote_ports": ",".join(str(validate_port(port)) for port in settings.get("firewall_ports", [3260])),
        },
        "failures": boot["failures"],
        "warnings": warnings,
    }
