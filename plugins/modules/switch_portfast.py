#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: switch_portfast
short_description: Spanning-tree portfast (edge port) on the switch port of an iSCSI boot server
version_added: 0.1.0
author: sanboot.iscsi contributors (@sanboot)
description:
  - Makes the switch ports of a server that boots from an iSCSI SAN spanning-tree edge ports
    (Cisco I(portfast)), and optionally adds BPDU guard. Without it spanning tree holds a new link
    in listening and learning for about 30 seconds, and the boot ROM's DHCP request and iSCSI TCP
    connection time out before the port forwards.
  - Works on Cisco IOS and IOS-XE, Cisco NX-OS, Arista EOS, Juniper Junos and Dell OS10 through the
    C(ansible.netcommon.network_cli) connection and the platform's cliconf plugin, and on Open vSwitch
    with C(ovs-vsctl) on the host that runs it.
  - Reads each interface's configuration first and sends only the difference. Every equivalent form
    counts as configured, so a port that already has C(spanning-tree portfast edge) or
    C(spanning-tree port type edge trunk) is left alone. Removal negates the exact line the device shows.
  - After a change it reads the configuration again and returns what the device now says in RV(after);
    if the device does not show the wanted state the task fails.
  - Per-platform syntax (access port / trunk port; BPDU guard)
  - C(ios) - C(spanning-tree portfast) or, with O(ios_syntax=portfast_edge), C(spanning-tree portfast edge);
    trunk C(spanning-tree portfast trunk) / C(spanning-tree portfast edge trunk); C(spanning-tree bpduguard enable).
  - C(nxos) - C(spanning-tree port type edge); trunk C(spanning-tree port type edge trunk); C(spanning-tree bpduguard enable).
  - C(eos) - C(spanning-tree portfast) for access and trunk ports; C(spanning-tree bpduguard enable).
  - C(junos) - C(set protocols rstp interface <if> edge) for access and trunk ports;
    C(set protocols layer2-control bpdu-block interface <if>).
  - C(os10) - C(spanning-tree port type edge) for access and trunk ports; C(spanning-tree bpduguard enable).
  - C(ovs) - C(other_config:rstp-port-admin-edge=true) on the port, for access and trunk ports; no BPDU guard.
