# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: win_shutdown_script_plan
short_description: Register a program as a local machine shutdown script (scripts.ini, gpt.ini, registry)
version_added: 0.1.0
author: sanboot.iscsi contributors
description:
  - Computes, from what the C(sanboot.iscsi.win_iscsi_boot_script) role's probe read on the host, the contents of
    C(GroupPolicy\Machine\Scripts\scripts.ini) and C(GroupPolicy\gpt.ini) and the Group Policy Scripts registry values
    under both C(...\Group Policy\Scripts\Shutdown) and C(...\Group Policy\State\Machine\Scripts\Shutdown) that run a
    command at shutdown without a domain GPO.
  - The command is added once, after the last existing script; if it is already there (same path, any case,
    C(%SystemRoot%) expanded) only its parameters are corrected. Other administrators' scripts keep their number and
    text, and their registry values are only created where missing, never changed.
  - scripts.ini is returned as text that starts with a byte order mark, to be written as UTF-16LE (as gpedit.msc
    writes it); line ends are CRLF.
  - gpt.ini's C(gPCMachineExtensionNames) gets the Scripts extension
    C([{42B5FAAE-6536-11D2-AE5A-0000F87571E3}{40B6664F-4972-11D1-A7CA-0000F87571E3}]) where it is missing, and
    C(Version) is raised only when scripts.ini or the extension list changes, by one in its computer half (the low 16
    bits, [MS-GPOL] 3.3.5.4).
  - A scripts.ini whose [Shutdown] numbering has a gap is refused (Windows stops reading at the gap), since fixing it
    would renumber someone else's scripts.
  - Registry values Windows maintains itself (C(ExecTime), C(DisplayName), C(FileSysPath)) are only created, never
    enforced, so a run after a shutdown reports no change.
options:
  _input:
    description:
      - The probe result with C(system_root), C(scripts_ini_base64) (the file's bytes, empty when missing),
        C(gpt_ini_base64), C(registry) (C(scripts) and C(state), each a list of GPO entries with C(name), C(values) and
        C(scripts)) and C(local_gpo_disabled).
    type: dict
    required: true
  command:
    description: The program to run at shutdown (its full path; C(%SystemRoot%) is expanded with the host's value).
    type: str
    required: true
  parameters:
    description: Its parameters.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Plan the iscsibcg shutdown script
  ansible.builtin.set_fact:
    boot_script_plan: "{{ probe.result | sanboot.iscsi.win_shutdown_script_plan(probe.result.command_path, '/verify /fix') }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    errors:
      description: Problems that must stop the role; empty when it may go on.
      type: list
      elements: str
    scripts_ini_path:
      description: Full path of scripts.ini.
      type: str
    scripts_ini_changed:
      description: Whether scripts.ini must be written.
      type: bool
    scripts_ini:
      description: The new scripts.ini, starting with a byte order mark; write it as UTF-16LE.
      type: str
    gpt_ini_path:
      description: Full path of gpt.ini.
      type: str
    gpt_ini_changed:
      description: Whether gpt.ini must be written.
      type: bool
    gpt_ini:
      description: The new gpt.ini (ASCII, CRLF line ends).
      type: str
    scripts_directory:
      description: The folder of scripts.ini's machine scripts, which must exist before scripts.ini is written.
      type: str
    registry:
      description: Registry values to write (C(key), C(name), C(type), C(data)); only what is missing or differs.
      type: list
      elements: dict
    scripts:
      description: The [Shutdown] scripts after the change (C(index), C(cmdline), C(parameters)).
      type: list
      elements: dict
    index:
      description: The number of our script in [Shutdown].
      type: int
    changed:
      description: Whether anything must change.
      type: bool
    warnings:
      description: Things to tell the operator (duplicates found, local Group Policy turned off by a policy).
      type: list
      elements: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.gpo import plan_shutdown_script
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.host import plan_or_errors


def win_shutdown_script_plan(probe, command, parameters=""):
    if not isinstance(probe, Mapping):
        raise AnsibleFilterError("win_shutdown_script_plan takes the probe result (a dictionary), got %s" % type(probe).__name__)
    return plan_or_errors(plan_shutdown_script, dict(probe), command, parameters)


class FilterModule:
    def filters(self):
        return {"win_shutdown_script_plan": win_shutdown_script_plan}
