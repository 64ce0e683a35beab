# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulator stand-in for community.windows.win_disk_facts (a test double; see sanboot_simulator):
the simulated host's disks, kept in the state in the shape the real module returns. As the real
module (drive_letter = $part.DriveLetter), a partition without a drive letter has the letter
[char]0, which reaches the controller as the string "\u0000"."""

from __future__ import annotations

import copy

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.sanboot_simulator import SimulatorError, WindowsState

ARGUMENT_SPEC = {
    "filter": {"type": "list", "elements": "str",
               "choices": ["physical_disk", "virtual_disk", "win32_disk_drive", "partitions", "volumes"],
               "default": ["physical_disk", "virtual_disk", "win32_disk_drive", "partitions", "volumes"]},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        with WindowsState(check_mode=True) as state:
            disks = copy.deepcopy(state.data.get("disks") or [])
    except SimulatorError as exc:
        module.fail_json(msg=str(exc))
    if "partitions" not in module.params["filter"]:
        for disk in disks:
            disk.pop("partitions", None)
    elif "volumes" not in module.params["filter"]:
        for disk in disks:
            for partition in disk.get("partitions") or []:
                partition.pop("volumes", None)
    module.exit_json(changed=False, ansible_facts={"ansible_disks": disks})


if __name__ == "__main__":
    main()
