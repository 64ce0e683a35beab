# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: win_pagefile_plan
short_description: Place the pagefile of an iSCSI-booted Windows server on a local disk, or turn it off
version_added: 0.1.0
author: sanboot.iscsi contributors
description:
  - From the disk inventory of M(community.windows.win_disk_facts), the current pagefile settings of
    M(community.windows.win_pagefile) (C(state=query)) and the C(sanboot.iscsi.win_pagefile) role's probe, decides where
    the pagefile goes and returns the win_pagefile calls and crash-dump registry values that get the host there.
  - Candidates are fixed NTFS or ReFS volumes with a drive letter on online, writable disks whose bus type is not
    excluded (iSCSI, Fibre Channel, USB, SD, MMC and file-backed virtual disks by default). Without a chosen drive, the
    one with the most free space wins (ties by letter, so the choice is stable). Without any candidate, virtual memory
    is turned off (or the role fails, if asked to).
  - The calls are idempotent together although win_pagefile alone is not in every mode (it re-creates a pagefile with
    C(override=true) and removes with C(remove_all=true) on every run). A pagefile already as wanted is left alone,
    others are removed by drive, and the new one is created with C(override=false).
  - A reboot is reported as needed while the pagefiles Windows uses (C(Win32_PageFileUsage)) differ from the planned
    ones, so it is reported on every run until the host restarts, and never after.
  - Crash dumps stay possible. With the pagefile away from the boot volume, a dedicated dump file
    (C(CrashControl\DedicatedDumpFile), Windows Server 2008 and later) is configured on the pagefile's local disk, or on
    the system drive when there is no local disk.
  - On Windows Server 2003 it decides whether the crash-dump hotfix must be installed from the given path.
  - Problems that stop the role are returned in C(errors), each naming the variable to fix.
options:
  _input:
    description:
      - C(ansible_facts.ansible_disks) from M(community.windows.win_disk_facts).
      - C(null) where the host cannot list its disks (Windows Server 2003); then C(drive) is required and taken as local.
    type: list
    elements: dict
    required: true
  pagefile:
    description: The result of M(community.windows.win_pagefile) with C(state=query).
    type: dict
    required: true
  probe:
    description: The C(result) of the role's probe script (C(os_version), C(system_drive), C(usage), C(crash_control), C(hotfixes)).
    type: dict
    required: true
  settings:
    description:
      - The role variables without the C(win_pagefile_) prefix (C(drive), C(size), C(initial_size), C(maximum_size),
        C(without_local_disk), C(excluded_bus_types), C(crash_dump), C(dedicated_dump_size), C(legacy_hotfix_id),
        C(legacy_hotfix_path)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Plan the pagefile
  ansible.builtin.set_fact:
    pagefile_plan: >-
      {{ disks.ansible_facts.ansible_disks | sanboot.iscsi.win_pagefile_plan(pagefile_query, probe.result,
         {'size': 'fixed', 'initial_size': '4GiB', 'maximum_size': '8GiB'}) }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    errors:
      description: Problems that must stop the role, each naming the variable; empty when it may go on.
      type: list
      elements: str
    mode:
      description: C(local) (a pagefile on a local disk) or C(off) (virtual memory off).
      type: str
    drive:
      description: The drive letter of the pagefile; empty when off.
      type: str
    candidates:
      description: The local volumes that could hold the pagefile.
      type: list
      elements: dict
    operations:
      description: Arguments for M(community.windows.win_pagefile), one call each, in order; empty when nothing changes.
      type: list
      elements: dict
    crash_control:
      description: Registry values (C(key), C(name), C(type), C(data)) for M(ansible.windows.win_regedit).
      type: list
      elements: dict
    legacy_hotfix:
      description: Windows Server 2003 only; whether to C(install) the crash-dump hotfix from C(path).
      type: dict
    reboot_reasons:
      description: Why a restart is needed before the pagefile settings are in use; empty when none is.
      type: list
      elements: str
    warnings:
      description: Things to tell the operator.
      type: list
      elements: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.host import plan_or_errors
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.pagefile import plan_pagefile


def win_pagefile_plan(disks, pagefile, probe, settings):
    if disks is not None and not isinstance(disks, (list, tuple)):
        raise AnsibleFilterError("win_pagefile_plan takes win_disk_facts' ansible_disks list (or null where there is no "
                                 "disk inventory), got %s" % type(disks).__name__)
    if not all(isinstance(value, Mapping) for value in (pagefile, probe, settings)):
        raise AnsibleFilterError("win_pagefile_plan: pagefile, probe and settings must be dictionaries")
    return plan_or_errors(plan_pagefile, None if disks is None else list(disks), dict(pagefile), dict(probe), dict(settings))


class FilterModule:
    def filters(self):
        return {"win_pagefile_plan": win_pagefile_plan}
