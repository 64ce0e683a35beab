# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulator stand-in for ansible.windows.win_file (a test double; see sanboot_simulator):
folders and files of the simulated file system."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.sanboot_simulator import SimulatorError, WindowsState

ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True, "aliases": ["dest", "name"]},
    "state": {"type": "str", "choices": ["absent", "directory", "file", "touch"]},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    path, wanted = module.params["path"], module.params["state"]
    changed = False
    try:
        with WindowsState(check_mode=module.check_mode) as state:
            if wanted == "directory":
                if state.file_exists(path):
                    module.fail_json(msg="path %s is not a directory" % path)
                changed = state.make_dir(path)
            elif wanted == "absent":
                changed = state.file_delete(path)
            elif wanted == "touch":
                changed = True
                if not state.file_exists(path):
                    state.file_put(path, b"")
            elif wanted == "file" and not state.file_exists(path) and not state.dir_exists(path):
                module.fail_json(msg="path %s will not be created" % path)
    except SimulatorError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=changed)


if __name__ == "__main__":
    main()
