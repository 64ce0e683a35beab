# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for integration tests: the checkout and its tools, cleanup, root, and a leak check."""

from __future__ import annotations

import os
import subprocess

import pytest

import labkit


@pytest.fixture(scope="session")
def repo():
    if not (labkit.COLLECTIONS / "ansible_collections" / "sanboot" / "iscsi").exists():
        pytest.fail("run `make setup` first: .collections/ansible_collections/sanboot/iscsi is missing")
    return labkit.REPO


@pytest.fixture
def run_tool():
    """Run a .venv tool with the checkout's ansible.cfg; returns the CompletedProcess (never raises on exit codes)."""

    def run(name, *args, cwd=labkit.REPO, env=None, timeout=300, input_text=None):
        environment = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        environment.pop("ANSIBLE_COLLECTIONS_PATH", None)
        environment.pop("ANSIBLE_CONFIG", None)
        environment.update(env or {})
        return subprocess.run([str(labkit.VENV_BIN / name)] + [str(a) for a in args], cwd=str(cwd), env=environment,
                              capture_output=True, text=True, timeout=timeout, input=input_text, check=False)

    return run


@pytest.fixture
def cleanup():
    """Undo stack for everything a test creates; runs even when the test fails."""
    stack = labkit.Cleanup()
    yield stack
    stack.close()


@pytest.fixture
def workdir(cleanup):
    """A private directory whose path carries the run marker; removed afterwards."""
    return labkit.make_workdir(cleanup)


@pytest.fixture(scope="session")
def root():
    """Real-component tests need root (network namespaces, tgtd, loop devices)."""
    if not labkit.is_root():
        if os.environ.get("CI"):
            pytest.fail("integration tests with real daemons need root, and CI runs as root")
        pytest.skip("needs root: network namespaces, daemons and loop devices")


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind():
    """After the whole session: no namespace or process carrying this run's marker remains."""
    yield
    leaks = labkit.leftovers(labkit.RUN_MARKER)
    assert not leaks, "integration tests left these behind: %s" % leaks
