# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The conformance suite catches a broken backend: each mutant below must make its scenario fail.

The collection is copied, one backend method is broken in the copy (as a careless change would),
and the scenario runs with ANSIBLE_COLLECTIONS_PATH pointing at the copy, through ansible-playbook
as always. The purefa backend against its double is enough to prove the suite has teeth, and fast.
"""

from __future__ import annotations

import shutil

import pytest

import labkit
from harnesses import PureHarness
from test_san_conformance import (
    scenario_access_by_initiator,
    scenario_chap_rotation,
    scenario_grow_rounding_and_never_shrink,
)

BACKEND = "plugins/module_utils/san/backends/purefa/backend.py"
MUTANTS = [
    # CHAP not compared: every run sets the secret again ("SETTING A PASSWORD IS NON-IDEMPOTENT").
    ("chap-not-compared", "def chap_hash_matches(value, username, secret) -> bool:\n",
     "def chap_hash_matches(value, username, secret) -> bool:\n    return False\n", scenario_chap_rotation),
    # Sizes not rounded to the array's 512-byte sectors.
    ("size-not-rounded", "    size_granularity = SECTOR\n", "    size_granularity = 1\n",
     scenario_grow_rounding_and_never_shrink),
    # Access changes dropped.
    ("access-not-set", "        # One PATCH replaces the IQN list", "        return\n        # One PATCH replaces the IQN list",
     scenario_access_by_initiator),
]


@pytest.fixture(scope="module")
def broken_lab(root, repo):
    with labkit.Cleanup() as cleanup:
        harness = PureHarness(cleanup, labkit.make_workdir(cleanup)).start()
        yield harness


@pytest.mark.parametrize("mutant, original, broken, scenario", MUTANTS, ids=[mutant[0] for mutant in MUTANTS])
def test_a_broken_backend_fails_the_conformance_suite(broken_lab, mutant, original, broken, scenario):
    copy = broken_lab.workdir / ("collections-%s" % mutant)
    tree = copy / "ansible_collections" / "sanboot" / "iscsi"
    shutil.copytree(labkit.REPO / "plugins", tree / "plugins")
    for name in ("galaxy.yml", "meta"):
        source = labkit.REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tree / name)
    backend = tree / BACKEND
    text = backend.read_text()
    assert text.count(original) == 1, "the mutant no longer applies to %s: update it" % BACKEND
    backend.write_text(text.replace(original, broken))
    for dependency in (labkit.COLLECTIONS / "ansible_collections").iterdir():
        if dependency.name != "sanboot":
            (copy / "ansible_collections" / dependency.name).symlink_to(dependency)
    broken_lab.env = {"ANSIBLE_COLLECTIONS_PATH": str(copy)}
    broken_lab.array.volumes.clear(), broken_lab.array.hosts.clear(), broken_lab.array.connections.clear()
    try:
        with pytest.raises(AssertionError):
            scenario(broken_lab, name="mut-%s" % mutant)
    finally:
        broken_lab.env = {}
        broken_lab.array.violations.clear()
    # The same scenario passes with the real backend.
    broken_lab.array.volumes.clear(), broken_lab.array.hosts.clear(), broken_lab.array.connections.clear()
    scenario(broken_lab, name="ok-%s" % mutant)
    assert broken_lab.array.violations == []
