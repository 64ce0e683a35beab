# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every EXAMPLES block of the collection's modules, filters and tests, as ansible-doc shows it to
users: syntax-checked by ansible-playbook, and run where something real (or a test double) can
answer it here.

What runs, and against what:
- the filters and tests that need no Windows host: on localhost, with the variables each example
  expects supplied below;
- switch_portfast's `rendered` and `parsed` examples (no device needed), warn;
- san_volume and san_volume_info: against a real tgtd of the test's own, the examples unchanged
  except that the test's module_defaults point the san action group at that tgtd (merged into the
  module_defaults an example sets for that group itself); san_volume's Pure FlashArray example
  against the FlashArray test double (labkit/purefa.py), its address and CA pointed at the double.
- redfish_iscsi_boot and redfish_iscsi_boot_info: against the Redfish BMC test double
  (labkit/redfish.py), one emulated BMC per BMC the examples name, with the MAC, user and vendor
  behaviour (Dell for the iDRAC) they describe; the examples unchanged except that each BMC's
  address and CA point at its double.
What is only syntax-checked, and why: examples that need a Windows host's probe output (the
win_*_plan filters), a named Kea server (dhcp_reservation*, whose examples carry their own
api_url), or a network device (switch_portfast's device examples).
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

import labkit
from labkit import purefa, redfish, tgt

PLUGIN_TYPES = {"module": "plugins/modules", "filter": "plugins/filter", "test": "plugins/test"}
# Per-plugin variables an example expects to exist, as a playbook around it would provide them.
EXAMPLE_VARS = {
    "boot_chain_table": {"verify_rows": []},
    "parse_root_path": {"served_root_path": "iscsi:10.0.0.5:6:3260:1:iqn.2001-05.com.example:boot01"},
    "windows_input_errors": {"win_iscsi_initiator_iqn": "iqn.1991-05.com.microsoft:winboot01"},
    "iqn": {"boot_target_iqn": "iqn.2001-05.com.example:boot01"},
    "warn": {"pagefile_reboot_required": True},
}
HOST_VARS = {
    "boot_chain_mismatches": {"sanboot_verify_observation": {}},
}
SYNTAX_ONLY = {"win_dhcp_boot_plan", "win_iscsi_initiator_plan", "win_pagefile_plan", "win_shutdown_script_plan",
               "win_sysprep_image_plan",
               "dhcp_reservation", "dhcp_reservation_info"}
SAN_VARS = {"vault_winboot01_chap_secret": "SbtSecretAa123", "boot_chap_secret": "SbtSecretBb456",
            "san_mutual_chap_secret": "SbtMutualCc789", "boot_initiator_iqn": "iqn.1991-05.com.microsoft:winboot01"}


def plugin_names(kind):
    return sorted(path.stem for path in (labkit.REPO / PLUGIN_TYPES[kind]).glob("*.py") if path.stem != "__init__")


@pytest.fixture(scope="module")
def examples(repo):
    """(kind, name) -> the list of tasks of its EXAMPLES, as ansible-doc gives them."""
    found = {}
    environment = labkit.ansible_env()
    environment.pop("ANSIBLE_COLLECTIONS_PATH")  # the checkout's ansible.cfg says where collections are
    for kind in PLUGIN_TYPES:
        names = plugin_names(kind)
        result = subprocess.run([str(labkit.VENV_BIN / "ansible-doc"), "--json", "-t", kind]
                                + ["sanboot.iscsi." + name for name in names], cwd=str(repo), env=environment,
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        docs = json.loads(result.stdout)
        for name in names:
            text = docs["sanboot.iscsi." + name].get("examples") or ""
            tasks = yaml.safe_load(text)
            assert isinstance(tasks, list) and tasks, "sanboot.iscsi.%s (%s) has no EXAMPLES tasks" % (name, kind)
            found[(kind, name)] = tasks
    return found


def play(name, tasks, variables=None):
    return {"name": "EXAMPLES of %s" % name, "hosts": "all", "gather_facts": False, "vars": variables or {},
            "tasks": tasks}


def test_every_plugin_has_examples_and_they_pass_the_syntax_check(examples, workdir, run_tool):
    plays = [play("sanboot.iscsi.%s (%s)" % (name, kind), tasks) for (kind, name), tasks in sorted(examples.items())]
    assert {name for _kind, name in examples} >= set(plugin_names("module")) | set(plugin_names("filter"))
    playbook = workdir / "examples.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    result = run_tool("ansible-playbook", "--syntax-check", "-i", "localhost,", playbook)
    if result.returncode != 0:  # name the plugin whose examples are wrong
        for one in plays:
            playbook.write_text(yaml.safe_dump([one], sort_keys=False))
            single = run_tool("ansible-playbook", "--syntax-check", "-i", "localhost,", playbook)
            assert single.returncode == 0, "%s: %s" % (one["name"], single.stderr or single.stdout)
    assert result.returncode == 0, result.stderr


def run_plays(run_tool, workdir, plays, inventory, extra=None):
    playbook = workdir / "run-examples.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    hosts = workdir / "hosts.yml"
    hosts.write_text(yaml.safe_dump(inventory))
    arguments = ["-v", "-i", hosts, playbook]  # -v: each task's result, to check what the examples return
    if extra:
        (workdir / "extra.json").write_text(json.dumps(extra))
        arguments += ["-e", "@%s" % (workdir / "extra.json")]
    # Run where the playbook is (its relative lookups), with the checkout's collections.
    return run_tool("ansible-playbook", *arguments, cwd=workdir, env={"ANSIBLE_COLLECTIONS_PATH": str(labkit.COLLECTIONS)})


LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": str(labkit.VENV_BIN / "python")}


def test_filter_test_and_controller_examples_run(examples, workdir, run_tool):
    plays = []
    inventory_vars = dict(LOCAL)
    for (kind, name), tasks in sorted(examples.items()):
        if name in SYNTAX_ONLY or kind == "module" and name not in ("warn", "switch_portfast"):
            continue
        if name == "switch_portfast":
            tasks = [task for task in tasks if task["sanboot.iscsi.switch_portfast"].get("state") in ("rendered", "parsed")]
        inventory_vars.update(HOST_VARS.get(name, {}))
        plays.append(play("sanboot.iscsi.%s" % name, tasks, EXAMPLE_VARS.get(name)))
    # switch_portfast's parsed example reads a saved NX-OS configuration from backups/.
    (workdir / "backups").mkdir()
    (workdir / "backups" / "leaf1-eth1-5.txt").write_text(
        "interface Ethernet1/5\n  switchport mode trunk\n  spanning-tree port type edge trunk\n"
        "  spanning-tree bpduguard enable\n")
    result = run_plays(run_tool, workdir, plays, {"all": {"hosts": {"localhost": inventory_vars}}})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    assert "failed=0" in result.stdout
    assert "iscsi:10.0.0.5:6:3260:1:iqn.2001-05.com.example:boot01" in result.stdout
    assert "spanning-tree portfast edge trunk" in result.stdout
    assert "needs a restart before the pagefile settings are in use" in result.stdout + result.stderr


def with_defaults(tasks, group, defaults):
    """The tasks with defaults merged into each module_defaults of group they set themselves (an inner
    module_defaults replaces the play's for that group, so the test's connection must be in it too)."""
    merged = []
    for task in tasks:
        task = dict(task)
        if group in (task.get("module_defaults") or {}):
            task["module_defaults"] = dict(task["module_defaults"], **{group: dict(task["module_defaults"][group], **defaults)})
        if "block" in task:
            task["block"] = with_defaults(task["block"], group, defaults)
        merged.append(task)
    return merged


def test_san_examples_run_against_a_real_tgtd(examples, root, cleanup, workdir, run_tool):
    tgtd = tgt.start_tgtd(cleanup, workdir)
    # Options of both SAN modules go to the action group; storage_dir is san_volume's alone.
    defaults = {"tgt_control_port": tgtd.control_port, "config_dir": str(workdir / "conf.d")}
    module_defaults = {"group/sanboot.iscsi.san": defaults, "sanboot.iscsi.san_volume": {"storage_dir": str(workdir / "storage")}}
    inventory = {"all": {"hosts": {"winboot01": dict(LOCAL, ansible_become=False),
                                   "san01.example.com": dict(LOCAL, ansible_become=False)}}}

    def san_play(name, tasks):
        return {"name": name, "hosts": "winboot01", "gather_facts": False, "module_defaults": module_defaults,
                "tasks": with_defaults(tasks, "group/sanboot.iscsi.san", defaults)}

    # san_volume's examples clone the golden image 'golden-2022', which a site has made before.
    golden = {"name": "the golden image the examples clone", "sanboot.iscsi.san_volume": {
        "name": "golden-2022", "size": "64M", "target_prefix": "iqn.2026-11.com.example.san",
        "initiators": ["iqn.2026-11.com.example:imaging"]}, "delegate_to": "san01.example.com"}
    # The FlashArray example runs against the FlashArray test double (every request validated against Pure's API description).
    array = purefa.start_array(cleanup, workdir)
    pure_vars = {"flasharray_api_url": array.url, "vault_flasharray_api_token": array.api_token,
                 "flasharray_ca_path": str(array.ca_path)}
    result = run_plays(run_tool, workdir, [san_play("san_volume EXAMPLES", [golden] + examples[("module", "san_volume")])],
                       inventory, extra=dict(SAN_VARS, **pure_vars))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    assert "failed=0" in result.stdout
    assert array.violations == [] and array.tokens == {}
    assert array.connections == [{"host": "winboot01", "volume": "winboot01", "lun": 1}]
    assert array.api_token not in result.stdout + result.stderr
    # The example's portal has no port: the module fills in the port the target listens on.
    assert "iscsi:10.0.0.5:6:%s:1:iqn.2026-11.com.example.san:winboot01" % tgtd.portal.rsplit(":", 1)[1] in result.stdout
    names = {line.split()[2] for line in tgtd.show_targets().splitlines() if line.startswith("Target ")}
    assert "iqn.2026-11.com.example.san:winboot01" not in names  # the retire example removed it
    assert {"iqn.2026-11.com.example.san:winboot01-data", "iqn.2026-11.com.example.san:golden-2022"} <= names

    # san_volume_info's examples check that a server booted from its volume: one is logged in now.
    # (The retire example kept its data, grown to 80G: the volume comes back on it, never smaller.)
    boot_volume = {"name": "winboot01's boot volume", "sanboot.iscsi.san_volume": {
        "name": "winboot01", "size": "80G", "target_prefix": "iqn.2026-11.com.example.san",
        "initiators": [SAN_VARS["boot_initiator_iqn"]]}, "delegate_to": "san01.example.com"}
    before = run_plays(run_tool, workdir, [san_play("boot volume", [boot_volume])], inventory, extra=SAN_VARS)
    assert before.returncode == 0, before.stdout[-4000:]
    session = tgt.QemuSession(cleanup, workdir, tgtd.portal, "iqn.2026-11.com.example.san:winboot01", 1,
                              SAN_VARS["boot_initiator_iqn"])
    session.command("read 0 512", r"read 512/512 bytes")
    info = run_plays(run_tool, workdir, [san_play("san_volume_info EXAMPLES", examples[("module", "san_volume_info")])],
                     inventory, extra=SAN_VARS)
    assert info.returncode == 0, info.stdout[-4000:] + info.stderr
    assert "failed=0" in info.stdout and "All assertions passed" in info.stdout
    for secret in (SAN_VARS["vault_winboot01_chap_secret"], SAN_VARS["boot_chap_secret"], SAN_VARS["san_mutual_chap_secret"]):
        assert secret not in result.stdout + result.stderr + info.stdout + info.stderr


# The BMCs the redfish examples name: address -> (profile, the MAC of the NIC the example configures, user, password).
EXAMPLE_BMCS = {
    "bmc-winboot01.example.com": ("dmtf", "00:1b:21:3a:4f:10", "ansible", "SbtExampleBmc1"),
    "idrac-winboot02.example.com": ("dell", "00:1b:21:3a:4f:12", "root", "SbtExampleIdrac2"),
    "bmc-old01.example.com": ("lenovo", "00:1b:21:3a:4f:99", "ansible", "SbtExampleBmc1"),
}
BMC_VARS = {"vault_bmc_password": "SbtExampleBmc1", "vault_idrac_password": "SbtExampleIdrac2",
            "vault_chap_secrets": {"winboot01": "SbtExampleChap1"}}


def test_bmc_examples_run_against_the_redfish_test_double(examples, cleanup, workdir, run_tool):
    bmcs = {address: redfish.RedfishBmc.start(cleanup, workdir, profile=profile, mac=mac, username=user,
                                              password=password, name=address.split(".", maxsplit=1)[0])
            for address, (profile, mac, user, password) in EXAMPLE_BMCS.items()}
    ca_path = str(next(iter(bmcs.values())).ca_path)

    def at_double(tasks):
        pointed = []
        for task in tasks:
            task = dict(task)
            for module in ("sanboot.iscsi.redfish_iscsi_boot", "sanboot.iscsi.redfish_iscsi_boot_info"):
                if module in task:
                    arguments = dict(task[module])
                    if arguments.get("baseuri") in bmcs:
                        arguments["baseuri"] = bmcs[arguments["baseuri"]].url.split("://", 1)[1]
                    if "ca_path" in arguments:
                        arguments["ca_path"] = ca_path
                    task[module] = arguments
            pointed.append(task)
        return with_defaults(pointed, "group/sanboot.iscsi.bmc", {"ca_path": ca_path})

    winboot01 = bmcs["bmc-winboot01.example.com"]
    host_vars = dict(LOCAL, sanboot_bmc_address=winboot01.url.split("://", 1)[1], sanboot_mac="00:1b:21:3a:4f:10",
                     sanboot_initiator_iqn="iqn.1991-05.com.microsoft:winboot01.example.com",
                     sanboot_target_iqn="iqn.2026-11.com.example.san01:winboot01")
    plays = [{"name": "%s EXAMPLES" % name, "hosts": "localhost", "gather_facts": False,
              "module_defaults": {"group/sanboot.iscsi.bmc": {"ca_path": ca_path}},
              "tasks": at_double(examples[("module", name)])}
             for name in ("redfish_iscsi_boot", "redfish_iscsi_boot_info")]
    result = run_plays(run_tool, workdir, plays, {"all": {"hosts": {"localhost": host_vars}}}, extra=BMC_VARS)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    assert "failed=0" in result.stdout
    # What the examples say they do is what the NICs hold.
    boot = winboot01.applied(mac="00:1b:21:3a:4f:10")
    assert boot["BootMode"] == "iSCSI" and boot["iSCSIBoot"]["CHAPSecret"] == "SbtExampleChap1"
    assert boot["iSCSIBoot"]["PrimaryTargetName"] == "iqn.2026-11.com.example.san01:winboot01"
    assert '"msg": "iqn.2026-11.com.example.san01:winboot01"' in result.stdout  # the info example's debug
    idrac = bmcs["idrac-winboot02.example.com"]
    boot = idrac.applied(mac="00:1b:21:3a:4f:12")["iSCSIBoot"]
    assert idrac.state.resets == ["GracefulRestart"] and not idrac.staged()
    assert (boot["InitiatorIPAddress"], boot["PrimaryVLANId"], boot["PrimaryLUN"]) == ("10.20.0.102", 120, 1)
    assert bmcs["bmc-old01.example.com"].applied(mac="00:1b:21:3a:4f:99")["BootMode"] != "iSCSI"
    for secret in ("SbtExampleChap1", "SbtExampleBmc1", "SbtExampleIdrac2"):
        assert secret not in result.stdout + result.stderr
