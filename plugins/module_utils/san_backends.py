# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The registry of SAN backends and the modules' argument specs.

A new backend (an array's REST API, say) is a module_utils file implementing san.SanBackend, one
line in BACKENDS, and its options in doc_fragments/san_backends.py; san_volume and
san_volume_info do not change. (Imports are static on purpose: Ansible ships a module with the
module_utils it imports, and finds them by reading the imports.)
"""

from __future__ import annotations

from ansible_collections.sanboot.iscsi.plugins.module_utils.san import backend_argument_spec
from ansible_collections.sanboot.iscsi.plugins.module_utils.san_tgt import TgtBackend

BACKENDS = {
    "tgt": TgtBackend,
}

_CREDENTIAL = {
    "type": "dict",
    "options": {
        "username": {"type": "str", "required": True},
        "secret": {"type": "str", "required": True, "no_log": True},
    },
}


def volume_argument_spec() -> dict:
    spec = {
        "name": {"type": "str", "required": True},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "backend": {"type": "str", "default": "tgt"},
        "size": {"type": "str"},
        "target_iqn": {"type": "str"},
        "target_prefix": {"type": "str"},
        "lun": {"type": "int", "default": 1},
        "initiators": {"type": "list", "elements": "str"},
        "allowed_addresses": {"type": "list", "elements": "str"},
        "chap": dict(_CREDENTIAL),
        "mutual_chap": dict(_CREDENTIAL),
        "clone_from": {"type": "str"},
        "portal": {"type": "str"},
        "force": {"type": "bool", "default": False},
        "remove_data": {"type": "bool", "default": False},
    }
    spec.update(backend_argument_spec(BACKENDS))
    return spec


def info_argument_spec() -> dict:
    spec = {
        "name": {"type": "str"},
        "backend": {"type": "str", "default": "tgt"},
        "portal": {"type": "str"},
    }
    spec.update(backend_argument_spec(BACKENDS, kinds=("CONNECTION_OPTIONS",)))
    return spec


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
        "backend": {"type": "str", "default": "tgt"},
    }
    spec.update(backend_argument_spec(BACKENDS, kinds=("CONNECTION_OPTIONS",)))
    return spec
