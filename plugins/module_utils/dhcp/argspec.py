# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The connection options both DHCP modules take (dhcp_reservation adds its own), and the options of one
entry of dhcp_reservation's batch (`reservations`)."""

from __future__ import annotations

from ansible_collections.sanboot.iscsi.plugins.module_utils.batch import item_spec
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.core import ITEM_OPTIONS
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.registry import BACKENDS, DEFAULT_BACKEND


def connection_argument_spec() -> dict:
    return {
        "backend": {"type": "str", "default": DEFAULT_BACKEND, "choices": sorted(BACKENDS)},
        "api_url": {"type": "str", "required": True},
        "api_username": {"type": "str"},
        "api_password": {"type": "str", "no_log": True},
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
        "timeout": {"type": "int", "default": 30},
        "service": {"type": "str", "default": "dhcp4", "choices": ["dhcp4"]},
    }


def batch_item_spec(spec) -> dict:
    """The options of one entry of dhcp_reservation's `reservations`: the per-reservation options of spec without
    their defaults (an entry that leaves one out takes the top-level value); mac is required."""
    return item_spec(spec, ITEM_OPTIONS, "mac")
