# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Where the pagefile of an iSCSI-booted Windows server goes, decided on the controller.

A pagefile on the iSCSI boot disk pages over the network the server boots through, and the seed's
checklist moves it to a local disk, or turns virtual memory off when there is none. Inputs are
what community.windows.win_disk_facts and win_pagefile (query) return and what the role's probe
reads (pagefiles in use, crash-dump settings); the output is the list of win_pagefile calls and
registry values that get the host there, and whether a reboot is needed for it to take effect.
"""

from __future__ import annotations

import re

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import NamingError, parse_size
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.host import (
    WindowsHostError,
    is_windows_2003,
    supports_dedicated_dump_file,
    windows_paths_equal,
)

MIB = 1024 * 1024
# Disks that are not local: SAN disks (the boot LUN among them), removable and file-backed ones.
DEFAULT_EXCLUDED_BUS_TYPES = ("iSCSI", "Fibre Channel", "USB", "SD", "MMC", "File Backed Virtual")
SIZE_POLICIES = ("system_managed", "fixed")
WITHOUT_LOCAL_DISK = ("disable", "fail")
CRASH_DUMP_TYPES = {"none": 0, "complete": 1, "kernel": 2, "small": 3, "automatic": 7}
CRASH_DUMP_CHOICES = ("keep",) + tuple(CRASH_DUMP_TYPES)
CRASH_CONTROL_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\CrashControl"
DEDICATED_DUMP_NAME = "DedicatedDump.sys"
_STANDARD_PAGEFILE = re.compile(r"^(?P<drive>[A-Za-z]):\\pagefile\.sys$", re.IGNORECASE)
_DRIVE = re.compile(r"^\s*(?P<letter>[A-Za-z])(?::\\?)?\s*$")


class PagefileError(WindowsHostError):
    """The pagefile cannot be placed as asked; the message names the variable and the reason."""


def normalize_drive(value, what: str = "win_pagefile_drive") -> str:
    """'d', 'D:', 'D:\\' -> 'D'; '' or None -> ''."""
    if value in (None, ""):
        return ""
    match = _DRIVE.match(str(value))
    if not match:
        raise PagefileError("%s: '%s' is not a drive letter (expected a letter such as D or D:)" % (what, value))
    return match.group("letter").upper()


def size_in_mib(value, what: str) -> int:
    """A size with units (naming.parse_size) as the whole MiB win_pagefile takes."""
    try:
        size = parse_size(value)
    except NamingError as exc:
        raise PagefileError("%s: %s" % (what, exc)) from None
    if size % MIB:
        raise PagefileError("%s: %s is not a whole number of MiB; pagefile sizes are set in MiB" % (what, value))
    return size // MIB


def validate_settings(settings: dict) -> list:
    """Errors in the role input that argument_specs cannot express, each naming its variable."""
    errors = []
    try:
        normalize_drive(settings.get("drive"))
    except PagefileError as exc:
        errors.append(str(exc))
    if settings.get("size", "system_managed") not in SIZE_POLICIES:
        errors.append("win_pagefile_size: '%s' is not one of %s" % (settings.get("size"), ", ".join(SIZE_POLICIES)))
    if settings.get("size") == "fixed":
        sizes = {}
        for key in ("initial_size", "maximum_size"):
            try:
                sizes[key] = size_in_mib(settings.get(key), "win_pagefile_" + key)
            except PagefileError as exc:
                errors.append(str(exc))
        if len(sizes) == 2 and sizes["initial_size"] > sizes["maximum_size"]:
            errors.append("win_pagefile_initial_size: %s is larger than win_pagefile_maximum_size %s"
                          % (settings.get("initial_size"), settings.get("maximum_size")))
    if settings.get("without_local_disk", "disable") not in WITHOUT_LOCAL_DISK:
        errors.append("win_pagefile_without_local_disk: '%s' is not one of %s"
                      % (settings.get("without_local_disk"), ", ".join(WITHOUT_LOCAL_DISK)))
    if settings.get("crash_dump", "keep") not in CRASH_DUMP_CHOICES:
        errors.append("win_pagefile_crash_dump: '%s' is not one of %s"
                      % (settings.get("crash_dump"), ", ".join(CRASH_DUMP_CHOICES)))
    if settings.get("dedicated_dump_size") not in (None, ""):
        try:
            size_in_mib(settings["dedicated_dump_size"], "win_pagefile_dedicated_dump_size")
        except PagefileError as exc:
            errors.append(str(exc))
    excluded = settings.get("excluded_bus_types", list(DEFAULT_EXCLUDED_BUS_TYPES))
    if not isinstance(excluded, (list, tuple)) or not all(isinstance(item, str) and item for item in excluded):
        errors.append("win_pagefile_excluded_bus_types: expected a list of bus type names such as iSCSI, USB")
    elif not any(item.casefold() == "iscsi" for item in excluded):
        errors.append("win_pagefile_excluded_bus_types: must contain iSCSI; a pagefile on the iSCSI boot disk is what "
                      "this role exists to avoid")
    return errors


def local_candidates(disks, excluded_bus_types=DEFAULT_EXCLUDED_BUS_TYPES) -> list:
    """Volumes that may hold the pagefile: a drive letter, a fixed NTFS or ReFS volume, on an online,
    writable disk whose bus is not excluded (iSCSI first of all). From win_disk_facts' ansible_disks."""
    excluded = {str(bus).casefold() for bus in excluded_bus_types}
    candidates = []
    for disk in disks or []:
        bus = str(disk.get("bus_type") or "")
        if bus.casefold() in excluded or disk.get("read_only"):
            continue
        if str(disk.get("operational_status") or "Online").casefold() not in ("online", "ok"):
            continue
        for partition in disk.get("partitions") or []:
            letter = partition.get("drive_letter")
            if not letter:
                continue
            for volume in partition.get("volumes") or []:
                if str(volume.get("drive_type") or "").casefold() != "fixed":
                    continue
                if str(volume.get("type") or "").upper() not in ("NTFS", "REFS"):
                    continue
                candidates.append({
                    "drive": str(letter).upper(),
                    "disk_number": disk.get("number"),
                    "bus_type": bus,
                    "friendly_name": disk.get("friendly_name"),
                    "size": int(volume.get("size") or 0),
                    "free": int(volume.get("size_remaining") or 0),
                })
    return sorted(candidates, key=lambda volume: volume["drive"])


