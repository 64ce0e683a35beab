# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulator stand-in for community.windows.win_firewall_rule (a test double; see sanboot_simulator):
firewall rules of the simulated host by display name. Like the real module, a new rule gets the
documented defaults (enabled, inbound, allow, any address, port, program and service, all
profiles) and an existing one only changes the properties given; values compare case-insensitively
and profiles as a set."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.sanboot_simulator import SimulatorError, WindowsState

ARGUMENT_SPEC = {
    "name": {"type": "str"},
    "group": {"type": "str"},
    "description": {"type": "str"},
    "enabled": {"type": "bool", "aliases": ["enable"]},
    "state": {"type": "str", "choices": ["absent", "present"], "default": "present"},
    "direction": {"type": "str", "choices": ["in", "out"]},
    "action": {"type": "str", "choices": ["allow", "block"]},
    "localip": {"type": "str"},
    "remoteip": {"type": "str"},
    "localport": {"type": "str"},
    "remoteport": {"type": "str"},
    "program": {"type": "str"},
    "service": {"type": "str"},
    "protocol": {"type": "str"},
    "profiles": {"type": "list", "elements": "str", "aliases": ["profile"]},
}
DEFAULTS = {"enabled": True, "direction": "in", "action": "allow", "localip": "any", "remoteip": "any",
            "localport": "any", "remoteport": "any", "program": "any", "service": "any", "protocol": "any",
            "profiles": ["domain", "private", "public"], "group": "", "description": ""}


def same(option, first, second):
    if option == "profiles":
        return {str(item).casefold() for item in first or []} == {str(item).casefold() for item in second or []}
    if isinstance(first, bool) or isinstance(second, bool):
        return first == second
    return str(first).casefold() == str(second).casefold()


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, required_one_of=[["name", "group"]], supports_check_mode=True)
    params = module.params
    if not params["name"]:
        module.fail_json(msg="the simulator models rules addressed by name only")
    if (params["localport"] or params["remoteport"]) and not params["protocol"]:
        module.fail_json(msg="localport or remoteport requires protocol")
    changed = False
    try:
        with WindowsState(check_mode=module.check_mode) as state:
            rules = state.section("firewall_rules", [])
            matching = [rule for rule in rules if str(rule.get("name")).casefold() == params["name"].casefold()]
            if params["state"] == "absent":
                for rule in matching:
                    rules.remove(rule)
                module.exit_json(changed=bool(matching))
            if not matching:
                rule = dict(DEFAULTS, name=params["name"])
                rules.append(rule)
                matching = [rule]
                changed = True
            for rule in matching:
                for option in DEFAULTS:
                    wanted = params.get(option)
                    if wanted is not None and not same(option, rule.get(option), wanted):
                        rule[option] = wanted
                        changed = True
    except SimulatorError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=changed)


if __name__ == "__main__":
    main()
