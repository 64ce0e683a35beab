# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""switch_portfast's device glue for the platforms no double runs for end to end (NX-OS, EOS,
Junos, OS10): which cliconf calls it makes, in which form, and what it does with the answers.
The IOS path runs for real through network_cli against the IOS CLI test double
(tests/integration/test_switch_portfast.py); Open vSwitch runs for real there too."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.sanboot.iscsi.plugins.module_utils.switch.portfast import SwitchPortfastError
from ansible_collections.sanboot.iscsi.plugins.module_utils.switch.device import (
    COMMIT_COMMENT,
    JUNOS_SHOW,
    OvsSwitch,
    device_answer,
    run,
)

FIXTURES = Path(__file__).parent / "fixtures" / "switch_portfast"


class DeviceRefused(Exception):
    """What ansible.module_utils.connection.ConnectionError carries: the device's answer, as network_cli passes it."""


class RecordedCliconf:
    """TEST DOUBLE of the cliconf RPCs a module reaches through network_cli's Connection: answers
    recorded device output per command, refuses other commands the way network_cli reports a
    device error, and records every call. get_config builds its command as the ios, nxos and eos
    cliconf plugins do ("show running-config " + flags)."""

    def __init__(self, answers, after_edit=None, refusal="% Invalid input detected at '^' marker."):
        self.answers = dict(answers)
        self.after_edit = after_edit or {}
        self.refusal = refusal
        self.calls = []

    def _answer(self, command):
        if command in self.answers:
            return self.answers[command]
        raise DeviceRefused(repr(("%s\r\n        ^\r\n%s\r\n\r\nswitch#" % (command, self.refusal)).encode()))

    def get_config(self, source="running", flags=None, format=None):
        command = ("show running-config " + " ".join(flags or [])).strip()
        self.calls.append(("get_config", command))
        return self._answer(command)

    def get(self, command=None, **kwargs):
        self.calls.append(("get", command))
        return self._answer(command)

    def edit_config(self, *args, **kwargs):
        self.calls.append(("edit_config", args, kwargs))
        self.answers.update(self.after_edit)
        return {"request": args[0], "response": []}

    def sent(self, kind):
        return [call for call in self.calls if call[0] == kind]


class FakeModule:
    """The parts of AnsibleModule that run() uses."""

    def __init__(self, check_mode=False, diff=False, socket_path="/tmp/fake.sock", **params):
        self.params = dict(interfaces=None, state="enabled", platform=None, trunk=False, bpduguard=None,
                           ios_syntax="auto", save=False, running_config=None, ovs_db=None)
        self.params.update(params)
        self.check_mode = check_mode
        self._diff = diff
        self._socket_path = socket_path
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


def sample(name):
    recorded = yaml.safe_load((FIXTURES / name).read_text())
    if "output_file" in recorded:
        return (FIXTURES / recorded["output_file"]).read_text()
    return recorded["output"]


NXOS_BEFORE = "\ninterface Ethernet1/5\n  description winboot01\n  switchport access vlan 120\n"
NXOS_AFTER = NXOS_BEFORE + "  spanning-tree port type edge trunk\n  spanning-tree bpduguard enable\n"


def run_with(device, **params):
    module = FakeModule(**params)
    return run(module, lambda socket_path: device, DeviceRefused), module


def test_nxos_reads_changes_saves_and_reads_back():
    device = RecordedCliconf({"show running-config interface Ethernet1/5": NXOS_BEFORE,
                              "copy running-config startup-config": "[########################################] 100%\n"
                                                                    "Copy complete."},
                             after_edit={"show running-config interface Ethernet1/5": NXOS_AFTER})
    result, _module = run_with(device, platform="nxos", interfaces=["Eth1/5"], trunk=True, bpduguard=True, save=True)
    commands = ["interface Ethernet1/5", "spanning-tree port type edge trunk", "spanning-tree bpduguard enable"]
    assert result["changed"] and result["commands"] == commands
    assert device.sent("edit_config") == [("edit_config", (commands,), {})]
    assert ("get", "copy running-config startup-config") in device.calls
    assert result["before"] == {"Ethernet1/5": {"portfast": False, "trunk": False, "bpduguard": False}}
    assert result["after"] == {"Ethernet1/5": {"portfast": True, "trunk": True, "bpduguard": True}}


