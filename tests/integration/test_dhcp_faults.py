# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""No half-applied reservation: a failure after the change leaves the reservation exactly as before.

Against a real Kea 2.2 (kea-dhcp4 in its own network namespace, its control agent on 127.0.0.1),
with the core of dhcp_reservation run in process; what "exactly as before" means is checked three
ways: config-get (the running configuration), the configuration file, and a real DHCP client
(busybox udhcpc) asking with the reservation's MAC.

- config-write really fails: the configuration file is bind-mounted read-only inside kea-dhcp4's
  own mount namespace (the one `ip netns exec` made for it; nsenter -t <pid> -m), which root's
  kea-dhcp4 cannot write through ("Unable to open file ... for writing"); unmounted afterwards.
- The host_cmds path, which Debian's Kea 2.2 lacks, goes through labkit.kea_host_cmds, a test
  double of the hook in front of the real agent: it changes the real server's configuration, so
  the DHCP client sees every state it leaves; it refuses one command on demand.
"""

from __future__ import annotations

import subprocess

import pytest

import labkit
from labkit.kea import KeaLab
from labkit.kea_host_cmds import HostCmdsShim

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.core import DhcpError, run_reservation
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.registry import BACKENDS

TARGET = "iqn.2026-11.test:boot1"
SUBNET = "10.77.0.0/24"


@pytest.fixture(scope="module")
def lab(root, repo):
    stack = labkit.Cleanup()
    try:
        workdir = labkit.make_workdir(stack)
        kea = KeaLab.start(stack, workdir, dhcp4_extra={"subnet1": {"reservations": [
            {"hw-address": "52:54:00:00:00:10", "ip-address": "10.77.0.10", "hostname": "other01"}]}})
        kea.dhcp_client = kea.client()
        yield kea
    finally:
        stack.close()


class ReadOnlyConfigFile:
    """The server's configuration file read-only for kea-dhcp4 (a bind mount in its mount namespace)."""

    def __init__(self, lab):
        self.path = str(lab.config_path)
        self.enter = ["nsenter", "-t", str(lab.dhcp4.pid), "-m"]

    def __enter__(self):
        labkit.run(self.enter + ["mount", "--bind", self.path, self.path])
        labkit.run(self.enter + ["mount", "-o", "remount,bind,ro", self.path])
        return self

    def __exit__(self, *exc_info):
        subprocess.run(self.enter + ["umount", self.path], check=True, timeout=30)
        return False


def params(url, lab, mac, ip, hostname, server="10.77.0.1", **values):
    result = {"backend": "kea", "api_url": url, "api_username": lab.user, "api_password": lab.password,
              "validate_certs": True, "ca_path": None, "timeout": 15, "service": "dhcp4", "state": "present",
              "mac": mac, "ip": ip, "subnet": SUBNET, "subnet_id": None, "hostname": hostname, "options": [],
              "replace": False, "persist": True,
              "iscsi": {"server": server, "target_iqn": TARGET, "initiator_iqn": "iqn.2026-11.test:vm1"}}
    result.update(values)
    return result


def state(lab, mac):
    """What "exactly as before" compares: the running configuration (reservations by MAC: host_cmds
    may put a restored reservation at another place in the list, which no client can tell), the file,
    and what a real client gets."""
    config = lab.config()
    by_mac = {}
    for subnet in config["Dhcp4"]["subnet4"]:
        for reservation in subnet.pop("reservations", []):
            by_mac[(subnet["id"], reservation.get("hw-address"))] = reservation
    lease = lab.dhcp_client.lease(mac)
    served = (lease.ip, lease.rootpath, lease.hostname, lease.initiator_iqn) if lease else None
    return {"running": (config, by_mac), "file": lab.persisted(), "served": served}


def test_round_trip_a_failed_config_write_leaves_the_reservation_exactly_as_before(lab):
    mac, ip = "52:54:00:12:40:01", "10.77.0.41"
    assert run_reservation(params(lab.url, lab, mac, ip, "rt01"), BACKENDS)["changed"] is True
    before = state(lab, mac)
    assert before["served"] == (ip, "iscsi:10.77.0.1:6:3260:1:" + TARGET, "rt01", "iqn.2026-11.test:vm1")
    change = params(lab.url, lab, mac, ip, "rt01-b", server="10.77.0.2")
    with ReadOnlyConfigFile(lab):
        with pytest.raises(DhcpError) as info:
            run_reservation(change, BACKENDS)
    assert str(info.value).startswith("config-write failed, so the change was taken back (the server runs the previous "
                                      "configuration): Kea (dhcp4 at %s) refused config-write: Error during "
                                      "write-config:Unable to open file %s for writing" % (lab.url, lab.config_path))
    assert state(lab, mac) == before
    assert run_reservation(change, BACKENDS)["changed"] is True
    assert state(lab, mac)["served"] == (ip, "iscsi:10.77.0.2:6:3260:1:" + TARGET, "rt01-b", "iqn.2026-11.test:vm1")
    assert run_reservation(change, BACKENDS)["changed"] is False


