# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Sysprep of the Windows reference host that runs from the golden LUN, decided on the controller.

The reference host boots from iSCSI from the golden LUN itself; once it is generalized and shut
down, the SAN clones that LUN for every server. Before Sysprep runs, this checks what the clones
need (they boot from iSCSI as the reference does, their boot NICs take their address from DHCP, the
initiator service starts by itself, no pagefile on the iSCSI disk) and what Sysprep itself refuses
(a pending restart, an exhausted rearm count without SkipRearm, an image that is not a completed
installation, an installation upgraded in place before Windows Server 2016). It also builds the table of servers whose identity each
clone takes in the specialize pass: computer name and initiator name from the inventory, matched by
the initiator name the boot firmware logs on with (DHCP option 203 or the NIC boot BIOS) or by a MAC.
"""

from __future__ import annotations

import json
import re

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import NamingError, iscsi_names_equal, normalize_iqn, normalize_mac
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.host import (
    WindowsHostError,
    expand_system_root,
    parse_windows_version,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.initiator import boot_interfaces

VARIABLE = "win_sysprep_image_servers"
GROUP_VARIABLE = "win_sysprep_image_servers_group"
SERVER_KEYS = ("name", "initiator_iqn", "mac")
# A computer name Windows Setup takes (ComputerName): at most 15 characters (NetBIOS), letters,
# digits and hyphens, not only digits; the DNS-safe subset of what Windows allows.
_COMPUTER_NAME = re.compile(r"(?!\d+$)(?!-)[A-Za-z0-9-]{1,15}(?<!-)")
_WINDOWS_PATH = re.compile(r"^(%SystemRoot%|%windir%|[A-Za-z]:)(\\[^\\/:*?\"<>|\r\n]+)+$", re.IGNORECASE)
# Windows' default initiator name, iqn.1991-05.com.microsoft:<fqdn>: the first label is the computer name.
_MICROSOFT_IQN = re.compile(r"^iqn\.1991-05\.com\.microsoft:([^.:]+)", re.IGNORECASE)
IMAGE_STATE_COMPLETE = "IMAGE_STATE_COMPLETE"
# HKLM\SYSTEM\Setup\Status\SysprepStatus GeneralizationState: 7 when Sysprep can generalize.
GENERALIZATION_READY = 7
SYSPREP_ARGUMENTS = ("/generalize", "/oobe", "/shutdown", "/quiet")
# Sysprep generalizes an upgraded installation from Windows 10 version 1607 (build 14393, Windows
# Server 2016) on; before, only clean installations (Sysprep (System Preparation) Overview).
UPGRADE_GENERALIZABLE_BUILD = 14393


class SysprepError(WindowsHostError):
    """The role input is invalid; the message names the variable."""


def _entries(servers, group_hosts) -> list:
    """(where, entry) for win_sysprep_image_servers and the hosts of win_sysprep_image_servers_group."""
    entries = []
    if servers not in (None, ""):
        if not isinstance(servers, (list, tuple)):
            raise SysprepError("%s: expected a list of {name, initiator_iqn, mac}" % VARIABLE)
        entries += [("%s[%d]" % (VARIABLE, position), server) for position, server in enumerate(servers)]
    if group_hosts not in (None, ""):
        if not isinstance(group_hosts, (list, tuple)):
            raise SysprepError("%s: expected the hosts of an inventory group" % GROUP_VARIABLE)
        for host in group_hosts:
            host = host if isinstance(host, dict) else {}
            where = "%s host %s" % (GROUP_VARIABLE, host.get("host") or "?")
            entries.append((where, {key: host.get(key) for key in SERVER_KEYS}))
    return entries


def normalize_servers(servers, group_hosts=None) -> list:
    """win_sysprep_image_servers and the hosts of win_sysprep_image_servers_group ([{host, name,
    initiator_iqn, mac}], from sanboot_hostname or the inventory name, sanboot_initiator_iqn,
    sanboot_mac), validated: [{name, initiator_iqn, mac}] with canonical IQN and MAC."""
    result, seen = [], {}
    for where, server in _entries(servers, group_hosts):
        from_group = where.startswith(GROUP_VARIABLE)
        if not isinstance(server, dict):
            raise SysprepError("%s: expected a dictionary with name and initiator_iqn (or mac)" % where)
        unknown = sorted(set(server) - set(SERVER_KEYS))
        if unknown:
            raise SysprepError("%s: unknown key(s) %s; the keys are %s" % (where, ", ".join(unknown), ", ".join(SERVER_KEYS)))
        name = server.get("name")
        if not isinstance(name, str) or not _COMPUTER_NAME.fullmatch(name):
            raise SysprepError("%s%s: %r is not a computer name Windows takes: 1 to 15 letters, digits or inner "
                               "hyphens, not only digits%s" % (where, "" if from_group else ".name", name,
                                                               " (set sanboot_hostname)" if from_group else ""))
        entry = {"name": name, "initiator_iqn": "", "mac": ""}
        if server.get("initiator_iqn"):
            try:
                entry["initiator_iqn"] = normalize_iqn(str(server["initiator_iqn"]))
            except NamingError as exc:
                raise SysprepError("%s%s: %s" % (where, " sanboot_initiator_iqn" if from_group else ".initiator_iqn",
                                                 exc)) from None
        if server.get("mac"):
            if isinstance(server["mac"], int):
                raise SysprepError("%s%s: %r is a number, not a MAC address: quote it ('52:54:00:12:34:56')"
                                   % (where, " sanboot_mac" if from_group else ".mac", server["mac"]))
            try:
                entry["mac"] = normalize_mac(str(server["mac"]), style="colon")
            except NamingError as exc:
                raise SysprepError("%s%s: %s" % (where, " sanboot_mac" if from_group else ".mac", exc)) from None
        if not entry["initiator_iqn"] and not entry["mac"]:
            raise SysprepError("%s: give %s (the name the boot firmware logs on with) or %s (its boot NIC), so that the "
                               "clone can find itself" % (where, "sanboot_initiator_iqn" if from_group else "initiator_iqn",
                                                          "sanboot_mac" if from_group else "mac"))
        for key in ("name", "initiator_iqn", "mac"):
            value = entry[key].casefold()
            if value and (key, value) in seen:
                raise SysprepError("%s: the %s %s is also in %s"
                                   % (where, key.replace("_", " "), entry[key], seen[(key, value)]))
            if value:
                seen[(key, value)] = where
        result.append(entry)
    return result


def validate_settings(settings: dict) -> list:
    """Errors in the role input that argument_specs cannot express, each naming its variable."""
    errors = []
    try:
        normalize_servers(settings.get("servers"), settings.get("group_hosts"))
    except SysprepError as exc:
        errors.append(str(exc))
    group = settings.get("servers_group")
    if group not in (None, "") and not isinstance(group, str):
        errors.append("%s: %r is not the name of an inventory group" % (GROUP_VARIABLE, group))
    elif group and settings.get("group_hosts") is None:
        errors.append("%s: %s is not a group of the inventory" % (GROUP_VARIABLE, group))
    for key in ("unattend_path", "scripts_directory"):
        value = settings.get(key)
        if value not in (None, "") and not (isinstance(value, str) and _WINDOWS_PATH.match(value)):
            errors.append("win_sysprep_image_%s: %r is not an absolute Windows path (such as %%SystemRoot%%\\Panther\\"
                          "unattend.xml)" % (key, value))
    unattend = settings.get("unattend_path") or ""
    if isinstance(unattend, str) and unattend and not unattend.lower().endswith(".xml"):
        errors.append("win_sysprep_image_unattend_path: %r must name an .xml answer file" % unattend)
    timezone = settings.get("timezone")
    valid_timezone = isinstance(timezone, str) and re.fullmatch(r"[A-Za-z0-9 ._()+-]{1,64}", timezone)
    if timezone not in (None, "") and not valid_timezone:
        errors.append("win_sysprep_image_timezone: %r is not a Windows time zone name (such as 'W. Europe Standard Time')"
                      % (timezone,))
    return errors


def _list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def plan_sysprep(boot: dict, host: dict, probe: dict, settings: dict) -> dict:
    """What stands in the way of Sysprep, and what to give it.

    boot: sanboot.iscsi.win_iscsi_boot_info's result. host: sanboot.iscsi.win_reboot_pending's
    result (windows_reasons). probe: the role's probe (sysprep_present, image_state,
    generalization_state, upgraded, remaining_rearm_count, pagefiles [{name, bus_type}],
    automatic_managed_pagefile, domain_member, domain). settings: the role variables without prefix.
    Returns {refusals, warnings, servers, servers_json, sysprep_arguments}; refusals stop the role
    before anything changes, each saying what to do."""
    errors = validate_settings(settings)
    if errors:
        raise SysprepError("; ".join(errors))
    servers = normalize_servers(settings.get("servers"), settings.get("group_hosts"))
    refusals, warnings = [], []

    # The clones boot as the reference host does: from iSCSI, with their boot NICs on DHCP.
    found = boot_interfaces(boot)
    if found["booted_from_iscsi"] is False:
        refusals.append("the reference host does not boot from iSCSI (its boot disk is on %s): Sysprep it where it runs "
                        "from the golden LUN, so that the clones boot as it does"
                        % (_dict(boot.get("boot_disk")).get("bus_type") or "a bus Windows did not report"))
    elif not found["known"]:
        refusals.append("the NICs that carry the boot disk cannot be identified, so it cannot be checked that the host "
                        "boots from iSCSI and that they take their address from DHCP, as every clone needs: %s"
                        % found["reason"])
    else:
        adapters = {adapter.get("interface_index"): adapter for adapter in _list(boot.get("adapters"))
                    if isinstance(adapter, dict)}
        for index in sorted(found["interfaces"]):
            adapter = _dict(adapters.get(index))
            if adapter.get("dhcp_enabled") is not True:
                refusals.append("%s (%s) carries the boot disk and has a static address: every clone would come up with "
                                "this address. Set it to DHCP first (sanboot.iscsi.win_iscsi_initiator, "
                                "win_iscsi_initiator_boot_nics)"
                                % (adapter.get("name") or "interface %s" % index, adapter.get("mac") or "no MAC reported"))
    service = _dict(boot.get("service"))
    if service.get("start_type") != "Automatic":
        refusals.append("the Microsoft iSCSI Initiator Service starts %s, not automatically: apply "
                        "sanboot.iscsi.win_iscsi_initiator first" % (service.get("start_type") or "in an unknown way"))

    # No pagefile on the iSCSI disk: each clone would page over the network it boots through.
    if probe.get("automatic_managed_pagefile") is True:
        refusals.append("Windows manages the pagefile (on the system drive, the iSCSI boot disk): apply "
                        "sanboot.iscsi.win_pagefile first")
    for pagefile in _list(probe.get("pagefiles")):
        pagefile = _dict(pagefile)
        if str(pagefile.get("bus_type") or "").casefold() in ("iscsi", ""):
            refusals.append("the pagefile %s is %s: apply sanboot.iscsi.win_pagefile first (and restart, so that Windows "
                            "uses the new one)" % (pagefile.get("name"), "on the iSCSI boot disk"
                                                   if pagefile.get("bus_type") else "on a disk Windows did not report"))

    # What Sysprep refuses.
    if probe.get("sysprep_present") is not True:
        refusals.append("%%SystemRoot%%\\System32\\Sysprep\\sysprep.exe is not on the host")
    reasons = [str(reason) for reason in _list(host.get("windows_reasons"))]
    if reasons:
        refusals.append("Windows waits for a restart (%s): Sysprep does not run until it has restarted; restart the host "
                        "and run the role again" % "; ".join(reasons))
    if probe.get("image_state") != IMAGE_STATE_COMPLETE:
        refusals.append("the Windows image state is %s, not %s: %s" % (
            probe.get("image_state") or "unknown", IMAGE_STATE_COMPLETE,
            "this installation was generalized already (Sysprep ran); boot it through OOBE first"
            if str(probe.get("image_state") or "").startswith("IMAGE_STATE_GENERALIZE") else
            "Windows Setup did not complete on this installation, which cannot be generalized"))
    if probe.get("generalization_state") != GENERALIZATION_READY:
        # Not documented by Microsoft as a precondition: a warning, and Sysprep's own error if it fails.
        warnings.append("HKLM\\SYSTEM\\Setup\\Status\\SysprepStatus\\GeneralizationState is %s, not %d as on a fresh "
                        "installation: an earlier Sysprep run may not have completed; if Sysprep fails, its errors are in "
                        "%%WINDIR%%\\System32\\Sysprep\\Panther\\setuperr.log"
                        % (probe.get("generalization_state"), GENERALIZATION_READY))
    if probe.get("upgraded") is True:
        try:
            build = parse_windows_version(host.get("os_version"))[2]
        except WindowsHostError:
            build = 0
        if build < UPGRADE_GENERALIZABLE_BUILD:
            refusals.append("this installation was upgraded in place (HKLM\\SYSTEM\\Setup\\Upgrade) and is older than "
                            "Windows Server 2016 (build %s): Sysprep will not run on an upgraded OS there; build the "
                            "reference host from a clean installation" % (build or "unknown"))
    if probe.get("domain_member") is True:
        warnings.append("the reference host is a member of the domain %s: Sysprep takes it out of the domain (it "
                        "generalizes workgroup members only), and every clone starts in a workgroup; join the clones "
                        "afterwards" % (probe.get("domain") or "(name not reported)"))
    remaining = probe.get("remaining_rearm_count")
    skip_rearm = bool(settings.get("skip_rearm"))
    if not isinstance(remaining, int) or isinstance(remaining, bool):
        refusals.append("the remaining Windows rearm count could not be read (SoftwareLicensingService."
                        "RemainingWindowsReArmCount)")
    elif remaining < 1 and not skip_rearm:
        refusals.append("this image was rearmed too often (remaining Windows rearm count %d): Sysprep /generalize would fail "
                        "(0xC004D307). Set win_sysprep_image_skip_rearm: true (SkipRearm=1: the clones keep the reference "
                        "host's licensing state and activation timer) or rebuild the reference host" % remaining)
    if skip_rearm:
        warnings.append("SkipRearm=1: the clones keep the reference host's licensing state and activation grace timer; "
                        "Microsoft's advice is to leave it out on the final Sysprep of an image")

    if not servers:
        warnings.append("%s and %s name no server: every clone keeps the computer name Windows generates, and the "
                        "initiator name the boot firmware logs on with" % (VARIABLE, GROUP_VARIABLE))
    # Windows Setup runs the specialize command as it is written: the paths are expanded here.
    system_root = probe.get("system_root") if isinstance(probe.get("system_root"), str) else ""
    directory = expand_system_root(str(settings.get("scripts_directory") or "%SystemRoot%\\Setup\\Scripts"), system_root)
    return {
        "refusals": refusals,
        "warnings": warnings,
        "specialize_command": 'powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%s\\sanboot-specialize.ps1"'
                              % directory.rstrip("\\"),
        "servers": servers,
        "servers_json": json.dumps({"servers": servers, "name_from_iqn": bool(settings.get("name_from_iqn", True))},
                                   indent=2, sort_keys=True) + "\n",
        "sysprep_arguments": list(SYSPREP_ARGUMENTS),
    }


def identify_clone(servers, firmware_iqn: str, macs, name_from_iqn: bool = True) -> dict:
    """What the specialize script decides on a clone's first boot: the server whose initiator name is
    the one the boot firmware logged on with, else one of whose MACs; else, with name_from_iqn, the
    host part of a firmware initiator name in Windows' default form (iqn.1991-05.com.microsoft:<fqdn>,
    which DHCP option 203 gave the firmware). The initiator node name is the firmware's (what the
    SAN's ACL allows) whenever there is one."""
    firmware_iqn = str(firmware_iqn or "")
    own = set()
    for mac in macs or []:
        try:
            own.add(normalize_mac(str(mac), style="colon"))
        except NamingError:
            continue
    source = "initiator name"
    match = next((server for server in servers if server.get("initiator_iqn") and firmware_iqn
                  and iscsi_names_equal(server["initiator_iqn"], firmware_iqn)), None)
    if match is None:
        source = "MAC"
        match = next((server for server in servers if server.get("mac") and server["mac"] in own), None)
    name = (match or {}).get("name") or ""
    if match is None:
        source = ""
        found = _MICROSOFT_IQN.match(firmware_iqn) if name_from_iqn else None
        if found and _COMPUTER_NAME.fullmatch(found.group(1)):
            name, source = found.group(1), "Windows' default initiator name"
    node_name = firmware_iqn or (match or {}).get("initiator_iqn") or ""
    return {"computer_name": name, "node_name": node_name, "matched": match is not None, "source": source}
