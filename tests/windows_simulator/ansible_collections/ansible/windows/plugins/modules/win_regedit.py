# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulator stand-in for ansible.windows.win_regedit (a test double; see sanboot_simulator):
keys and values of the simulated registry, compared by type and data as the real module does."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.sanboot_simulator import SimulatorError, WindowsState

ARGUMENT_SPEC = {
    "path": {"type": "str", "required": True, "aliases": ["key"]},
    "name": {"type": "str", "aliases": ["entry", "value"]},
    "data": {"type": "raw"},
    "type": {"type": "str", "default": "string", "aliases": ["datatype"],
             "choices": ["none", "binary", "dword", "expandstring", "multistring", "string", "qword"]},
    "state": {"type": "str", "default": "present", "choices": ["absent", "present"]},
    "delete_key": {"type": "bool", "default": True},
}


def convert(kind, data):
    """The data as the registry stores it for the type, as win_regedit converts it."""
    if kind in ("string", "expandstring"):
        return "" if data is None else str(data)
    if kind in ("dword", "qword"):
        if data is None:
            return 0
        number = int(data, 0) if isinstance(data, str) else int(data)
        if not 0 <= number <= (0xFFFFFFFF if kind == "dword" else 0xFFFFFFFFFFFFFFFF):
            raise ValueError("data %s is out of range for a %s" % (data, kind))
        return number
    if kind == "multistring":
        if data is None:
            return []
        return [str(item) for item in data] if isinstance(data, list) else [str(data)]
    if kind == "binary":
        if data is None:
            return []
        if isinstance(data, str):
            text = data.lower().replace("hex:", "").replace("0x", "").replace(",", "")
            return list(bytes.fromhex(text))
        return [int(item) for item in data]
    return None


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    path, name, kind = module.params["path"], module.params["name"], module.params["type"]
    result = {"changed": False, "data_changed": False, "data_type_changed": False}
    try:
        data = convert(kind, module.params["data"])
    except ValueError as exc:
        module.fail_json(msg="failed to convert registry data for %s of type %s: %s" % (name, kind, exc), **result)
    try:
        with WindowsState(check_mode=module.check_mode) as state:
            if module.params["state"] == "present":
                if name is None:
                    result["changed"] = state.reg_create(path) if not state.reg_find(path) else False
                else:
                    existing = state.reg_get(path, name)
                    if existing is None or existing.get("type") != kind or existing.get("data") != data:
                        result["changed"] = True
                        result["data_changed"] = existing is None or existing.get("data") != data
                        result["data_type_changed"] = existing is not None and existing.get("type") != kind
                        state.reg_set(path, name, kind, data)
            else:
                if name is None:
                    if module.params["delete_key"]:
                        result["changed"] = state.reg_delete_key(path)
                    else:
                        result["changed"] = state.reg_delete_value(path, "")
                else:
                    result["changed"] = state.reg_delete_value(path, name)
    except SimulatorError as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
