# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host data in the shapes the Windows roles read it: win_disk_facts (fields as its documented
RETURN has them), win_pagefile's query result and the roles' probe results. The same host as the
simulator's tests/windows_simulator/states/server2022-iscsi-boot.json."""

from __future__ import annotations

import copy
import json
from pathlib import Path

STATES = Path(__file__).resolve().parents[4] / "windows_simulator" / "states"


def state(name="server2022-iscsi-boot"):
    return json.loads((STATES / (name + ".json")).read_text())


def disks(name="server2022-iscsi-boot"):
    return copy.deepcopy(state(name)["disks"])


def pagefile_query(automatic=True, pagefiles=()):
    return {"changed": False, "automatic_managed_pagefiles": automatic, "pagefiles": list(pagefiles)}


def pagefile_probe(**overrides):
    probe = {"os_version": "10.0.20348", "system_drive": "C:", "system_root": "C:\\Windows", "memory_mb": 16384,
             "usage": [{"name": "C:\\pagefile.sys", "allocated_base_size": 2432}],
             "crash_control": {"CrashDumpEnabled": 7, "DedicatedDumpFile": None, "DumpFileSize": None},
             "hotfixes": [], "reboot_pending": False}
    probe.update(overrides)
    return probe
