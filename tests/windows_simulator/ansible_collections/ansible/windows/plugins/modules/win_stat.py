# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulator stand-in for ansible.windows.win_stat (a test double; see sanboot_simulator)."""

from __future__ import annotations

import hashlib
import ntpath

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.sanboot_simulator import SimulatorError, WindowsState

ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True, "aliases": ["dest", "name"]},
    "get_checksum": {"type": "bool", "default": True},
    "checksum_algorithm": {"type": "str", "default": "sha1", "choices": ["md5", "sha1", "sha256", "sha384", "sha512"]},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    path = module.params["path"]
    try:
        with WindowsState(check_mode=True) as state:
            content = state.file_get(path)
            is_dir = content is None and state.dir_exists(path)
    except SimulatorError as exc:
        module.fail_json(msg=str(exc))
    stat = {"exists": content is not None or is_dir}
    if content is not None:
        stat.update({"isdir": False, "isreg": True, "size": len(content), "filename": ntpath.basename(path), "path": path})
        if module.params["get_checksum"]:
            stat["checksum"] = hashlib.new(module.params["checksum_algorithm"], content).hexdigest()
    elif is_dir:
        stat.update({"isdir": True, "isreg": False, "path": path})
    module.exit_json(changed=False, stat=stat)


if __name__ == "__main__":
    main()
