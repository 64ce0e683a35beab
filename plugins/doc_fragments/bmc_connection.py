# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # How redfish_iscsi_boot and redfish_iscsi_boot_info reach the BMC. Option names follow
    # community.general's redfish modules. A new backend adds its options here and in
    # plugins/module_utils/bmc/argspec.py.
    DOCUMENTATION = r"""
options:
  backend:
    description: The BMC's management protocol.
    type: str
    choices: [redfish]
    default: redfish
  baseuri:
    description:
      - The BMC's address, V(host) or V(host:port); the module speaks HTTPS to it (V(https://) is added).
      - A full URL is also accepted. V(http://) only for a test BMC, since the password and CHAP secrets would
        cross the network in clear text.
    type: str
    required: true
  username:
    description:
      - The BMC user. With O(password); the module opens a Redfish session where the service offers one (and deletes
        it at the end, also on failure), and uses basic authentication otherwise.
    type: str
  password:
    description: The BMC user's password. Never shown in output; keep it in a vault.
    type: str
  auth_token:
    description:
      - An existing Redfish session token (C(X-Auth-Token)), instead of O(username) and O(password). The module
        uses it as it is and does not delete that session.
    type: str
  validate_certs:
    description: Verify the BMC's TLS certificate. Only turn off for a test BMC.
    type: bool
    default: true
  ca_path:
    description:
      - A CA certificate file (PEM) to verify the BMC's certificate with, instead of the system's. It is used for every
        request, whatever C(REQUESTS_CA_BUNDLE) says.
    type: path
  timeout:
    description:
      - Seconds to wait for each answer of the BMC; with C(reset=true) (M(sanboot.iscsi.redfish_iscsi_boot)), also the
        longest wait for the reset and its configuration job.
    type: int
    default: 30
"""
