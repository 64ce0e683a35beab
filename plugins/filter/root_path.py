# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: root_path
short_description: Build an RFC 4173 iSCSI root path (DHCP option 17)
version_added: 0.1.0
author: sanboot.iscsi contributors
description:
  - Builds the string C(iscsi:<server>:<protocol>:<port>:<LUN>:<targetname>) that a boot ROM or iPXE
    reads from DHCP option 17 (root path) to find its boot LUN.
  - Every field is written out, so boot ROMs that ignore RFC 4173 defaults still read the right values.
    The LUN is written in hexadecimal, as RFC 4173 requires (LUN 10 becomes C(a)).
  - The target name is validated and written in its canonical lowercase form (RFC 3722). A target
    alias in place of the full name is refused, because boot firmware cannot resolve aliases.
  - Invalid input raises an error that names the value and the rule it broke.
options:
  _input:
    description: The parts of the root path.
    type: dict
    required: true
    suboptions:
      server:
        description: The iSCSI portal address, an IPv4 or IPv6 address or a DNS name.
        type: str
        required: true
      target_iqn:
        description: The full iSCSI name of the target (C(iqn.), C(eui.) or C(naa.) form).
        type: str
        required: true
      port:
        description: TCP port of the portal.
        type: int
        default: 3260
      lun:
        description: The boot LUN, 0 to 16383.
        type: int
        default: 0
      protocol:
        description: Transport protocol number; RFC 4173 defines only C(6) (TCP).
        type: int
        default: 6
seealso:
  - plugin: sanboot.iscsi.parse_root_path
    plugin_type: filter
  - name: RFC 4173, Bootstrapping Clients using the iSCSI Protocol
    link: https://www.rfc-editor.org/rfc/rfc4173
    description: The root path format.
"""

EXAMPLES = r"""
- name: Root path for LUN 1 of a boot target
  ansible.builtin.debug:
    msg: "{{ {'server': '10.0.0.5', 'lun': 1, 'target_iqn': 'iqn.2001-05.com.example:boot01'} | sanboot.iscsi.root_path }}"
  # -> iscsi:10.0.0.5:6:3260:1:iqn.2001-05.com.example:boot01

- name: IPv6 portal on a non-default port
  ansible.builtin.set_fact:
    boot_root_path: "{{ {'server': 'fd00::5', 'port': 3261, 'lun': 10, 'target_iqn': 'iqn.2001-05.com.example:boot02'} | sanboot.iscsi.root_path }}"
  # -> iscsi:[fd00::5]:6:3261:a:iqn.2001-05.com.example:boot02
"""

RETURN = r"""
_value:
  description: The RFC 4173 root path.
  type: str
  sample: iscsi:10.0.0.5:6:3260:1:iqn.2001-05.com.example:boot01
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import NamingError, build_root_path

_KEYS = ("server", "target_iqn", "port", "lun", "protocol")


def root_path(parts):
    if not isinstance(parts, Mapping):
        raise AnsibleFilterError("%r is not a dictionary: root_path takes {server, target_iqn} and optionally port, lun "
                                 "and protocol" % (parts,))
    unknown = sorted(map(str, set(parts) - set(_KEYS)))
    if unknown:
        raise AnsibleFilterError("unknown key(s) %s in the root_path input; the keys are %s"
                                 % (", ".join(unknown), ", ".join(_KEYS)))
    missing = [key for key in ("server", "target_iqn") if not parts.get(key)]
    if missing:
        raise AnsibleFilterError("%s missing in the root_path input %r: server and target_iqn are required"
                                 % (" and ".join(missing), dict(parts)))
    try:
        return build_root_path(**{key: parts.get(key) for key in _KEYS})
    except NamingError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"root_path": root_path}