def test_nxos_second_run_sends_nothing_and_does_not_save():
    device = RecordedCliconf({"show running-config interface Ethernet1/5": NXOS_AFTER})
    result, _module = run_with(device, platform="nxos", interfaces=["Ethernet1/5"], trunk=True, bpduguard=True,
                               save=True)
    assert not result["changed"] and result["commands"] == []
    assert device.sent("edit_config") == [] and [call for call in device.calls if "copy" in call[1]] == []


def test_check_mode_reads_but_sends_no_configuration_and_predicts_after():
    device = RecordedCliconf({"show running-config interface Ethernet1/5": NXOS_BEFORE})
    result, _module = run_with(device, platform="nxos", interfaces=["Ethernet1/5"], check_mode=True, diff=True)
    assert result["changed"] and result["commands"] == ["interface Ethernet1/5", "spanning-tree port type edge"]
    assert device.sent("edit_config") == []
    assert result["after"] == {"Ethernet1/5": {"portfast": True, "trunk": False, "bpduguard": False}}
    assert result["diff"] == {"before": result["before"], "after": result["after"]}


def test_unknown_interface_is_refused_with_the_devices_words_before_any_change():
    device = RecordedCliconf({"show running-config interface Ethernet1/5": NXOS_BEFORE},
                             refusal="Invalid range at '^' marker.")
    with pytest.raises(SwitchPortfastError) as error:
        run_with(device, platform="nxos", interfaces=["Ethernet1/5", "Ethernet1/99"])
    assert str(error.value) == ("interface Ethernet1/99: the device refused `show running-config interface "
                                "Ethernet1/99`: Invalid range at '^' marker.")
    assert device.sent("edit_config") == []


def test_eos_asks_for_interfaces_and_refuses_an_answer_without_the_block():
    device = RecordedCliconf({"show running-config interfaces Ethernet5": sample("eos_portfast.yml"),
                              "show running-config interfaces Ethernet6": ""})
    result, _module = run_with(device, platform="eos", interfaces=["Et5"], trunk=True, bpduguard=True)
    assert not result["changed"] and result["after"]["Ethernet5"]["portfast"]
    with pytest.raises(SwitchPortfastError, match=r"interface Ethernet6: the device showed no configuration block for "
                                                  r"it in answer to `show running-config interfaces Ethernet6`: \(nothing\)"):
        run_with(device, platform="eos", interfaces=["Et6"])


def test_os10_asks_directly_and_passes_commands_positionally():
    before = "!\ninterface ethernet1/1/5\n no shutdown\n switchport access vlan 120\n"
    command = "show running-configuration interface ethernet 1/1/5"
    device = RecordedCliconf({command: before, "write memory": ""},
                             after_edit={command: sample("os10_port_type_edge.yml")})
    result, _module = run_with(device, platform="os10", interfaces=["eth1/1/5"], bpduguard=True, save=True)
    # dellemc.os10's get_config ignores flags: the module must not rely on it.
    assert device.sent("get_config") == []
    # dellemc.os10's edit_config(command) and the others' edit_config(candidate): positional fits both.
    sent = ["interface ethernet 1/1/5", "spanning-tree port type edge", "spanning-tree bpduguard enable"]
    assert device.sent("edit_config") == [("edit_config", (sent,), {})]
    assert ("get", "write memory") in device.calls
    assert result["after"] == {"ethernet1/1/5": {"portfast": True, "trunk": True, "bpduguard": True}}


