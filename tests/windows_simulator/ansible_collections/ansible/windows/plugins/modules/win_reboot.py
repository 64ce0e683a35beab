# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulator stand-in for ansible.windows.win_reboot (a test double; see sanboot_simulator).

A restart of the simulated host: volatile registry keys go, the configured pagefiles come into
use, features finish installing. In check mode it reports a reboot and does nothing, as the real
action plugin does."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.sanboot_simulator import SimulatorError, WindowsState, reboot

ARGUMENT_SPEC = {
    "msg": {"type": "str", "default": "Reboot initiated by Ansible"},
    "reboot_timeout": {"type": "float", "default": 600, "aliases": ["reboot_timeout_sec"]},
    "pre_reboot_delay": {"type": "float", "default": 2, "aliases": ["pre_reboot_delay_sec"]},
    "post_reboot_delay": {"type": "float", "default": 0, "aliases": ["post_reboot_delay_sec"]},
    "connect_timeout": {"type": "float", "default": 5, "aliases": ["connect_timeout_sec"]},
    "test_command": {"type": "str"},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if module.check_mode:
        module.exit_json(changed=True, elapsed=0, rebooted=True)
    try:
        with WindowsState() as state:
            reboot(state)
    except SimulatorError as exc:
        module.fail_json(msg=str(exc), rebooted=False)
    module.exit_json(changed=True, elapsed=0, rebooted=True, unreachable=False)


if __name__ == "__main__":
    main()
