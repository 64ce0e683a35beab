# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: site.yml provisions the lab's SAN (the golden volume with labkit.osimage's OS written
through iSCSI by san_image, and one clone per machine), switch and DHCP; two QEMU machines boot that
OS from their own clones through iPXE, and the OS takes the firmware's session over through the iBFT
(iscsistart -b), mounts its root file system from the LUN and prints its identity. Then the faults an
administrator meets: a wrong initiator IQN and a wrong CHAP secret in the reservation keep a machine
from booting (iPXE's own error: the firmware stage), a CHAP secret changed on the SAN while the
firmware's session is up makes the OS's own login fail (the OS stage), and verify_boot_chain names
each injected mismatch by host and field. Last, the lab's `down` removes everything after a boot
whose command was killed while its machine ran."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

import labkit
from labkit import osimage

sys.path.insert(0, str(labkit.REPO / "tests" / "lab"))
import sanlab  # noqa: E402  pylint: disable=wrong-import-position


def recap(output: str) -> dict:
    """Host -> its PLAY RECAP counters."""
    return {match.group(1): {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(2))}
            for match in re.finditer(r"^(\S+)\s+: (ok=.*)$", output, re.MULTILINE)}


def report(output: str) -> list:
    """The lines of verify_boot_chain's table (the debug msg list)."""
    block = output.split("TASK [Boot chain report]", 1)[1].split("TASK [", 1)[0]
    return re.findall(r'^\s+"(.*)",?$', block, re.MULTILINE)


def written_files(volume_file) -> list:
    """The files the OS wrote in its /var/lib/sanboot, read from the volume's backing file (debugfs)."""
    device = "%s?offset=%d" % (volume_file, osimage.PARTITION_START)
    listing = labkit.run(["debugfs", "-R", "ls %s" % osimage.WRITTEN_DIR, device])
    return sorted(name for name in listing.stdout.split() if name.startswith("written-by-"))


@pytest.fixture
def lab(root, cleanup, workdir):
    return sanlab.SanLab(cleanup, workdir / "lab", vms=2).up(progress=lambda _text: None)


