# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""san_golden_image documents exactly the variables it has, and passes each one to a module."""

from __future__ import annotations

from pathlib import Path

import yaml

ROLE = Path(__file__).resolve().parents[3] / "roles" / "san_golden_image"


def test_argument_specs_defaults_and_tasks_agree():
    options = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    tasks = (ROLE / "tasks" / "main.yml").read_text()
    assert set(options) == set(defaults)
    for name, spec in options.items():
        assert name.startswith("san_golden_image_") and spec.get("description"), name
        assert spec.get("default") == (defaults[name] if not isinstance(defaults[name], str) else None), name
        assert name in tasks, "%s is never used" % name
