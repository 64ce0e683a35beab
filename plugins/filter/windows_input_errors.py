# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: windows_input_errors
short_description: Check the input of a sanboot.iscsi Windows role before it changes anything
version_added: 0.1.0
author: sanboot.iscsi contributors
description:
  - Returns the list of problems in the variables of one of the collection's Windows roles, each message naming the
    variable and the rule it breaks, for example C(win_iscsi_initiator_iqn) followed by C('not-an-iqn' looks like a
    target alias or host name, not an iSCSI name ...).
  - An empty list means the input is fine. The roles run this in their first task and fail with these messages, so
    bad input is refused before anything on the host is read or changed.
  - The rules are those argument specifications cannot express; types, choices and required variables are checked by
    each role's C(meta/argument_specs.yml) before that. IQNs, MAC addresses, ports, sizes and DHCP option values are
    checked by the collection's naming core, the same code the modules use.
options:
  _input:
    description:
      - The role's variables without the role prefix, for example C({iqn, boot_target_iqn, boot_nics, firewall_ports,
        mpio_policy}) for C(win_iscsi_initiator).
    type: dict
    required: true
  role:
    description: The role whose rules apply.
    type: str
    required: true
    choices: [win_iscsi_initiator, win_pagefile, win_iscsi_boot_script, win_dhcp_boot_reservation]
"""

EXAMPLES = r"""
- name: Refuse a bad initiator name before anything changes
  ansible.builtin.assert:
    that: errors | length == 0
    fail_msg: "{{ errors | join('; ') }}"
  vars:
    errors: "{{ {'iqn': win_iscsi_initiator_iqn} | sanboot.iscsi.windows_input_errors('win_iscsi_initiator') }}"
"""

RETURN = r"""
_value:
  description: One message per problem, each starting with the variable's name; empty when the input is valid.
  type: list
  elements: str
  sample:
    - "win_iscsi_initiator_iqn: 'not-an-iqn' looks like a target alias or host name, not an iSCSI name: boot firmware
      needs the full name, ..."
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.backends.windows import plan as windows_dhcp
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows import gpo as windows_gpo
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows import initiator as windows_initiator
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows import pagefile as windows_pagefile

_VALIDATORS = {
    "win_iscsi_initiator": windows_initiator.validate_settings,
    "win_pagefile": windows_pagefile.validate_settings,
    "win_iscsi_boot_script": windows_gpo.validate_settings,
    "win_dhcp_boot_reservation": windows_dhcp.validate_settings,
}


def windows_input_errors(settings, role):
    if role not in _VALIDATORS:
        raise AnsibleFilterError("windows_input_errors: unknown role %r; expected one of %s" % (role, ", ".join(_VALIDATORS)))
    if not isinstance(settings, Mapping):
        raise AnsibleFilterError("windows_input_errors: expected a dictionary of the role's variables, got %s"
                                 % type(settings).__name__)
    return _VALIDATORS[role](dict(settings))


class FilterModule:
    def filters(self):
        return {"windows_input_errors": windows_input_errors}
