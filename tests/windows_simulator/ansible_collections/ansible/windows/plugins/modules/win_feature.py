# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulator stand-in for ansible.windows.win_feature (a test double; see sanboot_simulator):
installs and removes Windows features of the simulated host and reports reboot_required as the
real module does (Install-WindowsFeature's RestartNeeded)."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.sanboot_simulator import SimulatorError, WindowsState

ARGUMENT_SPEC = {
    "name": {"type": "list", "elements": "str", "required": True},
    "state": {"type": "str", "choices": ["absent", "present"], "default": "present"},
    "include_sub_features": {"type": "bool", "default": False},
    "include_management_tools": {"type": "bool", "default": False},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    wanted = module.params["state"] == "present"
    feature_result, reboot_required = [], False
    try:
        with WindowsState(check_mode=module.check_mode) as state:
            features = state.section("features", {})
            if state.os.get("product_type", 3) == 1:
                module.fail_json(msg="This version of Windows does not support the Enable-WindowsFeature cmdlet. "
                                     "Use win_optional_feature instead")
            for name in module.params["name"]:
                key = next((feature for feature in features if feature.casefold() == name.casefold()), None)
                if key is None:
                    module.fail_json(msg="Failed to %s %s: ArgumentNotValid: Values for the -Name parameter are not valid "
                                         "feature names" % ("install" if wanted else "remove", name))
                feature = features[key]
                if bool(feature.get("installed")) == wanted:
                    continue
                restart = bool(feature.get("install_requires_restart" if wanted else "remove_requires_restart"))
                reboot_required = reboot_required or restart
                feature_result.append({"display_name": feature.get("display_name", key), "id": feature.get("id", 0),
                                       "message": [], "reboot_required": restart, "skip_reason": "NotSkipped",
                                       "success": True, "restart_needed": restart})
                feature["installed"] = wanted
                if restart:
                    feature["restart_pending"] = True
    except SimulatorError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=bool(feature_result), feature_result=feature_result, reboot_required=reboot_required,
                     success=True, exitcode="Success" if feature_result else "NoChangeNeeded")


if __name__ == "__main__":
    main()