def test_junos_checks_the_interface_exists_and_commits_with_a_comment():
    before = "set protocols rstp interface ge-0/0/10 cost 2000\n"
    after = before + "set protocols rstp interface ge-0/0/10 edge\nset protocols layer2-control bpdu-block interface ge-0/0/10\n"
    device = RecordedCliconf({"show interfaces ge-0/0/10 terse": "ge-0/0/10   up    up", JUNOS_SHOW: before},
                             after_edit={JUNOS_SHOW: after})
    result, _module = run_with(device, platform="junos", interfaces=["ge-0/0/10"], bpduguard=True)
    assert device.calls[0] == ("get", "show interfaces ge-0/0/10 terse")
    sent = ["set protocols rstp interface ge-0/0/10 edge", "set protocols layer2-control bpdu-block interface ge-0/0/10"]
    assert device.sent("edit_config") == [("edit_config", (sent, True, None, COMMIT_COMMENT), {})]
    assert result["after"] == {"ge-0/0/10": {"portfast": True, "trunk": True, "bpduguard": True}}


def test_junos_unknown_interface_shows_the_junos_error():
    device = RecordedCliconf({JUNOS_SHOW: ""}, refusal="error: device ge-0/0/99 not found")
    with pytest.raises(SwitchPortfastError, match="interface ge-0/0/99: the device refused `show interfaces ge-0/0/99 "
                                                  "terse`: error: device ge-0/0/99 not found"):
        run_with(device, platform="junos", interfaces=["ge-0/0/99"])


def test_a_device_that_does_not_take_the_change_fails_the_task():
    device = RecordedCliconf({"show running-config interface Ethernet1/5": NXOS_BEFORE})
    with pytest.raises(SwitchPortfastError, match="the device accepted .* but still shows"):
        run_with(device, platform="nxos", interfaces=["Ethernet1/5"])


def test_ios_auto_uses_the_edge_keyword_when_the_device_does():
    device = RecordedCliconf({"show running-config interface GigabitEthernet1/0/10": "interface GigabitEthernet1/0/10\n",
                              "show running-config | include portfast": " spanning-tree portfast edge\n"})
    result, _module = run_with(device, platform="ios", interfaces=["Gi1/0/10"], check_mode=True)
    assert result["commands"] == ["interface GigabitEthernet1/0/10", "spanning-tree portfast edge"]


def test_a_cli_platform_without_network_cli_is_refused_clearly():
    with pytest.raises(SwitchPortfastError, match="set connection: ansible.netcommon.network_cli"):
        run_with(RecordedCliconf({}), platform="ios", interfaces=["Gi1/0/1"], socket_path=None)


def test_rendered_and_parsed_need_no_connection():
    result, _module = run_with(None, platform="os10", interfaces=["eth1/1/5"], state="rendered", socket_path=None)
    assert result == {"changed": False, "commands": ["interface ethernet 1/1/5", "spanning-tree port type edge"]}
    result, _module = run_with(None, platform="os10", state="parsed", running_config=sample("os10_port_type_edge.yml"),
                               socket_path=None)
    everything = {"portfast": True, "trunk": True, "bpduguard": True}
    assert result == {"changed": False, "parsed": {"ethernet1/1/5": everything}}


@pytest.mark.parametrize("raw, expected", [
    (repr(b"show running-config interface Gi1/0/99\r\n        ^\r\n% Invalid input detected at '^' marker.\r\n\r\nsw1#"),
     "% Invalid input detected at '^' marker."),
    ("error: device ge-0/0/99 not found\n\n{master:0}\nadmin@ex1> ", "error: device ge-0/0/99 not found"),
])
def test_device_answer_keeps_only_the_devices_words(raw, expected):
    assert device_answer(raw, "show running-config interface Gi1/0/99") == expected


class RecordedOvsVsctl:
    """TEST DOUBLE of AnsibleModule.run_command for ovs-vsctl: recorded JSON answers of Open vSwitch
    3.1.0 (the formats captured for ovs_list_port_json.yml), keyed by the arguments after --db."""

    def __init__(self, answers):
        self.answers = answers
        self.argv = []

    def __call__(self, argv):
        self.argv.append(argv)
        return 0, self.answers[" ".join(argv[2:])], ""


