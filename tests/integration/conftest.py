# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures for integration tests: the checkout, its .venv tools, and a runner for them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
COLLECTIONS = REPO / ".collections"


def tool(name: str) -> str:
    return str(VENV_BIN / name)


@pytest.fixture(scope="session")
def repo() -> Path:
    if not (COLLECTIONS / "ansible_collections" / "sanboot" / "iscsi").exists():
        pytest.fail("run `make setup` first: .collections/ansible_collections/sanboot/iscsi is missing")
    return REPO


@pytest.fixture
def run_tool():
    """Run a .venv tool; returns the CompletedProcess (never raises on a non-zero exit)."""

    def run(name, *args, cwd=REPO, env=None, timeout=300):
        environment = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        # The checkout's ansible.cfg decides unless a test says otherwise.
        environment.pop("ANSIBLE_COLLECTIONS_PATH", None)
        environment.pop("ANSIBLE_CONFIG", None)
        environment.update(env or {})
        return subprocess.run([tool(name)] + [str(a) for a in args], cwd=str(cwd), env=environment,
                              capture_output=True, text=True, timeout=timeout, check=False)

    return run
