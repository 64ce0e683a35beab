# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulator stand-in for ansible.windows.win_service (a test double; see sanboot_simulator):
start mode and state of services in the simulated host."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.sanboot_simulator import SimulatorError, WindowsState

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "display_name": {"type": "str"},
    "description": {"type": "str"},
    "path": {"type": "str"},
    "start_mode": {"type": "str", "choices": ["auto", "delayed", "disabled", "manual"]},
    "state": {"type": "str", "choices": ["absent", "paused", "started", "stopped", "restarted"]},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    name = module.params["name"]
    changed = False
    try:
        with WindowsState(check_mode=module.check_mode) as state:
            services = state.section("services", {})
            key = next((service for service in services if service.casefold() == name.casefold()), None)
            if module.params["state"] == "absent":
                if key:
                    del services[key]
                    changed = True
                module.exit_json(changed=changed, exists=False, name=name)
            if key is None:
                if not module.params["path"]:
                    module.fail_json(msg="Service '%s' is not installed, need to set 'path' to create a new service" % name)
                key = name
                services[key] = {"path": module.params["path"], "start_mode": "auto", "state": "stopped",
                                 "display_name": module.params["display_name"] or name}
                changed = True
            service = services[key]
            for option in ("display_name", "description", "path", "start_mode"):
                if module.params[option] is not None and service.get(option) != module.params[option]:
                    service[option] = module.params[option]
                    changed = True
            wanted = module.params["state"]
            if wanted == "restarted":
                if service.get("start_mode") == "disabled":
                    module.fail_json(msg="Service '%s' is disabled and cannot be restarted" % name)
                service["state"] = "started"
                changed = True
            elif wanted in ("started", "stopped", "paused") and service.get("state") != wanted:
                if wanted == "started" and service.get("start_mode") == "disabled":
                    module.fail_json(msg="Service '%s' is disabled and cannot be started" % name)
                service["state"] = wanted
                changed = True
            module.exit_json(changed=changed, exists=True, name=key, start_mode=service.get("start_mode"),
                             state=service.get("state"), display_name=service.get("display_name"))
    except SimulatorError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
