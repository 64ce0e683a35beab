# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: win_iscsi_boot_info
short_description: How a Windows host boots from iSCSI, and which NICs carry its boot disk
version_added: 0.2.0
author: sanboot.iscsi contributors (@sanboot)
description:
  - Reads, as far as Windows knows it for certain, how the host boots from iSCSI, the state of the Microsoft iSCSI
    Initiator Service, the boot disk (C(Get-Disk), C(IsBoot)) and its bus, the iSCSI sessions of the boot disk with
    each connection's addresses and the interface Windows routes to its target through (C(Find-NetRoute)), the boot
    configuration of an iSCSI HBA (C(MSiSCSI_BootConfiguration)) with the route to its portal, and the network adapters.
  - Tells which network interfaces carry the boot disk (I(boot_interfaces)). When the host boots from iSCSI and that
    cannot be told for certain (a query failed, the initiator service is stopped, a connection's initiator address is
    the default C(0.0.0.0) with no route), I(boot_nic_known) is false and I(reason) says why. Nothing that failed is
    taken for "nothing there".
  - Never logs on to a target (the boot firmware owns the boot session) and changes nothing.
  - Runs a script kept in the collection's module_utils on the host through M(ansible.windows.win_powershell).
options: {}
extends_documentation_fragment:
  - sanboot.iscsi.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: windows
notes:
  - While the Microsoft iSCSI Initiator Service (Manual and stopped on a fresh Windows) does not run, Windows reports no
    iSCSI session; start it first to learn the boot NICs.
seealso:
  - module: sanboot.iscsi.win_reboot_pending
"""

EXAMPLES = r"""
- name: Learn which NICs carry the boot disk
  sanboot.iscsi.win_iscsi_boot_info:
  register: boot

- name: Never re-address them
  ansible.builtin.assert:
    that: boot.boot_nic_known
    fail_msg: "{{ boot.reason }}"
"""

RETURN = r"""
service:
  description: The Microsoft iSCSI Initiator Service, C(status) and C(start_type) as Windows reports them.
  returned: success
  type: dict
  sample: {"status": "Running", "start_type": "Automatic"}
boot_disk:
  description: The boot disk's C(number), C(bus_type) and C(bus_types) (of every disk marked IsBoot); null when none.
  returned: success
  type: dict
boot_sessions:
  description:
    - The iSCSI sessions of the boot disk, C(target_iqn), C(initiator_iqn), C(is_persistent) and C(connections), each
      with C(initiator_address), C(target_address), C(target_port) and C(route) (C(interface_indexes),
      C(local_addresses)).
  returned: success
  type: list
  elements: dict
firmware_boot:
  description: Boot configurations of iSCSI HBAs, C(target_iqn), C(initiator_iqn), C(target_address), C(target_port), C(route).
  returned: success
  type: list
  elements: dict
boot_errors:
  description: Every query about the boot disk and its sessions that failed, with Windows' message.
  returned: success
  type: list
  elements: str
adapters:
  description: Network adapters, C(name), C(mac), C(dhcp_enabled), C(ip_addresses), C(interface_index).
  returned: success
  type: list
  elements: dict
booted_from_iscsi:
  description: Whether the boot disk is on iSCSI; null when that is not known.
  returned: success
  type: bool
boot_nic_known:
  description: Whether every path to the boot disk is accounted for (or the boot disk is known not to be on iSCSI).
  returned: success
  type: bool
boot_interfaces:
  description: Interface index (as a string) => why it carries the boot disk.
  returned: success
  type: dict
  sample: {"4": ["the boot connection to 10.77.0.1:3260 goes out of it (Find-NetRoute)"]}
reason:
  description: Why the boot NICs are not known; empty when they are.
  returned: success
  type: str
"""
