# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: warn
short_description: Show messages as Ansible warnings
version_added: 0.1.0
author: sanboot.iscsi contributors (@sanboot)
description:
  - Shows each message as an Ansible warning (a C([WARNING]) line), which stands out in the run's output where a
    C(debug) message scrolls by.
  - The collection's Windows roles use it for what needs an operator's attention without failing the run, such as a
    restart that is needed but not allowed, or a domain policy that turns local Group Policy processing off.
  - Runs on the controller only; it never contacts the host and never changes anything.
options:
  msg:
    description:
      - The messages. An empty list shows nothing.
    type: list
    elements: str
    required: true
extends_documentation_fragment:
  - sanboot.iscsi.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: all
seealso:
  - module: ansible.builtin.debug
"""

EXAMPLES = r"""
- name: Tell the operator that a restart is pending
  sanboot.iscsi.warn:
    msg:
      - "{{ inventory_hostname }} needs a restart before the pagefile settings are in use"
  when: pagefile_reboot_required
"""

RETURN = r"""
warnings:
  description: The messages, as Ansible shows them.
  returned: when there are messages
  type: list
  elements: str
  sample: ["winboot01 needs a restart before the pagefile settings are in use"]
"""
