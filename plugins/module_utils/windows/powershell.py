# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The collection's shared PowerShell: scripts kept next to this file, which the collection's Windows
actions run on the host through ansible.windows.win_powershell. Every Windows role uses them through
those actions, so the code lives in one place and no role reads another role's files."""

from __future__ import annotations

import os

from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.host import (
    POWERSHELL_REQUIRED,
    unsupported_host_message,
)

_HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = {"reboot_pending": "reboot_pending.ps1", "iscsi_boot": "iscsi_boot.ps1"}


def load_script(name: str) -> str:
    """The text of one of the shared scripts (SCRIPTS), as win_powershell's `script` takes it."""
    if name not in SCRIPTS:
        raise KeyError("no shared PowerShell script named %s (known: %s)" % (name, ", ".join(sorted(SCRIPTS))))
    with open(os.path.join(_HERE, SCRIPTS[name]), "r", encoding="utf-8") as handle:
        return handle.read()


def run_shared_script(action, name: str, parameters: dict, task_vars: dict, depth: int = 2) -> dict:
    """Run a shared script from an action plugin (`action` is the ActionBase) with
    ansible.windows.win_powershell; check mode passes through. A host no module can run on (ansible-core
    answers 'Ansible requires PowerShell v5.1') fails with what to do instead."""
    outcome = action._execute_module(  # pylint: disable=protected-access
        module_name="ansible.windows.win_powershell",
        module_args={"script": load_script(name), "parameters": parameters, "depth": depth},
        task_vars=task_vars)
    if outcome.get("failed") and POWERSHELL_REQUIRED in str(outcome.get("msg") or ""):
        outcome = dict(outcome, msg=unsupported_host_message("%s (the host's PowerShell is older)" % POWERSHELL_REQUIRED))
    return outcome
