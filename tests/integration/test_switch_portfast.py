# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sanboot.iscsi.switch_portfast end to end.

IOS: real ansible-playbook -> ansible.netcommon.network_cli (libssh, user/password, cisco.ios
cliconf and terminal plugins) -> SSH -> the IOS CLI test double on 127.0.0.1; assertions read the
double's own running configuration and its log of every line it received.

Open vSwitch: a real ovsdb-server and ovs-vswitchd (userspace datapath) in a private directory
and network namespace; assertions read the port back with ovs-vsctl.
"""

from __future__ import annotations

import json

import pytest
import yaml

import labkit
from labkit.ios_double import IosCliDouble
from labkit.ovs import OpenVSwitch

PORT = "GigabitEthernet1/0/10"
SEED = {PORT: ["description winboot01 iSCSI boot", "switchport access vlan 120", "switchport mode access"]}
CONFIG_MODES = ("config", "config-if")


def playbook(workdir, tasks, hosts="switches"):
    """A play whose tasks each register `result`; every result is written to results.json in order."""
    steps = []
    for index, task in enumerate(tasks):
        task = dict(task)
        task.setdefault("ignore_errors", True)
        task["register"] = "result_%d" % index
        steps.append(task)
        keep = {"content": "{{ result_%d | to_json }}" % index, "dest": str(workdir / ("result_%d.json" % index))}
        steps.append({"name": "keep result %d" % index, "ansible.builtin.copy": keep, "delegate_to": "localhost",
                      "check_mode": False, "diff": False})
    path = workdir / "playbook.yml"
    path.write_text(yaml.safe_dump([{"name": "switch_portfast", "hosts": hosts, "gather_facts": False,
                                     "tasks": steps}], sort_keys=False))
    return path


def results(workdir, count):
    return [json.loads((workdir / ("result_%d.json" % index)).read_text()) for index in range(count)]


def ios_inventory(workdir, double, become=False):
    variables = {
        "ansible_host": double.host, "ansible_port": double.port,
        "ansible_connection": "ansible.netcommon.network_cli", "ansible_network_os": "cisco.ios.ios",
        "ansible_network_cli_ssh_type": "libssh", "ansible_host_key_checking": False,
        "ansible_user": double.user, "ansible_password": double.password,
    }
    if become:
        variables.update(ansible_become=True, ansible_become_method="ansible.netcommon.enable",
                         ansible_become_password=double.enable_secret)
    path = workdir / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {"switches": {"hosts": {"sw1": variables}}},
                                            "hosts": {"localhost": {"ansible_connection": "local",
                                                                    "ansible_python_interpreter":
                                                                        "{{ ansible_playbook_python }}"}}}}))
    return path


def run_play(run_tool, workdir, inventory, tasks, *options, hosts="switches"):
    path = playbook(workdir, tasks, hosts)
    completed = run_tool("ansible-playbook", "-i", inventory, path, *options)
    output = completed.stdout + completed.stderr
    assert "Traceback" not in output, output
    missing = [index for index in range(len(tasks)) if not (workdir / ("result_%d.json" % index)).exists()]
    assert not missing, "ansible-playbook kept no result for task(s) %s:\n%s" % (missing, output)
    return completed, results(workdir, len(tasks))


def config_commands(entries):
    """Lines typed in configuration mode, or that enter or change it."""
    return [entry["command"] for entry in entries
            if entry["mode"] in CONFIG_MODES or entry["command"].split()[:1] in (["configure"], ["write"])]


def portfast(**arguments):
    return {"name": "switch_portfast", "sanboot.iscsi.switch_portfast": arguments}


# --- IOS through network_cli ---------------------------------------------------------------------

def test_ios_enabled_writes_the_lines_and_a_second_run_changes_nothing(repo, run_tool, cleanup, workdir):
    double = IosCliDouble(cleanup, workdir, running=SEED)
    inventory = ios_inventory(workdir, double)
    task = portfast(interfaces=["Gi1/0/10"], bpduguard=True, save=True)
    completed, (first, second) = run_play(run_tool, workdir, inventory, [task, task])
    assert completed.returncode == 0, completed.stdout
    assert first["changed"] is True and not first.get("failed"), first
    assert first["commands"] == ["interface GigabitEthernet1/0/10", "spanning-tree portfast",
                                 "spanning-tree bpduguard enable"]
    assert first["before"] == {PORT: {"portfast": False, "trunk": False, "bpduguard": False}}
    assert first["after"] == {PORT: {"portfast": True, "trunk": False, "bpduguard": True}}
    # The device holds it, running and (save: true -> write memory) startup.
    assert double.running(PORT) == SEED[PORT] + ["spanning-tree portfast", "spanning-tree bpduguard enable"]
    assert double.startup(PORT) == double.running(PORT)
    assert second["changed"] is False and second["commands"] == [], second
    # Exactly one configuration session and one save, both from the first run.
    assert config_commands(double.commands()) == ["configure terminal", "interface GigabitEthernet1/0/10",
                                                  "spanning-tree portfast", "spanning-tree bpduguard enable", "end",
                                                  "write memory"]


def test_ios_check_mode_sends_no_configuration_command(repo, run_tool, cleanup, workdir):
    double = IosCliDouble(cleanup, workdir, running=SEED)
    inventory = ios_inventory(workdir, double)
    completed, (result,) = run_play(run_tool, workdir, inventory,
                                    [portfast(interfaces=[PORT], trunk=True, bpduguard=True)], "--check", "--diff")
    assert completed.returncode == 0, completed.stdout
    assert result["changed"] is True
    assert result["commands"] == ["interface GigabitEthernet1/0/10", "spanning-tree portfast trunk",
                                  "spanning-tree bpduguard enable"]
    assert result["diff"]["after"] == {PORT: {"portfast": True, "trunk": True, "bpduguard": True}}
    received = double.commands()
    assert [entry["command"] for entry in received if entry["command"].startswith("show running-config interface")]
    assert config_commands(received) == []
    assert double.running(PORT) == SEED[PORT]


def test_ios_disabled_removes_exactly_the_lines_the_device_shows(repo, run_tool, cleanup, workdir):
    seeded = {PORT: SEED[PORT] + ["spanning-tree portfast trunk", "spanning-tree bpduguard enable"]}
    double = IosCliDouble(cleanup, workdir, running=seeded)
    inventory = ios_inventory(workdir, double)
    completed, (result, again) = run_play(run_tool, workdir, inventory, [
        portfast(interfaces=[PORT], state="disabled", bpduguard=False),
        portfast(interfaces=[PORT], state="disabled", bpduguard=False)])
    assert completed.returncode == 0, completed.stdout
    assert result["changed"] is True
    assert result["commands"] == ["interface GigabitEthernet1/0/10", "no spanning-tree portfast trunk",
                                  "no spanning-tree bpduguard enable"]
    assert double.running(PORT) == SEED[PORT]
    assert result["after"] == {PORT: {"portfast": False, "trunk": False, "bpduguard": False}}
    assert again["changed"] is False


def test_ios_unknown_interface_fails_with_the_devices_error_and_changes_nothing(repo, run_tool, cleanup, workdir):
    double = IosCliDouble(cleanup, workdir, running=SEED)
    inventory = ios_inventory(workdir, double)
    completed, (result,) = run_play(run_tool, workdir, inventory, [portfast(interfaces=[PORT, "Gi1/0/99"])])
    assert result["failed"] is True
    assert result["msg"] == ("interface GigabitEthernet1/0/99: the device refused `show running-config interface "
                             "GigabitEthernet1/0/99`: % Invalid input detected at '^' marker.")
    assert config_commands(double.commands()) == []
    assert double.running(PORT) == SEED[PORT]


def test_ios_enable_mode_and_edge_release_recognised_and_secrets_not_shown(repo, run_tool, cleanup, workdir):
    """A user at `>` reaching `#` with enable (network_cli become), on a release that writes
    `portfast edge`: ios_syntax=auto follows the device, the edge form already on another port
    is recognised, and neither password appears in -vvv output."""
    seeded = dict(SEED, **{"GigabitEthernet1/0/11": ["spanning-tree portfast edge"]})
    double = IosCliDouble(cleanup, workdir, running=seeded, privilege=1, enable_secret="en-Secret-4711",
                          portfast_syntax="edge")
    inventory = ios_inventory(workdir, double, become=True)
    completed, (result,) = run_play(run_tool, workdir, inventory,
                                    [portfast(interfaces=["Gi1/0/10", "Gi1/0/11"])], "-vvv")
    assert completed.returncode == 0, completed.stdout
    assert result["commands"] == ["interface GigabitEthernet1/0/10", "spanning-tree portfast edge"]
    assert result["before"]["GigabitEthernet1/0/11"] == {"portfast": True, "trunk": False, "bpduguard": False}
    assert double.running(PORT) == SEED[PORT] + ["spanning-tree portfast edge"]
    received = [entry["command"] for entry in double.commands()]
    assert "enable" in received and "show privilege" in received
    output = completed.stdout + completed.stderr
    assert double.enable_secret not in output and double.password not in output


# --- Open vSwitch -------------------------------------------------------------------------------

@pytest.fixture
def ovs(root, cleanup, workdir):
    switch = OpenVSwitch(cleanup, workdir, netns=labkit.add_netns(cleanup, labkit.unique_name("ovs")))
    switch.add_bridge("br-boot")
    switch.add_port("br-boot", "vnet-boot01")
    return switch


def admin_edge(switch, port):
    return json.loads(switch.vsctl("--format=json", "--columns=other_config", "list", "port", port))["data"][0][0]


def test_ovs_admin_edge_set_read_back_idempotent_and_removed(repo, run_tool, ovs, workdir):
    inventory = workdir / "inventory.ini"
    inventory.write_text("localhost ansible_connection=local ansible_python_interpreter={{ ansible_playbook_python }}\n")
    enable = portfast(platform="ovs", interfaces=["vnet-boot01"], ovs_db=ovs.db)
    disable = portfast(platform="ovs", interfaces=["vnet-boot01"], ovs_db=ovs.db, state="disabled")
    refused = portfast(platform="ovs", interfaces=["no-such-port"], ovs_db=ovs.db)

    completed, (first, second, missing) = run_play(run_tool, workdir, inventory, [enable, enable, refused],
                                                   hosts="localhost")
    assert first["changed"] is True and not first.get("failed"), first
    assert first["commands"] == ["ovs-vsctl --db=%s set port vnet-boot01 other_config:rstp-port-admin-edge=true" % ovs.db]
    assert admin_edge(ovs, "vnet-boot01") == ["map", [["rstp-port-admin-edge", "true"]]]
    assert first["after"] == {"vnet-boot01": {"portfast": True, "trunk": True, "bpduguard": False}}
    assert second["changed"] is False and second["commands"] == []
    assert missing["failed"] is True
    assert missing["msg"] == ('interface no-such-port: Open vSwitch has no such port: ovs-vsctl: no row "no-such-port" '
                              'in table Port')

    completed, (removed, again) = run_play(run_tool, workdir, inventory, [disable, disable], hosts="localhost")
    assert removed["changed"] is True, removed
    assert admin_edge(ovs, "vnet-boot01") == ["map", []]
    assert again["changed"] is False


# --- no device: rendered, parsed, and what the action plugin refuses ----------------------------

def test_rendered_and_parsed_run_without_a_device_and_mismatches_are_refused(repo, run_tool, workdir):
    """Through ansible-playbook on localhost: os10 renders and parses although the dellemc.os10
    collection is not installed; the action plugin refuses a platform that contradicts
    ansible_network_os, and an ansible_network_os it does not support, before any module runs."""
    inventory = workdir / "inventory.ini"
    inventory.write_text("localhost ansible_connection=local ansible_python_interpreter={{ ansible_playbook_python }}\n")
    os10_config = "!\ninterface ethernet1/1/5\n no shutdown\n spanning-tree port type edge\n"
    with_ios = {"ansible_network_os": "cisco.ios.ios"}
    tasks = [
        portfast(platform="os10", interfaces=["eth1/1/5"], bpduguard=True, state="rendered"),
        portfast(platform="os10", state="parsed", running_config=os10_config),
        dict(portfast(platform="eos", interfaces=["Et5"]), vars=with_ios),
        dict(portfast(interfaces=["Et5"]), vars={"ansible_network_os": "vyos.vyos.vyos"}),
        portfast(interfaces=["Gi1/0/1"], state="rendered"),
        dict(portfast(interfaces=["Gi1/0/1"], state="rendered"), vars=with_ios),
    ]
    completed, (rendered, parsed, conflict, unsupported, no_platform, from_network_os) = run_play(
        run_tool, workdir, inventory, tasks, hosts="localhost")
    assert rendered["commands"] == ["interface ethernet 1/1/5", "spanning-tree port type edge",
                                    "spanning-tree bpduguard enable"]
    assert parsed["parsed"] == {"ethernet1/1/5": {"portfast": True, "trunk": True, "bpduguard": False}}
    assert conflict["failed"] and conflict["msg"].startswith(
        "platform eos conflicts with ansible_network_os cisco.ios.ios (platform ios)")
    assert unsupported["failed"] and unsupported["msg"].startswith(
        "unsupported platform: ansible_network_os vyos.vyos.vyos is not one of")
    assert no_platform["failed"] and "platform is required" in no_platform["msg"]
    assert from_network_os["commands"] == ["interface GigabitEthernet1/0/1", "spanning-tree portfast"]


def test_module_documentation_renders(repo, run_tool):
    result = run_tool("ansible-doc", "sanboot.iscsi.switch_portfast")
    assert result.returncode == 0, result.stderr
    words = " ".join(result.stdout.split())
    for text in ("spanning-tree port type edge trunk", "rstp-port-admin-edge", "ios_syntax", "EXAMPLES", "RETURN"):
        assert text in words