@pytest.mark.parametrize("update, fault", [
    (False, "reservation-add"),    # a delete and an add: the add fails after the delete
    (False, "config-write"),
    (True, "config-write"),        # reservation-update in place, then config-write fails
    (True, "take-over"),           # another client's address taken over: its delete, then the update fails
])
def test_host_cmds_a_failure_after_the_change_leaves_the_reservations_exactly_as_before(lab, cleanup, update, fault):
    shim = HostCmdsShim(lab, update=update).start(cleanup)
    number = {"reservation-add": 1, "config-write": 2, "take-over": 3}[fault] + (10 if update else 0)
    mac, ip = "52:54:00:12:41:%02d" % number, "10.77.0.%d" % (50 + number)
    assert run_reservation(params(shim.url, lab, mac, ip, "hc%02d" % number), BACKENDS)["changed"] is True
    assert "reservation-add" in shim.calls and "config-set" not in shim.calls
    if fault == "take-over":
        other_mac, other_ip = "52:54:00:12:42:%02d" % number, "10.77.0.%d" % (70 + number)
        assert run_reservation(params(shim.url, lab, other_mac, other_ip, "other%02d" % number), BACKENDS)["changed"]
        change = params(shim.url, lab, mac, other_ip, "hc%02d-b" % number, replace=True)
    else:
        change = params(shim.url, lab, mac, ip, "hc%02d-b" % number, server="10.77.0.2")
    before = state(lab, mac)
    other_before = state(lab, other_mac)["served"] if fault == "take-over" else None
    shim.calls.clear()
    if fault == "config-write":
        with ReadOnlyConfigFile(lab), pytest.raises(DhcpError) as info:
            run_reservation(change, BACKENDS)
        assert str(info.value).startswith("config-write failed, so the change was taken back (the server holds the "
                                          "previous reservations): ")
    else:
        shim.fail_once["reservation-update" if update else "reservation-add"] = (1, "Host already exists.")
        with pytest.raises(DhcpError) as info:
            run_reservation(change, BACKENDS)
        assert "(the reservations changed before it were put back as they were)" in str(info.value)
        assert "reservation-del" in shim.calls
    assert ("reservation-update" in shim.calls) is update
    assert state(lab, mac) == before, str(info.value)
    if other_before is not None:
        assert state(lab, other_mac)["served"] == other_before
    assert run_reservation(change, BACKENDS)["changed"] is True
    assert run_reservation(change, BACKENDS)["changed"] is False
    if fault == "take-over":
        # The other client still holds a lease on the address it had reserved; Kea hands a leased
        # address to no one else until the lease goes.
        lab.command("lease4-del", {"ip-address": other_ip})
    served = state(lab, mac)["served"]
    assert served[2] == "hc%02d-b" % number and served[0] == change["ip"]


def test_an_ipv6_portal_round_trips_through_the_reservation(lab):
    """Bracketed IPv6 servers: root_path built by the naming core, served by Kea, parsed back."""
    from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import parse_root_path
    mac, ip = "52:54:00:12:43:01", "10.77.0.43"
    result = run_reservation(params(lab.url, lab, mac, ip, "v6boot01", server="[FD00:0::5]",
                                    iscsi={"server": "[FD00:0::5]", "target_iqn": TARGET, "lun": 11}), BACKENDS)
    assert result["root_path"] == "iscsi:[fd00::5]:6:3260:b:" + TARGET
    assert result["warnings"][0].startswith("iscsi.lun 11 goes into the root path (option 17) as 'b'")
    lease = lab.dhcp_client.lease(mac)
    assert lease.rootpath == result["root_path"]
    assert parse_root_path(lease.rootpath) == {"server": "fd00::5", "protocol": 6, "port": 3260, "lun": 11,
                                               "target_iqn": TARGET}
    assert result["reservation"]["options"][0]["data"] == result["root_path"]
    unbracketed = {"server": "fd00::5", "target_iqn": TARGET, "lun": 11}
    assert run_reservation(params(lab.url, lab, mac, ip, "v6boot01", iscsi=unbracketed), BACKENDS)["changed"] is False
