# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulator stand-in for ansible.windows.win_command (a test double; see sanboot_simulator).

It runs nothing: it records the command line in the simulated host's command history, reports
changed like the real module, and is skipped in check mode, as the real module is."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.sanboot_simulator import SimulatorError, WindowsState

ARGUMENT_SPEC = {
    "_raw_params": {"type": "str"},
    "cmd": {"type": "str"},
    "argv": {"type": "list", "elements": "str"},
    "creates": {"type": "path"},
    "removes": {"type": "path"},
    "chdir": {"type": "path"},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=[["_raw_params", "cmd", "argv"]],
                           required_one_of=[["_raw_params", "cmd", "argv"]], supports_check_mode=False)
    command = module.params["_raw_params"] or module.params["cmd"] or " ".join(module.params["argv"])
    try:
        with WindowsState() as state:
            if module.params["creates"] and state.file_exists(module.params["creates"]):
                module.exit_json(changed=False, cmd=command, rc=0, stdout="skipped, since %s exists" % module.params["creates"])
            if module.params["removes"] and not state.file_exists(module.params["removes"]):
                module.exit_json(changed=False, cmd=command, rc=0,
                                 stdout="skipped, since %s does not exist" % module.params["removes"])
            state.section("commands", []).append(command)
            outputs = state.data.get("command_outputs") or {}
            output = next((text for prefix, text in outputs.items() if command.casefold().startswith(prefix.casefold())), "")
    except SimulatorError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=True, cmd=command, rc=0, stdout=output, stderr="", stdout_lines=output.splitlines())


if __name__ == "__main__":
    main()
