#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: dhcp_reservation
short_description: Per-host DHCP reservation carrying the iSCSI boot options (root path, initiator IQN, iPXE CHAP)
version_added: 0.1.0
author: sanboot.iscsi contributors (@sanboot)
description:
  - Makes a DHCPv4 server hold a reservation for one network card (O(mac)) in one subnet, with the address
    O(ip) and the options a boot ROM or iPXE needs to boot from an iSCSI LUN, or removes it.
  - "From O(iscsi): option 17 (root path, RFC 4173, built by the collection's naming core with the LUN in
    hexadecimal), option 203 (the initiator IQN), and only when O(iscsi.chap) is given, iPXE's option 175
    carrying sub-options 190 (username) and 191 (password). Option 12 (host name) comes from O(hostname)."
  - "B(DHCP is clear text.) Everything in a reservation, including a CHAP secret in option 191, is sent
    unencrypted to the client and readable by anyone on the segment. With O(iscsi.chap) the module warns.
    Prefer CHAP typed into the NIC boot BIOS, or an isolated boot network."
  - "First backend: C(kea), the Kea DHCPv4 server through its control agent's REST API. Where the server has
    the C(host_cmds) hook (open source from Kea 3.0) the module uses C(reservation-get), C(reservation-add) and
    C(reservation-del), and C(reservation-update) where offered, which changes a reservation in place (without it,
    an update is a delete and an add, and a DHCP request in between finds no reservation). Whatever fails after
    the first change (a refused add, the check, C(config-write)) puts back the reservations exactly as they were.
    Otherwise (for example Debian's Kea 2.2) it changes the whole configuration:
    C(config-get), edit, C(config-test), C(config-set), C(config-write), with a re-read before the set and a
    check after it, retried when another writer changed the configuration in between. See the collection's
    C(docs/dhcp.md) for what that guarantees with concurrent runs."
  - Comparisons are made on normalised reservations (Kea adds defaults and drops default-valued keys), so a
    second run with the same arguments reports no change, and the diff shows exactly what changes.
  - "The reservation's options are exactly those derived from O(iscsi) and O(options): an option added to the
    reservation by other means is removed when the module rewrites it. Fields the module does not manage
    (boot-file-name, next-server, client-classes, ...) are kept."
  - The option definitions the options need are added once when the server has none (203 C(iscsi-initiator-iqn),
    a string; with CHAP 175 C(ipxe-encap-opts) encapsulating space C(ipxe) with 190 C(ipxe-username) and
    191 C(ipxe-password), strings). A definition the server already has is used as it is (an existing 175
    may encapsulate another space); one that cannot carry the value makes the module fail without changing
    anything. Definitions are never removed.
  - The module runs where the API is reachable, usually the controller (C(delegate_to) V(localhost)).
  - "B(Batches.) With O(reservations) instead of O(mac), one task makes the server hold many reservations (a rack of
    servers): every entry is checked and planned against one reading of the server before anything changes, so a
    bad value or a conflict in any entry fails the task naming the entry (for example C(reservations[3].ip)) and
    changes nothing. On Kea's configuration round trip the whole batch is one C(config-set) and one C(config-write);
    with C(host_cmds), one command per changed reservation and one C(config-write). Either way the batch is one
    change: when anything fails, every reservation is put back as it was. Each entry gets exactly the result the
    single form would give it, in RV(reservation_results)."
extends_documentation_fragment:
  - sanboot.iscsi.attributes
  - sanboot.iscsi.attributes.ACTIONGROUP_DHCP
  - sanboot.iscsi.dhcp_backends
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows the affected reservations (the one for O(mac) and any it takes over) before and after,
        and the option definitions the module needs. CHAP secrets show as C(********), or
        C(******** (changed)) when they change.
  idempotent:
    support: full
