# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulator stand-in for ansible.windows.win_package (a test double; see sanboot_simulator).

An installer is known to the simulated host when its path is in the state's "installers"
section, which says what installing it does (files, hotfixes, services, its return code).
Like the real module: creates_path and product_id make it idempotent, a return code outside
expected_return_code fails, and 3010 means reboot_required."""

from __future__ import annotations

import base64

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.sanboot_simulator import SimulatorError, WindowsState

ARGUMENT_SPEC = {
    "path": {"type": "str"},
    "arguments": {"type": "raw"},
    "creates_path": {"type": "path"},
    "product_id": {"type": "str"},
    "expected_return_code": {"type": "list", "elements": "int", "default": [0, 3010]},
    "state": {"type": "str", "choices": ["absent", "present"], "default": "present"},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, required_one_of=[["path", "product_id"]], supports_check_mode=True)
    if module.params["state"] != "present":
        module.fail_json(msg="the simulator models installing packages only")
    path = module.params["path"]
    try:
        with WindowsState(check_mode=module.check_mode) as state:
            if module.params["creates_path"] and (state.file_exists(module.params["creates_path"]) or
                                                  state.dir_exists(module.params["creates_path"])):
                module.exit_json(changed=False, reboot_required=False)
            products = state.section("installed_products", [])
            if module.params["product_id"] and module.params["product_id"] in products:
                module.exit_json(changed=False, reboot_required=False)
            installers = state.data.get("installers") or {}
            key = next((name for name in installers if name.casefold() == str(path).casefold()), None)
            if key is None:
                module.fail_json(msg="the file at the path '%s' cannot be reached" % path, reboot_required=False)
            if module.check_mode:
                module.exit_json(changed=True, reboot_required=False)
            installer = installers[key]
            rc = int(installer.get("rc", 0))
            if rc not in module.params["expected_return_code"]:
                module.fail_json(msg="unexpected rc from '%s %s': see rc, stdout, and stderr for more details"
                                     % (path, module.params["arguments"] or ""), rc=rc, reboot_required=False)
            for file_path, content in (installer.get("files") or {}).items():
                state.file_put(file_path, base64.b64decode(content))
            hotfixes = state.section("hotfixes", [])
            hotfixes.extend(hotfix for hotfix in installer.get("hotfixes") or [] if hotfix not in hotfixes)
            state.section("services", {}).update(installer.get("services") or {})
            if installer.get("product_id"):
                products.append(installer["product_id"])
            arguments = module.params["arguments"]
            state.section("installed_packages", []).append(
                {"path": path, "arguments": " ".join(arguments) if isinstance(arguments, list) else arguments})
    except SimulatorError as exc:
        module.fail_json(msg=str(exc))
    # Like the real module: an expected non-zero rc (3010) is not a failure, said explicitly.
    module.exit_json(changed=True, rc=rc, reboot_required=rc == 3010, failed=False)


if __name__ == "__main__":
    main()
