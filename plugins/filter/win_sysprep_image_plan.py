# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: win_sysprep_image_plan
short_description: Decide whether the Windows reference host may be generalized with Sysprep, and with what
version_added: 0.2.0
author: sanboot.iscsi contributors
description:
  - Takes what M(sanboot.iscsi.win_iscsi_boot_info), M(sanboot.iscsi.win_reboot_pending) and the
    C(sanboot.iscsi.win_sysprep_image) role's probe read on the reference host, and the role's settings, and returns
    what stands in the way of Sysprep (C(refusals), each saying what to do) and what to give it.
  - The clones must boot as the reference host does, from iSCSI with their boot NICs on DHCP, with the Microsoft iSCSI
    Initiator Service starting by itself and no pagefile on the iSCSI disk (the collection's other Windows roles make it
    so). Sysprep itself refuses a host that waits for a restart, an image rearmed too often without SkipRearm, an image
    that is not a completed installation, an upgraded installation.
  - Builds the table of servers whose identity each clone takes in the specialize pass.
  - Problems with the input are returned in C(errors), each naming the variable.
options:
  _input:
    description: The result of M(sanboot.iscsi.win_iscsi_boot_info).
    type: dict
    required: true
  host:
    description: The result of M(sanboot.iscsi.win_reboot_pending).
    type: dict
    required: true
  probe:
    description: The C(result) of the role's probe script.
    type: dict
    required: true
  settings:
    description: The role variables without the C(win_sysprep_image_) prefix.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Plan Sysprep
  ansible.builtin.set_fact:
    sysprep_plan: "{{ boot | sanboot.iscsi.win_sysprep_image_plan(pending, probe.result, {'servers': servers}) }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    errors:
      description: Problems with the input, each naming the variable; empty when it may go on.
      type: list
      elements: str
    refusals:
      description: What stands in the way of Sysprep on this host, each saying what to do; empty when it may run.
      type: list
      elements: str
    warnings:
      description: Things to tell the operator.
      type: list
      elements: str
    specialize_command:
      description: The command the answer file's specialize pass runs, paths expanded.
      type: str
    servers:
      description: The servers (C(name), C(initiator_iqn), C(mac)), canonical.
      type: list
      elements: dict
    servers_json:
      description: The table the specialize script reads, as JSON text.
      type: str
    sysprep_arguments:
      description: The arguments sysprep.exe gets besides C(/unattend).
      type: list
      elements: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.host import plan_or_errors
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.sysprep import plan_sysprep


def win_sysprep_image_plan(boot, host, probe, settings):
    if not all(isinstance(value, Mapping) for value in (boot, host, probe, settings)):
        raise AnsibleFilterError("win_sysprep_image_plan takes the boot information, the pending-restart state, the probe "
                                 "result and the settings, all dictionaries")
    return plan_or_errors(plan_sysprep, dict(boot), dict(host), dict(probe), dict(settings))


class FilterModule:
    def filters(self):
        return {"win_sysprep_image_plan": win_sysprep_image_plan}