options:
  interfaces:
    description:
      - The switch ports (Open vSwitch ports) of the server, as the platform names them.
      - Abbreviations are expanded where the platform accepts them, and results use the full name the platform
        prints in its configuration, for example C(Gi1/0/1) becomes C(GigabitEthernet1/0/1), C(Te1/1/1)
        C(TenGigabitEthernet1/1/1), C(Fa0/1) C(FastEthernet0/1) and C(Po10) C(Port-channel10) on IOS;
        C(Eth1/1) C(Ethernet1/1) and C(Po10) C(port-channel10) on NX-OS; C(Et1) C(Ethernet1) and C(Po10)
        C(Port-Channel10) on EOS; C(eth1/1/1) C(ethernet1/1/1) on OS10. Junos names (C(ge-0/0/1), C(xe-0/0/1),
        C(ae0)) are written without a logical unit. An ambiguous abbreviation is refused.
      - An interface the device does not know is refused with the device's own error, before anything is changed.
      - Required unless O(state=parsed); with O(state=parsed) it limits the result to these interfaces.
    type: list
    elements: str
  state:
    description:
      - V(enabled) makes the ports edge ports; V(disabled) removes every edge form the device shows for them.
      - V(rendered) returns in RV(commands) what V(enabled) writes, with no device and no connection needed.
      - V(parsed) reads O(running_config) and returns RV(parsed); no device is contacted.
    type: str
    choices: [enabled, disabled, rendered, parsed]
    default: enabled
  platform:
    description:
      - The switch operating system. When not set, it comes from C(ansible_network_os)
        (C(cisco.ios.ios), C(cisco.nxos.nxos), C(arista.eos.eos), C(junipernetworks.junos.junos),
        C(dellemc.os10.os10), or the short forms C(ios), C(nxos), C(eos), C(junos), C(os10)).
      - With O(state=enabled) or O(state=disabled) a platform that disagrees with C(ansible_network_os) is refused,
        because the connection would send one OS's commands to another.
      - V(ovs) is Open vSwitch on a Linux host; run the task on that host (C(ssh) or C(local) connection), not
        through network_cli.
      - V(os10) needs the C(dellemc.os10) collection for its cliconf and terminal plugins when a device is contacted;
        V(rendered) and V(parsed) work without it.
    type: str
    choices: [ios, nxos, eos, junos, os10, ovs]
  trunk:
    description:
      - Write the trunk form, for a server port that carries tagged VLANs. Only IOS and NX-OS have a separate
        trunk form (C(... trunk)); on EOS, Junos, OS10 and Open vSwitch the one form covers trunk ports and
        this option changes nothing.
      - A trunk form already configured also satisfies O(trunk=false) (it makes the port an edge port in access
        mode too), so it is kept, never narrowed.
    type: bool
    default: false
  bpduguard:
    description:
      - V(true) adds BPDU guard (Junos BPDU block), which shuts the port if a switch is ever plugged into it;
        V(false) removes it; unset leaves it as it is.
      - Applies with O(state=enabled) and O(state=disabled) alike.
      - Open vSwitch has no BPDU guard, so V(true) is refused with O(platform=ovs).
    type: bool
  ios_syntax:
    description:
      - The IOS keyword for the edge line. V(portfast) writes C(spanning-tree portfast [trunk]),
        V(portfast_edge) writes C(spanning-tree portfast edge [trunk]), which releases with port types
        (IOS 15.2(2)E and later, IOS-XE) show and may require.
      - V(auto) uses the form the device already shows for these interfaces, else anywhere in its configuration
        (C(show running-config | include portfast)), else the classic V(portfast) form. With O(state=rendered)
        V(auto) renders the classic form.
      - Reading is not affected, every form is recognised on every release.
      - Any value other than V(auto) with a platform other than V(ios) is refused.
    type: str
    choices: [auto, portfast, portfast_edge]
    default: auto
  save:
    description:
      - After a change, save the running configuration to the startup configuration (IOS and OS10
        C(write memory), NX-OS and EOS C(copy running-config startup-config)).
      - Only runs when the task changed something, so a second run still reports no change.
      - On Junos every change is committed (a Junos candidate only takes effect by commit), with the comment
        C(sanboot.iscsi.switch_portfast); O(save) adds nothing there. The Open vSwitch database is persistent.
    type: bool
    default: false
  running_config:
    description:
      - With O(state=parsed), the text to read - the output of C(show running-config interface <if>) (IOS,
        NX-OS), C(show running-config interfaces <if>) (EOS), C(show running-configuration interface <if>)
        (OS10), C(show configuration protocols) or C(show configuration | display set) (Junos), or
        C(ovs-vsctl list port) / C(ovs-vsctl --format=json list port) (Open vSwitch). Several interfaces may be in one text.
      - Refused with any other state.
    type: str
  ovs_db:
    description:
      - The database C(ovs-vsctl) talks to (its C(--db) option), for example C(unix:/run/openvswitch/db.sock) or
        C(unix:/srv/lab/db.sock); unset means ovs-vsctl's default. Only with O(platform=ovs).
    type: str
extends_documentation_fragment:
  - sanboot.iscsi.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the configuration and returns the commands it would send; sends no configuration command.
  diff_mode:
    support: full
    details:
      - The diff shows RV(before) and RV(after) per interface.
  idempotent:
    support: full
  action:
    description: An action plugin of the same name runs on the controller first.
    support: full
    details:
      - It sets O(platform) from C(ansible_network_os) when O(platform) is not given, and refuses a mismatch,
        so the module never needs the device's C(show version) to learn its OS.
  platform:
    description: Target operating systems.
    support: full
    platforms: [ios, nxos, eos, junos, os10, ovs]
notes:
  - Global defaults (IOS C(spanning-tree portfast default), C(spanning-tree portfast bpduguard default), Junos
    C(bpdu-block-on-edge)) are not read or changed; the module configures each interface.
  - On IOS, NX-OS and OS10 the lines are applied one by one (as the CLI does); EOS applies them in a configuration
    session and Junos in one commit, Open vSwitch in one ovs-vsctl transaction. Every interface is read, and
    an unknown interface refused, before any change is sent. A re-run converges.
  - O(state=disabled) leaves C(spanning-tree portfast disable), C(portfast network) and C(port type network) lines
    alone; they are not edge forms.
  - Junos C(deactivate)d edge or bpdu-block statements count as not configured; O(state=enabled) activates them.
seealso:
  - name: Switch ports for iSCSI boot (docs/switch.md)
    description: Why portfast matters for iSCSI boot, the platform table, the forms recognised, the tests.
    link: https://github.com/sanboot/sanboot.iscsi/blob/main/docs/switch.md
  - module: ansible.netcommon.cli_config
"""

EXAMPLES = r"""
- name: Edge port and BPDU guard on the boot server's access port (platform from ansible_network_os cisco.ios.ios)
  sanboot.iscsi.switch_portfast:
    interfaces: [Gi1/0/10]
    bpduguard: true
    save: true

