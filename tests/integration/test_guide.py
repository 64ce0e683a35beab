# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every playbook of the guide (docs/guide/*.md): syntax-checked, and run where something real or a
test double can answer it, as a reader would run it against the example inventory.

A ```yaml block of a guide page that is a playbook (a list of plays) carries a marker, an HTML comment
on the line before it (invisible on GitHub and on the site), saying how it is tested:

    <!-- guide-test: run -->                    runs against "the site" below
    <!-- guide-test: run windows -->            runs against the Windows state simulator: a Windows Server
                                                2022 booted from iSCSI, shaped as the example's winboot01
    <!-- guide-test: run windows-dhcp -->       the simulator as a Windows DHCP Server (dhcp01)
    <!-- guide-test: run windows-reference -->  the simulator as the reference host, ready for Sysprep
    <!-- guide-test: syntax: <why> -->          only syntax-checked, for the reason given

A playbook block without a marker fails the test, so every new playbook of the guide is classified.
Every playbook block is syntax-checked with ansible-playbook --syntax-check against the example
inventory (playbooks/inventories/example, with its example vault password).

What runs, and against what ("the site"): the example inventory, unchanged in its names and
variables except for the addresses and credentials that point at this test's own components:
- san01 is the local host with a real tgtd (its own control port; backing files and config files in
  the test's directory); sanboot_portal is that tgtd's portal, so san_image writes through real iSCSI;
- Kea (kea-dhcp4 in a network namespace of the test's, serving 10.20.0.0/24, and its control agent on
  127.0.0.1) is the DHCP server;
- sw-access01 is the IOS CLI test double (tests/doubles/ios_cli_double.py), reached through the real
  network_cli and cisco.ios plugins; kvm01 is the local host with a private Open vSwitch;
- winboot02's BMC is the Redfish test double in its Dell iDRAC profile (tests/labkit/redfish.py);
- the Pure FlashArray examples run against the FlashArray test double (tests/labkit/purefa.py), which
  validates every request and response against Pure's published API description;
- windows_boot_servers is empty (no Windows runs here), as in the boot lab.
The golden volume the example inventory's servers clone (ws2022-golden) exists, empty, restricted to
the imaging initiator; a page marked `<!-- guide-test-setup: boot-luns -->` starts after the SAN stage
(provision_san) has made every server's boot LUN. Each page runs in a site of its own, its blocks in
the order the page gives them, as one playbook; then the test checks on the components that the
examples did what the page says, and that no secret appears in the output.

What only passes the syntax check, and why: no block today. The Windows examples run against the
Windows state simulator (a test double; what it does not cover is in docs/windows.md), never a real
Windows host; the real-host checks are the roles' `windows` molecule scenarios.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess

import pytest
import yaml

import labkit
from labkit import ios_double, kea, ovs, purefa, redfish, tgt
from labkit.winsim import SimulatedWindowsHost, load_state

GUIDE = labkit.REPO / "docs" / "guide"
EXAMPLE = labkit.REPO / "playbooks" / "inventories" / "example"
EXAMPLE_VAULT_PASSWORD = "example-vault-password-change-me"  # stated in the example's README
FENCE = re.compile(r"^```yaml\s*$")
MARKER = re.compile(r"^<!-- guide-test: (run(?: (windows|windows-dhcp|windows-reference))?|syntax: (.+)) -->$")
SETUP = "<!-- guide-test-setup: boot-luns -->"

# The secrets the guide's playbooks name (the vault's variables), here as extra variables.
SECRETS = {
    "vault_chap_secrets": {"winboot01": "SbtGuideChap01", "winboot02": "SbtGuideChap02"},
    "vault_chap_secrets_next": {"winboot02": "SbtGuideNext02"},
    "vault_san01_mutual_chap_secret": "SbtGuideMutual1",
    "vault_imaging_chap_secret": "SbtGuideImage01",
    "vault_clone_administrator_password": "SbtGuideAdmin01",
    "vault_winrm_password": "SbtGuideWinrm01",
}
SECRET_VALUES = ["SbtGuideChap01", "SbtGuideChap02", "SbtGuideNext02", "SbtGuideMutual1", "SbtGuideImage01",
                 "SbtGuideAdmin01"]
