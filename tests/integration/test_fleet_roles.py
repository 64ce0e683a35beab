# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' batch entry points, through playbooks/site.yml and plays of their own, against the fleet lab
(tests/lab/fleetlab.py: a real tgtd, a real Kea and an Open vSwitch database; servers are inventory hosts).

They stay correct for one server, under --limit, with servers that failed earlier in the play, and under
AWX/AAP job slicing (each slice a part of the servers: disjoint --limit subsets of one inventory, run one
after the other and at the same time). In each case exactly the play's (surviving) servers get a volume and a
reservation, each reservation's root path is its volume's, each server's facts are its own, a second run
changes nothing, and the preflight (verify_boot_chain.yml) finds no mismatch.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

import labkit
from labkit import tgt

sys.path.insert(0, str(labkit.REPO / "tests" / "lab"))
import fleetlab  # noqa: E402  pylint: disable=wrong-import-position

SERVERS = 12


@pytest.fixture(scope="module")
def fleet(root, repo):
    stack = labkit.Cleanup()
    try:
        workdir = labkit.make_workdir(stack)
        lab = fleetlab.FleetLab(stack, workdir, hosts=SERVERS).up()
        lab.inventory = lab.write_inventory()
        yield lab
    finally:
        stack.close()


def playbook(inventory, *arguments, background=False):
    argv = [str(labkit.VENV_BIN / "ansible-playbook"), "-i", str(inventory)] + [str(part) for part in arguments]
    if background:
        return subprocess.Popen(argv, cwd=str(labkit.REPO), env=labkit.ansible_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    return subprocess.run(argv, cwd=str(labkit.REPO), env=labkit.ansible_env(), capture_output=True, text=True,
                          timeout=600, check=False)


def names(numbers):
    return [fleetlab.server(number)["name"] for number in numbers]


def provisioned(lab):
    """{server name: root path its reservation hands out} for the servers with a volume and a reservation."""
    volumes = {path[len("sanboot-"):-len(".conf")] for path in lab.volume_files()}
    served = {}
    for number in range(1, SERVERS + 1):
        values = fleetlab.server(number)
        raw = lab.reservations().get(values["sanboot_mac"])
        if raw is not None:
            served[values["name"]] = next(option["data"] for option in raw["option-data"] if option["code"] == 17)
    assert set(served) == volumes, "volumes and reservations differ: %s / %s" % (sorted(volumes), sorted(served))
    return served


def root_path(name):
    return "iscsi:%s:6:%d:1:%s:%s" % (fleetlab.SERVER_IP, fleetlab.ISCSI_PORT, fleetlab.TARGET_PREFIX, name)


def task_results(output, task_prefix):
    """The result lines (ok: [...], changed: [...], ...) of the first task whose name starts with task_prefix."""
    lines = output.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("TASK [%s" % task_prefix))
    found = []
    for line in lines[start + 1:]:
        if line.startswith(("TASK [", "PLAY [", "PLAY RECAP")):
            break
        if re.match(r"^(ok|changed|failed|fatal|skipping): \[", line):
            found.append(line)
    return found


def recap(output):
    return {line.split()[0]: line for line in output.splitlines() if " : ok=" in line}


def test_one_server_and_limit(fleet, workdir):
    # An inventory of one server.
    single = fleet.write_inventory(numbers=[1], name="one.yml")
    first = playbook(single, "playbooks/site.yml", "--tags", "san,dhcp")
    assert first.returncode == 0, first.stdout[-3000:]
    assert provisioned(fleet) == {names([1])[0]: root_path(names([1])[0])}
    # The backing file is where the server's sanboot_storage_dir says (the lab's XFS), nowhere else.
    assert (fleet.storage / ("%s.img" % names([1])[0])).is_file()
    # Two servers of the twelve, by --limit: the others are left alone.
    limited = playbook(fleet.inventory, "playbooks/site.yml", "--tags", "san,dhcp", "--limit", ",".join(names([2, 3])))
    assert limited.returncode == 0, limited.stdout[-3000:]
    assert provisioned(fleet) == {name: root_path(name) for name in names([1, 2, 3])}


