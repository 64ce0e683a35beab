# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # How dhcp_reservation and dhcp_reservation_info reach the DHCP server. A new backend adds its
    # options here and in plugins/module_utils/dhcp/argspec.py.
    DOCUMENTATION = r"""
requirements:
  - requests (Python library, on the host that runs the module)
options:
  backend:
    description: The kind of DHCP server.
    type: str
    # Mirrors plugins/module_utils/dhcp/registry.py (BACKENDS, DEFAULT_BACKEND); a unit test holds them equal.
    choices: [kea]
    default: kea
  api_url:
    description:
      - URL of the Kea control agent, for example V(http://127.0.0.1:8000/) or V(https://kea.example.com:8000/).
    type: str
    required: true
  api_username:
    description: User for the control agent's basic authentication.
    type: str
  api_password:
    description: Password for the control agent's basic authentication. Never shown in output.
    type: str
  validate_certs:
    description: Verify the control agent's TLS certificate (for V(https://) URLs). Only turn off for test servers.
    type: bool
    default: true
  ca_path:
    description: A CA certificate file (PEM) to verify the control agent's certificate with, instead of the system's.
    type: path
  timeout:
    description: Seconds to wait for each answer of the control agent.
    type: int
    default: 30
  service:
    description: The Kea service behind the control agent that holds the reservations.
    type: str
    choices: [dhcp4]
    default: dhcp4
"""