def test_ovs_warns_when_the_bridge_does_not_run_rstp():
    ports = ('{"data":[[["uuid","288db6fb-aca3-4756-8c13-cc78e19ac64c"],"vnet-a"],'
             '[["uuid","4375e54e-16dc-4e31-8b1a-51b67c6b1c0f"],"vnet-b"],'
             '[["uuid","5283dd9a-8071-4473-904d-207ea49d2e80"],"vnet-c"]],"headings":["_uuid","name"]}')
    # One bridge with RSTP, one with classic STP (a one-port set is written as a bare uuid), one with none.
    bridges = ('{"data":[["br-rstp",["uuid","288db6fb-aca3-4756-8c13-cc78e19ac64c"],true,false],'
               '["br-stp",["set",[["uuid","4375e54e-16dc-4e31-8b1a-51b67c6b1c0f"]]],false,true],'
               '["br-none",["uuid","5283dd9a-8071-4473-904d-207ea49d2e80"],false,false]],'
               '"headings":["name","ports","rstp_enable","stp_enable"]}')
    run_command = RecordedOvsVsctl({"--format=json --columns=_uuid,name list port": ports,
                                    "--format=json --columns=name,ports,rstp_enable,stp_enable list bridge": bridges})
    switch = OvsSwitch(run_command, "/usr/bin/ovs-vsctl", "unix:/tmp/lab/db.sock")
    warnings = switch.warnings(["vnet-a", "vnet-b", "vnet-c"])
    assert len(warnings) == 2
    assert warnings[0].startswith("port vnet-b is on bridge br-stp, which runs classic STP (stp_enable=true)")
    assert warnings[1].startswith("port vnet-c is on bridge br-none, which runs no spanning tree")
    assert all(argv[:2] == ["/usr/bin/ovs-vsctl", "--db=unix:/tmp/lab/db.sock"] for argv in run_command.argv)


def test_a_rack_on_one_switch_is_one_read_of_the_running_configuration():
    """From BULK_READ interfaces on, the whole running configuration is read once (verify_boot_chain checks a
    rack's ports with one read per switch); an interface it does not show is asked for alone, in the device's words."""
    interfaces = ["Ethernet1/%d" % number for number in range(1, 6)]
    full = "".join("\ninterface Ethernet1/%d\n  switchport access vlan 120\n%s" % (
        number, "  spanning-tree port type edge\n" if number % 2 else "") for number in range(1, 6))
    device = RecordedCliconf({"show running-config": full})
    result, _module = run_with(device, interfaces=interfaces, platform="nxos", check_mode=True)
    assert device.calls[0] == ("get_config", "show running-config")
    assert [call for call in device.calls if call[0] == "get_config"] == [("get_config", "show running-config")]
    assert {name: state["portfast"] for name, state in result["before"].items()} == {
        "Ethernet1/%d" % number: bool(number % 2) for number in range(1, 6)}
    missing = RecordedCliconf({"show running-config": full})
    with pytest.raises(SwitchPortfastError) as caught:
        run_with(missing, interfaces=interfaces + ["Ethernet1/48"], platform="nxos", check_mode=True)
    assert str(caught.value).startswith("interface Ethernet1/48: the device refused `show running-config interface "
                                        "Ethernet1/48`")


def test_ovs_reads_every_port_in_one_call_and_names_a_missing_one():
    listing = ('{"data":[["p1",["map",[["rstp-port-admin-edge","true"]]]],["p2",["map",[]]]],'
               '"headings":["name","other_config"]}')
    run_command = RecordedOvsVsctl({"--format=json --columns=name,other_config list port p1 p2": listing})
    configs = OvsSwitch(run_command, "/usr/bin/ovs-vsctl", "unix:/tmp/lab/db.sock").read(["p1", "p2"])
    assert {name: config.state()["portfast"] for name, config in configs.items()} == {"p1": True, "p2": False}
    assert len(run_command.argv) == 1
