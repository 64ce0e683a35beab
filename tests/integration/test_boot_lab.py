# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: site.yml provisions the lab's SAN, switch and DHCP, and two QEMU machines boot from
their LUNs through iPXE. Then the faults an administrator meets: a wrong initiator IQN and a wrong
CHAP secret in the reservation keep a machine from booting (iPXE's own error, recognised as soon as
it is printed), and verify_boot_chain names each injected mismatch by host and field."""

from __future__ import annotations

import re
import sys

import pytest

import labkit

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

    first = play("playbooks/site.yml")
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert "Windows stage: no hosts in group windows_boot_servers, skipped" in first.stdout
    assert "boot chain verified: no mismatch on 2 host(s)" in first.stdout
    assert all(counters["changed"] >= 3 for host, counters in recap(first.stdout).items() if host.startswith("vm"))
    second = play("playbooks/site.yml")
    assert second.returncode == 0, second.stdout[-4000:]
    assert recap(second.stdout) and all(counters["changed"] == 0 for counters in recap(second.stdout).values()), \
        second.stdout[-3000:]

    # Every machine boots its own LUN (its boot sector names it), with the lease and session the chain implies.
    lab.write_boot_images()
    results = lab.boot()
    for vm in lab.vms:
        result = results[vm.name]
        assert result["outcome"] == "booted", "%s: %s\n%s" % (vm.name, result["detail"], result["serial"][-2000:])
        assert "Root path: iscsi:10.77.0.1:6:3260:1:%s" % vm.target_iqn in result["serial"]
        assert {"initiator": vm.initiator_iqn, "address": vm.ip} in result["sessions"]
        assert lab.lease(vm)["ip-address"] == vm.ip
        assert lab.reservation_root_path(vm) == "iscsi:10.77.0.1:6:3260:1:%s" % vm.target_iqn
    vm1 = lab.vms[0]

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
        assert result["outcome"] == "failed", result
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
    repaired = play("playbooks/site.yml", "--tags", "switch,dhcp")
    assert repaired.returncode == 0, repaired.stdout[-3000:]
    verify = play("playbooks/verify_boot_chain.yml")
    assert verify.returncode == 0, report(verify.stdout)
    assert lab.boot([vm1])[vm1.name]["outcome"] == "booted"
    # No CHAP secret of the lab in anything a play printed.
    for vm in lab.vms:
        for output in (first.stdout, second.stdout, repaired.stdout, verify.stdout):
            assert vm.chap["secret"] not in output