def test_site_provisions_and_machines_boot_from_their_luns_and_faults_are_caught(lab, run_tool, workdir):
    inventory = lab.inventory / "hosts.yml"

    def play(*arguments):
        return run_tool("ansible-playbook", "-i", inventory, *arguments, timeout=600)

    first = play("playbooks/site.yml")
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert "Windows stage: no hosts in group windows_boot_servers, skipped" in first.stdout
    assert "boot chain verified: no mismatch on 2 host(s)" in first.stdout
    assert all(counters["changed"] >= 3 for host, counters in recap(first.stdout).items() if host.startswith("vm"))
    second = play("playbooks/site.yml")
    assert second.returncode == 0, second.stdout[-4000:]
    assert recap(second.stdout) and all(counters["changed"] == 0 for counters in recap(second.stdout).values()), \
        second.stdout[-3000:]

    # Every machine boots the golden OS from its own clone and finds its own identity in the iBFT:
    # the initiator name DHCP's option 203 gave iPXE, which is the one the SAN's ACL admits.
    results = lab.boot()
    show = lab.show_targets()
    for vm in lab.vms:
        result = results[vm.name]
        assert result["outcome"] == "booted", "%s: %s %s\n%s" % (
            vm.name, result["stage"], result["detail"], result["serial"][-3000:])
        os_report = result["report"]
        ibft = os_report["ibft"]
        assert ibft["initiator/initiator-name"] == lab.reservation_option(vm, 203, "iscsi-initiator-iqn") == vm.initiator_iqn
        assert sanlab.acl_names(show, vm.target_iqn) == [vm.initiator_iqn]
        assert (ibft["target0/target-name"], osimage.ibft_lun(ibft["target0/lun"]), ibft["target0/chap-name"]) == (
            vm.target_iqn, 1, vm.chap["username"])
        assert "iBFT detected." in " ".join(os_report["kernel"]) and os_report["login"]
        assert os_report["dhcp"] == {"ip": vm.ip, "hostname": vm.name} and os_report["done"] == vm.name
        assert os_report["root"].startswith("/dev/sda1 / ext4 rw")
        assert (os_report["files_before"], os_report["files_after"]) == ([], ["written-by-%s" % vm.name])
        assert "Root path: iscsi:10.77.0.1:6:3260:1:%s" % vm.target_iqn in result["serial"]
        assert lab.lease(vm)["ip-address"] == vm.ip
        assert lab.reservation_root_path(vm) == "iscsi:10.77.0.1:6:3260:1:%s" % vm.target_iqn
    # Each root file system is the machine's own clone: what one machine wrote, the other's and the
    # golden volume's do not hold.
    for name, expected in (("vm1", ["written-by-vm1"]), ("vm2", ["written-by-vm2"]), (sanlab.GOLDEN_VOLUME, [])):
        assert written_files(lab.storage / ("%s.img" % name)) == expected, name
    vm1 = lab.vms[0]

    # The CHAP secret changed on the SAN while iPXE's session is up (the machine is paused right after
    # iPXE hands the disk to the boot loader): the boot loader and kernel still load through the
    # firmware's session, and the OS's own login with the iBFT's (old) secret is refused.
    san_fault = workdir / "san-fault.yml"
    san_fault.write_text("""
- hosts: vm1
  gather_facts: false
  tasks:
    - ansible.builtin.include_role: {name: sanboot.iscsi.san_boot_volume}
      vars:
        san_boot_volume_chap: "{{ sanboot_chap | combine({'secret': 'ChangedOnSan42'}) }}"
""")
    changed_on_san = []

    def change_secret_on_the_san():
        changed_on_san.append(play(str(san_fault)))

    result = lab.boot([vm1], pause=(vm1.name, "Booting from SAN device", change_secret_on_the_san))[vm1.name]
    assert changed_on_san[0].returncode == 0 and recap(changed_on_san[0].stdout)["vm1"]["changed"] == 1
    assert (result["outcome"], result["stage"]) == ("failed", "os"), result
    assert result["detail"].startswith("iSCSI login with the iBFT's values"), result["detail"]
    assert result["report"]["ibft"]["target0/chap-name"] == vm1.chap["username"]
    restored = play("playbooks/provision_san.yml")
    assert restored.returncode == 0 and recap(restored.stdout)["vm1"]["changed"] == 1, restored.stdout[-3000:]

    # Faults injected into the reservation of vm1, as a typo in an inventory would.
    faults = workdir / "fault.yml"
    faults.write_text("""
- hosts: vm1
  gather_facts: false
  tasks:
    - ansible.builtin.include_role: {name: sanboot.iscsi.san_boot_volume, tasks_from: info}
    - ansible.builtin.include_role: {name: sanboot.iscsi.iscsi_boot_dhcp}
      vars:
        iscsi_boot_dhcp_initiator_iqn: "{{ fault_iqn | default(sanboot_initiator_iqn) }}"
        iscsi_boot_dhcp_chap: "{{ sanboot_chap | combine({'secret': fault_secret}) if fault_secret is defined else sanboot_chap }}"
""")
    cases = [
        (["-e", "fault_iqn=iqn.2026-11.lab.sanboot:vm1x"], "Could not open SAN device: No such device",
         ["dhcp.option 203 (initiator IQN)", "iqn.2026-11.lab.sanboot:vm1x"]),
        (["-e", "fault_secret=NotTheSecret99"], "Could not open SAN device: Operation not permitted",
         ["dhcp.chap secret (option 191)", "a different secret"]),
    ]
    for arguments, ipxe_error, fields in cases:
        injected = play(str(faults), *arguments)
        assert injected.returncode == 0, injected.stdout[-3000:]
        result = lab.boot([vm1])[vm1.name]
        assert (result["outcome"], result["stage"]) == ("failed", "firmware"), result
        assert result["detail"].startswith(ipxe_error), result["detail"]
        verify = play("playbooks/verify_boot_chain.yml")
        assert verify.returncode != 0
        rows = [line for line in report(verify.stdout) if line.startswith("vm1 ")]
        assert any(all(field in line for field in fields) for line in rows), report(verify.stdout)
        assert not [line for line in report(verify.stdout) if line.startswith("vm2 ")]
        assert "NotTheSecret99" not in verify.stdout + injected.stdout

    # Portfast removed on vm2's port behind Ansible's back.
    lab.switch.vsctl("remove", "port", lab.vms[1].tap, "other_config", "rstp-port-admin-edge")
    verify = play("playbooks/verify_boot_chain.yml")
    assert verify.returncode != 0
    assert any(line.startswith("vm2 ") and "switch.portfast" in line and "disabled" in line
               for line in report(verify.stdout)), report(verify.stdout)

    # The stages that own those settings put everything back; the preflight is clean again.
    repaired = play("playbooks/site.yml", "--tags", "san,switch,dhcp")
    assert repaired.returncode == 0, repaired.stdout[-3000:]
    verify = play("playbooks/verify_boot_chain.yml")
    assert verify.returncode == 0, report(verify.stdout)
    again = lab.boot([vm1])[vm1.name]
    assert again["outcome"] == "booted", again
    # Its second boot finds the file its first boot wrote on its own clone, and nothing of vm2's.
    assert again["report"]["files_before"] == ["written-by-vm1"]
    # No CHAP secret of the lab in anything a play printed.
    for vm in lab.vms:
        for output in (first.stdout, second.stdout, repaired.stdout, verify.stdout, changed_on_san[0].stdout,
                       restored.stdout):
            assert vm.chap["secret"] not in output
    assert lab.imaging_chap["secret"] not in first.stdout + second.stdout


def test_down_removes_everything_also_after_a_boot_whose_command_was_killed(root, repo, workdir):
    directory = workdir / "cli-lab"
    command = [sys.executable, str(labkit.REPO / "tests" / "lab" / "sanlab.py")]
    up = subprocess.run(command + ["up", "--vms", "1", "--dir", str(directory)], capture_output=True, text=True,
                        timeout=300, check=False)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        # Nothing provisioned: vm1's boot cannot succeed. Its boot command dies while the machine runs.
        booting = subprocess.Popen(command + ["boot", "--dir", str(directory)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        labkit.wait_for(lambda: [found for found in labkit.leftovers(str(directory)) if "qemu-system" in found], 60,
                        "vm1's QEMU to run")
        os.killpg(booting.pid, signal.SIGKILL)
        booting.wait(timeout=10)
        assert [found for found in labkit.leftovers(str(directory)) if "qemu-system" in found]
    finally:
        down = subprocess.run(command + ["down", "--dir", str(directory)], capture_output=True, text=True, timeout=300,
                              check=False)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "no daemon, machine, namespace, tap, mount or loop device of the lab is left" in down.stdout
    assert not labkit.leftovers(str(directory))
