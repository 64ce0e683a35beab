# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Facts about a Windows host that the Windows roles decide on: release, Server 2003 or not,
registry and path spelling. Plain Python, no Ansible imports."""

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


def is_windows_2003(value) -> bool:
    """Windows Server 2003 (and 2003 R2) report 5.2. It needs the separate boot initiator package
    and the crash-dump hotfix; everything from 2008 on has iSCSI boot support built in."""
    return parse_windows_version(value)[:2] == (5, 2)


def supports_dedicated_dump_file(value) -> bool:
    """CrashControl\\DedicatedDumpFile exists from Windows Server 2008 (6.0) on."""
    return parse_windows_version(value)[:2] >= (6, 0)


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
