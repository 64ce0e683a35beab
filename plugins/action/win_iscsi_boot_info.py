# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Action plugin for sanboot.iscsi.win_iscsi_boot_info (documented in modules/win_iscsi_boot_info.py).

It runs the collection's shared script (module_utils/windows/iscsi_boot.ps1) on the host with
ansible.windows.win_powershell, and adds the controller's reading of it: which network interfaces
carry the boot disk (module_utils/windows/initiator.boot_interfaces), or why that is not known."""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.initiator import boot_interfaces
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.powershell import run_shared_script

KEYS = ("service", "boot_disk", "boot_sessions", "firmware_boot", "boot_errors", "adapters")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        self.validate_argument_spec(argument_spec={})
        # boot_sessions[].connections[].route.interface_indexes[] is 7 levels deep.
        outcome = run_shared_script(self, "iscsi_boot", {}, task_vars, depth=8)
        if outcome.get("failed"):
            return dict(result, failed=True, changed=False, msg=str(outcome.get("msg") or ""))
        found = outcome.get("result") if isinstance(outcome.get("result"), dict) else {}
        result.update({key: found.get(key) for key in KEYS})
        boot = boot_interfaces(found)
        result.update(changed=False, boot_nic_known=boot["known"], booted_from_iscsi=boot["booted_from_iscsi"],
                      boot_interfaces={str(index): reasons for index, reasons in sorted(boot["interfaces"].items())},
                      reason=boot["reason"])
        return result
