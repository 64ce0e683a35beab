# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Options of each SAN backend for reaching it (san_volume and san_volume_info).
    # A new backend adds its options here and in its class (plugins/module_utils/san/backends/<name>/).
    DOCUMENTATION = r"""
options:
  backend:
    description:
      - The storage product that holds the volumes.
      - V(tgt) is the Linux SCSI target framework (C(tgtd)), driven on the storage host over its control socket with the
        requests C(tgtadm) sends. The module
        must run on that host, as root (use C(delegate_to) and C(become)).
      - V(purefa) is a Pure Storage FlashArray, through its REST 2.x API (O(api_url), O(api_token)). The module runs
        where it can reach the array's management address, usually the controller. A volume is an array volume, its
        server an array host with the initiator IQNs and CHAP, joined by a connection with the volume's LUN; the target IQN and
        the portal are the array's (its iSCSI ports). See the SAN guide for what is refused.
    type: str
    # Mirrors plugins/module_utils/san/registry.py (BACKENDS, DEFAULT_BACKEND); a unit test holds them equal.
    choices: [purefa, tgt]
    default: tgt
  portal:
    description:
      - The iSCSI portal initiators use to reach the volume, C(address) or C(address:port) (IPv6 in brackets when a
        port is given), reported as the volume's C(portal) and used in its C(root_path).
      - When a port is not given, the target's own portal port is used (3260 when it cannot be told).
      - By default the target's own portal, when it listens on a specific address. A C(tgtd) listening on the
        wildcard address (its default, C(0.0.0.0:3260)) cannot tell which address initiators use; then the volume's
        C(portal) and C(root_path) are null and a warning says to set this option.
    type: str
  config_dir:
    description:
      - B(tgt backend.) The directory of the per-volume config files, one C(sanboot-<name>.conf) per volume, in
        C(tgt-admin) syntax. Debian's C(/etc/tgt/targets.conf) includes C(/etc/tgt/conf.d/*.conf), so C(tgt-admin -e)
        (how the tgt service starts) brings every volume back after a restart.
      - The files hold the CHAP secrets and are written mode C(0600); a directory the module creates is mode C(0700).
    type: path
    default: /etc/tgt/conf.d
  tgt_control_port:
    description:
      - B(tgt backend.) The control port of C(tgtd) (C(tgtd -C N), C(tgtadm -C N)); 0 is the default daemon.
    type: int
    default: 0
  api_url:
    description:
      - B(purefa backend.) The array's management address, C(https://<array>[:port]). Required with
        O(backend=purefa).
    type: str
  api_token:
    description:
      - B(purefa backend.) The API token of an array user allowed to manage volumes and hosts (C(pureadmin create
        --api-token)). Required with O(backend=purefa). Sent only in the login request's C(api-token) header, never
        shown in results, messages or logs; the run logs out at its end.
    type: str
  validate_certs:
    description:
      - B(purefa backend.) Whether to verify the array's TLS certificate. Turn it off only for a test array.
    type: bool
    default: true
  ca_path:
    description:
      - B(purefa backend.) A PEM file of the CA that signed the array's certificate. It is used even when
        C(REQUESTS_CA_BUNDLE) or C(CURL_CA_BUNDLE) is set in the environment.
    type: path
  timeout:
    description:
      - B(purefa backend.) Seconds to wait for each answer of the array, 1 to 3600.
    type: int
    default: 30
"""

    # Options of each SAN backend that only san_volume has.
    VOLUME = r"""
options:
  path:
    description:
      - B(tgt backend.) The backing file of the volume. Default C(<storage_dir>/<name>.img).
      - A new file is created sparse (thin) and mode C(0600). An existing file at this path becomes the volume's data
        as it is, unless O(clone_from) is set, which never overwrites a file.
      - Letters, digits and C(_.:@+=,%/-) only, because C(tgt-admin) reads the path from its config file
        and passes it through a shell.
    type: path
  storage_dir:
    description:
      - B(tgt backend.) The directory for backing files when O(path) is not given; created mode C(0700) when missing.
    type: path
    default: /srv/iscsi
"""
