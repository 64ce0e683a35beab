# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two ansible-playbook runs at the same moment, 50 distinct reservations each, against one Kea 2.2
(whole-configuration round trips): all 100 end up in the running and the persisted configuration,
and a real DHCP client gets each of them.

Every one of the 100 is checked with the real client rather than a sample: one udhcpc exchange
takes about 0.1 s here, so all of them cost less than the two plays, and a lost update of any
single entry would otherwise go unseen.
"""

from __future__ import annotations

import yaml

import labkit
from labkit.kea import KeaLab, start_play

SUBNET = "10.78.0.0/16"
PER_PLAY = 50


def host(group, number):
    octet = {"a": 1, "b": 2}[group]
    return {"mac": "52:54:00:0%d:00:%02x" % (octet, number), "ip": "10.78.%d.%d" % (octet, number),
            "target": "iqn.2026-11.test:%s%02d" % (group, number), "initiator": "iqn.2026-11.test:init-%s%02d" % (group, number)}


def inventory(workdir, group):
    hosts = {}
    for number in range(1, PER_PLAY + 1):
        values = host(group, number)
        hosts["%s%02d" % (group, number)] = {
            "boot_mac": values["mac"], "boot_ip": values["ip"], "boot_target": values["target"],
            "boot_initiator": values["initiator"], "ansible_connection": "local",
            "ansible_python_interpreter": str(labkit.VENV_BIN / "python")}
    path = workdir / ("inventory-%s.yml" % group)
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    return str(path)


TASKS = [{
    "name": "Boot reservation of this host",
    "sanboot.iscsi.dhcp_reservation": {
        "subnet": SUBNET, "mac": "{{ boot_mac }}", "ip": "{{ boot_ip }}", "hostname": "{{ inventory_hostname }}",
        "iscsi": {"server": "10.78.0.1", "target_iqn": "{{ boot_target }}", "initiator_iqn": "{{ boot_initiator }}"}},
}]


def expected():
    return {values["mac"]: values for values in (host(group, number) for group in "ab" for number in range(1, PER_PLAY + 1))}


def held(config):
    found = {}
    for subnet in config["Dhcp4"]["subnet4"]:
        for reservation in subnet.get("reservations", []):
            options = {option["code"]: option.get("data") for option in reservation.get("option-data", [])}
            found[reservation["hw-address"]] = (reservation.get("ip-address"), options.get(17), options.get(203))
    return found


def test_two_concurrent_plays_of_50_reservations_all_end_up_served(root, repo, cleanup, workdir):
    lab = KeaLab.start(cleanup, workdir, subnet=SUBNET, pool="10.78.200.1 - 10.78.200.50")
    plays = [start_play(lab, workdir, TASKS, inventory(workdir, group), forks=5) for group in "ab"]
    for play in plays:
        play.wait(timeout=900)
        play.log_file.close()
    for play in plays:
        log = play.log_path.read_text()
        assert play.returncode == 0, log[-3000:]
        assert log.count("changed: [") == PER_PLAY, log[-3000:]

    wanted = {mac: (values["ip"], "iscsi:10.78.0.1:6:3260:1:" + values["target"], values["initiator"])
              for mac, values in expected().items()}
    assert held(lab.config()) == wanted, "the running configuration lost or garbled reservations"
    assert held(lab.persisted()) == wanted, "the configuration file lost or garbled reservations"
    definitions = [(d["space"], d["code"]) for d in lab.config()["Dhcp4"]["option-def"]]
    assert definitions == [("dhcp4", 203)], "option 203 must be defined exactly once"

    leases = lab.client(cleanup).leases(sorted(wanted))
    served = {mac: (lease.ip, lease.rootpath, lease.initiator_iqn) if lease else None for mac, lease in leases.items()}
    assert served == wanted


def test_two_concurrent_batches_of_50_reservations_all_end_up_served(root, repo, cleanup, workdir):
    """The same guarantee with the batch form (issue 16): two plays at the same moment, each one
    dhcp_reservation task with `reservations` of 50, so each batch is one configuration round trip and the
    second runs its round trip on a configuration that holds the first one's. Nothing is lost."""
    lab = KeaLab.start(cleanup, workdir, subnet=SUBNET, pool="10.78.200.1 - 10.78.200.50")
    hosts = workdir / "controller.yml"
    hosts.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": str(labkit.VENV_BIN / "python")}}}}))
    plays = []
    for group in "ab":
        entries = []
        for number in range(1, PER_PLAY + 1):
            values = host(group, number)
            entries.append({"mac": values["mac"], "ip": values["ip"], "hostname": "%s%02d" % (group, number),
                            "iscsi": {"server": "10.78.0.1", "target_iqn": values["target"],
                                      "initiator_iqn": values["initiator"]}})
        task = {"name": "Boot reservations of slice %s" % group,
                "sanboot.iscsi.dhcp_reservation": {"subnet": SUBNET, "reservations": entries}}
        plays.append(start_play(lab, workdir, [task], str(hosts), forks=5))
    for play in plays:
        play.wait(timeout=900)
        play.log_file.close()
    for play in plays:
        log = play.log_path.read_text()
        assert play.returncode == 0, log[-3000:]
        assert log.count("changed: [") == 1, log[-3000:]

    wanted = {mac: (values["ip"], "iscsi:10.78.0.1:6:3260:1:" + values["target"], values["initiator"])
              for mac, values in expected().items()}
    assert held(lab.config()) == wanted, "the running configuration lost or garbled reservations"
    assert held(lab.persisted()) == wanted, "the configuration file lost or garbled reservations"
    # A lost batch loses 50 at once: every tenth of each batch, served to a real client, shows it.
    sample = sorted(wanted)[::10]
    leases = lab.client(cleanup).leases(sample)
    assert {mac: (lease.ip, lease.rootpath, lease.initiator_iqn) if lease else None
            for mac, lease in leases.items()} == {mac: wanted[mac] for mac in sample}