- name: Both ports of a teamed server carrying tagged VLANs on NX-OS
  sanboot.iscsi.switch_portfast:
    interfaces: [Eth1/5, Eth2/5]
    trunk: true

- name: Junos (committed with the comment sanboot.iscsi.switch_portfast)
  sanboot.iscsi.switch_portfast:
    interfaces: [ge-0/0/10]
    bpduguard: true

- name: Open vSwitch port on a Linux host, with a non-default database
  sanboot.iscsi.switch_portfast:
    platform: ovs
    interfaces: [vnet-winboot01]
    ovs_db: unix:/run/openvswitch/db.sock

- name: Take portfast off a port that now goes to another switch
  sanboot.iscsi.switch_portfast:
    interfaces: [GigabitEthernet1/0/48]
    state: disabled
    bpduguard: false

- name: Commands for a change request, without touching the switch
  sanboot.iscsi.switch_portfast:
    platform: ios
    interfaces: [Gi1/0/10, Gi1/0/11]
    ios_syntax: portfast_edge
    trunk: true
    bpduguard: true
    state: rendered
  register: change_request
  # change_request.commands:
  #   - interface GigabitEthernet1/0/10
  #   - spanning-tree portfast edge trunk
  #   - spanning-tree bpduguard enable
  #   - interface GigabitEthernet1/0/11
  #   - spanning-tree portfast edge trunk
  #   - spanning-tree bpduguard enable

- name: Audit saved configurations
  sanboot.iscsi.switch_portfast:
    platform: nxos
    state: parsed
    running_config: "{{ lookup('ansible.builtin.file', 'backups/leaf1-eth1-5.txt') }}"
  register: audit
  # audit.parsed: {"Ethernet1/5": {"portfast": true, "trunk": true, "bpduguard": true}}
"""

RETURN = r"""
commands:
  description:
    - The commands sent, or that would be sent in check mode, or with O(state=rendered) the commands for
      O(state=enabled). Empty when nothing needed to change.
    - Interface headers are included where the OS needs them; Junos commands are C(set)/C(delete)/C(activate)
      lines; Open vSwitch commands are C(ovs-vsctl) command lines (run as one transaction).
  returned: when state is enabled, disabled or rendered
  type: list
  elements: str
  sample: ["interface GigabitEthernet1/0/10", "spanning-tree portfast", "spanning-tree bpduguard enable"]
before:
  description: Each interface's state before the task, read from the device.
  returned: when state is enabled or disabled
  type: dict
  sample: {"GigabitEthernet1/0/10": {"portfast": false, "trunk": false, "bpduguard": false}}
after:
  description:
    - Each interface's state after the task, read back from the device after a change; in check mode, the state
      the change would give.
    - C(trunk) is true when the configured form also applies on a trunk port (IOS and NX-OS trunk forms; on
      EOS, Junos, OS10 and Open vSwitch whenever C(portfast) is true).
  returned: when state is enabled or disabled
  type: dict
  sample: {"GigabitEthernet1/0/10": {"portfast": true, "trunk": false, "bpduguard": true}}
parsed:
  description: With O(state=parsed), each interface found in O(running_config) (or each of O(interfaces)) and its state.
  returned: when state is parsed
  type: dict
  sample: {"Ethernet1/5": {"portfast": true, "trunk": true, "bpduguard": true}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.connection import Connection, ConnectionError

from ansible_collections.sanboot.iscsi.plugins.module_utils.switch.portfast import (
    IOS_SYNTAXES,
    PLATFORMS,
    STATES,
    SwitchPortfastError,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.switch.device import run


def main():
    module = AnsibleModule(
        argument_spec=dict(
            interfaces=dict(type="list", elements="str"),
            state=dict(type="str", choices=list(STATES), default="enabled"),
            platform=dict(type="str", choices=list(PLATFORMS)),
            trunk=dict(type="bool", default=False),
            bpduguard=dict(type="bool"),
            ios_syntax=dict(type="str", choices=list(IOS_SYNTAXES), default="auto"),
            save=dict(type="bool", default=False),
            running_config=dict(type="str"),
            ovs_db=dict(type="str"),
        ),
        required_if=[
            ("state", "enabled", ("interfaces",)),
            ("state", "disabled", ("interfaces",)),
            ("state", "rendered", ("interfaces",)),
            ("state", "parsed", ("running_config",)),
        ],
        supports_check_mode=True,
    )
    try:
        result = run(module, Connection, ConnectionError)
    except SwitchPortfastError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
