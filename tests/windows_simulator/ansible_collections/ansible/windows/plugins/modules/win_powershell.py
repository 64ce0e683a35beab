# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulator stand-in for ansible.windows.win_powershell (a test double; see sanboot_simulator).

It runs no PowerShell: it applies the Python model of the sanboot.iscsi script it is given
(recognised by its marker line) and returns what the real module returns for it: changed as the
script sets $Ansible.Changed, result as $Ansible.Result serialised to the given depth, and the
real module's check mode rule (scripts without SupportsShouldProcess are not run in check mode).
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.sanboot_simulator import (
    ScriptFailure,
    SimulatorError,
    WindowsState,
    convert_output,
    run_script,
)

ARGUMENT_SPEC = {
    "script": {"type": "str"},
    "parameters": {"type": "dict"},
    "depth": {"type": "int", "default": 2},
    "error_action": {"type": "str", "choices": ["silently_continue", "continue", "stop"], "default": "continue"},
    "creates": {"type": "str"},
    "removes": {"type": "str"},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, required_one_of=[["script"]], supports_check_mode=True)
    result = {"changed": False, "result": {}, "output": [], "error": [], "warning": [], "verbose": [], "debug": [],
              "information": [], "host_out": "", "host_err": ""}
    try:
        with WindowsState(check_mode=module.check_mode) as state:
            if module.params["creates"] and (state.file_exists(module.params["creates"]) or
                                             state.dir_exists(module.params["creates"])):
                module.exit_json(msg="skipped, since %s exists" % module.params["creates"], **result)
            if module.params["removes"] and not (state.file_exists(module.params["removes"]) or
                                                 state.dir_exists(module.params["removes"])):
                module.exit_json(msg="skipped, since %s does not exist" % module.params["removes"], **result)
            outcome = run_script(state, module.params["script"], module.params["parameters"], module.check_mode)
    except SimulatorError as exc:
        module.fail_json(msg=str(exc), **result)
    except ScriptFailure as exc:
        result["error"] = [{"output": str(exc), "exception": {"message": str(exc), "type": "System.Management.Automation.RuntimeException"}}]
        module.fail_json(msg="Unhandled exception while executing script: %s" % exc, **result)
    result["changed"] = bool(outcome.get("changed"))
    result["result"] = convert_output(outcome.get("result", {}), module.params["depth"])
    if outcome.get("msg"):
        result["msg"] = outcome["msg"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