IMAGING_INITIATOR = "iqn.2026-11.com.example:imaging"
GOLDEN = "ws2022-golden"
TARGET_PREFIX = "iqn.2026-11.com.example.san01"
WINBOOT01_IQN = "iqn.1991-05.com.microsoft:winboot01.example.com"
WINBOOT02_MAC = "00:1b:21:3a:4f:12"


# --- the guide's blocks ----------------------------------------------------------------------------

class Block:
    def __init__(self, page, line, text, marker):
        self.page, self.line, self.text, self.marker = page, line, text, marker
        self.data = yaml.safe_load(text)

    @property
    def where(self):
        return "docs/guide/%s:%d" % (self.page, self.line)

    @property
    def is_playbook(self):
        return isinstance(self.data, list) and bool(self.data) and all(
            isinstance(play, dict) and ("hosts" in play or "ansible.builtin.import_playbook" in play
                                        or "import_playbook" in play) for play in self.data)

    @property
    def how(self):
        """'run', 'run windows', ..., or 'syntax'; None without a marker."""
        match = MARKER.match(self.marker or "")
        if not match:
            return None
        return "syntax" if match.group(3) else match.group(1)


def guide_blocks(page):
    lines = (GUIDE / page).read_text().splitlines()
    blocks, index = [], 0
    while index < len(lines):
        if FENCE.match(lines[index]):
            end = next(number for number in range(index + 1, len(lines)) if lines[number].startswith("```"))
            previous = next((lines[number] for number in range(index - 1, -1, -1) if lines[number].strip()), "")
            marker = previous.strip() if previous.strip().startswith("<!-- guide-test") else None
            blocks.append(Block(page, index + 1, "\n".join(lines[index + 1:end]) + "\n", marker))
            index = end
        index += 1
    return blocks


PAGES = sorted(path.name for path in GUIDE.glob("*.md"))
PLAYBOOKS = [block for page in PAGES for block in guide_blocks(page) if block.is_playbook]


def test_every_guide_playbook_carries_a_marker_saying_how_it_is_tested():
    assert PLAYBOOKS, "the guide has no playbook"
    unmarked = [block.where for block in PLAYBOOKS if block.how is None]
    assert not unmarked, "guide playbooks without a <!-- guide-test: ... --> marker: %s" % unmarked
    for page in PAGES:
        for block in guide_blocks(page):
            assert block.is_playbook or block.marker is None, "%s: a marker on a block that is no playbook" % block.where


@pytest.fixture
def vault_password_file(workdir):
    path = workdir / "vault-password"
    path.write_text(EXAMPLE_VAULT_PASSWORD + "\n")
    path.chmod(0o600)
    return path


def test_every_guide_playbook_passes_the_syntax_check_with_the_example_inventory(
        repo, run_tool, workdir, vault_password_file):
    files = []
    for number, block in enumerate(PLAYBOOKS):
        path = workdir / ("guide-%02d.yml" % number)
        path.write_text(block.text)
        files.append((block, path))
    # Run where the files are, with the checkout's collections (as an installed collection would be found).
    collections = {"ANSIBLE_COLLECTIONS_PATH": str(labkit.COLLECTIONS)}
    result = run_tool("ansible-playbook", "--syntax-check", "-i", EXAMPLE, "--vault-password-file",
                      vault_password_file, *[path for _block, path in files], cwd=workdir, env=collections)
    if result.returncode != 0:  # name the block
        for block, path in files:
            single = run_tool("ansible-playbook", "--syntax-check", "-i", EXAMPLE, "--vault-password-file",
                              vault_password_file, path, cwd=workdir, env=collections)
            assert single.returncode == 0, "%s: %s" % (block.where, single.stdout + single.stderr)
    assert result.returncode == 0, result.stdout + result.stderr


