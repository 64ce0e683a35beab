# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The one registry of BMC backends, and the default. A new backend (another management protocol) is a
package under bmc/backends/ with a class like RedfishBackend, one entry here, and its options in
argspec.py and doc_fragments/bmc_connection.py; the modules do not change. (Imports are static on purpose:
Ansible ships a module with the module_utils it imports, and finds them by reading the imports.)
"""

from __future__ import annotations

from ansible_collections.sanboot.iscsi.plugins.module_utils.bmc.backends.redfish.backend import RedfishBackend

BACKENDS = {
    RedfishBackend.name: RedfishBackend,
}
DEFAULT_BACKEND = RedfishBackend.name
