#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: redfish_iscsi_boot_info
short_description: Every network device function of a server's BMC with its MAC, boot mode and iSCSI boot values
version_added: 0.2.0
author: sanboot.iscsi contributors (@sanboot)
description:
  - Lists the network device functions a Redfish BMC exposes, each with its MAC, C(BootMode), C(NetDevFuncType),
    capabilities, the C(iSCSIBoot) values in force, the values staged for later (C(@Redfish.Settings) object or
    C(/Pending)), where changes are written and when they can apply, and any pending configuration job.
  - CHAP secrets are never returned (every BMC reads them back as null anyway).
extends_documentation_fragment:
  - sanboot.iscsi.attributes
  - sanboot.iscsi.attributes.INFO_MODULE
  - sanboot.iscsi.attributes.ACTIONGROUP_BMC
  - sanboot.iscsi.bmc_connection
notes:
  - The module sends traffic only to O(baseuri), and only reads (plus opening and deleting its session).
seealso:
  - module: sanboot.iscsi.redfish_iscsi_boot
"""

EXAMPLES = r"""
- name: What the BMC of winboot01 holds for its NICs
  sanboot.iscsi.redfish_iscsi_boot_info:
    baseuri: bmc-winboot01.example.com
    username: ansible
    password: "{{ vault_bmc_password }}"
  delegate_to: localhost
  register: winboot01_functions

- name: The boot NIC's iSCSI target
  ansible.builtin.debug:
    msg: "{{ (winboot01_functions.functions | selectattr('mac_address', 'equalto', '00:1b:21:3a:4f:10') | first).iscsi_boot.PrimaryTargetName }}"
"""

RETURN = r"""
functions:
  description: Every network device function, in the order the BMC lists them.
  returned: success
  type: list
  elements: dict
  contains:
    function_uri:
      description: The function's C(@odata.id).
      type: str
    mac_address:
      description: Its MAC address, lowercase with colons.
      type: str
      sample: "00:1b:21:3a:4f:10"
    boot_mode:
      description: C(BootMode) in force (V(Disabled), V(PXE), V(iSCSI), ...).
      type: str
    net_dev_func_type:
      description: C(NetDevFuncType) in force.
      type: str
    capabilities:
      description: C(NetDevFuncCapabilities).
      type: list
      elements: str
    iscsi_boot:
      description: The C(iSCSIBoot) values in force, without C(CHAPSecret) and C(MutualCHAPSecret).
      type: dict
    pending:
      description: The values staged for a later apply time that differ from those in force (no secrets), or null.
      type: dict
    settings_kind:
      description: Where a change is written - V(function) (in place), V(settings) (C(@Redfish.Settings)), V(pending) (C(/Pending)), or V(none).
      type: str
    supported_apply_times:
      description: The Redfish apply times a change can use.
      type: list
      elements: str
    job:
      description: The pending configuration job or task, C({uri, state, status, message}), or null.
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sanboot.iscsi.plugins.module_utils.bmc.argspec import connection_rules, info_argument_spec
from ansible_collections.sanboot.iscsi.plugins.module_utils.bmc.core import BmcError, run_info
from ansible_collections.sanboot.iscsi.plugins.module_utils.bmc.registry import BACKENDS


def main():
    module = AnsibleModule(argument_spec=info_argument_spec(), supports_check_mode=True, **connection_rules())
    try:
        result = run_info(module.params, BACKENDS)
    except BmcError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
