# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The registry of DHCP backends and the connection options both DHCP modules take.

A new backend is a module_utils file implementing dhcp.DhcpBackend, one entry in BACKENDS, and its
options in doc_fragments/dhcp_backends.py; dhcp_reservation and dhcp_reservation_info do not
change. (Imports are static on purpose: Ansible ships a module with the module_utils it imports,
and finds them by reading the imports.)
"""

from __future__ import annotations

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp_kea import KeaBackend

BACKENDS = (KeaBackend,)


def connection_argument_spec() -> dict:
    return {
        "backend": {"type": "str", "default": "kea", "choices": [backend.name for backend in BACKENDS]},
        "api_url": {"type": "str", "required": True},
        "api_username": {"type": "str"},
        "api_password": {"type": "str", "no_log": True},
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
        "timeout": {"type": "int", "default": 30},
        "service": {"type": "str", "default": "dhcp4", "choices": ["dhcp4"]},
    }
