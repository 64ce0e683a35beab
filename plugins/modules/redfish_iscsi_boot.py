#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: redfish_iscsi_boot
short_description: A NIC's iSCSI boot settings through the server's BMC (Redfish NetworkDeviceFunction.iSCSIBoot)
version_added: 0.2.0
author: sanboot.iscsi contributors (@sanboot)
description:
  - Sets the boot NIC of a server to boot from an iSCSI target, or turns that off, through the server's BMC with the
    DMTF Redfish C(NetworkDeviceFunction) resource (C(BootMode) and C(iSCSIBoot)). This is what the NIC's boot BIOS
    form holds; no DHCP option and no clear-text CHAP secret on the network are needed.
  - "The function is selected by O(mac_address) (the boot NIC's MAC, as in the inventory) or O(function_id). Where it is
    written is read from the resource, never assumed per vendor: in place (the DMTF way), at its C(@Redfish.Settings)
    C(SettingsObject) (Dell iDRAC), or at C(<function>/Pending) (Lenovo XCC). O(apply_time) must be one the service
    offers; C(If-Match) carries the ETag where the service gives one."
  - Idempotent against what B(will be) in force, the pending settings merged over the active ones, so a change staged
    for the next reset is not sent again. CHAP secrets read back as null on every BMC, so O(update_secrets) says when
    a secret is written.
  - A pending configuration job of another change (Dell) makes the module fail with a clear message and change
    nothing, unless O(clear_pending=true).
  - Every value is checked before anything is sent, by the collection's naming core (IQNs, MACs, CHAP, LUNs); a bad
    value fails naming the option and the rule.
  - Not supported, and refused with a message rather than half configured - HPE iLO, which keeps iSCSI boot in an OEM
    BIOS resource, and BMCs that expose no network device functions. See the collection's C(docs/bmc.md).
extends_documentation_fragment:
  - sanboot.iscsi.attributes
  - sanboot.iscsi.attributes.ACTIONGROUP_BMC
  - sanboot.iscsi.bmc_connection
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads only; it sends no PATCH, no reset and no delete.
  diff_mode:
    support: full
    details:
      - The diff shows each changed DMTF property (for example C(iSCSIBoot.PrimaryTargetName)) before and after. CHAP
        secrets show as C((hidden)), or C((hidden, changed)) when the module writes them.
  idempotent:
    support: full
    details:
      - With O(update_secrets=always) every run writes the secrets and reports a change.
