# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Action plugin for sanboot.iscsi.win_reboot_pending (documented in modules/win_reboot_pending.py).

It runs the collection's shared script (module_utils/windows/reboot_pending.ps1) on the host with
ansible.windows.win_powershell, and turns a host that no Windows module can run on (PowerShell
older than 5.1, such as Windows Server 2003) or that the roles do not support into one clear
failure that says what to do instead."""

from __future__ import annotations

import re

from ansible.plugins.action import ActionBase
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.host import check_supported, server_release
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.powershell import run_shared_script

ARGUMENT_SPEC = {
    "name": {"type": "str", "default": ""},
    "state": {"type": "str", "choices": ["query", "present"], "default": "query"},
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        _validation, arguments = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        name = arguments["name"]
        if name and not _NAME.match(name):
            return dict(result, failed=True, msg="name: '%s' is not a mark name (letters, digits, '_', '.', '-', at most "
                                                 "64, starting with a letter or digit)" % name)
        if arguments["state"] == "present" and not name:
            return dict(result, failed=True, msg="name is required when state is present")

        outcome = run_shared_script(self, "reboot_pending", {"Name": name, "Mark": arguments["state"] == "present"},
                                    task_vars)
        if outcome.get("failed"):
            return dict(result, failed=True, msg=str(outcome.get("msg") or ""), changed=False)

        found = outcome.get("result") or {}
        os_version = str(found.get("os_version") or "")
        unsupported = check_supported(os_version)
        if unsupported:
            return dict(result, failed=True, msg=unsupported, changed=False, os_version=os_version)
        reasons = [str(reason) for reason in found.get("windows_reasons") or []]
        result.update(
            changed=bool(outcome.get("changed")),
            marked=bool(found.get("marked")),
            windows_reasons=reasons,
            reboot_pending=bool(found.get("marked")) or bool(reasons),
            os_version=os_version,
            server_release=server_release(os_version),
            powershell_version=str(found.get("powershell_version") or ""),
            # Whether this task ran in check mode (also when set by the check_mode keyword, which
            # ansible_check_mode does not reflect).
            check_mode=bool(self._play_context.check_mode),
        )
        return result