# --- the site the "run" blocks run against -------------------------------------------------------

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": str(labkit.VENV_BIN / "python")}


def example_inventory() -> dict:
    """The example inventory's hosts.yml with each group's group_vars/<group>/main.yml as its vars."""
    inventory = yaml.safe_load((EXAMPLE / "hosts.yml").read_text())
    groups = inventory["all"]["children"]
    for group_dir in (EXAMPLE / "group_vars").iterdir():
        main = group_dir / "main.yml"
        if not main.exists():
            continue
        variables = yaml.safe_load(main.read_text()) or {}
        if group_dir.name == "all":
            inventory["all"].setdefault("vars", {}).update(variables)
        else:
            group = groups.get(group_dir.name) or groups["boot_servers"]["children"][group_dir.name]
            group.setdefault("vars", {}).update(variables)
    return inventory


class Site:
    """The components the guide's examples are pointed at, and the inventory and variables that do it."""

    def __init__(self, cleanup, workdir):
        self.workdir = workdir
        self.tgtd = tgt.start_tgtd(cleanup, workdir)
        self.kea = kea.KeaLab.start(cleanup, workdir, subnet="10.20.0.0/24", pool="10.20.0.150 - 10.20.0.200")
        self.switch = ios_double.IosCliDouble(cleanup, workdir, user="netops", password="SbtGuideSwitch1")
        self.ovs = ovs.OpenVSwitch(cleanup, workdir)
        self.ovs.add_bridge("br-boot")
        self.ovs.add_port("br-boot", "vnet-winboot01")
        self.bmc = redfish.RedfishBmc.start(cleanup, workdir, profile="dell", mac=WINBOOT02_MAC, username="ansible",
                                            password="SbtGuideBmc0002", name="idrac-winboot02")
        self.array = purefa.start_array(cleanup, workdir)
        self.storage, self.config_dir = workdir / "storage", workdir / "conf.d"
        self.image = workdir / "ws2022-sysprep.img"
        self.image.write_bytes(b"\xeb\x52\x90NTFS    " + bytes(range(256)) * 4096)  # 1 MiB and a bit: "an image"
        self.secrets = SECRET_VALUES + [self.kea.password, self.switch.password, self.bmc.password, self.array.api_token]

    def inventory(self) -> dict:
        inventory = example_inventory()
        groups = inventory["all"]["children"]
        servers = groups["boot_servers"]
        for variables in servers["hosts"].values():
            variables.update(LOCAL)
        servers["hosts"]["winboot02"]["sanboot_bmc_address"] = self.bmc.url.split("://", 1)[1]
        servers["children"]["windows_boot_servers"] = {"hosts": {}}  # no Windows runs here
        servers["vars"].update(
            sanboot_portal=self.tgtd.portal, sanboot_tgt_control_port=self.tgtd.control_port,
            sanboot_storage_dir=str(self.storage), sanboot_tgt_config_dir=str(self.config_dir),
            sanboot_dhcp_api_url=self.kea.url, sanboot_bmc_ca_path=str(self.bmc.ca_path))
        infrastructure = groups["sanboot_infrastructure"]["hosts"]
        infrastructure["san01"] = dict(LOCAL, ansible_become=False)
        infrastructure["kvm01"] = dict(LOCAL, ansible_become=False)
        infrastructure["localhost"] = dict(LOCAL)
        infrastructure["sw-access01"].update(
            ansible_host=self.switch.host, ansible_port=self.switch.port, ansible_network_cli_ssh_type="libssh",
            ansible_host_key_checking=False)
        return inventory

    def extra_vars(self) -> dict:
        return dict(SECRETS, vault_kea_api_password=self.kea.password, vault_switch_password=self.switch.password,
                    vault_bmc_passwords={"winboot02": self.bmc.password},
                    vault_flasharray_api_token=self.array.api_token, flasharray_api_url=self.array.url,
                    flasharray_ca_path=str(self.array.ca_path), kea_api_url=self.kea.url, ovs_db=self.ovs.db,
                    change_ticket="CHG-GUIDE-TEST")

    def module_defaults(self) -> dict:
        """What points the SAN modules of plays that name no tgt settings at this tgtd."""
        tgt_options = {"tgt_control_port": self.tgtd.control_port, "config_dir": str(self.config_dir)}
        return {"group/sanboot.iscsi.san": tgt_options, "sanboot.iscsi.san_image": tgt_options,
                "sanboot.iscsi.san_volume": {"storage_dir": str(self.storage)}}

    def run(self, run_tool, plays: list, name: str, extra_vars: dict | None = None):
        playbook = self.workdir / ("%s.yml" % name)
        playbook.write_text(yaml.safe_dump([self.pointed(play) for play in plays], sort_keys=False))
        hosts = self.workdir / "inventory.yml"
        hosts.write_text(yaml.safe_dump(self.inventory(), sort_keys=False))
        extra = self.workdir / "extra.json"
        extra.write_text(json.dumps(dict(self.extra_vars(), **(extra_vars or {}))))
        extra.chmod(0o600)
        return run_tool("ansible-playbook", "-i", hosts, "-e", "@%s" % extra, playbook, cwd=self.workdir, timeout=900,
                        env={"ANSIBLE_COLLECTIONS_PATH": str(labkit.COLLECTIONS)})

    def pointed(self, play: dict) -> dict:
        """The play with the test's tgt settings merged into the module_defaults it has (an import is left as it is)."""
        if "hosts" not in play:
            return play
        play = dict(play)
        merged = dict(play.get("module_defaults") or {})
        for key, values in self.module_defaults().items():
            merged[key] = dict(values, **(merged.get(key) or {}))
        play["module_defaults"] = merged
        return play

    def golden_volume(self, run_tool):
        """The golden volume the example's servers clone: empty, for the imaging initiator only."""
        result = self.run(run_tool, [{"name": "The golden volume", "hosts": "san01", "gather_facts": False, "tasks": [
            {"name": "ws2022-golden", "sanboot.iscsi.san_volume": {
                "name": GOLDEN, "size": "64M", "target_prefix": TARGET_PREFIX, "initiators": [IMAGING_INITIATOR]}}]}],
            "setup-golden")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr

    def boot_luns(self, run_tool):
        result = self.run(run_tool, [{"name": "The SAN stage", "ansible.builtin.import_playbook": "sanboot.iscsi.provision_san"}],
                          "setup-boot-luns")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr

    def bmc_secrets(self) -> str:
        """The CHAP secrets winboot02's NIC holds or has staged (the BMC never shows them; the double keeps them)."""
        with self.bmc.state.lock:
            return json.dumps([self.bmc.state.secrets, self.bmc.state.staged_secrets])

    def targets(self) -> set:
        return {line.split()[2] for line in self.tgtd.show_targets().splitlines() if line.startswith("Target ")}

    def logs_in(self, name, initiator, secret) -> bool:
        return tgt.iscsi_inq(self.tgtd.portal, "%s:%s" % (TARGET_PREFIX, name), 1, initiator,
                             chap=(name, secret)).returncode == 0


