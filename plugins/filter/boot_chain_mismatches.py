# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: boot_chain_mismatches
short_description: Compare what the SAN, DHCP, the BMC, the switch and Windows hold for each server
version_added: 0.1.0
author: sanboot.iscsi contributors
description:
  - The comparison behind the C(verify_boot_chain.yml) playbook. Takes, per host, what the inventory expects and
    what each part of the boot chain holds, and returns one row per mismatch, naming the host and the field.
  - Checks that the SAN volume exists and its ACL admits the initiator IQN; that DHCP option 203 equals that IQN
    (and the SAN ACL); that option 17 parses as a root path equal to the SAN's; that the portal accepted TCP from
    the boot network; that portfast is on; that CHAP secrets have valid lengths (12 to 16 characters) and that
    neither the SAN nor DHCP holds a different secret than the inventory; and, where Windows was reachable, that
    its initiator node name is the same IQN. IQNs compare case-insensitively.
  - For a server whose boot parameters are in its BMC (C(expected.boot_parameters=bmc)), the reservation must carry no
    boot option (17, 203, iPXE's CHAP), and the boot NIC's C(iSCSIBoot) settings, as they will be in force (staged values
    merged over the active ones), are compared field by field - C(BootMode), C(TargetInfoViaDHCP), C(InitiatorName),
    C(PrimaryTargetName), C(PrimaryTargetIPAddress), C(PrimaryTargetTCPPort), C(PrimaryLUN), C(AuthenticationMethod),
    C(CHAPUsername), the address settings - with the inventory and the SAN. A BMC reads CHAP secrets back as null, so a
    different secret in the BMC cannot be found.
  - For a server whose boot parameters are in DHCP and whose BMC was read, a NIC set to boot from the target in its BMC
    (C(BootMode=iSCSI), C(TargetInfoViaDHCP=false)), which would ignore DHCP, is a mismatch.
  - Secrets never enter; only their lengths and whether a module in check mode would change them.
options:
  _input:
    description:
      - Host name to observation. An observation has the keys C(expected), C(san), C(dhcp), C(bmc), C(switch),
        C(portal) and C(windows); see C(plugins/module_utils/boot_chain.py) and C(playbooks/verify_boot_chain.yml).
    type: dict
    required: true
seealso:
  - plugin: sanboot.iscsi.boot_chain_table
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Mismatches of every host of the play
  ansible.builtin.set_fact:
    verify_rows: >-
      {{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'sanboot_verify_observation')))
         | sanboot.iscsi.boot_chain_mismatches }}
  run_once: true
"""

RETURN = r"""
_value:
  description: One row per mismatch, sorted by host.
  type: list
  elements: dict
  contains:
    host:
      description: The inventory host.
      type: str
    field:
      description: Which part of the chain and which value, for example C(dhcp.option 203 (initiator IQN)).
      type: str
    expected:
      description: What the inventory (or the other side) says.
      type: str
    found:
      description: What was found.
      type: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.sanboot.iscsi.plugins.module_utils.boot_chain import mismatches


def boot_chain_mismatches(observations):
    if not isinstance(observations, Mapping):
        raise AnsibleFilterError("%r is not a dictionary of host name to observation" % (observations,))
    return mismatches(dict(observations))


class FilterModule:
    def filters(self):
        return {"boot_chain_mismatches": boot_chain_mismatches}