options:
  mac_address:
    description:
      - The MAC address of the boot NIC, in any common notation. It must match exactly one network device function;
        otherwise the module fails and lists the functions it found. One of O(mac_address) and O(function_id) is required.
    type: str
  function_id:
    description: The function's C(@odata.id), for example V(/redfish/v1/Chassis/1/NetworkAdapters/NIC1/NetworkDeviceFunctions/1).
    type: str
  state:
    description:
      - V(present) sets the function to boot from O(target) (C(BootMode) C(iSCSI), and C(NetDevFuncType) Ethernet or
        iSCSI where the function is neither). V(absent) turns iSCSI boot off (C(BootMode) C(Disabled)) and leaves the
        other values alone.
    type: str
    choices: [present, absent]
    default: present
  initiator_iqn:
    description: The IQN the NIC logs in with (the SAN's ACL must admit it). Required with O(state=present).
    type: str
  ip:
    description:
      - "The NIC's own address during boot. V({dhcp: true}) (the default) takes address, mask and DNS from DHCP;
        otherwise O(ip.address) and O(ip.netmask), with O(ip.gateway) optional."
    type: dict
    suboptions:
      dhcp:
        description: Take the address from DHCP (C(IPMaskDNSViaDHCP)).
        type: bool
      address:
        description: A static address.
        type: str
      netmask:
        description: Its netmask, V(255.255.255.0) or a prefix length V(24).
        type: str
      gateway:
        description: The default gateway.
        type: str
  target:
    description: The boot target. Required with O(state=present).
    type: dict
    suboptions:
      name:
        description: The target's full iSCSI name (IQN). A target alias is refused, because boot firmware cannot resolve it.
        type: str
        required: true
      address:
        description: The IP address of the target's portal (boot firmware does not resolve host names).
        type: str
        required: true
      port:
        description: The portal's TCP port.
        type: int
        default: 3260
      lun:
        description: The boot LUN, 0 to 16383.
        type: int
        default: 1
  secondary_target:
    description:
      - A second path to the boot LUN, tried when the first fails; same keys as O(target). Left out, any secondary
        target the function holds is cleared, so that a stale one is never tried.
    type: dict
    suboptions:
      name:
        description: The target's full iSCSI name (IQN).
        type: str
        required: true
      address:
        description: The IP address of the target's portal.
        type: str
        required: true
      port:
        description: The portal's TCP port.
        type: int
        default: 3260
      lun:
        description: The boot LUN.
        type: int
        default: 1
  vlan_id:
    description: The boot VLAN (802.1Q, 1 to 4094), for both targets. Left out, VLAN tagging is off.
    type: int
  chap:
    description: One-way CHAP, the NIC authenticating to the target. Without it, C(AuthenticationMethod) is C(None).
    type: dict
    suboptions:
      username:
        description: CHAP user name.
        type: str
        required: true
      secret:
        description: CHAP secret, 12 to 16 characters (the Microsoft initiator's rule). Never shown in output.
        type: str
        required: true
  mutual_chap:
    description: Mutual CHAP, the target authenticating to the NIC; needs O(chap), and a different secret.
    type: dict
    suboptions:
      username:
        description: The user name the target presents.
        type: str
        required: true
      secret:
        description: Its secret, 12 to 16 characters, different from O(chap.secret). Never shown in output.
        type: str
        required: true
  update_secrets:
    description:
      - When the CHAP secrets are written, since no BMC reads them back.
      - V(on_create) writes them when the function is not yet set up for iSCSI boot with this CHAP user (and
        authentication method); later runs leave them alone. V(always) writes them on every run, which then always
        reports a change.
    type: str
    choices: [on_create, always]
    default: on_create
  apply_time:
    description:
      - When the change takes effect, as the service offers it (C(SupportedApplyTimes) of the function's settings object).
        V(immediate), V(on_reset) or V(maintenance_window). Left out, the service's own - immediate where it offers it,
        else the next reset.
      - One the service does not offer is an error that lists those it does.
    type: str
    choices: [immediate, on_reset, maintenance_window]
  clear_pending:
    description:
      - Delete a pending configuration job of another change (and the values it staged) before writing. Without it,
        such a job makes the module fail and change nothing.
    type: bool
    default: false
  reset:
    description:
      - When the change waits for a reset, restart the server (C(ComputerSystem.Reset), C(GracefulRestart) where offered)
        and wait for the configuration job or task to finish, at most O(timeout) seconds; its outcome is in RV(job).
      - B(This reboots the server.)
    type: bool
    default: false
  boot_order:
    description:
      - Also put the function's iSCSI boot option first - in the UEFI C(BootOrder), or as a continuous C(UefiTarget)
        boot override where the system offers only that.
      - Intel and QLogic NICs list their iSCSI boot option only after a first successful connection; until then the
        module warns and leaves the boot order alone.
    type: bool
    default: false
notes:
  - The module runs where the BMC is reachable, usually the controller (C(delegate_to) V(localhost)).
  - It sends traffic only to O(baseuri).
seealso:
  - module: sanboot.iscsi.redfish_iscsi_boot_info
  - module: sanboot.iscsi.dhcp_reservation
  - name: DMTF Redfish NetworkDeviceFunction schema
    link: https://redfish.dmtf.org/schemas/v1/NetworkDeviceFunction.v1_11_1.json
    description: The iSCSIBoot properties this module sets.
"""

EXAMPLES = r"""
- name: winboot01 boots from its LUN, parameters in the NIC's boot firmware (CHAP stays off the network)
  sanboot.iscsi.redfish_iscsi_boot:
    baseuri: bmc-winboot01.example.com
    username: ansible
    password: "{{ vault_bmc_password }}"
    mac_address: 00:1b:21:3a:4f:10
    initiator_iqn: iqn.1991-05.com.microsoft:winboot01.example.com
    target:
      name: iqn.2026-11.com.example.san01:winboot01
      address: 10.20.0.5
      lun: 1
    chap:
      username: winboot01
      secret: "{{ vault_chap_secrets.winboot01 }}"
  delegate_to: localhost
  register: winboot01_nic

- name: A Dell server - stage the change, restart, and wait for the configuration job
  sanboot.iscsi.redfish_iscsi_boot:
    baseuri: idrac-winboot02.example.com
    username: root
    password: "{{ vault_idrac_password }}"
    ca_path: /etc/pki/idrac-ca.pem
    mac_address: 00:1b:21:3a:4f:12
    initiator_iqn: iqn.1991-05.com.microsoft:winboot02.example.com
    ip:
      address: 10.20.0.102
      netmask: 24
      gateway: 10.20.0.1
    target:
      name: iqn.2026-11.com.example.san01:winboot02
      address: 10.20.0.5
    vlan_id: 120
    apply_time: on_reset
    reset: true
  delegate_to: localhost

- name: Every boot server's NIC, connection options set once
  module_defaults:
    group/sanboot.iscsi.bmc:
      username: ansible
      password: "{{ vault_bmc_password }}"
  sanboot.iscsi.redfish_iscsi_boot:
    baseuri: "{{ sanboot_bmc_address }}"
    mac_address: "{{ sanboot_mac }}"
    initiator_iqn: "{{ sanboot_initiator_iqn }}"
    target:
      name: "{{ sanboot_target_iqn }}"
      address: 10.20.0.5
  delegate_to: localhost

- name: Turn iSCSI boot off on a decommissioned server's NIC
  sanboot.iscsi.redfish_iscsi_boot:
    baseuri: bmc-old01.example.com
    username: ansible
    password: "{{ vault_bmc_password }}"
    mac_address: 00:1b:21:3a:4f:99
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
function_uri:
  description: The C(@odata.id) of the network device function.
  returned: success
  type: str
  sample: /redfish/v1/Chassis/System.Embedded.1/NetworkAdapters/NIC.Integrated.1/NetworkDeviceFunctions/NIC.Integrated.1-1-1
pending:
  description:
    - Whether the values are staged and take effect only later (at the next reset or maintenance window). False when
      they are in force.
  returned: success
  type: bool
  sample: true
apply_time:
  description: The Redfish apply time used (or that would be used), V(Immediate), V(OnReset), V(AtMaintenanceWindowStart), ...
  returned: success
  type: str
  sample: OnReset
job:
  description:
    - The configuration job or task that applies the change, or null. After O(reset=true), its final state.
  returned: success
  type: dict
  sample: {uri: /redfish/v1/TaskService/Tasks/1000, state: Completed, status: OK, message: Successfully Completed Request}
  contains:
    uri:
      description: The task or job resource.
      type: str
    state:
      description: C(TaskState) - V(Pending) until the reset, then V(Completed) (or V(Exception) on failure).
      type: str
    status:
      description: C(TaskStatus).
      type: str
    message:
      description: The task's last message.
      type: str
iscsi_boot:
  description:
    - What will be in force on the function (pending merged over active, in check mode as it would be), in the DMTF
      property names - C(BootMode), C(NetDevFuncType) and C(iSCSIBoot) B(without) C(CHAPSecret) and C(MutualCHAPSecret).
  returned: success
  type: dict
  sample:
    BootMode: iSCSI
    NetDevFuncType: Ethernet
    iSCSIBoot: {InitiatorName: "iqn.1991-05.com.microsoft:winboot01.example.com", PrimaryTargetName: "iqn.2026-11.com.example.san01:winboot01",
                PrimaryTargetIPAddress: 10.20.0.5, PrimaryTargetTCPPort: 3260, PrimaryLUN: 1, AuthenticationMethod: CHAP,
                CHAPUsername: winboot01, IPMaskDNSViaDHCP: true}
changes:
  description: The DMTF properties written (or that would be), secrets included by name only.
  returned: success
  type: list
  elements: str
  sample: [BootMode, iSCSIBoot.PrimaryTargetName, iSCSIBoot.CHAPSecret]
boot_order:
  description: With O(boot_order=true) - whether the boot order changed, how (V(BootOrder) or V(UefiTarget)), and the boot option.
  returned: when O(boot_order=true)
  type: dict
  sample: {changed: true, method: BootOrder, boot_option: Boot0003}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sanboot.iscsi.plugins.module_utils.bmc.argspec import iscsi_boot_argument_spec, iscsi_boot_rules
from ansible_collections.sanboot.iscsi.plugins.module_utils.bmc.core import BmcError, run_iscsi_boot
from ansible_collections.sanboot.iscsi.plugins.module_utils.bmc.registry import BACKENDS


def main():
    module = AnsibleModule(argument_spec=iscsi_boot_argument_spec(), supports_check_mode=True, **iscsi_boot_rules())
    try:
        result = run_iscsi_boot(module.params, BACKENDS, check_mode=module.check_mode, warn=module.warn)
    except BmcError as exc:
        module.fail_json(msg=str(exc))
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