# --- what each page's examples must have done ------------------------------------------------------

def check_getting_started(site, output):
    assert "boot chain verified: no mismatch on 2 host(s)" in output
    assert "winboot01 boots from iscsi:%s:6:" % site.tgtd.portal.split(":")[0] in output and "(CHG-GUIDE-TEST)" in output
    assert {"%s:winboot01" % TARGET_PREFIX, "%s:winboot02" % TARGET_PREFIX} <= site.targets()
    assert "spanning-tree portfast" in site.switch.running("GigabitEthernet1/0/11")
    assert site.bmc.staged() or site.bmc.applied(mac=WINBOOT02_MAC)["BootMode"] == "iSCSI"


def check_step1_boot_lun(site, output):
    targets = site.targets()
    assert "%s:winboot01" % TARGET_PREFIX not in targets  # retired, its data kept
    assert (site.storage / "winboot01.img").exists()
    assert "%s:winboot02" % TARGET_PREFIX in targets
    assert site.logs_in("winboot02", "iqn.1991-05.com.microsoft:winboot02.example.com", "SbtGuideChap02")
    assert "iscsi:10.20.0.5:6:%s:1:%s:winboot01" % (site.tgtd.portal.split(":")[1], TARGET_PREFIX) in output
    assert "grow volume 'winboot01'" in output
    assert {"host": "winboot01", "volume": "winboot01", "lun": 1} in site.array.connections
    assert {connection["volume"] for connection in site.array.connections} >= {"winboot01", "winboot02"}
    assert site.array.violations == []


