#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: dhcp_reservation_info
short_description: Read DHCP reservations and their iSCSI boot options
version_added: 0.1.0
author: sanboot.iscsi contributors (@sanboot)
description:
  - Lists the reservations a DHCPv4 server holds, optionally only those of one subnet, one hardware address
    or one IP address, in the same normalised shape as M(sanboot.iscsi.dhcp_reservation) returns.
  - "First backend: C(kea), the Kea DHCPv4 server through its control agent's REST API (C(config-get); with the
    C(host_cmds) hook, C(reservation-get-all) per subnet, which also covers a hosts database)."
  - CHAP secrets (iPXE option 191) are masked in the result.
extends_documentation_fragment:
  - sanboot.iscsi.attributes
  - sanboot.iscsi.attributes.ACTIONGROUP_DHCP
  - sanboot.iscsi.dhcp_backends
  - sanboot.iscsi.attributes.INFO_MODULE
options:
  mac:
    description: Only reservations of this hardware address (any common notation). Mutually exclusive with O(reservations).
    type: str
  reservations:
    description:
      - Only the reservations of these hardware addresses, read once for all of them (one C(config-get) however many
        there are). Mutually exclusive with O(mac).
      - An entry with O(reservations[].chap) also tells whether the reservation holds another iPXE CHAP secret (option
        191) than that one, in RV(reservations[].chap_secret_differs), as M(sanboot.iscsi.dhcp_reservation) in check
        mode would show it (the boot chain preflight uses it). The secret is never returned.
    type: list
    elements: dict
    version_added: 0.2.0
    suboptions:
      mac:
        description: The hardware address (any common notation).
        type: str
        required: true
      chap:
        description: The iPXE CHAP credentials to compare with option 190/191 of the reservation.
        type: dict
        suboptions:
          username:
            description: CHAP user name.
            type: str
            required: true
          secret:
            description: CHAP secret.
            type: str
            required: true
  ip:
    description: Only the reservations of this IPv4 address.
    type: str
  subnet:
    description: Only reservations in this subnet (CIDR notation); it must exist on the server.
    type: str
  subnet_id:
    description: Only reservations in the subnet with this id; it must exist on the server.
    type: int
seealso:
  - module: sanboot.iscsi.dhcp_reservation
  - plugin: sanboot.iscsi.parse_root_path
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Read the boot reservation of one card
  sanboot.iscsi.dhcp_reservation_info:
    api_url: http://kea.example.com:8000/
    api_username: ansible
    api_password: "{{ kea_api_password }}"
    mac: 52:54:00:12:34:56
  delegate_to: localhost
  register: found

- name: The reservations of many cards in one read
  sanboot.iscsi.dhcp_reservation_info:
    api_url: http://kea.example.com:8000/
    api_username: ansible
    api_password: "{{ kea_api_password }}"
    reservations:
      - mac: 52:54:00:12:34:56
      - mac: 52:54:00:12:34:57
  delegate_to: localhost
  register: rack

- name: Show where it boots from
  ansible.builtin.debug:
    msg: "{{ (found.reservations[0].options | selectattr('code', 'equalto', 17) | first).data | sanboot.iscsi.parse_root_path }}"
  when: found.reservations | length > 0
"""

RETURN = r"""
reservations:
  description:
    - The matching reservations, normalised as M(sanboot.iscsi.dhcp_reservation) returns its C(reservation),
      in the server's order by subnet. CHAP secrets show as C(********).
  returned: always
  type: list
  elements: dict
  contains:
    chap_secret_differs:
      description: Whether the reservation holds another iPXE CHAP secret (option 191) than O(reservations[].chap.secret).
      returned: with O(reservations) and O(reservations[].chap)
      type: bool
      version_added: 0.2.0
  sample:
    - subnet: 10.77.0.0/24
      subnet_id: 1
      mac: "52:54:00:12:34:56"
      ip: 10.77.0.60
      hostname: winboot01
      options:
        - {space: dhcp4, code: 17, name: root-path, data: "iscsi:10.77.0.1:6:3260:1:iqn.2026-11.com.example:boot01"}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.core import DhcpError, run_reservation_info
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.argspec import connection_argument_spec
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.registry import BACKENDS
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.backends.kea.client import HAS_REQUESTS, REQUESTS_IMPORT_ERROR


def main():
    module = AnsibleModule(
        argument_spec=dict(
            connection_argument_spec(),
            mac=dict(type="str"),
            reservations=dict(type="list", elements="dict", options=dict(
                mac=dict(type="str", required=True),
                chap=dict(type="dict", options=dict(
                    username=dict(type="str", required=True),
                    secret=dict(type="str", required=True, no_log=True),
                )),
            )),
            ip=dict(type="str"),
            subnet=dict(type="str"),
            subnet_id=dict(type="int"),
        ),
        mutually_exclusive=[("mac", "reservations")],
        supports_check_mode=True,
    )
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    try:
        result = run_reservation_info(module.params, BACKENDS)
    except DhcpError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
