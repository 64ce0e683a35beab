# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the simulator, the real Windows collections and the roles are, and how to load the
simulator's module_utils (self-contained, loaded by path: the real ansible.windows is what
`ansible_collections.ansible.windows` means on this test run's sys.path)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SIMULATOR = REPO / "tests" / "windows_simulator" / "ansible_collections"
REAL = REPO / ".collections" / "ansible_collections"
ROLES = REPO / "roles"


def load_simulator():
    path = SIMULATOR / "ansible" / "windows" / "plugins" / "module_utils" / "sanboot_simulator.py"
    spec = importlib.util.spec_from_file_location("sanboot_simulator_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def literal(path: Path, name: str):
    """A module-level literal assignment (DOCUMENTATION, ARGUMENT_SPEC) read without importing the file."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == name for target in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError("%s has no %s" % (path, name))


def fakes():
    """(fully qualified name, path of the fake) for every module and action the simulator shadows."""
    found = []
    for namespace in ("ansible", "community"):
        base = SIMULATOR / namespace / "windows" / "plugins"
        for path in sorted((base / "modules").glob("*.py")):
            found.append(("%s.windows.%s" % (namespace, path.stem), path))
        for path in sorted((base / "action").glob("*.py")) if (base / "action").is_dir() else []:
            found.append(("%s.windows.%s" % (namespace, path.stem), path))
    return found
