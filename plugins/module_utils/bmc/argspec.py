# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The argument specs of redfish_iscsi_boot and redfish_iscsi_boot_info (documented in
doc_fragments/bmc_connection.py and the modules)."""

from __future__ import annotations

from ansible_collections.sanboot.iscsi.plugins.module_utils.bmc.registry import BACKENDS, DEFAULT_BACKEND

_CREDENTIAL = {
    "type": "dict",
    "options": {
        "username": {"type": "str", "required": True},
        "secret": {"type": "str", "required": True, "no_log": True},
    },
}

_TARGET = {
    "type": "dict",
    "options": {
        "name": {"type": "str", "required": True},
        "address": {"type": "str", "required": True},
        "port": {"type": "int", "default": 3260},
        "lun": {"type": "int", "default": 1},
    },
}


def connection_argument_spec() -> dict:
    """The connection options, named as community.general's redfish modules name them."""
    return {
        "backend": {"type": "str", "default": DEFAULT_BACKEND, "choices": sorted(BACKENDS)},
        "baseuri": {"type": "str", "required": True},
        "username": {"type": "str"},
        "password": {"type": "str", "no_log": True},
        "auth_token": {"type": "str", "no_log": True},
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
        "timeout": {"type": "int", "default": 30},
    }


def connection_rules() -> dict:
    return {
        "required_one_of": [("username", "auth_token")],
        "required_together": [("username", "password")],
        "mutually_exclusive": [("username", "auth_token")],
    }


def iscsi_boot_argument_spec() -> dict:
    spec = connection_argument_spec()
    spec.update({
        "mac_address": {"type": "str"},
        "function_id": {"type": "str"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "initiator_iqn": {"type": "str"},
        "ip": {"type": "dict", "options": {
            "dhcp": {"type": "bool"},
            "address": {"type": "str"},
            "netmask": {"type": "str"},
            "gateway": {"type": "str"},
        }},
        "target": dict(_TARGET),
        "secondary_target": dict(_TARGET),
        "vlan_id": {"type": "int"},
        "chap": dict(_CREDENTIAL),
        "mutual_chap": dict(_CREDENTIAL),
        "update_secrets": {"type": "str", "default": "on_create", "choices": ["on_create", "always"]},
        "apply_time": {"type": "str", "choices": ["immediate", "on_reset", "maintenance_window"]},
        "clear_pending": {"type": "bool", "default": False},
        "reset": {"type": "bool", "default": False},
        "boot_order": {"type": "bool", "default": False},
    })
    return spec


def iscsi_boot_rules() -> dict:
    rules = connection_rules()
    rules["required_one_of"] = rules["required_one_of"] + [("mac_address", "function_id")]
    rules["mutually_exclusive"] = rules["mutually_exclusive"] + [("mac_address", "function_id")]
    rules["required_if"] = [("state", "present", ("initiator_iqn", "target"))]
    return rules


def info_argument_spec() -> dict:
    return connection_argument_spec()
