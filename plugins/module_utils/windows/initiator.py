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
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.host import WindowsHostError, is_windows_2003, server_release

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


def plan_boot_nics(probe: dict, boot_nics) -> dict:
    """Which adapters to switch to DHCP. An adapter carrying the running iSCSI boot session is never
    touched: re-addressing it would cut the path to the boot disk under a running Windows."""
    adapters = probe.get("adapters") or []
    session_addresses = {str(session.get("initiator_address") or "") for session in probe.get("boot_sessions") or []}
    session_addresses.discard("")
    to_dhcp, unchanged, protected = [], [], []
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
        adapter = found[0]
        entry = {"name": adapter.get("name"), "mac": _adapter_mac(adapter)}
        if adapter.get("dhcp_enabled"):
            unchanged.append(entry)
        elif session_addresses & {str(address) for address in adapter.get("ip_addresses") or []}:
            protected.append(entry)
        else:
            to_dhcp.append(entry)
    return {"to_dhcp": to_dhcp, "unchanged": unchanged, "protected": protected}


def check_boot_session(probe: dict, expected_target: str = "", required: bool = False) -> dict:
    """Where Windows exposes the boot session (boot disk bus type, iSCSI sessions, the boot
    configuration of an iSCSI HBA), check it is there and goes to the expected target."""
    sessions = probe.get("boot_sessions") or []
    boot_disk = probe.get("boot_disk") or {}
    on_iscsi = str(boot_disk.get("bus_type") or "").casefold() == "iscsi"
    result = {"booted_from_iscsi": on_iscsi, "boot_disk": boot_disk, "sessions": sessions, "target_iqn": "",
              "initiator_iqn": "", "failures": [], "warnings": []}
    if sessions:
        result["target_iqn"] = str(sessions[0].get("target_iqn") or "")
        result["initiator_iqn"] = str(sessions[0].get("initiator_iqn") or "")
    if not on_iscsi or not sessions:
        message = ("no iSCSI boot session: the boot disk is %s and Windows reports %d boot session(s); this host does "
                   "not (yet) run from its iSCSI LUN" % (boot_disk.get("bus_type") or "unknown", len(sessions)))
        (result["failures"] if required else result["warnings"]).append(
            message + ("" if not required else " (win_iscsi_initiator_require_boot_session is true)"))
        return result
    if expected_target:
        if not any(iscsi_names_equal(session.get("target_iqn") or "", expected_target) for session in sessions):
            result["failures"].append("win_iscsi_initiator_boot_target_iqn: the boot session goes to %s, not to %s"
                                      % (", ".join(str(session.get("target_iqn")) for session in sessions),
                                         expected_target))
    persistent = [target for target in probe.get("persistent_targets") or []
                  if any(iscsi_names_equal(target, session.get("target_iqn") or "") for session in sessions)]
    if persistent:
        result["warnings"].append("the boot target %s is also a persistent (favorite) target inside Windows: at the next "
                                  "boot Windows logs on to it a second time next to the firmware's session; remove it "
                                  "with Remove-IscsiTarget/iscsicli RemovePersistentTarget" % ", ".join(persistent))
    return result


def plan_initiator(probe: dict, settings: dict) -> dict:
    """Everything the role decides from its probe; see the role README for the settings."""
    errors = validate_settings(settings)
    if errors:
        raise InitiatorError("; ".join(errors))
    os_version = probe.get("os_version") or ""
    legacy = bool(os_version) and is_windows_2003(os_version)
    warnings = []

    desired_iqn = normalize_iqn(settings["iqn"]) if settings.get("iqn") else ""
    current_iqn = str(probe.get("node_name") or "")
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
        warnings.append("%s (%s) is left as it is: it carries the running iSCSI boot session, and switching it to DHCP "
                        "would re-address the path to the boot disk; set it to DHCP in the image before it boots from "
                        "iSCSI" % (entry["name"], entry["mac"]))

    mpio_wanted = bool(settings.get("mpio"))
    mpio_state = probe.get("mpio") or {}
    mpio = {
        "enabled": mpio_wanted and not legacy,
        "feature": MPIO_FEATURE,
        "claim_iscsi": bool(settings.get("mpio_claim_iscsi", True)),
        "policy": MPIO_POLICIES[settings.get("mpio_policy", "round_robin")],
        "current_claim": mpio_state.get("iscsi_claimed"),
        "current_policy": mpio_state.get("policy"),
    }

    legacy_plan = {"is_2003": legacy, "install_package": False, "package_path": ""}
    if legacy:
        path = str(settings.get("legacy_package_path") or "").strip()
        if not probe.get("iscsibcg_present"):
            if not path:
                raise InitiatorError("win_iscsi_initiator_legacy_package_path is required: this is Windows Server 2003, "
                                     "which needs the Microsoft iSCSI boot initiator package (2.0x, boot version) and it "
                                     "is not installed (no iscsibcg.exe)")
            legacy_plan.update({"install_package": True, "package_path": path})
        if mpio_wanted:
            warnings.append("Windows Server 2003: MPIO is chosen in the boot initiator package's installer (its "
                            "arguments), not with the Multipath-IO feature; the role does not configure it")

    return {
        "os_version": os_version,
        "server_release": server_release(os_version) if os_version else "",
        "legacy": legacy_plan,
        "node_name": node,
        "boot": boot,
        "nics": nics,
        "mpio": mpio,
        "firewall": {
            "enabled": bool(settings.get("firewall", True)) and not legacy,
            "remote_ports": ",".join(str(validate_port(port)) for port in settings.get("firewall_ports", [3260])),
        },
        "failures": boot["failures"],
        "warnings": warnings,
    }
