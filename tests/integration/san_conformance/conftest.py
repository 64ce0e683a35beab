# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SAN backend conformance suite: one harness per backend, shared by a module of tests.

`san` is parametrised over every backend in the registry: tgt runs for real (a tgtd of its own,
libiscsi initiators), purefa against the FlashArray test double (tests/labkit/purefa.py), which
validates every request and response against Pure's API description; the fixture fails the test
on any violation. A new backend adds its harness in harnesses.py and appears here.
"""

from __future__ import annotations

import os
import sys

import pytest

import labkit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # san_lab, beside this package
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harnesses import HARNESSES  # noqa: E402  (after the path is set)


@pytest.fixture(scope="module", params=sorted(HARNESSES))
def san_backend(request, root, repo):
    """One backend under test (one tgtd, or one array double) for a whole test module."""
    with labkit.Cleanup() as cleanup:
        harness = HARNESSES[request.param](cleanup, labkit.make_workdir(cleanup)).start()
        yield harness


@pytest.fixture
def san(san_backend):
    san_backend.before_test()
    yield san_backend
    san_backend.after_test()
