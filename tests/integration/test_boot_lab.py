# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: site.yml provisions the lab's SAN (the golden volume with labkit.osimage's OS written
through iSCSI by san_image, and one clone per machine), switch, DHCP and BMCs; two QEMU machines boot
that OS from their own clones through iPXE, and the OS takes the firmware's session over through the
iBFT (iscsistart -b), mounts its root file system from the LUN and prints its identity. vm1 takes its
boot parameters from DHCP options; vm2 from its BMC only (a Redfish test double; its reservation
carries the address only, and the boot shim hands iPXE what the BMC applied, as the NIC's firmware
would). Then the faults an administrator meets: a wrong initiator IQN and a wrong CHAP secret, in vm1's
reservation and in vm2's BMC, keep each machine from booting (iPXE's own error: the firmware stage), a
CHAP secret changed on the SAN while the firmware's session is up makes the OS's own login fail (the OS
stage), and verify_boot_chain names each injected mismatch it can see by host and field (a BMC never
reads a CHAP secret back). Last, the lab's `down` removes everything after a boot whose command was
killed while its machine ran."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

import labkit
from labkit import labbmc, osimage

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

    vm1, vm2 = lab.vms
    bmcs = lab.extension("bmc")
    assert (bmcs.boot_parameters(vm1), bmcs.boot_parameters(vm2)) == ("dhcp", "bmc")

    first = play("playbooks/site.yml")
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert "Windows stage: no hosts in group windows_boot_servers, skipped" in first.stdout
    assert "boot chain verified: no mismatch on 2 host(s)" in first.stdout
    # The SAN, switch and DHCP stages run as batches (one task for both machines, counted on the host that runs
    # it), vm2's BMC stage per machine: at least those four changes.
    assert sum(counters["changed"] for host, counters in recap(first.stdout).items() if host.startswith("vm")) >= 4
    # vm2's boot parameters are in its BMC, staged and applied by the reset the role asked for; vm1's BMC is untouched.
    applied = bmcs.bmc(vm2).applied(mac=vm2.mac)
    assert applied["BootMode"] == "iSCSI" and applied["iSCSIBoot"]["CHAPSecret"] == vm2.chap["secret"]
    assert bmcs.bmc(vm2).state.resets == ["GracefulRestart"] and bmcs.bmc(vm1).applied(mac=vm1.mac)["BootMode"] != "iSCSI"
    # Its reservation carries the address (and host name) only: no root path, no initiator IQN, no CHAP.
    boot_options = {17, 203, 175, 190, 191}
    assert labbmc.reservation_options(lab, vm2) is not None
    assert not set(labbmc.reservation_options(lab, vm2)) & boot_options
    assert set(labbmc.reservation_options(lab, vm1)) >= boot_options
    second = play("playbooks/site.yml")
    assert second.returncode == 0, second.stdout[-4000:]
    assert recap(second.stdout) and all(counters["changed"] == 0 for counters in recap(second.stdout).values()), \
        second.stdout[-3000:]

    # Every machine boots the golden OS from its own clone and finds its own identity in the iBFT: for vm1 the
    # initiator name DHCP's option 203 gave iPXE, for vm2 the one its BMC holds (its reservation has none); each is
    # the one the SAN's ACL admits.
    results = lab.boot()
    show = lab.show_targets()
    given = {vm1.name: lab.reservation_option(vm1, 203, "iscsi-initiator-iqn"),
             vm2.name: bmcs.applied(vm2)["iSCSIBoot"]["InitiatorName"]}
    assert lab.reservation_option(vm2, 203, "iscsi-initiator-iqn") is None
    for vm in lab.vms:
        result = results[vm.name]
        assert result["outcome"] == "booted", "%s: %s %s\n%s" % (
            vm.name, result["stage"], result["detail"], result["serial"][-3000:])
        os_report = result["report"]
        ibft = os_report["ibft"]
        assert ibft["initiator/initiator-name"] == given[vm.name] == vm.initiator_iqn
        assert sanlab.acl_names(show, vm.target_iqn) == [vm.initiator_iqn]
        assert (ibft["target0/target-name"], osimage.ibft_lun(ibft["target0/lun"]), ibft["target0/chap-name"]) == (
            vm.target_iqn, 1, vm.chap["username"])
        assert "iBFT detected." in " ".join(os_report["kernel"]) and os_report["login"]
        assert os_report["dhcp"] == {"ip": vm.ip, "hostname": vm.name} and os_report["done"] == vm.name
        assert os_report["root"].startswith("/dev/sda1 / ext4 rw")
        assert (os_report["files_before"], os_report["files_after"]) == ([], ["written-by-%s" % vm.name])
        assert lab.lease(vm)["ip-address"] == vm.ip
    # vm1's target came from the root path in its reservation, vm2's from its BMC alone.
    assert "Root path: iscsi:10.77.0.1:6:3260:1:%s" % vm1.target_iqn in results["vm1"]["serial"]
    assert lab.reservation_root_path(vm1) == "iscsi:10.77.0.1:6:3260:1:%s" % vm1.target_iqn
    assert "BMC root path: iscsi:10.77.0.1:6:3260:1:%s\n" % vm2.target_iqn in results["vm2"]["serial"]
    assert "Root path: " not in results["vm2"]["serial"] and lab.reservation_root_path(vm2) is None
    # Each root file system is the machine's own clone: what one machine wrote, the other's and the
    # golden volume's do not hold.
    for name, expected in (("vm1", ["written-by-vm1"]), ("vm2", ["written-by-vm2"]), (sanlab.GOLDEN_VOLUME, [])):
        assert written_files(lab.storage / ("%s.img" % name)) == expected, name

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

    # Faults as a typo in an inventory would make them: in vm1's reservation, and in vm2's BMC (written with the
    # secret, since no BMC reads one back, and applied by the reset the role asks for).
    faults = workdir / "fault.yml"
    faults.write_text("""
- hosts: vm1
  gather_facts: false
  tasks:
    - ansible.builtin.include_role: {name: sanboot.iscsi.san_boot_volume, tasks_from: info}
    - ansible.builtin.include_role: {name: sanboot.iscsi.iscsi_boot_dhcp}
      vars:
        iscsi_boot_dhcp_initiator_iqn: "{{ sanboot_initiator_iqn ~ ('x' if fault == 'iqn' else '') }}"
        iscsi_boot_dhcp_chap: "{{ sanboot_chap | combine({'secret': 'NotTheSecret99'} if fault == 'secret' else {}) }}"
- hosts: vm2
  gather_facts: false
  tasks:
    - ansible.builtin.include_role: {name: sanboot.iscsi.san_boot_volume, tasks_from: info}
    - ansible.builtin.include_role: {name: sanboot.iscsi.bmc_iscsi_boot}
      vars:
        bmc_iscsi_boot_initiator_iqn: "{{ sanboot_initiator_iqn ~ ('x' if fault == 'iqn' else '') }}"
        bmc_iscsi_boot_chap: "{{ sanboot_chap | combine({'secret': 'NotTheSecret98'} if fault == 'secret' else {}) }}"
        bmc_iscsi_boot_update_secrets: always
""")
    cases = [
        ("iqn", "Could not open SAN device: No such device",
         {"vm1": ["dhcp.option 203 (initiator IQN)", "iqn.2026-11.lab.sanboot:vm1x"],
          "vm2": ["bmc.InitiatorName (initiator IQN)", "iqn.2026-11.lab.sanboot:vm2x"]}),
        # A BMC never reads a CHAP secret back: a wrong one there keeps vm2 from booting, but verify cannot see it.
        ("secret", "Could not open SAN device: Operation not permitted",
         {"vm1": ["dhcp.chap secret (option 191)", "a different secret"], "vm2": None}),
    ]
    for fault, ipxe_error, fields in cases:
        injected = play(str(faults), "-e", "fault=" + fault)
        assert injected.returncode == 0, injected.stdout[-3000:]
        results = lab.boot()
        for vm in lab.vms:
            result = results[vm.name]
            assert (result["outcome"], result["stage"]) == ("failed", "firmware"), (fault, vm.name, result)
            assert result["detail"].startswith(ipxe_error), (fault, vm.name, result["detail"])
        verify = play("playbooks/verify_boot_chain.yml")
        assert verify.returncode != 0
        for name, expected in fields.items():
            rows = [line for line in report(verify.stdout) if line.startswith(name + " ")]
            if expected is None:
                assert rows == [], report(verify.stdout)
            else:
                assert any(all(field in line for field in expected) for line in rows), report(verify.stdout)
        assert "NotTheSecret9" not in verify.stdout + injected.stdout

    # Portfast removed on vm2's port behind Ansible's back.
    lab.switch.vsctl("remove", "port", lab.vms[1].tap, "other_config", "rstp-port-admin-edge")
    verify = play("playbooks/verify_boot_chain.yml")
    assert verify.returncode != 0
    assert any(line.startswith("vm2 ") and "switch.portfast" in line and "disabled" in line
               for line in report(verify.stdout)), report(verify.stdout)

    # The stages that own those settings put everything back (the BMC's secret written again, as it cannot be
    # compared); the preflight is clean again.
    repaired = play("playbooks/site.yml", "--tags", "san,switch,bmc,dhcp", "-e", "sanboot_bmc_update_secrets=always")
    assert repaired.returncode == 0, repaired.stdout[-3000:]
    assert bmcs.bmc(vm2).applied(mac=vm2.mac)["iSCSIBoot"]["CHAPSecret"] == vm2.chap["secret"]
    # Fail closed: vm1 moved to boot parameters in its BMC, whose login fails. The BMC stage runs first, so vm1 drops
    # out before the DHCP stage could take the boot options out of its reservation: it keeps booting as before.
    refused = play("playbooks/site.yml", "--tags", "bmc,dhcp", "--limit", "vm1", "-e", "sanboot_boot_parameters=bmc",
                   "-e", "sanboot_bmc_password=NotTheBmcPassword1")
    assert refused.returncode != 0 and "refused user 'root' (HTTP 401 Unauthorized)" in refused.stdout, \
        refused.stdout[-3000:]
    assert recap(refused.stdout)["vm1"]["failed"] == 1 and "NotTheBmcPassword1" not in refused.stdout
    assert lab.reservation_root_path(vm1) == "iscsi:10.77.0.1:6:3260:1:%s" % vm1.target_iqn
    assert bmcs.bmc(vm1).writes() == []
    verify = play("playbooks/verify_boot_chain.yml")
    assert verify.returncode == 0, report(verify.stdout)
    results = lab.boot()
    for vm in lab.vms:
        assert results[vm.name]["outcome"] == "booted", results[vm.name]
        # Its second boot finds the file its first boot wrote on its own clone, and nothing of the other's.
        assert results[vm.name]["report"]["files_before"] == ["written-by-%s" % vm.name]
    # No CHAP secret or BMC password of the lab in anything a play printed.
    for vm in lab.vms:
        for output in (first.stdout, second.stdout, injected.stdout, repaired.stdout, refused.stdout, verify.stdout,
                       changed_on_san[0].stdout, restored.stdout):
            assert vm.chap["secret"] not in output and bmcs.bmc(vm).password not in output
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
