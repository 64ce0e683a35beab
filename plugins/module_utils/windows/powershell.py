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

_HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = {"reboot_pending": "reboot_pending.ps1"}


def load_script(name: str) -> str:
    """The text of one of the shared scripts (SCRIPTS), as win_powershell's `script` takes it."""
    if name not in SCRIPTS:
        raise KeyError("no shared PowerShell script named %s (known: %s)" % (name, ", ".join(sorted(SCRIPTS))))
    with open(os.path.join(_HERE, SCRIPTS[name]), "r", encoding="utf-8") as handle:
        return handle.read()
