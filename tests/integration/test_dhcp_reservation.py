# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dhcp_reservation and dhcp_reservation_info against a real Kea 2.2 (config round trip), proven with a
real DHCP client (busybox udhcpc) in a second namespace whose interface carries the reserved MAC.

One Kea serves this module's tests; each test uses its own MACs and addresses, and the tests that
must show "nothing changed" compare Kea's whole running configuration before and after.
"""

from __future__ import annotations

import binascii
import copy
import os
import stat
import tempfile
from pathlib import Path

import pytest

import labkit
from labkit.kea import KeaLab, run_play, sub_options

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import parse_root_path

TARGET = "iqn.2026-11.test:boot1"
INITIATOR = "iqn.2026-11.test:vm1"
CHAP_USER = "vmuser"
CHAP_SECRET = "Vm-Secret-1234"  # 14 characters: inside the Microsoft initiator's 12..16
SUBNET = "10.77.0.0/24"

# Hand-written reservations the lab starts with (other administrators' work the module must keep).
OTHER_MAC, OTHER_IP = "52:54:00:00:00:10", "10.77.0.10"
TAKEN_MAC, TAKEN_IP = "52:54:00:00:00:11", "10.77.0.11"
FOREIGN = {"id": 2, "subnet": "10.88.0.0/24", "reservations": [
    {"hw-address": "52:54:00:88:00:01", "ip-address": "10.88.0.5", "hostname": "elsewhere",
     "option-data": [{"name": "domain-name-servers", "data": "10.88.0.2"}]}]}


@pytest.fixture(scope="module")
def lab(root, repo):
    stack = labkit.Cleanup()
    try:
        workdir = labkit.make_workdir(stack)
        extra = {
            "option-data": [{"name": "domain-name", "data": "lab.test"}],
            "subnet1": {"reservations": [
                {"hw-address": OTHER_MAC, "ip-address": OTHER_IP, "hostname": "other01",
                 "option-data": [{"name": "root-path", "data": "iscsi:10.77.0.1:6:3260:0:iqn.2026-11.test:other"}]},
                {"hw-address": TAKEN_MAC, "ip-address": TAKEN_IP, "hostname": "taken01"}]},
            "subnet4": [FOREIGN],
        }
        kea = KeaLab.start(stack, workdir, dhcp4_extra=extra)
        kea.dhcp_client = kea.client()
        yield kea
    finally:
        stack.close()


def boot_task(mac, ip, hostname=None, chap=False, **extra):
    arguments = {"subnet": SUBNET, "mac": mac, "ip": ip,
                 "iscsi": {"server": "10.77.0.1", "target_iqn": TARGET, "lun": 1, "initiator_iqn": INITIATOR}}
    if hostname:
        arguments["hostname"] = hostname
    if chap:
        arguments["iscsi"]["chap"] = {"username": CHAP_USER, "secret": CHAP_SECRET}
    arguments.update(extra)
    return {"name": "reservation %s" % mac, "sanboot.iscsi.dhcp_reservation": arguments}


def raw_reservation(config, mac, subnet_id=1):
    for subnet in config["Dhcp4"]["subnet4"]:
        if subnet["id"] == subnet_id:
            for reservation in subnet.get("reservations", []):
                if reservation.get("hw-address") == mac:
                    return reservation
    return None


def without_reservation(config, mac):
    expected = copy.deepcopy(config)
    for subnet in expected["Dhcp4"]["subnet4"]:
        subnet["reservations"] = [r for r in subnet.get("reservations", []) if r.get("hw-address") != mac]
    return expected


def test_boot_reservation_is_served_with_check_diff_and_idempotence(lab, workdir):
    mac, ip = "52:54:00:12:34:56", "10.77.0.60"
    root_path = "iscsi:10.77.0.1:6:3260:1:" + TARGET
    before = lab.config()

    run = run_play(lab, workdir, [
        dict(boot_task(mac, ip, "winboot01", chap=True), check_mode=True, diff=True),
    ])
    checked = run[0]
    assert not checked.get("failed"), checked
    assert checked["changed"] is True
    assert lab.config() == before, "check mode changed the server"

    # A second server whose portal is an IPv6 address, with a boot LUN of 10 or more (issue 11).
    v6_mac, v6_ip = "52:54:00:12:34:66", "10.77.0.66"
    v6_task = boot_task(v6_mac, v6_ip, "winboot66")
    v6_task["sanboot.iscsi.dhcp_reservation"]["iscsi"].update(server="[FD00:0::5]", lun=11)
    run = run_play(lab, workdir, [
        dict(boot_task(mac, ip, "winboot01", chap=True), diff=True),
        boot_task(mac, ip, "winboot01", chap=True),
        {"name": "read it back", "sanboot.iscsi.dhcp_reservation_info": {"mac": mac.upper().replace(":", "-")}},
        v6_task,
    ])
    applied, again, info = run[0], run[1], run[2]
    v6 = run[3]
    assert v6["changed"] is True and v6["root_path"] == "iscsi:[fd00::5]:6:3260:b:" + TARGET, v6
    assert any(warning.startswith("iscsi.lun 11 goes into the root path (option 17) as 'b'") and "decimal" in warning
               for warning in v6["warnings"]), v6
    v6_lease = lab.dhcp_client.lease(v6_mac)
    assert v6_lease.rootpath == v6["root_path"]
    assert parse_root_path(v6_lease.rootpath) == {"server": "fd00::5", "protocol": 6, "port": 3260, "lun": 11,
                                                  "target_iqn": TARGET}
    assert not applied.get("failed"), applied
    assert applied["changed"] is True
    assert applied["root_path"] == root_path
    # The diff is exact: what check mode predicted is what was done, and what the server now holds.
    assert applied["diff"] == checked["diff"]
    assert applied["diff"]["before"]["reservations"] == []
    assert applied["diff"]["after"]["reservations"] == [applied["reservation"]]
    assert info["reservations"] == [applied["reservation"]]
    names = {(d["space"], d["code"]): d["name"] for d in applied["diff"]["after"]["option_defs"]}
    assert names == {("dhcp4", 203): "iscsi-initiator-iqn", ("dhcp4", 175): "ipxe-encap-opts",
                     ("ipxe", 190): "ipxe-username", ("ipxe", 191): "ipxe-password"}
    options = {(o["space"], o["code"]): o["data"] for o in applied["reservation"]["options"]}
    assert options == {("dhcp4", 17): root_path, ("dhcp4", 203): INITIATOR, ("dhcp4", 175): "",
                       ("ipxe", 190): CHAP_USER, ("ipxe", 191): "********"}
    assert (applied["reservation"]["mac"], applied["reservation"]["ip"], applied["reservation"]["hostname"]) == \
        (mac, ip, "winboot01")
    assert again["changed"] is False, again

    # What Kea itself holds (config-get, raw), independently of the module's normalisation.
    held = raw_reservation(lab.config(), mac)
    assert (held["ip-address"], held["hostname"]) == (ip, "winboot01")
    raw_options = {(o["space"], o["code"]): o.get("data") for o in held["option-data"]}
    assert raw_options[("dhcp4", 17)] == root_path and raw_options[("dhcp4", 203)] == INITIATOR
    assert raw_options[("ipxe", 191)] == CHAP_SECRET
    defs = [(d["space"], d["code"]) for d in lab.config()["Dhcp4"]["option-def"]]
    assert sorted(defs) == sorted(names), "option definitions added more than once or missing"

    # A real client with the reserved MAC gets all of it.
    lease = lab.dhcp_client.lease(mac)
    assert lease is not None, "no DHCP answer for the reserved MAC"
    assert lease.ip == ip
    assert lease.rootpath == root_path
    assert lease.initiator_iqn == INITIATOR
    assert lease.hostname == "winboot01"
    assert sub_options(lease.option_bytes(175)) == {190: CHAP_USER.encode(), 191: CHAP_SECRET.encode()}

    # An unreserved MAC gets a pool address and no boot options.
    stranger = lab.dhcp_client.lease("52:54:00:77:77:77")
    assert stranger is not None
    assert stranger.ip.startswith("10.77.0.1") and 100 <= int(stranger.ip.rsplit(".", 1)[1]) <= 150
    assert stranger.rootpath is None and stranger.initiator_iqn is None and 175 not in stranger.options

    # Persisted: the file Kea restarts from has it, and a restarted kea-dhcp4 serves it.
    assert raw_reservation(lab.persisted(), mac)["ip-address"] == ip
    assert stat.S_IMODE(lab.config_path.stat().st_mode) == 0o600, "config-write must keep the file private"
    lab.restart_dhcp4()
    lease = lab.dhcp_client.lease(mac)
    assert (lease.ip, lease.rootpath, lease.initiator_iqn, lease.hostname) == (ip, root_path, INITIATOR, "winboot01")


def test_a_changed_secret_reaches_the_client(lab, workdir):
    """Kea 2.2 freezes packed sub-options in option 175 across a config round trip; the module repacks."""
    mac, ip = "52:54:00:12:34:57", "10.77.0.61"
    first = run_play(lab, workdir, [boot_task(mac, ip, chap=True)])[0]
    assert first["changed"] is True, first
    task = boot_task(mac, ip, chap=True)
    task["sanboot.iscsi.dhcp_reservation"]["iscsi"]["chap"]["secret"] = "Other-Secret-99"
    run = run_play(lab, workdir, [dict(task, diff=True), task])
    changed, again = run[0], run[1]
    assert changed["changed"] is True and again["changed"] is False
    secret_before = [o["data"] for o in changed["diff"]["before"]["reservations"][0]["options"] if o["code"] == 191]
    secret_after = [o["data"] for o in changed["diff"]["after"]["reservations"][0]["options"] if o["code"] == 191]
    assert (secret_before, secret_after) == (["********"], ["******** (changed)"])
    lease = lab.dhcp_client.lease(mac)
    assert sub_options(lease.option_bytes(175))[191] == b"Other-Secret-99"


def test_absent_removes_only_that_reservation(lab, workdir):
    keep_mac, keep_ip = "52:54:00:12:35:01", "10.77.0.71"
    gone_mac, gone_ip = "52:54:00:12:35:02", "10.77.0.72"
    run = run_play(lab, workdir, [boot_task(keep_mac, keep_ip, "keep01"), boot_task(gone_mac, gone_ip, "gone01")])
    assert run[0]["changed"] and run[1]["changed"], run.results
    before = lab.config()

    run = run_play(lab, workdir, [
        dict({"name": "remove", "sanboot.iscsi.dhcp_reservation": {"subnet": SUBNET, "mac": gone_mac, "state": "absent"}},
             diff=True),
        {"name": "again", "sanboot.iscsi.dhcp_reservation": {"subnet_id": 1, "mac": gone_mac, "ip": gone_ip,
                                                             "state": "absent"}},
    ])
    removed, again = run[0], run[1]
    assert removed["changed"] is True and removed["reservation"] is None, removed
    assert [r["mac"] for r in removed["diff"]["before"]["reservations"]] == [gone_mac]
    assert removed["diff"]["after"]["reservations"] == []
    assert again["changed"] is False, again
    # Everything else keeps its meaning: the configuration is the previous one minus that entry.
    assert lab.config() == without_reservation(before, gone_mac)
    assert raw_reservation(lab.persisted(), gone_mac) is None
    assert raw_reservation(lab.persisted(), keep_mac)["ip-address"] == keep_ip
    leases = lab.dhcp_client.leases([keep_mac, gone_mac, OTHER_MAC])
    assert (leases[keep_mac].ip, leases[keep_mac].hostname) == (keep_ip, "keep01")
    assert leases[keep_mac].rootpath == "iscsi:10.77.0.1:6:3260:1:" + TARGET
    assert leases[gone_mac].ip != gone_ip and leases[gone_mac].rootpath is None
    assert (leases[OTHER_MAC].ip, leases[OTHER_MAC].hostname) == (OTHER_IP, "other01")


def test_replace_takes_over_an_address_and_moves_a_mac(lab, workdir):
    mac = "52:54:00:12:36:01"
    run = run_play(lab, workdir, [
        boot_task(mac, TAKEN_IP, "takeover01", replace=True),
        boot_task(mac, TAKEN_IP, "takeover01", replace=True),
    ])
    taken, again = run[0], run[1]
    assert taken["changed"] is True, taken
    assert again["changed"] is False
    config = lab.config()
    assert raw_reservation(config, TAKEN_MAC) is None
    assert raw_reservation(config, mac)["ip-address"] == TAKEN_IP
    leases = lab.dhcp_client.leases([mac, TAKEN_MAC])
    assert (leases[mac].ip, leases[mac].rootpath) == (TAKEN_IP, "iscsi:10.77.0.1:6:3260:1:" + TARGET)
    assert leases[TAKEN_MAC].ip != TAKEN_IP

    # Moving the reservation of a MAC to another address needs replace too.
    before = lab.config()
    refused = run_play(lab, workdir, [boot_task(mac, "10.77.0.81")])[0]
    assert refused.get("failed"), refused
    assert "already has a reservation for %s" % TAKEN_IP in refused["msg"] and "replace=true" in refused["msg"]
    assert lab.config() == before
    moved = run_play(lab, workdir, [boot_task(mac, "10.77.0.81", replace=True)])[0]
    assert moved["changed"] is True, moved
    assert raw_reservation(lab.config(), mac)["ip-address"] == "10.77.0.81"
    assert lab.dhcp_client.lease(mac).ip == "10.77.0.81"


def _closed_port():
    return labkit.free_tcp_port()


BAD_INPUT = [
    pytest.param({"mac": "52:54:00:zz:00:01"}, "mac: '52:54:00:zz:00:01' is not a MAC address", id="malformed-mac"),
    pytest.param({"ip": "10.99.0.5"}, "ip 10.99.0.5 is outside subnet 10.77.0.0/24", id="ip-outside-subnet"),
    pytest.param({"ip": "10.99.0.5", "subnet": None, "subnet_id": 1}, "ip 10.99.0.5 is outside subnet 10.77.0.0/24 (id 1)",
                 id="ip-outside-subnet-by-id"),
    pytest.param({"ip": OTHER_IP}, "ip %s is already reserved for MAC %s in subnet 10.77.0.0/24 (id 1): set replace=true"
                 % (OTHER_IP, OTHER_MAC), id="ip-reserved-for-another-mac"),
    pytest.param({"subnet": "10.66.0.0/24", "ip": "10.66.0.5"}, "subnet 10.66.0.0/24 is not a subnet of this server; its "
                 "subnets are 10.77.0.0/24 (id 1), 10.88.0.0/24 (id 2)", id="unknown-subnet"),
    pytest.param({"subnet": None, "subnet_id": 7}, "subnet_id 7 is not a subnet of this server", id="unknown-subnet-id"),
    pytest.param({"iscsi": {"server": "10.77.0.1", "target_iqn": "iqn.2026-13.test:boot1"}},
                 "iscsi: 'iqn.2026-13.test:boot1' is not a valid IQN: month 13", id="malformed-target-iqn"),
    pytest.param({"iscsi": {"server": "10.77.0.1", "target_iqn": TARGET, "lun": "one"}},
                 "iscsi: LUN 'one' is not a whole number", id="non-numeric-lun"),
    pytest.param({"api_password": "wrong-password"}, "refused user 'ansible' (HTTP 401 Unauthorized): check api_username "
                 "and api_password", id="wrong-credentials"),
    pytest.param({"api_url": "closed"}, "cannot reach the Kea control agent at http://127.0.0.1:{port}/: connection refused",
                 id="api-unreachable"),
    pytest.param({"options": [{"code": 3, "data": "not-an-address"}]},
                 "Kea refused the new configuration at config-test, so nothing was set: option data does not match "
                 "option definition (space: dhcp4, code: 3): Failed to convert string to address 'not-an-address'",
                 id="kea-refuses-at-config-test"),
]


@pytest.mark.parametrize("change, message", BAD_INPUT)
def test_bad_input_fails_clearly_and_changes_nothing(lab, workdir, change, message):
    task = boot_task("52:54:00:12:37:01", "10.77.0.90", "bad01", chap=True)
    arguments = task["sanboot.iscsi.dhcp_reservation"]
    for key, value in change.items():
        if key == "api_url":
            port = _closed_port()
            value = "http://127.0.0.1:%d/" % port
            message = message.format(port=port)
        if value is None:
            arguments.pop(key, None)
        else:
            arguments[key] = value
    before = lab.config()
    run = run_play(lab, workdir, [task])
    result = run[0]
    assert result.get("failed") is True, result
    assert message in result["msg"]
    assert "Traceback" not in run.output
    assert CHAP_SECRET not in run.output and lab.password not in run.output
    assert lab.config() == before, "a failed run changed the server"
    assert raw_reservation(lab.persisted(), "52:54:00:12:37:01") is None


def test_no_secret_in_verbose_output(lab, workdir):
    mac, ip = "52:54:00:12:38:01", "10.77.0.95"
    tasks = [boot_task(mac, ip, "secret01", chap=True), dict(boot_task(mac, ip, "secret01", chap=True), diff=True),
             {"name": "info", "sanboot.iscsi.dhcp_reservation_info": {"mac": mac}},
             boot_task(mac, ip, "secret01", chap=True, options=[{"code": 3, "data": "bad"}])]
    run = run_play(lab, workdir, tasks, "-vvv", "--diff", collect=False)
    assert run.returncode == 0, run.output
    assert "changed: [localhost]" in run.output
    assert "config-test" in run.output  # the failing task ran and reported Kea's refusal
    secret_forms = [CHAP_SECRET, binascii.hexlify(CHAP_SECRET.encode()).decode(),
                    binascii.hexlify(CHAP_SECRET.encode()).decode().upper(), lab.password]
    for form in secret_forms:
        assert form not in run.output, "a secret reached the -vvv output"
    assert "DHCP sends in clear text" in run.output  # the CHAP warning
    # The lock directory the module used is private (the module ran as this user, with the same TMPDIR).
    lock_directory = Path(tempfile.gettempdir()) / ("sanboot.iscsi-%d" % os.getuid())
    assert stat.S_IMODE(lock_directory.stat().st_mode) == 0o700
    assert list(lock_directory.glob("dhcp-*.lock"))


def test_tls_agent_is_verified_with_ca_path(root, repo, cleanup, workdir):
    tls_lab = KeaLab.start(cleanup, workdir, tls=True)
    assert tls_lab.url.startswith("https://")
    task = boot_task("52:54:00:12:39:01", "10.77.0.99")
    with_ca = boot_task("52:54:00:12:39:01", "10.77.0.99", ca_path=str(tls_lab.ca_path))
    unverified = boot_task("52:54:00:12:39:01", "10.77.0.99", validate_certs=False)
    before = tls_lab.config()
    run = run_play(tls_lab, workdir, [task, with_ca, unverified])
    refused, verified, again = run[0], run[1], run[2]
    assert refused.get("failed") is True
    assert refused["msg"].startswith("TLS verification of the Kea control agent at %s failed (certificate verify "
                                     "failed: " % tls_lab.url)
    assert "give ca_path, or validate_certs=false for a test server" in refused["msg"]
    assert verified["changed"] is True, verified
    assert again["changed"] is False, again
    after = tls_lab.config()
    assert after != before and raw_reservation(after, "52:54:00:12:39:01")["ip-address"] == "10.77.0.99"