def check_step2_portfast(site, output):
    for interface in ("GigabitEthernet1/0/11", "GigabitEthernet1/0/12"):
        running = site.switch.running(interface)
        assert "spanning-tree portfast" in running and "spanning-tree bpduguard enable" in running, running
        assert "spanning-tree portfast" in site.switch.startup(interface)  # saved (sanboot_switch_save)
    assert "spanning-tree portfast edge trunk" in output  # the rendered change request
    edge = json.loads(site.ovs.vsctl("--format=json", "--columns=other_config", "list", "port", "vnet-winboot01"))
    assert edge["data"][0][0] == ["map", [["rstp-port-admin-edge", "true"]]]


def check_step3_boot_parameters(site, output):
    reservations = {entry["hw-address"]: json.dumps(entry) for entry in site.kea.reservations()}
    # The SAN's root path (option 17, the portal the inventory gives) and the initiator IQN (option 203).
    address, port = site.tgtd.portal.rsplit(":", 1)
    assert "iscsi:%s:6:%s:1:%s:winboot01" % (address, port, TARGET_PREFIX) in reservations["00:1b:21:3a:4f:10"]
    assert WINBOOT01_IQN in reservations["00:1b:21:3a:4f:10"]
    assert "iscsi" not in reservations[WINBOOT02_MAC]  # its boot parameters are in its BMC
    applied = site.bmc.applied(mac=WINBOOT02_MAC)
    assert applied["BootMode"] == "iSCSI" and site.bmc.state.resets == ["GracefulRestart"]
    assert (applied["iSCSIBoot"]["PrimaryVLANId"], applied["iSCSIBoot"]["InitiatorIPAddress"]) == (120, "10.20.0.102")


def check_imaging(site, output):
    record = (site.config_dir / ("sanboot-%s.conf" % GOLDEN)).read_text()
    assert "# sanboot.iscsi image: digest=sha256:" in record and "state=written" in record
    assert {"%s:winboot01" % TARGET_PREFIX, "%s:winboot02" % TARGET_PREFIX} <= site.targets()
    data = tgt.qemu_read(site.workdir / "read-back.img", 65536, site.tgtd.portal, "%s:winboot01" % TARGET_PREFIX, 1,
                         WINBOOT01_IQN, chap=("winboot01", "SbtGuideChap01"))
    assert data.startswith(b"\xeb\x52\x90NTFS")  # the clone holds the image written onto the golden volume


def check_security(site, output):
    assert site.logs_in("winboot02", "iqn.1991-05.com.microsoft:winboot02.example.com", "SbtGuideNext02")
    assert not site.logs_in("winboot02", "iqn.1991-05.com.microsoft:winboot02.example.com", "SbtGuideChap02")
    assert "SbtGuideNext02" in site.bmc_secrets()


def check_troubleshooting(site, output):
    assert "%s:winboot01" % TARGET_PREFIX not in site.targets()
    assert "SbtGuideChap02" in site.bmc_secrets() and site.bmc.staged()