def test_servers_that_failed_earlier_are_left_out_and_the_others_get_their_own_facts(fleet, workdir):
    broken = names([4, 6])  # srv0004 is the first host of the play: run_once moves to the next one
    facts = workdir / "facts.json"
    play = [{"hosts": "boot_servers", "gather_facts": False, "tasks": [
        {"name": "Some servers fail before the SAN stage", "ansible.builtin.fail": {"msg": "broken"},
         "when": "inventory_hostname in %s" % json.dumps(broken)},
        {"name": "SAN", "ansible.builtin.include_role": {"name": "sanboot.iscsi.san_boot_volume", "tasks_from": "batch",
                                                         "defaults_from": "batch"}, "run_once": True},
        {"name": "DHCP", "ansible.builtin.include_role": {"name": "sanboot.iscsi.iscsi_boot_dhcp", "tasks_from": "batch",
                                                          "defaults_from": "batch"}, "run_once": True},
        {"name": "Each server's facts", "ansible.builtin.copy": {
            "content": "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, "
                       "'san_boot_volume_root_path'))) | to_json }}", "dest": str(facts), "mode": "0600"},
         "run_once": True, "delegate_to": "fleet-san"}]}]
    path = workdir / "failing.yml"
    path.write_text(json.dumps(play))
    result = playbook(fleet.inventory, path, "--limit", ",".join(names(range(4, 9))))
    assert result.returncode == 2, result.stdout[-3000:]  # the failed servers are reported as failed
    assert set(recap(result.stdout)) == set(names(range(4, 9)))
    served = provisioned(fleet)
    for name in names([5, 7, 8]):
        assert served[name] == root_path(name)
    assert not set(broken) & set(served)
    assert json.loads(facts.read_text()) == {name: root_path(name) for name in names([5, 7, 8])}


def test_job_slices_one_after_the_other_and_at_the_same_time(fleet, workdir):
    # Slices of one inventory, as AWX/AAP job slicing runs them: disjoint --limit subsets.
    for slice_numbers in ([9], [10]):
        done = playbook(fleet.inventory, "playbooks/site.yml", "--tags", "san,dhcp", "--limit", ",".join(names(slice_numbers)))
        assert done.returncode == 0, done.stdout[-3000:]
    # Two slices at the same moment (with the servers that failed before, 4 and 6): the SAN lock and the DHCP
    # writer lock serialise their batches, and neither loses the other's.
    running = [playbook(fleet.inventory, "playbooks/site.yml", "--tags", "san,dhcp", "--limit", ",".join(names(numbers)),
                        background=True) for numbers in ([11, 4], [12, 6, 1])]
    outputs = [process.communicate(timeout=600)[0] for process in running]
    assert [process.returncode for process in running] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    assert provisioned(fleet) == {name: root_path(name) for name in names(range(1, SERVERS + 1))}
    # The whole inventory: nothing is left to change.
    again = playbook(fleet.inventory, "playbooks/site.yml", "--tags", "san,dhcp")
    assert again.returncode == 0 and " changed=1" not in again.stdout and "changed=0" in again.stdout, again.stdout[-3000:]
    verified = playbook(fleet.inventory, "playbooks/verify_boot_chain.yml")
    assert verified.returncode == 0 and "boot chain verified: no mismatch on %d host(s)" % SERVERS in verified.stdout, \
        verified.stdout[-3000:]
    # At scale the preflight reads each source once, however many servers it holds: one SAN read, one DHCP read,
    # one switch read and one TCP check of the one portal for the 12 servers.
    for source in ("SAN - ", "DHCP - ", "Switch - ", "Portal - "):
        results = task_results(verified.stdout, source)
        assert len(results) == 1 and "(item=" in results[0], (source, results)
    assert "%d volume(s)" % SERVERS in task_results(verified.stdout, "SAN - ")[0]
    # A real initiator with each server's identity reaches its own LUN and no other.
    portal = "%s:%d" % (fleetlab.SERVER_IP, fleetlab.ISCSI_PORT)
    values = fleetlab.server(11)
    chap = (values["sanboot_chap"]["username"], values["sanboot_chap"]["secret"])
    assert tgt.iscsi_inq(portal, "%s:%s" % (fleetlab.TARGET_PREFIX, values["name"]), 1, values["sanboot_initiator_iqn"],
                         chap=chap, netns=fleet.netns).returncode == 0
    assert tgt.iscsi_inq(portal, "%s:%s" % (fleetlab.TARGET_PREFIX, names([12])[0]), 1, values["sanboot_initiator_iqn"],
                         chap=chap, netns=fleet.netns).returncode != 0