def _describe_drive(disks, letter: str) -> str:
    for disk in disks or []:
        for partition in disk.get("partitions") or []:
            if str(partition.get("drive_letter") or "").upper() == letter:
                return "on disk %s (bus %s, %s)" % (disk.get("number"), disk.get("bus_type"), disk.get("friendly_name"))
    return "not a volume on any disk the host reports"


def _pagefile_entry(entry: dict) -> dict:
    return {"name": str(entry.get("name") or ""), "initial_size": int(entry.get("initial_size") or 0),
            "maximum_size": int(entry.get("maximum_size") or 0)}


def plan_pagefile(disks, pagefile: dict, probe: dict, settings: dict) -> dict:
    """The pagefile and crash-dump plan.

    disks: win_disk_facts' ansible_disks, or None where the host cannot list its disks. pagefile: win_pagefile (state query) result with
    automatic_managed_pagefiles and pagefiles. probe: the role's probe (os_version, system_drive,
    usage [{name, allocated_base_size}], crash_control {CrashDumpEnabled, DedicatedDumpFile,
    DumpFileSize}, hotfixes, reboot_pending). settings: the role variables without the role prefix.
    """
    errors = validate_settings(settings)
    if errors:
        raise PagefileError("; ".join(errors))
    excluded = settings.get("excluded_bus_types") or list(DEFAULT_EXCLUDED_BUS_TYPES)
    system_drive = normalize_drive(probe.get("system_drive") or "C", "system_drive")
    wanted_drive = normalize_drive(settings.get("drive"))
    warnings = []
    if disks is None:
        # No disk inventory (Windows Server 2003 has no Storage module for win_disk_facts): the
        # operator names the local drive, and the bus type cannot be checked.
        if not wanted_drive:
            raise PagefileError("win_pagefile_drive is required where the host cannot list its disks (Windows Server "
                                "2003): name the local drive for the pagefile")
        candidates = [{"drive": wanted_drive, "disk_number": None, "bus_type": "unknown", "friendly_name": None,
                       "size": 0, "free": 0}]
        warnings.append("the disk inventory is not available on this Windows release: %s: was taken as a local disk "
                        "without checking its bus type" % wanted_drive)
    else:
        candidates = local_candidates(disks, excluded)

    fixed = settings.get("size") == "fixed"
    initial = size_in_mib(settings["initial_size"], "win_pagefile_initial_size") if fixed else 0
    maximum = size_in_mib(settings["maximum_size"], "win_pagefile_maximum_size") if fixed else 0

    if wanted_drive:
        chosen = [volume for volume in candidates if volume["drive"] == wanted_drive]
        if not chosen:
            raise PagefileError("win_pagefile_drive: %s: is not a local fixed disk that may hold the pagefile: it is %s; "
                                "local candidates: %s" % (wanted_drive, _describe_drive(disks, wanted_drive),
                                                          ", ".join(v["drive"] + ":" for v in candidates) or "none"))
        chosen = chosen[0]
    elif candidates:
        # The most free space wins; ties go to the first letter, so the choice is stable run to run.
        chosen = sorted(candidates, key=lambda volume: (-volume["free"], volume["drive"]))[0]
    else:
        chosen = None

    if chosen is None and settings.get("without_local_disk", "disable") == "fail":
        raise PagefileError("win_pagefile_without_local_disk is 'fail' and the host has no local fixed disk for the "
                            "pagefile (excluded bus types: %s)" % ", ".join(excluded))
    if chosen and fixed and chosen["bus_type"] != "unknown" and chosen["free"] < maximum * MIB:
        current_here = [entry for entry in pagefile.get("pagefiles") or []
                        if windows_paths_equal(entry.get("name", ""), "%s:\\pagefile.sys" % chosen["drive"])]
        if not current_here:
            raise PagefileError("win_pagefile_maximum_size: %s does not fit on %s: (%d MiB free)"
                                % (settings.get("maximum_size"), chosen["drive"], chosen["free"] // MIB))

    desired = []
    if chosen:
        desired.append({"name": "%s:\\pagefile.sys" % chosen["drive"], "initial_size": initial, "maximum_size": maximum})

    operations = []
    if pagefile.get("automatic_managed_pagefiles"):
        operations.append({"automatic": False, "state": "query"})
    current = [_pagefile_entry(entry) for entry in pagefile.get("pagefiles") or []]
    keep = False
    removals = []
    remove_all = False
    for entry in current:
        match = _STANDARD_PAGEFILE.match(entry["name"])
        if desired and windows_paths_equal(entry["name"], desired[0]["name"]) and \
                (entry["initial_size"], entry["maximum_size"]) == (initial, maximum):
            keep = True
        elif match:
            # win_pagefile only updates sizes in place between two fixed sizes; remove and re-create instead.
            removals.append({"drive": match.group("drive").upper(), "state": "absent"})
        else:
            remove_all = True
    if remove_all:
        # A pagefile outside <drive>:\pagefile.sys cannot be addressed by drive: remove them all, then re-create.
        operations.append({"remove_all": True, "state": "query"})
        keep = False
    else:
        operations.extend(removals)
    if desired and not keep:
        creation = {"drive": chosen["drive"], "state": "present", "override": False}
        if fixed:
            creation.update({"initial_size": initial, "maximum_size": maximum})
        else:
            creation["system_managed"] = True
        operations.append(creation)

    usage = probe.get("usage") or []
    in_use = {str(entry.get("name", "")).casefold() for entry in usage}
    reboot_reasons = []
    if in_use != {entry["name"].casefold() for entry in desired}:
        reboot_reasons.append("Windows pages to %s until it restarts; the pagefile is set to %s"
                              % (", ".join(sorted(str(entry.get("name")) for entry in usage)) or "no pagefile",
                                 desired[0]["name"] if desired else "none (virtual memory off)"))
    elif fixed:
        for entry in usage:
            allocated = int(entry.get("allocated_base_size") or 0)
            if allocated and not initial <= allocated <= maximum:
                reboot_reasons.append("%s is %d MiB in use, outside the configured %d-%d MiB until Windows restarts"
                                      % (entry.get("name"), allocated, initial, maximum))

    crash = plan_crash_control(probe, settings, chosen["drive"] if chosen else "", system_drive)
    warnings.extend(crash["warnings"])
    if chosen is None:
        warnings.append("no local fixed disk (excluded bus types: %s): virtual memory is turned off" % ", ".join(excluded))

    legacy = plan_legacy_hotfix(probe, settings)
    return {
        "mode": "local" if chosen else "off",
        "drive": chosen["drive"] if chosen else "",
        "candidates": candidates,
        "desired": desired,
        "operations": operations,
        "pagefile_changes": bool(operations),
        "crash_control": crash["values"],
        "crash_dump_type": crash["crash_dump_type"],
        "legacy_hotfix": legacy,
        "reboot_reasons": reboot_reasons,
        "warnings": warnings,
    }


def plan_crash_control(probe: dict, settings: dict, pagefile_drive: str, system_drive: str) -> dict:
    """Crash-dump settings that can work with the chosen pagefile placement.

    Windows writes a crash dump through the pagefile on the boot volume, unless a dedicated dump
    file is configured (Server 2008 and later). With the pagefile moved to a local disk, or off, a
    dump other than 'none' therefore needs CrashControl\\DedicatedDumpFile: it goes on the pagefile's
    local disk, or on the system drive when there is none."""
    current = probe.get("crash_control") or {}
    os_version = probe.get("os_version") or "10.0"
    policy = settings.get("crash_dump", "keep")
    current_type = current.get("CrashDumpEnabled")
    dump_type = CRASH_DUMP_TYPES[policy] if policy != "keep" else (7 if current_type is None else int(current_type))
    values, warnings = [], []
    if policy != "keep" and (current_type is None or int(current_type) != dump_type):
        values.append({"key": CRASH_CONTROL_KEY, "name": "CrashDumpEnabled", "type": "dword", "data": dump_type})
    pagefile_on_boot_volume = pagefile_drive and pagefile_drive == system_drive
    if dump_type != 0 and not pagefile_on_boot_volume:
        if supports_dedicated_dump_file(os_version):
            target = "%s:\\%s" % (pagefile_drive or system_drive, DEDICATED_DUMP_NAME)
            if not windows_paths_equal(str(current.get("DedicatedDumpFile") or ""), target):
                values.append({"key": CRASH_CONTROL_KEY, "name": "DedicatedDumpFile", "type": "string", "data": target})
            if settings.get("dedicated_dump_size") not in (None, ""):
                size = size_in_mib(settings["dedicated_dump_size"], "win_pagefile_dedicated_dump_size")
                if current.get("DumpFileSize") in (None, "") or int(current["DumpFileSize"]) != size:
                    values.append({"key": CRASH_CONTROL_KEY, "name": "DumpFileSize", "type": "dword", "data": size})
        else:
            warnings.append("Windows Server 2003 writes crash dumps only through a pagefile on the boot volume; with the "
                            "pagefile %s, no crash dump is written (set win_pagefile_crash_dump: none to say so)"
                            % ("on %s:" % pagefile_drive if pagefile_drive else "off"))
    return {"values": values, "crash_dump_type": dump_type, "warnings": warnings}


def plan_legacy_hotfix(probe: dict, settings: dict) -> dict:
    """Windows Server 2003 only: the crash-dump hotfix for iSCSI boot volumes, from a given path."""
    os_version = probe.get("os_version") or "10.0"
    hotfix_id = str(settings.get("legacy_hotfix_id") or "").strip()
    if not is_windows_2003(os_version) or not hotfix_id:
        return {"needed": False, "install": False, "hotfix_id": hotfix_id, "path": ""}
    installed = {str(item).strip().casefold() for item in probe.get("hotfixes") or []}
    needed = hotfix_id.casefold() not in installed
    path = str(settings.get("legacy_hotfix_path") or "").strip()
    if needed and not path:
        raise PagefileError("win_pagefile_legacy_hotfix_path is required: this is Windows Server 2003 and hotfix %s "
                            "(crash dumps on iSCSI boot volumes) is not installed; give the path of its installer, or "
                            "set win_pagefile_legacy_hotfix_id to '' to go without it" % hotfix_id)
    return {"needed": needed, "install": needed, "hotfix_id": hotfix_id, "path": path}
