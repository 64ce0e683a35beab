# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: site.yml provisions the lab's SAN, switch, DHCP and BMCs, and two QEMU machines boot
from their LUNs through iPXE: vm1 with its boot parameters from DHCP options, vm2 with them from its
BMC only (a Redfish test double; its reservation carries the address only, and the boot shim hands
iPXE what the BMC applied, as the NIC's firmware would). Then the faults an administrator meets: a
wrong initiator IQN and a wrong CHAP secret, in vm1's reservation and in vm2's BMC, keep each machine
from booting (iPXE's own error, recognised as soon as it is printed), and verify_boot_chain names
each injected mismatch it can see by host and field (a BMC never reads a CHAP secret back)."""

from __future__ import annotations

import re
import sys

import pytest

import labkit
from labkit import labbmc

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
    assert all(counters["changed"] >= 3 for host, counters in recap(first.stdout).items() if host.startswith("vm"))
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

    # Every machine boots its own LUN (its boot sector names it), with the lease and session the chain implies:
    # vm1 from the root path DHCP gave it, vm2 from the target its BMC holds (its lease has the address only).
    lab.write_boot_images()
    results = lab.boot()
    for vm in lab.vms:
        result = results[vm.name]
        assert result["outcome"] == "booted", "%s: %s\n%s" % (vm.name, result["detail"], result["serial"][-2000:])
        assert {"initiator": vm.initiator_iqn, "address": vm.ip} in result["sessions"]
        assert lab.lease(vm)["ip-address"] == vm.ip
    assert "Root path: iscsi:10.77.0.1:6:3260:1:%s" % vm1.target_iqn in results["vm1"]["serial"]
    assert lab.reservation_root_path(vm1) == "iscsi:10.77.0.1:6:3260:1:%s" % vm1.target_iqn
    assert "BMC root path: iscsi:10.77.0.1:6:3260:1:%s\n" % vm2.target_iqn in results["vm2"]["serial"]
    assert "Root path: " not in results["vm2"]["serial"] and lab.reservation_root_path(vm2) is None

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
            assert results[vm.name]["outcome"] == "failed", (fault, vm.name, results[vm.name])
            assert results[vm.name]["detail"].startswith(ipxe_error), (fault, vm.name, results[vm.name]["detail"])
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
    # compared); the preflight is clean again and both machines boot.
    repaired = play("playbooks/site.yml", "--tags", "switch,dhcp,bmc", "-e", "sanboot_bmc_update_secrets=always")
    assert repaired.returncode == 0, repaired.stdout[-3000:]
    assert bmcs.bmc(vm2).applied(mac=vm2.mac)["iSCSIBoot"]["CHAPSecret"] == vm2.chap["secret"]
    # Fail closed: vm1 moved to boot parameters in its BMC, whose login fails. The BMC stage runs first, so vm1 drops
    # out before the DHCP stage could take the boot options out of its reservation: it keeps booting as before.
    refused = play("playbooks/site.yml", "--tags", "bmc,dhcp", "--limit", "vm1", "-e", "sanboot_boot_parameters=bmc",
                   "-e", "sanboot_bmc_password=NotTheBmcPassword1")
    assert refused.returncode != 0 and "refused user 'root' (HTTP 401 Unauthorized)" in refused.stdout, refused.stdout[-3000:]
    assert recap(refused.stdout)["vm1"]["failed"] == 1 and "NotTheBmcPassword1" not in refused.stdout
    assert lab.reservation_root_path(vm1) == "iscsi:10.77.0.1:6:3260:1:%s" % vm1.target_iqn
    assert bmcs.bmc(vm1).writes() == []
    verify = play("playbooks/verify_boot_chain.yml")
    assert verify.returncode == 0, report(verify.stdout)
    results = lab.boot()
    assert [results[vm.name]["outcome"] for vm in lab.vms] == ["booted", "booted"], results
    # No CHAP secret or BMC password of the lab in anything a play printed.
    for vm in lab.vms:
        for output in (first.stdout, second.stdout, injected.stdout, repaired.stdout, verify.stdout):
            assert vm.chap["secret"] not in output and bmcs.bmc(vm).password not in output