options:
  mac:
    description:
      - The hardware address of the network card that boots, in any common notation (V(52:54:00:12:34:56),
        V(52-54-00-12-34-56), V(5254.0012.3456), V(525400123456)). It identifies the reservation.
      - Required unless O(reservations) is given; mutually exclusive with it.
    type: str
  reservations:
    description:
      - A batch of reservations, each entry with the options of one reservation. Mutually exclusive with O(mac).
      - An option an entry leaves out takes the value given at the top level of the task (or its default there), so
        what every reservation shares (O(subnet) or O(subnet_id), O(options), O(replace), O(state)) is written once.
        O(reservations[].mac), O(reservations[].ip), O(reservations[].hostname) and O(reservations[].iscsi) are never
        taken from the top level. An entry that gives O(reservations[].subnet) or O(reservations[].subnet_id) drops
        the other one given at the top level.
      - Two entries may not be the same MAC or the same address in one subnet, nor change the same reservation (a
        O(replace) of one entry taking over another entry's reservation); split such changes into two tasks.
      - The connection options and O(persist) are the task's, not an entry's.
    type: list
    elements: dict
    version_added: 0.2.0
    suboptions:
      mac:
        description: The boot NIC's hardware address, as O(mac).
        type: str
        required: true
      ip:
        description: The address to reserve, as O(ip).
        type: str
      hostname:
        description: As O(hostname).
        type: str
      subnet:
        description: As O(subnet); default the top-level O(subnet).
        type: str
      subnet_id:
        description: As O(subnet_id); default the top-level O(subnet_id).
        type: int
      state:
        description: As O(state); default the top-level O(state).
        type: str
        choices: [present, absent]
      iscsi:
        description: As O(iscsi).
        type: dict
        suboptions:
          target_iqn:
            description: As O(iscsi.target_iqn).
            type: str
          server:
            description: As O(iscsi.server).
            type: str
          port:
            description: As O(iscsi.port).
            type: raw
          lun:
            description: As O(iscsi.lun).
            type: raw
          protocol:
            description: As O(iscsi.protocol).
            type: raw
          initiator_iqn:
            description: As O(iscsi.initiator_iqn).
            type: str
          chap:
            description: As O(iscsi.chap). B(Sent in clear text by DHCP.)
            type: dict
            suboptions:
              username:
                description: CHAP user name.
                type: str
                required: true
              secret:
                description: CHAP secret, 12 to 16 characters. Never shown in output.
                type: str
                required: true
      options:
        description: As O(options); default the top-level O(options).
        type: list
        elements: dict
        suboptions:
          code:
            description: Option code, 1 to 254.
            type: raw
          name:
            description: Option name as the server knows it.
            type: str
          data:
            description: The value, as the server takes it.
            type: raw
          space:
            description: Option space.
            type: str
            default: dhcp4
      replace:
        description: As O(replace); default the top-level O(replace).
        type: bool
  ip:
    description:
      - The IPv4 address to reserve. Required with O(state=present); it must be inside the subnet.
      - With O(state=absent), if given, it must be the address O(mac) holds, else the module fails and removes nothing.
    type: str
  hostname:
    description:
      - Host name handed to the client (option 12). Left out, the module does not manage it (an existing one is kept).
    type: str
  subnet:
    description:
      - The subnet that holds the reservation, in CIDR notation (V(10.77.0.0/24)). It must exist on the server.
      - One of O(subnet) and O(subnet_id) is required; with both, they must name the same subnet.
    type: str
  subnet_id:
    description: The server's id of the subnet that holds the reservation.
    type: int
  state:
    description: V(present) makes the reservation exist as described; V(absent) removes the reservation of O(mac) in the subnet.
    type: str
    choices: [present, absent]
    default: present
  iscsi:
    description:
      - The iSCSI boot settings the reservation carries. Validated by the collection's naming core
        (errors name the key, for example C(iscsi.target_iqn)).
      - Left out, the reservation carries no boot options (any it had are removed).
    type: dict
    suboptions:
      target_iqn:
        description: Full iSCSI name of the boot target. Required. A target alias is refused, because boot ROMs cannot resolve it.
        type: str
      server:
        description:
          - The iSCSI portal, an IPv4 or IPv6 address (with or without brackets) or a DNS name. Required.
          - An IPv6 address is written in brackets in the root path, as RFC 4173 says (V(iscsi:[fd00::5]:6:3260:1:...)).
        type: str
      port:
        description: TCP port of the portal. Default 3260.
        type: raw
      lun:
        description:
          - The boot LUN, 0 to 16383; written in hexadecimal in the root path, as RFC 4173 says and iPXE reads it.
            Default 1.
          - "LUN 10 and above: dracut and OpenStack Ironic read that field as decimal (LUN 10 is written V(a)), so
            the module warns; LUNs 0 to 9 read the same everywhere."
        type: raw
      protocol:
        description: Transport protocol; RFC 4173 defines only 6 (TCP). Default 6.
        type: raw
      initiator_iqn:
        description: The IQN the client's boot ROM or iPXE uses as its own name (option 203).
        type: str
      chap:
        description:
          - One-way CHAP credentials for iPXE (option 175 with 190 and 191). B(Sent in clear text by DHCP.)
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
  options:
    description:
      - Further options of the reservation, each with O(options[].code) or O(options[].name), O(options[].data)
        and optionally O(options[].space). An option the module derives itself (17, 203, 12, iPXE's 175, 190, 191)
        cannot be given here.
    type: list
    elements: dict
    default: []
    suboptions:
      code:
        description: Option code, 1 to 254.
        type: raw
      name:
        description: Option name as the server knows it (for Kea, its standard names such as V(domain-name-servers), or a defined option's name).
        type: str
      data:
        description: The value, as the server takes it (for Kea, the C(data) of an C(option-data) entry in CSV format).
        type: raw
      space:
        description: Option space.
        type: str
        default: dhcp4
  replace:
    description:
      - Allow taking over an IP address reserved for another client, or moving the reservation of O(mac) from another
        address to O(ip). The other reservation is removed. Without it, such a conflict is an error and nothing changes.
    type: bool
    default: false
  persist:
    description:
      - Write the configuration to the server's configuration file after a change (Kea C(config-write)), so a restart
        keeps it. If writing fails the change is taken back, on both of Kea's paths (C(host_cmds) and the
        configuration round trip), and the module fails. With V(false) the change lives only until the server restarts.
    type: bool
    default: true
notes:
  - The module sends traffic only to O(api_url).
  - Concurrent runs against one Kea 2.2 server from the same host and user are serialised by a lock file
    (in a private directory under the temporary directory); runs from other hosts are detected and retried but a
    narrow window remains in which one of two writers' changes can be lost, which the next run repairs. Details in
    the collection's C(docs/dhcp.md).
  - A batch takes the lock once; two batches at once are serialised like two single runs (see C(docs/dhcp.md)).
  - Kea's C(config-write) rewrites the configuration file in Kea's own format (comments are lost) and keeps the file's mode.
    The file holds any CHAP secret, so keep it readable by root and Kea only.
seealso:
  - module: sanboot.iscsi.dhcp_reservation_info
  - plugin: sanboot.iscsi.root_path
    plugin_type: filter
  - name: Kea control agent
    link: https://kea.readthedocs.io/en/latest/arm/agent.html
    description: The REST API the kea backend uses.
  - name: RFC 4173, Bootstrapping Clients using the iSCSI Protocol
    link: https://www.rfc-editor.org/rfc/rfc4173
    description: The root path format (option 17).
"""

EXAMPLES = r"""
- name: Boot reservation for winboot01 (root path, initiator IQN, host name)
  sanboot.iscsi.dhcp_reservation:
    api_url: http://kea.example.com:8000/
    api_username: ansible
    api_password: "{{ kea_api_password }}"
    subnet: 10.77.0.0/24
    mac: 52:54:00:12:34:56
    ip: 10.77.0.60
    hostname: winboot01
    iscsi:
      server: 10.77.0.1
      target_iqn: iqn.2026-11.com.example:boot01
      lun: 1
      initiator_iqn: iqn.1991-05.com.microsoft:winboot01
  delegate_to: localhost
  register: boot_reservation
  # boot_reservation.root_path == 'iscsi:10.77.0.1:6:3260:1:iqn.2026-11.com.example:boot01'

- name: Same, with iPXE CHAP (DHCP sends the secret in clear text)
  sanboot.iscsi.dhcp_reservation:
    api_url: http://kea.example.com:8000/
    api_username: ansible
    api_password: "{{ kea_api_password }}"
    subnet_id: 1
    mac: 52-54-00-12-34-56
    ip: 10.77.0.60
    iscsi:
      server: 10.77.0.1
      target_iqn: iqn.2026-11.com.example:boot01
      initiator_iqn: iqn.1991-05.com.microsoft:winboot01
      chap:
        username: winboot01
        secret: "{{ winboot01_chap_secret }}"
  delegate_to: localhost

- name: Extra options next to the boot options
  sanboot.iscsi.dhcp_reservation:
    api_url: https://kea.example.com:8000/
    ca_path: /etc/pki/kea-ca.pem
    api_username: ansible
    api_password: "{{ kea_api_password }}"
    subnet: 10.77.0.0/24
    mac: 52:54:00:12:34:57
    ip: 10.77.0.61
    iscsi:
      server: 10.77.0.1
      target_iqn: iqn.2026-11.com.example:boot02
    options:
      - name: domain-name-servers
        data: 10.77.0.2, 10.77.0.3
      - code: 42
        data: 10.77.0.4
  delegate_to: localhost

- name: Move an address that another card held to this card
  sanboot.iscsi.dhcp_reservation:
    api_url: http://kea.example.com:8000/
    api_username: ansible
    api_password: "{{ kea_api_password }}"
    subnet: 10.77.0.0/24
    mac: 52:54:00:12:34:99
    ip: 10.77.0.60
    replace: true
  delegate_to: localhost

- name: Every reservation host of a group, with module_defaults for the connection
  module_defaults:
    group/sanboot.iscsi.dhcp:
      api_url: http://kea.example.com:8000/
      api_username: ansible
      api_password: "{{ kea_api_password }}"
  block:
    - name: Reserve the boot address of each server
      sanboot.iscsi.dhcp_reservation:
        subnet: 10.77.0.0/24
        mac: "{{ boot_mac }}"
        ip: "{{ boot_ip }}"
        hostname: "{{ inventory_hostname_short }}"
        iscsi:
          server: "{{ boot_portal }}"
          target_iqn: "{{ boot_target_iqn }}"
          initiator_iqn: "{{ boot_initiator_iqn }}"
      delegate_to: localhost

- name: The boot reservations of a rack in one task (one config-set on Kea 2.2)
  sanboot.iscsi.dhcp_reservation:
    api_url: http://kea.example.com:8000/
    api_username: ansible
    api_password: "{{ kea_api_password }}"
    subnet: 10.77.0.0/24
    reservations:
      - mac: 52:54:00:12:34:60
        ip: 10.77.0.70
        hostname: winboot10
        iscsi:
          server: 10.77.0.1
          target_iqn: iqn.2026-11.com.example:boot10
          initiator_iqn: iqn.1991-05.com.microsoft:winboot10
      - mac: 52:54:00:12:34:61
        ip: 10.77.0.71
        hostname: winboot11
        iscsi:
          server: 10.77.0.1
          target_iqn: iqn.2026-11.com.example:boot11
          initiator_iqn: iqn.1991-05.com.microsoft:winboot11
  delegate_to: localhost
  run_once: true
  register: rack_reservations

- name: Which entries changed
  ansible.builtin.debug:
    msg: "{{ rack_reservations.reservation_results | selectattr('changed') | map(attribute='reservation.mac') | list }}"
  run_once: true

- name: Remove the reservation of a decommissioned server
  sanboot.iscsi.dhcp_reservation:
    api_url: http://kea.example.com:8000/
    api_username: ansible
    api_password: "{{ kea_api_password }}"
    subnet: 10.77.0.0/24
    mac: 52:54:00:12:34:56
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
reservation_results:
  description:
    - With O(reservations), one entry per entry of O(reservations), in order, each exactly the result the single form
      (O(mac)) gives for it, RV(reservation), RV(root_path), C(changed), and in diff mode C(diff).
  returned: with O(reservations)
  type: list
  elements: dict
  version_added: 0.2.0
  sample:
    - changed: true
      root_path: "iscsi:10.77.0.1:6:3260:1:iqn.2026-11.com.example:boot10"
      reservation: {subnet: 10.77.0.0/24, subnet_id: 1, mac: "52:54:00:12:34:60", ip: 10.77.0.70, hostname: winboot10,
                    options: []}
reservation:
  description:
    - The reservation as the server holds it after the run (in check mode, as it would hold it), normalised;
      null when there is none (O(state=absent)).
    - CHAP secrets (option 191) show as C(********).
  returned: without O(reservations)
  type: dict
  contains:
    subnet:
      description: The subnet in CIDR notation.
      type: str
      sample: 10.77.0.0/24
    subnet_id:
      description: The server's id of the subnet.
      type: int
      sample: 1
    mac:
      description: Hardware address, lowercase with colons.
      type: str
      sample: "52:54:00:12:34:56"
    ip:
      description: The reserved address.
      type: str
      sample: 10.77.0.60
    hostname:
      description: Host name (option 12), or null.
      type: str
      sample: winboot01
    options:
      description:
        - The reservation's options, sorted by space and code, each with C(space), C(code), C(name) and C(data).
        - An option the server packs from sub-options (iPXE's 175) has empty C(data).
      type: list
      elements: dict
      sample:
        - {space: dhcp4, code: 17, name: root-path, data: "iscsi:10.77.0.1:6:3260:1:iqn.2026-11.com.example:boot01"}
        - {space: dhcp4, code: 203, name: iscsi-initiator-iqn, data: "iqn.1991-05.com.microsoft:winboot01"}
  sample:
    subnet: 10.77.0.0/24
    subnet_id: 1
    mac: "52:54:00:12:34:56"
    ip: 10.77.0.60
    hostname: winboot01
    options:
      - {space: dhcp4, code: 17, name: root-path, data: "iscsi:10.77.0.1:6:3260:1:iqn.2026-11.com.example:boot01"}
root_path:
  description: The root path (option 17) built from O(iscsi); null without O(iscsi).
  returned: without O(reservations)
  type: str
  sample: "iscsi:10.77.0.1:6:3260:1:iqn.2026-11.com.example:boot01"
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.core import DhcpError, run_reservation
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.boot_options import CLEARTEXT_WARNING
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.argspec import batch_item_spec, connection_argument_spec
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.registry import BACKENDS
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.backends.kea.client import HAS_REQUESTS, REQUESTS_IMPORT_ERROR


def main():
    argument_spec = dict(
        connection_argument_spec(),
        mac=dict(type="str"),
        ip=dict(type="str"),
        hostname=dict(type="str"),
        subnet=dict(type="str"),
        subnet_id=dict(type="int"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        iscsi=dict(type="dict", options=dict(
            target_iqn=dict(type="str"),
            server=dict(type="str"),
            port=dict(type="raw"),
            lun=dict(type="raw"),
            protocol=dict(type="raw"),
            initiator_iqn=dict(type="str"),
            chap=dict(type="dict", options=dict(
                username=dict(type="str", required=True),
                secret=dict(type="str", required=True, no_log=True),
            )),
        )),
        options=dict(type="list", elements="dict", default=[], options=dict(
            code=dict(type="raw"),
            name=dict(type="str"),
            data=dict(type="raw"),
            space=dict(type="str", default="dhcp4"),
        )),
        replace=dict(type="bool", default=False),
        persist=dict(type="bool", default=True),
    )
    argument_spec["reservations"] = dict(type="list", elements="dict", options=batch_item_spec(argument_spec))
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        # One reservation (mac and its options) or a batch (reservations): never both. The subnet and, for
        # state=present, the address are checked by the core (an entry of a batch may take them from the top level).
        mutually_exclusive=[("mac", "reservations")],
        required_one_of=[("mac", "reservations")],
    )
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    entries = module.params.get("reservations") or [module.params]
    if any((entry.get("iscsi") or {}).get("chap") for entry in entries):
        module.warn(CLEARTEXT_WARNING)
    try:
        result = run_reservation(module.params, BACKENDS, check_mode=module.check_mode)
    except DhcpError as exc:
        module.fail_json(msg=str(exc))
    for warning in result.pop("warnings", []):
        module.warn(warning)
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    else:
        for entry in result.get("reservation_results", []):
            entry.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
