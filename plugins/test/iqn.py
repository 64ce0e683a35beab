# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: iqn
short_description: Test whether a value is a valid iSCSI qualified name (IQN)
version_added: 0.1.0
author: sanboot.iscsi contributors
description:
  - True when the value is a valid C(iqn.) name per RFC 3720 and RFC 3722, in any letter case
    (IQNs compare case-insensitively).
  - The rules are C(iqn.yyyy-mm.reversed.domain[:unique]) with a real month, a naming authority
    made of domain labels, and after it only letters, digits, C(-), C(.) and C(:); at most 223 bytes.
  - False for anything else, including C(eui.) and C(naa.) names (valid iSCSI names, but not IQNs),
    target aliases, and values that are not strings.
options:
  _input:
    description: The value to test.
    type: raw
    required: true
seealso:
  - plugin: sanboot.iscsi.root_path
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Refuse a target alias where the full name is needed
  ansible.builtin.assert:
    that: boot_target_iqn is sanboot.iscsi.iqn
    fail_msg: "boot_target_iqn must be a full IQN (boot ROMs cannot use target aliases), not {{ boot_target_iqn }}"
"""

RETURN = r"""
_value:
  description: Whether the value is a valid IQN.
  type: bool
"""

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import is_iqn


class TestModule:
    def tests(self):
        return {"iqn": is_iqn}
