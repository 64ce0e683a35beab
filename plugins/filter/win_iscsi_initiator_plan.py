# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: win_iscsi_initiator_plan
short_description: Decide what the Microsoft iSCSI initiator of an iSCSI-booted server needs
version_added: 0.1.0
author: sanboot.iscsi contributors
description:
  - Takes what the C(sanboot.iscsi.win_iscsi_initiator) role's probe read on the host and the role's settings, and
    returns what to change, what to check and what to warn about. It reads and changes nothing itself.
  - The initiator node name is compared case-insensitively (RFC 3722), so an IQN that differs only in case is not
    rewritten.
  - The boot session is checked where Windows exposes it (the boot disk's bus type, the iSCSI sessions and, with an
    iSCSI HBA, C(MSiSCSI_BootConfiguration)); the role never logs on to the boot target itself.
  - Boot NICs carrying the running boot session are never switched to DHCP (that would re-address the path to the
    boot disk); they are reported instead.
  - On Windows Server 2003 it asks for the boot initiator package when C(iscsibcg.exe) is missing, and leaves MPIO and
    the firewall rule out (the package's installer chooses MPIO there).
  - Problems that stop the role (an unknown boot NIC, a missing package path) are returned in C(errors), each naming
    the variable to fix.
options:
  _input:
    description: The probe result (C(result) of the role's C(probe.ps1)).
    type: dict
    required: true
  settings:
    description:
      - The role variables without the C(win_iscsi_initiator_) prefix (C(iqn), C(boot_target_iqn),
        C(require_boot_session), C(boot_nics), C(firewall), C(firewall_ports), C(mpio), C(mpio_claim_iscsi),
        C(mpio_policy), C(legacy_package_path)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Plan from the probe
  ansible.builtin.set_fact:
    initiator_plan: "{{ probe.result | sanboot.iscsi.win_iscsi_initiator_plan({'iqn': 'iqn.1991-05.com.microsoft:winboot01'}) }}"
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
    node_name:
      description: C(current) and C(desired) initiator node name, and C(change) when they differ.
      type: dict
    boot:
      description: The boot session check (C(booted_from_iscsi), C(target_iqn), C(initiator_iqn), C(failures), C(warnings)).
      type: dict
    nics:
      description: Boot NICs C(to_dhcp), C(unchanged) (already DHCP) and C(protected) (carry the boot session).
      type: dict
    mpio:
      description: Whether to install the Multipath-IO feature and the MSDSM settings (C(claim_iscsi), C(policy)).
      type: dict
    firewall:
      description: Whether to manage the firewall rule and its C(remote_ports).
      type: dict
    legacy:
      description: Windows Server 2003 (C(is_2003)), and whether to install the boot initiator package.
      type: dict
    failures:
      description: Checks that failed (no boot session when one is required, the wrong boot target).
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
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.initiator import plan_initiator


def win_iscsi_initiator_plan(probe, settings):
    if not isinstance(probe, Mapping) or not isinstance(settings, Mapping):
        raise AnsibleFilterError("win_iscsi_initiator_plan takes the probe result and the settings, both dictionaries")
    return plan_or_errors(plan_initiator, dict(probe), dict(settings))


class FilterModule:
    def filters(self):
        return {"win_iscsi_initiator_plan": win_iscsi_initiator_plan}
