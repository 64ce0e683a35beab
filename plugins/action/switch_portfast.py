# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin for sanboot.iscsi.switch_portfast: the platform from ansible_network_os.

The module runs with only its arguments; the OS of the device is known from the task's
ansible_network_os, which only the controller sees. Passing it down as `platform` spares the
module asking the device (`show version`) and lets a mismatch fail before anything is sent.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.sanboot.iscsi.plugins.module_utils.switch.portfast import SwitchPortfastError, resolve_platform

MODULE = "sanboot.iscsi.switch_portfast"


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        module_args = dict(self._task.args)
        network_os = task_vars.get("ansible_network_os") or getattr(self._play_context, "network_os", None)
        if network_os is not None:
            network_os = self._templar.template(network_os)
        connection = getattr(self._connection, "transport", None) or getattr(self._play_context, "connection", None)
        try:
            platform = resolve_platform(module_args.get("platform"), network_os, module_args.get("state") or "enabled",
                                        connection)
        except SwitchPortfastError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        if platform is not None:
            module_args["platform"] = platform
        result.update(self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars))
        return result
