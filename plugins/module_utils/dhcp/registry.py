# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The one registry of DHCP backends: the name a user gives in `backend`, and the class behind it.

A new backend is a package under dhcp/backends/ implementing dhcp.core.DhcpBackend, one entry in
BACKENDS, and its options in doc_fragments/dhcp_backends.py; dhcp_reservation and
dhcp_reservation_info do not change. (Imports are static on purpose: Ansible ships a module with
the module_utils it imports, and finds them by reading the imports.)

DEFAULT_BACKEND is the one place the default backend is written: the modules' argument specs take
it from here; the doc fragment's `default` and the iscsi_boot_dhcp role mirror it (a unit test
holds them to it). san/registry.py has the same shape.
"""

from __future__ import annotations

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.backends.kea.backend import KeaBackend

BACKENDS = {
    "kea": KeaBackend,
}
DEFAULT_BACKEND = "kea"
