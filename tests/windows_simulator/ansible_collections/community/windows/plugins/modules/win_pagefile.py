# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulator stand-in for community.windows.win_pagefile (a test double; see sanboot_simulator).

Pagefile settings (Win32_PageFileSetting) and AutomaticManagedPagefile of the simulated host, with
the real module's behaviour (win_pagefile.ps1 in community.windows 3.x), including what makes it
non-idempotent on its own: remove_all removes (and reports changed) whenever any pagefile exists,
override=true removes and re-creates an existing pagefile on every run, and sizes are only
updated in place between two fixed sizes. Settings take effect at the next restart: what Windows
pages to now (Win32_PageFileUsage) is kept apart and only changes on a simulated reboot."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.sanboot_simulator import SimulatorError, WindowsState

ARGUMENT_SPEC = {
    "drive": {"type": "str"},
    "initial_size": {"type": "int"},
    "maximum_size": {"type": "int"},
    "override": {"type": "bool", "default": True},
    "system_managed": {"type": "bool", "default": False},
    "automatic": {"type": "bool"},
    "remove_all": {"type": "bool", "default": False},
    "test_path": {"type": "bool", "default": True},
    "state": {"type": "str", "choices": ["absent", "present", "query"], "default": "query"},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    result = {"changed": False}
    full_path = "%s:\\pagefile.sys" % params["drive"] if params["drive"] is not None else None
    try:
        with WindowsState(check_mode=module.check_mode) as state:
            pagefile = state.section("pagefile", {"automatic_managed": True, "settings": [], "usage": []})
            settings = pagefile.setdefault("settings", [])

            def find(path):
                return next((entry for entry in settings if str(entry.get("name")).casefold() == str(path).casefold()), None)

            if params["remove_all"] and settings:
                if not module.check_mode:
                    del settings[:]
                result["changed"] = True
            if params["automatic"] is not None and bool(pagefile.get("automatic_managed")) != params["automatic"]:
                pagefile["automatic_managed"] = params["automatic"]
                result["changed"] = True
            if params["state"] == "absent":
                entry = find(full_path)
                if entry is not None:
                    if not module.check_mode:
                        settings.remove(entry)
                    result["changed"] = True
            elif params["state"] == "present":
                if params["override"] and find(full_path) is not None:
                    if not module.check_mode:
                        settings.remove(find(full_path))
                    result["changed"] = True
                if params["test_path"] and str(params["drive"]).upper()[:1] not in state.drive_letters():
                    module.fail_json(msg="Unable to access '%s:' drive" % params["drive"], **result)
                current = find(full_path)
                if current is None:
                    if not module.check_mode:
                        sizes = (0, 0) if params["system_managed"] else (params["initial_size"], params["maximum_size"])
                        settings.append({"name": full_path, "initial_size": sizes[0], "maximum_size": sizes[1]})
                        # Creating a Win32_PageFileSetting turns AutomaticManagedPagefile off.
                        pagefile["automatic_managed"] = False
                    result["changed"] = True
                elif (not module.check_mode and not params["system_managed"]
                      and not (current.get("initial_size") == 0 and current.get("maximum_size") == 0)
                      and (current.get("initial_size") != params["initial_size"]
                           or current.get("maximum_size") != params["maximum_size"])):
                    current["initial_size"] = params["initial_size"]
                    current["maximum_size"] = params["maximum_size"]
                    result["changed"] = True
            else:
                chosen = settings if params["drive"] is None else [entry for entry in settings if entry is find(full_path)]
                result["pagefiles"] = [{"name": entry.get("name"), "initial_size": entry.get("initial_size"),
                                        "maximum_size": entry.get("maximum_size"),
                                        "caption": "%s 'pagefile.sys'" % str(entry.get("name"))[:3],
                                        "description": "'pagefile.sys' @ %s" % str(entry.get("name"))[:3]}
                                       for entry in chosen]
                result["automatic_managed_pagefiles"] = bool(pagefile.get("automatic_managed"))
    except SimulatorError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
