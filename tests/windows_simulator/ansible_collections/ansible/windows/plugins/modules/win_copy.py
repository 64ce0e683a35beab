# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulator stand-in for ansible.windows.win_copy (a test double; see sanboot_simulator):
one file into the simulated file system, from content (written as UTF-8, as the real action
plugin writes it) or from a controller file (src, as the real action plugin transfers it).
Like the real module it compares checksums, and fails when the destination folder is missing."""

from __future__ import annotations

import hashlib
import ntpath

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.sanboot_simulator import SimulatorError, WindowsState

ARGUMENT_SPEC = {
    "content": {"type": "str"},
    "dest": {"type": "path", "required": True},
    "src": {"type": "path"},
    "force": {"type": "bool", "default": True},
    "backup": {"type": "bool", "default": False},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=[["content", "src"]],
                           required_one_of=[["content", "src"]], supports_check_mode=True)
    dest = module.params["dest"]
    if module.params["content"] is not None:
        content = module.params["content"].encode("utf-8")
    else:
        try:
            with open(module.params["src"], "rb") as handle:
                content = handle.read()
        except OSError as exc:
            module.fail_json(msg="Cannot copy src file: '%s' as it does not exist (%s)" % (module.params["src"], exc))
    checksum = hashlib.sha1(content).hexdigest()
    try:
        with WindowsState(check_mode=module.check_mode) as state:
            parent = ntpath.dirname(state.expand(dest))
            if not state.dir_exists(parent):
                module.fail_json(msg="Destination directory '%s' does not exist" % parent, dest=dest)
            existing = state.file_get(dest)
            changed = existing is None or (module.params["force"] and existing != content)
            if changed:
                state.file_put(dest, content)
    except SimulatorError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=changed, dest=dest, checksum=checksum, size=len(content), operation="file_copy",
                     original_basename=ntpath.basename(dest))


if __name__ == "__main__":
    main()
