# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: batch_settings
short_description: Each server's settings for a batch, from its own variables
version_added: 0.2.0
author: sanboot.iscsi contributors
description:
  - What a role's batch entry point (one task on the SAN or DHCP host for all the play's servers) needs of each
    server, read from that server's variables (C(hostvars)) in one pass, the way the role's C(main) entry point maps
    them when it runs for one server.
  - "For each setting C(name) of O(mapping) and each server, the value is the first of: the server's own
    C(<prefix><name>) variable (inventory, host or group vars, facts); the C(<prefix><name>) of O(play) (given to the
    include or as a play variable, it applies to every server); the server's variable named by the mapping's scheme
    entry (the C(sanboot_*) scheme of docs/variables.md); the mapping's default (V(@host) is the server's inventory
    name)."
  - The roles C(sanboot.iscsi.san_boot_volume) and C(sanboot.iscsi.iscsi_boot_dhcp) use it in their C(batch) entry
    points; with hundreds of servers it is several times faster than the same in a Jinja loop.
options:
  _input:
    description: The servers, inventory host names (usually C(ansible_play_hosts)).
    type: list
    elements: str
    required: true
  hostvars:
    description: The C(hostvars) magic variable.
    type: dict
    required: true
  prefix:
    description:
      - The prefix of the role's variables, for example V(san_boot_volume_). An empty prefix reads only the scheme
        variables (and the defaults).
    type: str
    required: true
  mapping:
    description:
      - One entry per setting, C([name, scheme variable, default]); an empty scheme variable means none.
    type: list
    elements: list
    required: true
  play:
    description: Variables given for every server (a C(<prefix><name>) here applies to all of them).
    type: dict
    default: {}
seealso:
  - name: The variables of every role and playbook
    link: https://github.com/sanboot/sanboot.iscsi/blob/main/docs/variables.md
    description: The C(sanboot_*) scheme the mapping's scheme variables come from.
"""

EXAMPLES = r"""
- name: Every server's volume name and size, as the san_boot_volume role maps them
  ansible.builtin.debug:
    msg: >-
      {{ ansible_play_hosts | sanboot.iscsi.batch_settings(hostvars, 'san_boot_volume_',
           [['name', 'sanboot_volume_name', '@host'], ['size', 'sanboot_volume_size', none]]) }}
  run_once: true
  # -> [{"host": "winboot01", "name": "winboot01", "size": "60G"}, ...]
"""

RETURN = r"""
_value:
  description: One dictionary per server, in the order given, with C(host) and each setting of O(mapping).
  type: list
  elements: dict
"""

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

HOST = "@host"


def batch_settings(hosts, hostvars, prefix, mapping, play=None):
    if isinstance(hosts, (str, bytes)) or not isinstance(hosts, Sequence):
        raise AnsibleFilterError("batch_settings: the input must be a list of inventory host names, not %r" % (hosts,))
    if not isinstance(prefix, str):
        raise AnsibleFilterError("batch_settings: prefix must be the role's variable prefix, such as 'san_boot_volume_'")
    entries = []
    for index, entry in enumerate(mapping or []):
        if isinstance(entry, (str, bytes)) or not isinstance(entry, Sequence) or len(entry) != 3:
            raise AnsibleFilterError("batch_settings: mapping[%d] must be [name, scheme variable, default], not %r"
                                     % (index, entry))
        entries.append((prefix + entry[0] if prefix else None, entry[0], entry[1], entry[2]))
    play = play if isinstance(play, Mapping) else {}
    found = []
    for host in hosts:
        try:
            own = hostvars[host]
        except KeyError:
            raise AnsibleFilterError("batch_settings: %s is not a host of the inventory" % host) from None
        settings = {"host": host}
        for key, name, scheme, default in entries:
            if key is not None and key in own:
                settings[name] = own[key]
            elif key is not None and key in play:
                settings[name] = play[key]
            elif scheme and scheme in own:
                settings[name] = own[scheme]
            else:
                settings[name] = host if default == HOST else default
        found.append(settings)
    return found


class FilterModule:
    def filters(self):
        return {"batch_settings": batch_settings}
