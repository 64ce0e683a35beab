# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The argument specs of san_volume, san_volume_info and san_image: the common options, those each
registered backend adds (its CONNECTION_OPTIONS and VOLUME_OPTIONS), and the rules between options
(declared once in san.core, which checks them again for callers that are not modules).

The modules call AnsibleModule(**volume_module_kwargs()) and AnsibleModule(**info_module_kwargs()).
"""

from __future__ import annotations

from ansible_collections.sanboot.iscsi.plugins.module_utils.batch import item_spec
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import (
    ITEM_OPTIONS,
    MUTUALLY_EXCLUSIVE,
    REQUIRED_BY,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.registry import BACKENDS, DEFAULT_BACKEND

_CREDENTIAL = {
    "type": "dict",
    "options": {
        "username": {"type": "str", "required": True},
        "secret": {"type": "str", "required": True, "no_log": True},
    },
}


def volume_argument_spec() -> dict:
    spec = {
        "name": {"type": "str"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "backend": _backend_option(),
        "size": {"type": "str"},
        "target_iqn": {"type": "str"},
        "target_prefix": {"type": "str"},
        "lun": {"type": "int", "default": 1},
        "initiators": {"type": "list", "elements": "str"},
        "allowed_addresses": {"type": "list", "elements": "str"},
        "chap": dict(_CREDENTIAL),
        "mutual_chap": dict(_CREDENTIAL),
        "remove_chap": {"type": "bool", "default": False},
        "remove_mutual_chap": {"type": "bool", "default": False},
        "clone_from": {"type": "str"},
        "portal": {"type": "str"},
        "force": {"type": "bool", "default": False},
        "remove_data": {"type": "bool", "default": False},
    }
    spec.update(backend_argument_spec(BACKENDS))
    # The rules between an entry's options (MUTUALLY_EXCLUSIVE, REQUIRED_BY) are checked by the core once the entry
    # has taken the top-level options it leaves out, with messages that name the entry (volumes[3].chap: ...); an
    # option given as null counts as left out there, as a role building entries from every server's variables
    # gives them.
    spec["volumes"] = {"type": "list", "elements": "dict", "options": batch_item_spec(spec)}
    return spec


def batch_item_spec(spec) -> dict:
    """The options of one entry of `volumes`: the per-volume options (the core's and each backend's
    VOLUME_OPTIONS) without their defaults, so that an entry that leaves one out takes the module's
    top-level value (whose default applies when that is left out too). name is required."""
    names = list(ITEM_OPTIONS) + sorted({option for backend in BACKENDS.values() for option in backend.VOLUME_OPTIONS})
    return item_spec(spec, names, "name")


def info_argument_spec() -> dict:
    spec = {
        "name": {"type": "str"},
        "volumes": {"type": "list", "elements": "dict", "options": {
            "name": {"type": "str", "required": True},
            "chap": dict(_CREDENTIAL),
            "mutual_chap": dict(_CREDENTIAL),
        }},
        "backend": _backend_option(),
        "portal": {"type": "str"},
    }
    spec.update(backend_argument_spec(BACKENDS, kinds=("CONNECTION_OPTIONS",)))
    return spec


def _backend_option() -> dict:
    return {"type": "str", "default": DEFAULT_BACKEND, "choices": sorted(BACKENDS)}


def volume_module_kwargs() -> dict:
    """AnsibleModule's keyword arguments for san_volume: the spec and the rules between options."""
    return {
        "argument_spec": volume_argument_spec(),
        # One volume (name and its options) or a batch (volumes, whose entries take the top-level options
        # they leave out): never both.
        "mutually_exclusive": [list(group) for group in MUTUALLY_EXCLUSIVE] + [["name", "volumes"]],
        "required_one_of": [["name", "volumes"]],
        "required_by": {option: list(needed) for option, needed in REQUIRED_BY.items()},
        "supports_check_mode": True,
    }


def info_module_kwargs() -> dict:
    return {"argument_spec": info_argument_spec(), "mutually_exclusive": [["name", "volumes"]], "supports_check_mode": True}


def image_argument_spec() -> dict:
    """san_image: the image, the LUN (root_path, or portal + target_iqn + lun), the login, and where the
    backend keeps the image record (backend and its connection options)."""
    spec = {
        "image": {"type": "path", "required": True},
        "image_format": {"type": "str"},
        "root_path": {"type": "str"},
        "portal": {"type": "str"},
        "target_iqn": {"type": "str"},
        "lun": {"type": "int"},
        "initiator_iqn": {"type": "str", "required": True},
        "chap": dict(_CREDENTIAL),
        "mutual_chap": dict(_CREDENTIAL),
        "force": {"type": "bool", "default": False},
        "backend": _backend_option(),
    }
    spec.update(backend_argument_spec(BACKENDS, kinds=("CONNECTION_OPTIONS",)))
    return spec


def backend_argument_spec(backends, kinds=("CONNECTION_OPTIONS", "VOLUME_OPTIONS")) -> dict:
    """The options the backends add (their CONNECTION_OPTIONS and VOLUME_OPTIONS), merged."""
    spec = {}
    for backend in backends.values():
        for kind in kinds:
            for option, definition in getattr(backend, kind, {}).items():
                if option in spec and spec[option] != definition:
                    raise ValueError("backends disagree on option %s" % option)
                spec[option] = dict(definition)
    return spec
