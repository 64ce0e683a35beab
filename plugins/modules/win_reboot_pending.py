# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: win_reboot_pending
short_description: Whether a Windows host waits for a restart, and a mark that lasts until the next one
version_added: 0.2.0
author: sanboot.iscsi contributors (@sanboot)
description:
  - Reads whether Windows waits for a restart (servicing, Windows Update, file operations queued for the next boot, a
    computer name change), and whether a mark of this I(name) is set.
  - With I(state=present), sets the mark, a volatile registry key under
    C(HKLM\SOFTWARE\sanboot.iscsi.RebootPending), which Windows itself drops at the next restart. A role that made a
    change taking effect only after a restart sets it, so that later runs keep reporting the restart until it happened,
    and never after.
  - It is also the Windows roles' first step on a host. It fails, saying what to do instead, on a host they cannot
    manage; on Windows Server 2003, whose PowerShell is older than the 5.1 Ansible needs, the message lists the iSCSI boot
    checklist's manual steps.
  - Runs a script kept in the collection's module_utils on the host through M(ansible.windows.win_powershell), which
    must be installed.
options:
  name:
    description:
      - The mark, usually the name of the role that uses it. Empty reads only what Windows itself reports.
    type: str
    default: ""
  state:
    description:
      - C(query) changes nothing; C(present) sets the mark unless it is set already.
    type: str
    choices: [query, present]
    default: query
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
    platforms: windows
notes:
  - Supported hosts are Windows Server 2012 and later with Windows PowerShell 5.1.
seealso:
  - module: ansible.windows.win_reboot
"""

EXAMPLES = r"""
- name: Stop here on hosts the roles cannot manage, and learn whether a restart is pending
  sanboot.iscsi.win_reboot_pending:
    name: my_role
  register: pending

- name: Remember until the next restart that a change of this role waits for it
  sanboot.iscsi.win_reboot_pending:
    name: my_role
    state: present
  when: my_change is changed
"""

RETURN = r"""
marked:
  description: Whether the mark of I(name) is set (after this task).
  returned: success
  type: bool
  sample: true
windows_reasons:
  description: Why Windows itself waits for a restart; empty when it does not.
  returned: success
  type: list
  elements: str
  sample: ["Component Based Servicing: RebootPending"]
reboot_pending:
  description: I(marked) or any I(windows_reasons).
  returned: success
  type: bool
  sample: true
os_version:
  description: The Windows version, major.minor.build.revision.
  returned: always
  type: str
  sample: "10.0.20348.0"
server_release:
  description: The Windows Server release of that version, empty when unknown.
  returned: success
  type: str
  sample: "2022"
check_mode:
  description:
    - Whether the task ran in check mode, also when the C(check_mode) keyword set it (which C(ansible_check_mode) does not
      reflect); roles use it to skip what cannot be shown in check mode.
  returned: success
  type: bool
  sample: false
powershell_version:
  description: The host's PowerShell version.
  returned: success
  type: str
  sample: "5.1.20348.2849"
"""