def check_fleets(site, output):
    targets = site.targets()
    assert {"%s:%s" % (TARGET_PREFIX, name) for name in ("winboot01", "winboot02", "rack-a01", "rack-a02", "rack-a03")} <= targets
    reservations = {entry["hw-address"]: json.dumps(entry) for entry in site.kea.reservations()}
    assert "%s:winboot01" % TARGET_PREFIX in reservations["00:1b:21:3a:4f:10"]
    assert "iscsi" not in reservations[WINBOOT02_MAC]  # its boot parameters are in its BMC
    assert "winboot02 boots from iscsi:%s:6:" % site.tgtd.portal.split(":")[0] in output
    assert re.search(r'"msg": \[\s*"rack-a01",\s*"rack-a02",\s*"rack-a03"\s*\]', output), output[-3000:]
    assert site.logs_in("rack-a01", "iqn.1991-05.com.microsoft:rack-a01.example.com", "SbtGuideChap01")
    assert not site.logs_in("rack-a01", "iqn.1991-05.com.microsoft:rack-a02.example.com", "SbtGuideChap01")


CHECKS = {"getting-started.md": check_getting_started, "fleets.md": check_fleets, "step1-boot-lun.md": check_step1_boot_lun,
          "step2-portfast.md": check_step2_portfast, "step3-boot-parameters.md": check_step3_boot_parameters,
          "imaging.md": check_imaging, "security.md": check_security, "troubleshooting.md": check_troubleshooting}
# Variables a page's plays set for a site of their own, pointed at this test's (extra variables win).
PAGE_VARS = {"imaging.md": {"sanboot_golden_image": "{{ playbook_dir }}/ws2022-sysprep.img"}}
RUN_PAGES = sorted({block.page for block in PLAYBOOKS if block.how == "run"})


def test_every_page_with_runnable_playbooks_has_its_checks():
    assert set(RUN_PAGES) == set(CHECKS), "pages whose runs nothing checks, or checks of pages that run nothing"


@pytest.mark.parametrize("page", RUN_PAGES)
def test_the_guide_playbooks_run_against_the_site(repo, root, cleanup, workdir, run_tool, page):
    site = Site(cleanup, workdir)
    site.golden_volume(run_tool)
    if SETUP in (GUIDE / page).read_text():
        site.boot_luns(run_tool)
    plays = [play for block in PLAYBOOKS if block.page == page and block.how == "run" for play in block.data]
    result = site.run(run_tool, plays, page.replace(".md", ""), PAGE_VARS.get(page, {}))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert re.search(r"failed=[1-9]", result.stdout) is None
    CHECKS[page](site, output)
    for secret in site.secrets:
        assert secret not in output


# --- the Windows examples, against the Windows state simulator ------------------------------------

def windows_server_state() -> dict:
    """The simulator's Windows Server 2022 booted from iSCSI, made the example's winboot01."""
    state = load_state("server2022-iscsi-boot")
    state["network_adapters"][0]["mac"] = "00:1b:21:3a:4f:10"
    state["iscsi"]["node_name"] = WINBOOT01_IQN
    for session in state["iscsi"]["sessions"]:
        session.update(initiator_iqn=WINBOOT01_IQN, target_iqn="%s:winboot01" % TARGET_PREFIX)
    state["files"]["C:\\Windows\\System32\\cmd.exe"] = base64.b64encode(b"MZ cmd (simulated)").decode()
    return state


def reference_state() -> dict:
    """The same host as win_iscsi_initiator and win_pagefile leave it, restarted: ready to be the image."""
    state = windows_server_state()
    state["services"]["MSiSCSI"].update(start_mode="auto", state="started")
    state["network_adapters"][0]["dhcp_enabled"] = True
    state["pagefile"] = {"automatic_managed": False,
                         "settings": [{"name": "D:\\pagefile.sys", "initial_size": 0, "maximum_size": 0}],
                         "usage": [{"name": "D:\\pagefile.sys", "allocated_base_size": 2432}]}
    return state


def dhcp_server_state() -> dict:
    state = load_state("dhcp-server2022")
    state["dhcp"]["scopes"].append({"name": "iSCSI boot", "scope_id": "10.20.0.0", "subnet_mask": "255.255.255.0"})
    return state


