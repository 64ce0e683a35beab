# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: win_dhcp_boot_plan
short_description: iSCSI boot reservations for a Windows DHCP Server, from the dhcp_reservation contract
version_added: 0.1.0
author: sanboot.iscsi contributors
description:
  - Turns reservations in the contract of the collection's C(dhcp_reservation) module (C(mac), C(ip), C(hostname),
    C(scope), C(iscsi) with C(target_iqn), C(server), C(port), C(lun), C(protocol), C(initiator_iqn)) into arguments
    for M(ansible.windows.win_dhcp_lease) and the option values for the reservation.
  - Option values come from the collection's DHCP boot contract, the same code the Kea backend uses; option 17 is the
    RFC 4173 root path with every field written out and the LUN in hexadecimal, option 203 the initiator IQN in its
    canonical lowercase form, option 12 the host name.
  - MAC addresses are accepted in any usual notation and written as Windows DHCP writes client ids (C(52-54-00-12-34-56)).
  - A MAC already reserved for another address, or an address reserved for another MAC, is an error unless
    C(replace) is true; then the old reservation is removed first, and the plan says so in C(warnings).
  - C(iscsi.chap) is refused with an error (never echoing the secret), because Windows DHCP Server cannot serve
    iPXE's encapsulated CHAP options per reservation.
  - Option 203 must be defined on the server; the plan says so when a reservation carries an initiator IQN, and refuses
    an existing definition of 203 that is not a String.
options:
  _input:
    description:
      - The probe result with C(scopes) (scope ids), C(reservations) (C(scope_id), C(ip), C(client_id), C(name)) and
        C(option_definitions) (by option id).
    type: dict
    required: true
  settings:
    description: The role variables without the prefix (C(reservations), C(replace), C(option203_name)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Plan the reservations
  ansible.builtin.set_fact:
    dhcp_plan: >-
      {{ probe.result | sanboot.iscsi.win_dhcp_boot_plan({'reservations': [{'mac': '52:54:00:12:34:56', 'ip': '10.77.0.60',
         'scope': '10.77.0.0/24', 'hostname': 'winboot01',
         'iscsi': {'server': '10.77.0.1', 'target_iqn': 'iqn.2026-11.test:boot1', 'initiator_iqn': 'iqn.2026-11.test:winboot01'}}]}) }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    errors:
      description: Problems that must stop the role, each naming the reservation and key; empty when it may go on.
      type: list
      elements: str
    removals:
      description: M(ansible.windows.win_dhcp_lease) arguments removing conflicting reservations (only with replace).
      type: list
      elements: dict
    leases:
      description: M(ansible.windows.win_dhcp_lease) arguments, one per reservation.
      type: list
      elements: dict
    options:
      description: Per reservation C(scope_id), C(ip) and C(values) (option id as a string -> value).
      type: list
      elements: dict
    option_definition:
      description: The option 203 definition to ensure on the server, or null when no reservation needs it.
      type: dict
    managed_options:
      description: The option ids this role owns on a reservation (12, 17, 203); others are left alone.
      type: list
      elements: int
    warnings:
      description: Things to tell the operator.
      type: list
      elements: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.backends.windows.plan import plan_reservations
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.host import plan_or_errors


def win_dhcp_boot_plan(probe, settings):
    if not isinstance(probe, Mapping) or not isinstance(settings, Mapping):
        raise AnsibleFilterError("win_dhcp_boot_plan takes the probe result and the settings, both dictionaries")
    return plan_or_errors(plan_reservations, dict(probe), dict(settings))


class FilterModule:
    def filters(self):
        return {"win_dhcp_boot_plan": win_dhcp_boot_plan}
