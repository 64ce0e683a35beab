# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: parse_portal
short_description: Split an iSCSI portal (address[:port]) into server and port
version_added: 0.1.0
author: sanboot.iscsi contributors
description:
  - Reads a portal as the collection's modules take it, C(address[:port]) with an IPv6 address in brackets when a
    port follows, and returns the server and the TCP port (3260 when none is given).
  - Invalid input raises an error that names the value and the rule it broke.
options:
  _input:
    description: The portal, for example C(10.0.0.5:3260), C(san01.example.com) or C([fd00::5]:3261).
    type: str
    required: true
seealso:
  - plugin: sanboot.iscsi.root_path
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Boot settings for DHCP from the SAN's portal
  ansible.builtin.debug:
    msg: "{{ '[fd00::5]:3261' | sanboot.iscsi.parse_portal }}"
  # -> {"server": "fd00::5", "port": 3261}
"""

RETURN = r"""
_value:
  description: The portal's parts.
  type: dict
  contains:
    server:
      description: The address or DNS name (IPv6 without brackets, names in lowercase).
      type: str
    port:
      description: The TCP port; 3260 when the portal has none.
      type: int
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import ISCSI_TCP_PORT, NamingError, parse_portal as parse


def parse_portal(value):
    try:
        server, port = parse(value)
    except NamingError as exc:
        raise AnsibleFilterError(str(exc)) from None
    return {"server": server, "port": ISCSI_TCP_PORT if port is None else port}


class FilterModule:
    def filters(self):
        return {"parse_portal": parse_portal}