def example_host_vars(name) -> dict:
    inventory = example_inventory()
    servers = inventory["all"]["children"]["boot_servers"]
    return dict(servers["vars"], **servers["hosts"][name])


def windows_host(kind, workdir):
    """(host, the checks after the run) for one kind of simulated Windows host."""
    boot_servers = {name: {key: value for key, value in example_host_vars(name).items() if key.startswith("sanboot_")}
                    for name in ("winboot01", "winboot02")}
    if kind == "windows":
        windows_vars = yaml.safe_load((EXAMPLE / "group_vars" / "windows_boot_servers" / "main.yml").read_text())
        variables = dict(example_host_vars("winboot01"), sanboot_windows_mpio=windows_vars["sanboot_windows_mpio"],
                         sanboot_windows_reboot=windows_vars["sanboot_windows_reboot"])
        return SimulatedWindowsHost(workdir, windows_server_state(), name="winboot01", host_vars=variables,
                                    groups={"windows_boot_servers": {"winboot01": {}}}), check_windows
    if kind == "windows-dhcp":
        return SimulatedWindowsHost(workdir, dhcp_server_state(), name="dhcp01"), check_windows_dhcp
    # Where the role waits for WinRM to stop answering: loopback, where nothing answers on 5986.
    return SimulatedWindowsHost(workdir, reference_state(), name="winref01", host_vars={"ansible_host": "127.0.0.1"},
                                groups={"golden_reference": {"winref01": {}}, "boot_servers": boot_servers}), check_reference


def check_windows(host, output):
    state = host.state()
    assert state["services"]["MSiSCSI"]["start_mode"] == "auto" and state["iscsi"]["node_name"] == WINBOOT01_IQN
    assert "Multipath-IO" in json.dumps(state["features"])
    scripts = base64.b64decode(state["files"]["C:\\Windows\\System32\\GroupPolicy\\Machine\\Scripts\\scripts.ini"])
    assert "cmd.exe" in scripts.decode("utf-16")
    assert "booted from iSCSI: True" in output


def check_windows_dhcp(host, output):
    state = host.state()
    assert any(reservation["ip"] == "10.20.0.101" for reservation in state["dhcp"]["reservations"])
    options = state["dhcp"]["reservation_options"]["10.20.0.101"]
    assert options["17"] == "iscsi:10.20.0.5:6:3260:1:%s:winboot01" % TARGET_PREFIX and options["203"] == WINBOOT01_IQN


def check_reference(host, output):
    state = host.state()
    assert state["power"] == "off"
    table = json.loads(base64.b64decode(state["files"]["C:\\Windows\\Setup\\Scripts\\sanboot-servers.json"]))
    assert {(server["name"], server["initiator_iqn"]) for server in table["servers"]} >= {
        ("winboot01", WINBOOT01_IQN), ("winboot02", "iqn.1991-05.com.microsoft:winboot02.example.com")}


WINDOWS_KINDS = sorted({block.how.split()[1] for block in PLAYBOOKS if block.how.startswith("run ")})


@pytest.mark.parametrize("kind", WINDOWS_KINDS)
def test_the_guide_windows_playbooks_run_against_the_windows_simulator(repo, workdir, kind):
    host, check = windows_host(kind, workdir)
    plays = [play for block in PLAYBOOKS if block.how == "run " + kind for play in block.data]
    playbook = workdir / ("guide-%s.yml" % kind)
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    extra = workdir / "extra.json"
    extra.write_text(json.dumps(SECRETS))
    result = subprocess.run([str(labkit.VENV_BIN / "ansible-playbook"), "-i", str(host.inventory), "-e", "@%s" % extra,
                             str(playbook)], cwd=str(workdir), env=host.env(), capture_output=True, text=True,
                            timeout=600, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    check(host, output)
    for secret in SECRET_VALUES:
        assert secret not in output
