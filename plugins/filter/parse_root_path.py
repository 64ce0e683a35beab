# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: parse_root_path
short_description: Parse an RFC 4173 iSCSI root path (DHCP option 17) into its parts
version_added: 0.1.0
author: sanboot.iscsi contributors
description:
  - Splits C(iscsi:<server>:<protocol>:<port>:<LUN>:<targetname>) into a dictionary and fills in
    the RFC 4173 defaults for empty fields (protocol 6, port 3260, LUN 0).
  - The LUN field is read as hexadecimal, including SAM's dash-separated form (C(0001-0000-0000-0000)).
  - An IPv6 server is written in brackets in the root path and returned without them.
  - Invalid input raises an error that names the value and the rule it broke.
options:
  _input:
    description: The root path.
    type: str
    required: true
seealso:
  - plugin: sanboot.iscsi.root_path
    plugin_type: filter
  - name: RFC 4173, Bootstrapping Clients using the iSCSI Protocol
    link: https://www.rfc-editor.org/rfc/rfc4173
    description: The root path format.
"""

EXAMPLES = r"""
- name: Fields of a root path with every default left empty
  ansible.builtin.debug:
    msg: "{{ 'iscsi:10.0.0.5::::iqn.2001-05.com.example:boot01' | sanboot.iscsi.parse_root_path }}"
  # -> {"server": "10.0.0.5", "protocol": 6, "port": 3260, "lun": 0, "target_iqn": "iqn.2001-05.com.example:boot01"}

- name: Check that DHCP hands out the LUN the SAN exported
  ansible.builtin.assert:
    that:
      - (served_root_path | sanboot.iscsi.parse_root_path).lun == 1
"""

RETURN = r"""
_value:
  description: The parts of the root path, with exactly these keys.
  type: dict
  contains:
    server:
      description: The portal address (IPv6 without brackets).
      type: str
    protocol:
      description: The transport protocol number (always 6, TCP).
      type: int
    port:
      description: The TCP port; 3260 when the field is empty.
      type: int
    lun:
      description: The LUN as an integer; 0 when the field is empty.
      type: int
    target_iqn:
      description: The target's iSCSI name in canonical lowercase form.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import NamingError, parse_root_path as parse


def parse_root_path(value):
    try:
        return parse(value)
    except NamingError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"parse_root_path": parse_root_path}
