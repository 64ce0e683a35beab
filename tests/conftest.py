# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make `ansible_collections.sanboot.iscsi` importable when pytest runs from the checkout.

`make setup` links .collections/ansible_collections/sanboot/iscsi to this checkout; putting
.collections on sys.path lets the tests import the code exactly as Ansible does. Under
ansible-test, the collection already sits in an ansible_collections tree and this is a no-op.
"""

from __future__ import annotations

import os
import sys

_COLLECTIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".collections")
if os.path.isdir(os.path.join(_COLLECTIONS, "ansible_collections")) and _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)

# Shared test helpers (tests/labkit) import as `labkit`.
_TESTS = os.path.dirname(os.path.abspath(__file__))
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
