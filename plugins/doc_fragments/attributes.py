# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Every module of the collection supports these; each module states its level of support.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and report whether it would change anything, without changing it.
  diff_mode:
    description: Shows what changed (or, in check mode, what would change) when run with C(--diff).
  idempotent:
    description:
      - Run twice in a row with the same arguments, the second run reports no change.
"""

    # For modules that only read.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This module only reads.
  diff_mode:
    support: N/A
    details:
      - This module only reads.
  idempotent:
    support: full
"""

    ACTIONGROUP_SAN = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/sanboot.iscsi.san) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - sanboot.iscsi.san
"""

    ACTIONGROUP_DHCP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/sanboot.iscsi.dhcp) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - sanboot.iscsi.dhcp
"""

    ACTIONGROUP_BMC = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/sanboot.iscsi.bmc) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - sanboot.iscsi.bmc
"""
