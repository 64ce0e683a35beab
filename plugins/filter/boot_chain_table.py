# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: boot_chain_table
short_description: Format boot chain mismatches as one aligned table
version_added: 0.1.0
author: sanboot.iscsi contributors
description:
  - Turns the rows of P(sanboot.iscsi.boot_chain_mismatches#filter) into text lines, HOST, FIELD, EXPECTED and
    FOUND aligned in columns, or one line saying that nothing disagrees.
options:
  _input:
    description: The rows.
    type: list
    elements: dict
    required: true
  hosts:
    description: How many hosts were checked (for the line shown when there is no mismatch).
    type: int
seealso:
  - plugin: sanboot.iscsi.boot_chain_mismatches
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Show every mismatch in one table
  ansible.builtin.debug:
    msg: "{{ verify_rows | sanboot.iscsi.boot_chain_table(hosts=ansible_play_hosts | length) }}"
"""

RETURN = r"""
_value:
  description: The table's lines.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.sanboot.iscsi.plugins.module_utils.boot_chain import ROW_KEYS, table


def boot_chain_table(rows, hosts=None):
    if not isinstance(rows, list) or not all(isinstance(row, dict) and set(ROW_KEYS) <= set(row) for row in rows):
        raise AnsibleFilterError("boot_chain_table takes the list of rows boot_chain_mismatches returns "
                                 "(dictionaries with %s)" % ", ".join(ROW_KEYS))
    return table(rows, hosts)


class FilterModule:
    def filters(self):
        return {"boot_chain_table": boot_chain_table}
