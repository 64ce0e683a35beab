# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Facts about a Windows host that the Windows roles decide on: release, whether the roles can manage
it at all, registry and path spelling. Plain Python, no Ansible imports."""

from __future__ import annotations

import re

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import NamingError


class WindowsHostError(ValueError):
    """A value reported by (or asked of) a Windows host is not what the roles can work with.

    The base of every Windows role planner's error: plan_or_errors turns any of them into the
    plan's `errors`, which the role fails on before touching the host."""


def plan_or_errors(planner, *arguments) -> dict:
    """Run a role's planner. A bad variable or probe value becomes the plan's `errors` (one
    message naming the variable) rather than a Python traceback; an empty list means go on."""
    try:
        plan = planner(*arguments)
    except (WindowsHostError, NamingError) as exc:
        return {"errors": [str(exc)]}
    plan["errors"] = []
    return plan


# Windows 10 and later all report 10.0; the long-term server releases are told apart by their build.
_SERVER_BUILDS = {14393: "2016", 17763: "2019", 20348: "2022", 26100: "2025"}
_SERVER_RELEASES = {(5, 2): "2003", (6, 0): "2008", (6, 1): "2008 R2", (6, 2): "2012", (6, 3): "2012 R2"}


def parse_windows_version(value) -> tuple:
    """'10.0.20348' (or '10.0.20348.2113', or 'Microsoft Windows [Version 10.0.20348]') -> (10, 0, 20348)."""
    if not isinstance(value, str):
        raise WindowsHostError("%r is not a Windows version: expected a string such as 10.0.20348" % (value,))
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", value)
    if not match:
        raise WindowsHostError("'%s' is not a Windows version: expected major.minor[.build], such as 10.0.20348" % value)
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def server_release(value) -> str:
    """The Windows Server release name for a version: '2003' ... '2025', or '' when unknown."""
    major, minor, build = parse_windows_version(value)
    if (major, minor) == (10, 0):
        return _SERVER_BUILDS.get(build, "")
    return _SERVER_RELEASES.get((major, minor), "")


# The oldest Windows the roles run on: they use the Storage, iSCSI, NetTCPIP, MPIO and DhcpServer
# modules, which came with Windows Server 2012 (6.2).
MINIMUM_VERSION = (6, 2)
# What ansible-core's PowerShell bootstrap answers, for every Windows module, on a host with a
# PowerShell older than 5.1 (executor/powershell/bootstrap_wrapper.ps1).
POWERSHELL_REQUIRED = "Ansible requires PowerShell v5.1"
# The seed's Windows Server 2003 steps, which only a person can do there.
MANUAL_STEPS_2003 = (
    "install the Microsoft iSCSI Software Initiator 2.0x, boot version, with 'Configure iSCSI Network Boot Support', "
    "the boot NIC port(s) and your MPIO choice selected in its installer, and do not log on to the boot target "
    "(the boot firmware owns that session)",
    "install the crash-dump hotfix for iSCSI boot volumes, KB902113",
    "set the boot NICs to DHCP, and put the pagefile on a local disk (or turn virtual memory off without one)",
    "add a computer shutdown script (gpedit.msc: Computer Configuration, Windows Settings, Scripts, Shutdown) that runs "
    "%SystemRoot%\\System32\\iscsibcg.exe /verify /fix",
    "on a Windows Server 2003 DHCP server, make each server's reservation with options 17 (root path) and 203 "
    "(initiator IQN) in the DHCP console",
)


def unsupported_host_message(reason: str) -> str:
    """Why the collection's Windows roles stop on a host, and what to do there instead."""
    return ("%s. The sanboot.iscsi Windows roles manage Windows Server 2012 and later (Windows PowerShell 5.1, "
            "built in from 2016, Windows Management Framework 5.1 on 2012 and 2012 R2). Windows Server 2003 and 2008 "
            "cannot run PowerShell 5.1, so Ansible cannot manage them at all; on Windows Server 2003 do the steps of the "
            "iSCSI boot checklist by hand: %s. (Windows Server 2008 and later have the boot-capable initiator built in: "
            "there, only the NIC, pagefile and DHCP steps apply.)"
            % (reason, "; ".join("(%d) %s" % (number, step) for number, step in enumerate(MANUAL_STEPS_2003, 1))))


def check_supported(os_version) -> str:
    """'' when the roles can manage a host of this version, else why not (a full message)."""
    try:
        major, minor, _build = parse_windows_version(os_version)
    except WindowsHostError as exc:
        return unsupported_host_message("the host reported no usable Windows version (%s)" % exc)
    if (major, minor) < MINIMUM_VERSION:
        return unsupported_host_message("this is Windows %s (%d.%d), older than Windows Server 2012"
                                        % ("Server " + server_release(os_version) if server_release(os_version) else "",
                                           major, minor))
    return ""


def expand_system_root(path: str, system_root: str) -> str:
    """Expand %SystemRoot% and %windir% (any case), the only variables the roles' paths use."""
    if not system_root:
        return path
    # A function as replacement: its result is taken literally, backslashes and all.
    return re.sub(r"%(systemroot|windir)%", lambda _match: system_root, path, flags=re.IGNORECASE)


def windows_paths_equal(first: str, second: str, system_root: str = "") -> bool:
    """Windows paths compare case-insensitively, with either slash, quotes and %SystemRoot% expanded."""
    def canonical(path):
        text = expand_system_root(str(path).strip().strip('"'), system_root)
        return text.replace("/", "\\").rstrip("\\").casefold()
    return canonical(first) == canonical(second)
