# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Kea backend: normalisation of Kea's records, option definitions, the configuration edit, the REST
client's errors, and the round trip's and host_cmds' handling of interference and faults.

The happy paths against the real Kea 2.2 and its control agent are in tests/integration. Here a
*Kea control agent simulator* (a local HTTP server) stands in where the real one cannot produce the
case on demand: another writer landing between two of our commands, config-write failing, HTTP faults,
and the host_cmds hook, which Debian's Kea 2.2 does not have (the simulator follows Kea 3.0's documented
reservation-get/-add/-del, operation-target and result codes). Its starting configuration and its fault
answers are real Kea 2.2 output (fixtures/kea22-config-get.json; 401/400/unsupported bodies as seen).
"""

from __future__ import annotations

import base64
import copy
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp import core as dhcp
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.core import DhcpError, build_request, run_reservation
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.backends.kea.backend import KeaBackend
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.registry import BACKENDS
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.backends.kea.client import KeaClient, KeaError
from ansible_collections.sanboot.iscsi.plugins.module_utils.rest import display_url
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.backends.kea.config import (
    STALE,
    normalise_options,
    normalise_reservation,
    plan_definitions,
)

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "kea22-config-get.json").read_text())
TARGET = "iqn.2026-11.test:boot1"
USER, PASSWORD = "ansible", "api-pass-5678"
DEFS = FIXTURE["Dhcp4"]["option-def"]
BOOT_MAC, OTHER_MAC = "52:54:00:12:34:56", "52:54:00:00:00:10"


def fixture_reservation(mac):
    return next(r for r in FIXTURE["Dhcp4"]["subnet4"][0]["reservations"] if r["hw-address"] == mac)


@pytest.fixture(autouse=True)
def private_lock_directory_and_no_backoff(tmp_path, monkeypatch):
    monkeypatch.setattr(dhcp.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(KeaBackend, "_pause", lambda self, attempt: None)


# --- a Kea control agent simulator ------------------------------------------------------------------

class KeaSimulator:
    """Answers like Kea's control agent in front of kea-dhcp4: basic auth, a list per service, result codes.

    `config` is what config-get returns. `host_cmds` adds the hook's commands (reservations then live in
    the configuration, operation-target primary); `update` adds reservation-update (Kea 2.4+ and 3.0
    document it: it replaces the host with the same identifier in the subnet). `interfere(command)`
    runs before each answer, to play another writer; `fail` maps a command to a (result, text) answer;
    `fail_nth` makes the Nth command of all answer as Kea does when the server is gone. `served`
    records, after each command, the MACs a DHCP request would find reserved in subnet 1.
    """

    def __init__(self, host_cmds=False, update=False):
        self.config = copy.deepcopy(FIXTURE)
        self.host_cmds = host_cmds
        self.update = update
        self.calls = []
        self.served = []
        self.fail = {}
        self.fail_nth = None
        self.interfere = None
        self.delay = 0
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # no delayed-ACK wait between headers and body

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                expected = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
                if self.headers.get("Authorization") != expected:
                    return self.reply(401, {"result": 401, "text": "Unauthorized"})
                try:
                    request = json.loads(body)
                except ValueError:
                    return self.reply(400, {"result": 400, "text": "Bad Request"})
                time.sleep(simulator.delay)
                self.reply(200, [simulator.answer(request)])

            def reply(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # Kea's names for the standard options these tests use (as its config-get shows them).
    STANDARD = {("dhcp4", 3): "routers", ("dhcp4", 6): "domain-name-servers", ("dhcp4", 17): "root-path"}

    def expanded(self, config):
        """As Kea holds a configuration it was given: every option-data entry with its code, name and defaults."""
        config = copy.deepcopy(config)
        names = dict(self.STANDARD)
        for definition in config["Dhcp4"].get("option-def", []):
            names[(definition.get("space", "dhcp4"), definition["code"])] = definition["name"]
        codes = {(space, name): code for (space, code), name in names.items()}
        entries = []

        def walk(node):
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "option-data":
                        entries.extend(value)
                    else:
                        walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)
        walk(config)
        for entry in entries:
            entry.setdefault("space", "dhcp4")
            entry.setdefault("code", codes.get((entry["space"], entry.get("name"))))
            entry.setdefault("name", names.get((entry["space"], entry["code"])))
            entry.setdefault("always-send", False)
            entry.setdefault("csv-format", "data" in entry)
        return config

    def subnet(self, subnet_id=1):
        return next(s for s in self.config["Dhcp4"]["subnet4"] if s["id"] == subnet_id)

    GONE = (1, "unable to forward command to the dhcp4 service: No such file or directory. The server is likely to be "
               "offline")

    def answer(self, request):
        answer = self._answer(request)
        self.served.append([r.get("hw-address") for r in self.subnet().get("reservations", [])])
        return answer

    def _answer(self, request):
        command, arguments = request.get("command"), request.get("arguments")
        self.calls.append(command)
        if self.fail_nth is not None and len(self.calls) == self.fail_nth:
            return {"result": self.GONE[0], "text": self.GONE[1]}
        if self.interfere:
            self.interfere(command)
        if command in self.fail:
            result, text = self.fail[command]
            return {"result": result, "text": text}
        if command == "list-commands":
            commands = ["config-get", "config-set", "config-test", "config-write", "list-commands", "shutdown"]
            if self.host_cmds:
                commands += ["reservation-add", "reservation-del", "reservation-get", "reservation-get-all"]
            if self.host_cmds and self.update:
                commands += ["reservation-update"]
            return {"result": 0, "arguments": commands}
        if command == "config-get":
            return {"result": 0, "arguments": copy.deepcopy(self.config)}
        if command == "config-test":
            return {"result": 0, "text": "Configuration seems sane."}
        if command == "config-set":
            self.config = self.expanded(arguments)
            return {"result": 0, "text": "Configuration successful."}
        if command == "config-write":
            return {"result": 0, "text": "Configuration written", "arguments": {"filename": "/etc/kea/kea-dhcp4.conf"}}
        if self.host_cmds and command.startswith("reservation-"):
            return self.host_command(command, arguments)
        return {"result": 2, "text": "'%s' command not supported." % command}

    def host_command(self, command, arguments):
        if command == "reservation-get-all":
            return {"result": 0, "arguments": {"hosts": copy.deepcopy(self.subnet(arguments["subnet-id"]).get("reservations", []))}}
        if command == "reservation-update" and self.update:
            if arguments.get("operation-target") != "primary":
                return {"result": 1, "text": "Unable to update a host because there is no hosts-database configured."}
            host = dict(arguments["reservation"])
            reservations = self.subnet(host.pop("subnet-id")).setdefault("reservations", [])
            for index, held in enumerate(reservations):
                if held.get("hw-address") == host.get("hw-address"):
                    if any(other is not held and other.get("ip-address") == host.get("ip-address") for other in reservations):
                        return {"result": 1, "text": "Host already exists."}
                    reservations[index] = host
                    return {"result": 0, "text": "Host updated."}
            return {"result": 1, "text": "Host not updated (not found)."}
        if command == "reservation-add":
            if arguments.get("operation-target") != "primary":
                return {"result": 1, "text": "Unable to add new host because there is no hosts-database configured."}
            host = dict(arguments["reservation"])
            reservations = self.subnet(host.pop("subnet-id")).setdefault("reservations", [])
            if any(r.get("ip-address") == host.get("ip-address") or r.get("hw-address") == host.get("hw-address")
                   for r in reservations):
                return {"result": 1, "text": "Host already exists."}
            reservations.append(host)
            return {"result": 0, "text": "Host added."}
        reservations = self.subnet(arguments["subnet-id"]).get("reservations", [])
        if arguments.get("identifier-type") == "hw-address":
            matches = [r for r in reservations if r.get("hw-address") == arguments["identifier"]]
        else:
            matches = [r for r in reservations if r.get("ip-address") == arguments.get("ip-address")]
        if command == "reservation-get":
            if not matches:
                return {"result": 3, "text": "Host not found."}
            return {"result": 0, "text": "Host found.", "arguments": dict(matches[0], **{"subnet-id": arguments["subnet-id"]})}
        if command == "reservation-del":
            if not matches:
                return {"result": 1, "text": "Host not deleted (not found)."}
            reservations.remove(matches[0])
            return {"result": 0, "text": "Host deleted."}
        return {"result": 2, "text": "'%s' command not supported." % command}


@pytest.fixture
def kea():
    simulator = KeaSimulator()
    yield simulator
    simulator.close()


@pytest.fixture
def kea_host_cmds():
    simulator = KeaSimulator(host_cmds=True)
    yield simulator
    simulator.close()


def module_params(url, **overrides):
    values = {"backend": "kea", "api_url": url, "api_username": USER, "api_password": PASSWORD, "validate_certs": True,
              "ca_path": None, "timeout": 5, "service": "dhcp4", "state": "present", "mac": "52:54:00:12:34:57",
              "ip": "10.77.0.61", "subnet": "10.77.0.0/24", "subnet_id": None, "hostname": "winboot02", "options": [],
              "replace": False, "persist": True,
              "iscsi": {"server": "10.77.0.1", "target_iqn": TARGET, "initiator_iqn": "iqn.2026-11.test:vm2"}}
    values.update(overrides)
    return values


def held_macs(simulator):
    return [r["hw-address"] for r in simulator.subnet().get("reservations", [])]


# --- normalising Kea's records ---------------------------------------------------------------------

def test_a_real_config_get_reservation_normalises_with_the_packed_175_agreeing():
    subnet = FIXTURE["Dhcp4"]["subnet4"][0]
    normalised = normalise_reservation(fixture_reservation(BOOT_MAC), subnet, DEFS)
    assert (normalised["mac"], normalised["ip"], normalised["hostname"], normalised["subnet"]) == \
        ("52:54:00:12:34:56", "10.77.0.60", "winboot01", "10.77.0.0/24")
    assert {(o["space"], o["code"]): o["data"] for o in normalised["options"]} == {
        ("dhcp4", 17): "iscsi:10.77.0.1:6:3260:1:" + TARGET, ("dhcp4", 175): "", ("dhcp4", 203): "iqn.2026-11.test:vm1",
        ("ipxe", 190): "vmuser", ("ipxe", 191): "Vm-Secret-1234"}


def test_packed_175_that_disagrees_with_its_sub_options_is_stale():
    raw = copy.deepcopy(fixture_reservation(BOOT_MAC)["option-data"])
    for option in raw:
        if option["code"] == 191:
            option["data"] = "Changed-Secret-1"
    assert {o["code"]: o["data"] for o in normalise_options(raw, DEFS)}[175] == STALE
    without_subs = [o for o in raw if o["space"] != "ipxe"]
    assert {o["code"]: o["data"] for o in normalise_options(without_subs, DEFS)}[175] == STALE
    broken = [dict(o, data="BE09") if o["code"] == 175 else o for o in raw]
    assert {o["code"]: o["data"] for o in normalise_options(broken, DEFS)}[175] == STALE


# --- option definitions ------------------------------------------------------------------------------

def chap_request(**iscsi):
    settings = {"server": "10.77.0.1", "target_iqn": TARGET, "initiator_iqn": "iqn.2026-11.test:vm2",
                "chap": {"username": "u", "secret": "Vm-Secret-1234"}}
    settings.update(iscsi)
    return build_request(module_params("http://x/", iscsi=settings))


def test_definitions_are_added_only_when_missing():
    plan = plan_definitions({"option-def": []}, chap_request())
    assert [(d["space"], d["code"], d["name"]) for d in plan.add] == [
        ("dhcp4", 203, "iscsi-initiator-iqn"), ("dhcp4", 175, "ipxe-encap-opts"), ("ipxe", 190, "ipxe-username"),
        ("ipxe", 191, "ipxe-password")]
    assert plan_definitions({"option-def": DEFS}, chap_request()).add == []
    assert plan_definitions({"option-def": []}, build_request(module_params("http://x/", iscsi={
        "server": "10.77.0.1", "target_iqn": TARGET}))).add == []


def test_a_users_compatible_definitions_are_used_as_they_are():
    theirs = [{"name": "my-iqn", "code": 203, "type": "string", "space": "dhcp4"},
              {"name": "ipxe", "code": 175, "type": "empty", "space": "dhcp4", "encapsulate": "etherboot"},
              {"name": "user", "code": 190, "type": "string", "space": "etherboot"}]
    plan = plan_definitions({"option-def": theirs}, chap_request())
    assert plan.ipxe_space == "etherboot"
    assert [(d["space"], d["code"]) for d in plan.add] == [("etherboot", 191)]
    assert plan.names[("dhcp4", 203)] == "my-iqn"


@pytest.mark.parametrize("theirs, message", [
    ({"name": "iscsi-initiator-iqn", "code": 203, "type": "uint8", "space": "dhcp4"}, "cannot carry the initiator IQN "
     "(option 203): it must be a single string"),
    ({"name": "iscsi-initiator-iqn", "code": 204, "type": "string", "space": "dhcp4"}, "its name iscsi-initiator-iqn is taken"),
    ({"name": "ipxe-encap-opts", "code": 175, "type": "string", "space": "dhcp4"}, "it must be of type empty and encapsulate"),
])
def test_a_conflicting_definition_fails_and_is_left_alone(theirs, message):
    with pytest.raises(DhcpError) as info:
        plan_definitions({"option-def": [theirs]}, chap_request())
    assert message in str(info.value) and "the module does not touch it" in str(info.value)


# --- the REST client ----------------------------------------------------------------------------------

def test_client_errors_say_what_and_where_never_the_password(kea):
    wrong = KeaClient(kea.url, USER, "wrong-password-1", timeout=5)
    with pytest.raises(KeaError) as info:
        wrong.config_get()
    assert str(info.value) == ("the Kea control agent at %s refused user 'ansible' (HTTP 401 Unauthorized): check "
                               "api_username and api_password" % kea.url)
    with pytest.raises(KeaError) as info:
        KeaClient(kea.url, timeout=5).config_get()
    assert "requires authentication (HTTP 401 Unauthorized): set api_username and api_password" in str(info.value)
    kea.fail["config-get"] = (1, "unable to forward command to the dhcp4 service: No such file or directory. The server "
                                 "is likely to be offline")
    with pytest.raises(KeaError) as info:
        KeaClient(kea.url, USER, PASSWORD, timeout=5).config_get()
    assert "Kea (dhcp4 at %s) refused config-get: unable to forward command" % kea.url in str(info.value)
    with pytest.raises(KeaError) as info:
        KeaClient(kea.url, USER, PASSWORD, timeout=5).command("reservation-add")
    assert "does not support reservation-add: 'reservation-add' command not supported." in str(info.value)


def test_client_reports_unreachable_and_slow_agents_by_url(kea):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = KeaClient("http://127.0.0.1:%d/" % port, USER, PASSWORD, timeout=5)
    with pytest.raises(KeaError) as info:
        closed.config_get()
    assert str(info.value) == "cannot reach the Kea control agent at http://127.0.0.1:%d/: connection refused" % port
    kea.delay = 1.5
    with pytest.raises(KeaError) as info:
        KeaClient(kea.url, USER, PASSWORD, timeout=0.3).config_get()
    assert str(info.value) == "the Kea control agent at %s did not answer config-get within 0.3 s (timeout)" % kea.url


def test_client_refuses_what_is_not_a_kea_agent():
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Html", (BaseHTTPRequestHandler,), {
        "log_message": lambda *a: None,
        "do_POST": lambda self: (self.send_response(200), self.send_header("Content-Length", "6"), self.end_headers(),
                                 self.wfile.write(b"<html>"))}))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        url = "http://127.0.0.1:%d/" % server.server_address[1]
        with pytest.raises(KeaError) as info:
            KeaClient(url, USER, PASSWORD, timeout=5).config_get()
        assert "did not answer config-get like a Kea control agent (HTTP 200, not JSON)" in str(info.value)
    finally:
        server.shutdown()
        server.server_close()


def test_urls_are_checked_and_shown_without_credentials():
    assert display_url("https://admin:pw@kea.example.com:8000/") == "https://kea.example.com:8000/"
    with pytest.raises(DhcpError) as info:
        KeaClient("kea.example.com:8000", USER, PASSWORD)
    assert "api_url 'kea.example.com:8000' is not an http:// or https:// URL" in str(info.value)


# --- the round trip -----------------------------------------------------------------------------------

def test_round_trip_adds_keeps_the_rest_and_persists(kea):
    before = copy.deepcopy(kea.config)
    result = run_reservation(module_params(kea.url), BACKENDS)
    assert result["changed"] is True
    assert kea.calls == ["list-commands", "config-get", "config-get", "config-test", "config-get", "config-set",
                         "config-get", "config-write"]
    reservations = kea.subnet()["reservations"]
    assert reservations[:2] == before["Dhcp4"]["subnet4"][0]["reservations"], "other reservations must stay as they were"
    assert reservations[2] == {"hw-address": "52:54:00:12:34:57", "ip-address": "10.77.0.61", "hostname": "winboot02",
                               "option-data": [
                                   {"space": "dhcp4", "code": 17, "data": "iscsi:10.77.0.1:6:3260:1:" + TARGET,
                                    "name": "root-path", "always-send": False, "csv-format": True},
                                   {"space": "dhcp4", "code": 203, "data": "iqn.2026-11.test:vm2",
                                    "name": "iscsi-initiator-iqn", "always-send": False, "csv-format": True}]}
    expected = copy.deepcopy(before)
    expected["Dhcp4"]["subnet4"][0]["reservations"].append(reservations[2])
    assert kea.config == expected
    kea.calls.clear()
    assert run_reservation(module_params(kea.url), BACKENDS)["changed"] is False
    assert kea.calls == ["list-commands", "config-get"], "an unchanged run must not take the lock or write"


def test_check_mode_only_reads(kea):
    result = run_reservation(module_params(kea.url), BACKENDS, check_mode=True)
    assert result["changed"] is True and result["reservation"]["ip"] == "10.77.0.61"
    assert set(kea.calls) == {"list-commands", "config-get"}
    assert kea.config == FIXTURE


def test_an_update_keeps_unmanaged_fields_and_option_flags(kea):
    params = module_params(kea.url, mac="52:54:00:00:00:10", ip="10.77.0.10", hostname=None, iscsi=None,
                           options=[{"name": "domain-name-servers", "data": "10.77.0.3", "space": None, "code": None}])
    result = run_reservation(params, BACKENDS)
    assert result["changed"] is True
    updated = next(r for r in kea.subnet()["reservations"] if r["hw-address"] == OTHER_MAC)
    assert updated["next-server"] == "10.77.0.1" and updated["hostname"] == "other01"
    assert updated["option-data"] == [{"space": "dhcp4", "code": 6, "data": "10.77.0.3", "always-send": True,
                                       "name": "domain-name-servers", "csv-format": True}]
    assert kea.calls.count("config-set") == 1


def test_the_round_trip_rewrites_packed_175_so_a_new_secret_is_sent(kea):
    params = module_params(kea.url, mac="52:54:00:12:34:56", ip="10.77.0.60", hostname="winboot01",
                           iscsi={"server": "10.77.0.1", "target_iqn": TARGET, "initiator_iqn": "iqn.2026-11.test:vm1",
                                  "chap": {"username": "vmuser", "secret": "Vm-Secret-5678"}})
    result = run_reservation(params, BACKENDS)
    assert result["changed"] is True
    options = {o["code"]: o for o in next(r for r in kea.subnet()["reservations"] if r["hw-address"] == BOOT_MAC)["option-data"]}
    assert "data" not in options[175], "Kea must pack 175 afresh from 190/191"
    assert options[191]["data"] == "Vm-Secret-5678"
    assert "Vm-Secret" not in json.dumps(result)


def test_a_change_landing_before_our_set_makes_us_start_again(kea):
    foreign = {"hw-address": "52:54:00:99:00:01", "ip-address": "10.77.0.99"}

    def other_writer(command):
        # Another host's set lands between our config-test and our re-read, once.
        if command == "config-test" and foreign not in kea.subnet()["reservations"]:
            kea.subnet()["reservations"].append(dict(foreign))
    kea.interfere = other_writer
    result = run_reservation(module_params(kea.url), BACKENDS)
    assert result["changed"] is True
    assert held_macs(kea) == [OTHER_MAC, BOOT_MAC, "52:54:00:99:00:01", "52:54:00:12:34:57"]
    assert kea.calls.count("config-set") == 1


def test_a_set_that_drops_ours_right_after_is_detected_and_repeated(kea):
    state = {"dropped": False}

    def stale_writer(command):
        # Another host's config-set, built on the configuration before ours, lands right after ours.
        if command == "config-get" and kea.calls.count("config-set") == 1 and not state["dropped"]:
            state["dropped"] = True
            kea.config = copy.deepcopy(FIXTURE)
    kea.interfere = stale_writer
    result = run_reservation(module_params(kea.url), BACKENDS)
    assert result["changed"] is True
    assert kea.calls.count("config-set") == 2
    assert held_macs(kea)[-1] == "52:54:00:12:34:57"


def test_kea_refusing_at_config_test_sets_nothing(kea):
    kea.fail["config-test"] = (1, "option data does not match option definition (space: dhcp4, code: 3): Failed to "
                                  "convert string to address 'x' (<wire>:0:3228)")
    with pytest.raises(DhcpError) as info:
        run_reservation(module_params(kea.url), BACKENDS)
    assert str(info.value).startswith("Kea refused the new configuration at config-test, so nothing was set: option data")
    assert "config-set" not in kea.calls and kea.config == FIXTURE


def test_a_failing_config_write_takes_the_change_back(kea):
    kea.fail["config-write"] = (1, "Unable to open file /etc/kea/kea-dhcp4.conf for writing")
    with pytest.raises(DhcpError) as info:
        run_reservation(module_params(kea.url), BACKENDS)
    assert "config-write failed, so the change was taken back" in str(info.value)
    assert "Unable to open file" in str(info.value)
    assert kea.config == FIXTURE


def test_endless_interference_ends_in_a_clear_error(kea):
    def busy(command):
        if command == "config-test":
            kea.config["Dhcp4"]["valid-lifetime"] += 1
    kea.interfere = busy
    with pytest.raises(DhcpError) as info:
        run_reservation(module_params(kea.url), BACKENDS)
    assert "changed under this run 6 times in a row" in str(info.value)
    assert "config-set" not in kea.calls


# --- host_cmds (Kea 3.0 documented behaviour, simulated) ---------------------------------------------------

def test_host_cmds_add_one_reservation_without_a_config_set(kea_host_cmds):
    kea = kea_host_cmds
    params = module_params(kea.url, iscsi={"server": "10.77.0.1", "target_iqn": TARGET})
    result = run_reservation(params, BACKENDS)
    assert result["changed"] is True
    assert "config-set" not in kea.calls
    assert kea.calls[-2:] == ["reservation-get", "config-write"]
    assert "reservation-add" in kea.calls
    assert kea.subnet()["reservations"][-1]["option-data"] == [
        {"space": "dhcp4", "code": 17, "data": "iscsi:10.77.0.1:6:3260:1:" + TARGET}]
    assert kea.subnet()["reservations"][-1]["hw-address"] == "52:54:00:12:34:57"
    kea.calls.clear()
    assert run_reservation(params, BACKENDS)["changed"] is False
    assert "reservation-add" not in kea.calls


def test_host_cmds_adds_missing_option_definitions_by_round_trip_first(kea_host_cmds):
    kea = kea_host_cmds
    kea.config["Dhcp4"]["option-def"] = []
    result = run_reservation(module_params(kea.url), BACKENDS)
    assert result["changed"] is True
    assert [d["code"] for d in kea.config["Dhcp4"]["option-def"]] == [203]
    assert kea.calls.index("config-set") < kea.calls.index("reservation-add")


def test_host_cmds_replace_and_restore_on_failure(kea_host_cmds):
    kea = kea_host_cmds
    params = module_params(kea.url, ip="10.77.0.10", replace=True, iscsi={"server": "10.77.0.1", "target_iqn": TARGET})
    kea.fail["reservation-add"] = (1, "Host already exists.")
    with pytest.raises(DhcpError) as info:
        run_reservation(params, BACKENDS)
    assert "refused reservation-add: Host already exists." in str(info.value)
    # The simulator refuses every add, so the restore of the removed one fails too, and says so.
    assert "putting back the previous reservations failed: reservation-add of 52:54:00:00:00:10 (Host already exists.)" \
        in str(info.value)
    del kea.fail["reservation-add"]
    kea.config = copy.deepcopy(FIXTURE)
    result = run_reservation(params, BACKENDS)
    assert result["changed"] is True
    assert held_macs(kea) == [BOOT_MAC, "52:54:00:12:34:57"]


def test_info_lists_and_masks(kea):
    from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.core import run_reservation_info
    result = run_reservation_info({"backend": "kea", "api_url": kea.url, "api_username": USER, "api_password": PASSWORD,
                                   "mac": "52-54-00-12-34-56", "timeout": 5}, BACKENDS)
    assert [r["ip"] for r in result["reservations"]] == ["10.77.0.60"]
    assert "Vm-Secret" not in json.dumps(result)
    everything = run_reservation_info({"backend": "kea", "api_url": kea.url, "api_username": USER,
                                       "api_password": PASSWORD, "timeout": 5},
                                      BACKENDS)
    assert [r["mac"] for r in everything["reservations"]] == [OTHER_MAC, BOOT_MAC]


@pytest.mark.parametrize("change, message", [
    ({"host-reservation-identifiers": ["client-id"]}, "does not look up reservations by hardware address "
     "(host-reservation-identifiers is client-id)"),
    ({"reservations-in-subnet": False}, "subnet 10.77.0.0/24 (id 1) has reservations-in-subnet false"),
])
def test_a_reservation_the_server_would_never_serve_is_refused(kea, change, message):
    kea.config["Dhcp4"].update(change)
    configured = copy.deepcopy(kea.config)
    with pytest.raises(DhcpError) as info:
        run_reservation(module_params(kea.url), BACKENDS)
    assert message in str(info.value)
    assert kea.config == configured


def test_persist_false_does_not_write(kea):
    result = run_reservation(module_params(kea.url, persist=False), BACKENDS)
    assert result["changed"] is True
    assert "config-set" in kea.calls and "config-write" not in kea.calls


# --- issue 11: no half-applied reservation on the host_cmds path (and none on the round trip) -----------

def held_by_mac(config, subnet_id=1):
    """The reservations of a subnet by MAC, and the rest of the configuration: "exactly as before"
    (host_cmds may give a restored reservation another place in the list; DHCP does not care)."""
    config = copy.deepcopy(config)
    subnet = next(s for s in config["Dhcp4"]["subnet4"] if s["id"] == subnet_id)
    reservations = subnet.pop("reservations", [])
    return config, sorted(reservations, key=lambda r: r.get("hw-address") or "")


# An in-place update of the boot reservation (new host name and root path), and a take-over of
# another client's address (replace), with and without reservation-update.
CHANGES = {
    "update": dict(mac=BOOT_MAC, ip="10.77.0.60", hostname="winboot01-b",
                   iscsi={"server": "10.77.0.2", "target_iqn": TARGET, "initiator_iqn": "iqn.2026-11.test:vm1",
                          "chap": {"username": "vmuser", "secret": "Vm-Secret-1234"}}),
    "take-over": dict(mac=BOOT_MAC, ip="10.77.0.10", hostname="winboot01", replace=True,
                      iscsi={"server": "10.77.0.1", "target_iqn": TARGET}),
}


def test_host_cmds_updates_in_place_with_reservation_update_so_the_reservation_never_disappears():
    kea = KeaSimulator(host_cmds=True, update=True)
    try:
        result = run_reservation(module_params(kea.url, **CHANGES["update"]), BACKENDS)
        assert result["changed"] is True
        assert "reservation-update" in kea.calls and "reservation-del" not in kea.calls
        assert all(BOOT_MAC in served for served in kea.served), "a DHCP request in between found no reservation"
        held = next(r for r in kea.subnet()["reservations"] if r["hw-address"] == BOOT_MAC)
        assert held["hostname"] == "winboot01-b"
        assert run_reservation(module_params(kea.url, **CHANGES["update"]), BACKENDS)["changed"] is False
    finally:
        kea.close()


@pytest.mark.parametrize("update", [False, True], ids=["del-add", "reservation-update"])
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_host_cmds_a_fault_at_every_command_leaves_the_reservations_exactly_as_before(update, change):
    params = module_params("http://unused/", **CHANGES[change])
    fail_at = 1
    while True:
        kea = KeaSimulator(host_cmds=True, update=update)
        try:
            params["api_url"] = kea.url
            before = held_by_mac(kea.config)
            kea.fail_nth = fail_at
            try:
                run_reservation(params, BACKENDS)
            except DhcpError as exc:
                where = "fault at command %d (%s): %s" % (fail_at, kea.calls[fail_at - 1], exc)
                assert held_by_mac(kea.config) == before, where
                assert "Vm-Secret" not in str(exc)
                kea.fail_nth = None
                assert run_reservation(params, BACKENDS)["changed"] is True, where
                assert run_reservation(params, BACKENDS)["changed"] is False, where
            else:
                assert fail_at > 5 and "config-write" in kea.calls
                break
        finally:
            kea.close()
        fail_at += 1


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_round_trip_a_fault_at_every_command_leaves_the_configuration_exactly_as_before(change):
    params = module_params("http://unused/", **CHANGES[change])
    fail_at = 1
    while True:
        kea = KeaSimulator()
        try:
            params["api_url"] = kea.url
            before = copy.deepcopy(kea.config)
            kea.fail_nth = fail_at
            try:
                run_reservation(params, BACKENDS)
            except DhcpError as exc:
                assert kea.config == before, "fault at command %d (%s): %s" % (fail_at, kea.calls[fail_at - 1], exc)
                kea.fail_nth = None
                assert run_reservation(params, BACKENDS)["changed"] is True
            else:
                assert fail_at > 5
                break
        finally:
            kea.close()
        fail_at += 1


@pytest.mark.parametrize("update", [False, True], ids=["del-add", "reservation-update"])
def test_host_cmds_a_failed_config_write_takes_the_live_change_back(update):
    kea = KeaSimulator(host_cmds=True, update=update)
    try:
        before = held_by_mac(kea.config)
        kea.fail["config-write"] = (1, "Unable to open file /etc/kea/kea-dhcp4.conf for writing")
        with pytest.raises(DhcpError) as info:
            run_reservation(module_params(kea.url, **CHANGES["update"]), BACKENDS)
        assert str(info.value).startswith("config-write failed, so the change was taken back (the server holds the "
                                          "previous reservations): ")
        assert "Unable to open file" in str(info.value)
        assert held_by_mac(kea.config) == before
    finally:
        kea.close()


# --- issue 16: batches (reservations), one change for many ---------------------------------------------

def batch_params(url, entries, **overrides):
    params = module_params(url, mac=None, ip=None, hostname=None, iscsi=None, reservations=entries)
    params.update(overrides)
    return params


# Three new reservations (one with iPXE CHAP, which needs definitions the server lacks) and an update of
# the boot reservation: each entry on its own subnet option, as a role builds them from the play's hosts.
BATCH = [
    dict(mac="52:54:00:12:34:71", ip="10.77.0.71", hostname="rack71",
         iscsi={"server": "10.77.0.1", "target_iqn": "iqn.2026-11.test:rack71", "initiator_iqn": "iqn.2026-11.test:i71"}),
    dict(mac="52:54:00:12:34:72", ip="10.77.0.72", hostname="rack72",
         iscsi={"server": "10.77.0.1", "target_iqn": "iqn.2026-11.test:rack72", "initiator_iqn": "iqn.2026-11.test:i72",
                "chap": {"username": "rack72", "secret": "Rack72-Secret1"}}),
    dict(CHANGES["update"]),
    dict(mac="52:54:00:12:34:73", ip="10.77.0.73", hostname="rack73",
         iscsi={"server": "10.77.0.1", "target_iqn": "iqn.2026-11.test:rack73", "lun": 12}),
]


def test_a_batch_is_one_round_trip_and_each_entry_gets_the_single_forms_result():
    batch, single = KeaSimulator(), KeaSimulator()
    try:
        result = run_reservation(batch_params(batch.url, BATCH), BACKENDS)
        assert result["changed"] is True
        assert batch.calls.count("config-set") == 1 and batch.calls.count("config-write") == 1
        # The single form, entry by entry, on an identical server: the same results and the same end state.
        singles = []
        for entry in BATCH:
            one = run_reservation(module_params(single.url, **entry), BACKENDS)
            one.pop("warnings", None)
            singles.append(one)
        assert result["reservation_results"] == singles
        assert batch.config == single.config
        # The LUN warning names its entry; the diff is labelled per entry.
        assert result["warnings"] == ["reservations[3] (mac 52:54:00:12:34:73): " + boot_lun_warning(12)]
        assert [side["before_header"] for side in result["diff"]] == [
            "reservations[%d] (mac %s)" % (index, entry["mac"]) for index, entry in enumerate(BATCH)]
        assert "Rack72-Secret1" not in json.dumps(result) and "Vm-Secret-1234" not in json.dumps(result)
        # Unchanged: read once, nothing written.
        calls = len(batch.calls)
        again = run_reservation(batch_params(batch.url, BATCH), BACKENDS)
        assert again["changed"] is False and [one["changed"] for one in again["reservation_results"]] == [False] * 4
        assert batch.calls[calls:] == ["list-commands", "config-get"]
    finally:
        batch.close()
        single.close()


def boot_lun_warning(lun):
    from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.boot_options import lun_warning
    return lun_warning(lun)


def test_an_entry_takes_what_it_leaves_out_from_the_top_level_and_bad_input_names_the_entry(kea):
    entries = [dict(mac="52:54:00:12:34:74", ip="10.77.0.74"), dict(mac="52:54:00:12:34:75", ip="10.77.0.75")]
    # subnet (and its default state, options) from the top level; subnet_id given by an entry drops it.
    result = run_reservation(batch_params(kea.url, entries, subnet="10.77.0.0/24"), BACKENDS, check_mode=True)
    assert [one["reservation"]["subnet"] for one in result["reservation_results"]] == ["10.77.0.0/24"] * 2
    assert kea.calls == ["list-commands", "config-get"]
    for entries, message in (
            ([entries[0], dict(mac="52:54:00:zz:00:01", ip="10.77.0.76")], "reservations[1].mac: '52:54:00:zz:00:01' is not"),
            ([entries[0], dict(mac="52:54:00:12:34:77", ip="10.99.0.5")],
             "reservations[1].ip 10.99.0.5 is outside subnet 10.77.0.0/24"),
            ([dict(entries[0], iscsi={"server": "10.77.0.1", "target_iqn": TARGET,
                                      "chap": {"username": "u", "secret": "Short1"}})],
             "reservations[0].iscsi.chap.secret"),
            ([entries[0], dict(entries[1], ip="10.77.0.74")], "reservations[1]: ip 10.77.0.74 in subnet 10.77.0.0/24 is "
                                                              "also in reservations[0]"),
            ([entries[0], dict(entries[0], ip="10.77.0.79")], "reservations[1]: mac 52:54:00:12:34:74 in subnet"),
            ([entries[0], dict(mac="52:54:00:12:34:78", ip="10.77.0.60")], "reservations[1].ip 10.77.0.60 is already reserved")):
        before = copy.deepcopy(kea.config)
        calls = len(kea.calls)
        with pytest.raises(DhcpError) as caught:
            run_reservation(batch_params(kea.url, entries, subnet="10.77.0.0/24"), BACKENDS)
        assert str(caught.value).startswith(message), str(caught.value)
        assert "Short1" not in str(caught.value)
        assert kea.config == before and "config-set" not in kea.calls[calls:]


def test_round_trip_batch_a_fault_at_every_command_leaves_the_configuration_exactly_as_before():
    fail_at = 1
    while True:
        kea = KeaSimulator()
        try:
            params = batch_params(kea.url, BATCH)
            before = copy.deepcopy(kea.config)
            kea.fail_nth = fail_at
            try:
                run_reservation(params, BACKENDS)
            except DhcpError as exc:
                assert kea.config == before, "fault at command %d (%s): %s" % (fail_at, kea.calls[fail_at - 1], exc)
                kea.fail_nth = None
                assert run_reservation(params, BACKENDS)["changed"] is True
                assert run_reservation(params, BACKENDS)["changed"] is False
            else:
                assert fail_at > 5
                break
        finally:
            kea.close()
        fail_at += 1


@pytest.mark.parametrize("update", [False, True], ids=["del-add", "reservation-update"])
def test_host_cmds_batch_a_fault_at_every_command_puts_every_reservation_back(update):
    fail_at = 1
    while True:
        kea = KeaSimulator(host_cmds=True, update=update)
        try:
            # An update in place and an addition: one command each (and their reads), then one config-write.
            params = batch_params(kea.url, [BATCH[2], BATCH[1]])
            before = held_by_mac(kea.config)
            kea.fail_nth = fail_at
            try:
                run_reservation(params, BACKENDS)
            except DhcpError as exc:
                where = "fault at command %d (%s): %s" % (fail_at, kea.calls[fail_at - 1], exc)
                if "config-set" in kea.calls[:fail_at]:
                    # The option definitions went in first (a round trip of their own); the reservations are as before.
                    assert held_by_mac(kea.config)[1] == before[1], where
                else:
                    assert held_by_mac(kea.config) == before, where
                kea.fail_nth = None
                assert run_reservation(params, BACKENDS)["changed"] is True, where
                assert run_reservation(params, BACKENDS)["changed"] is False, where
            else:
                # The server has the definitions: one command per reservation, one config-write, no config-set.
                assert kea.calls.count("config-write") == 1 and "config-set" not in kea.calls
                break
        finally:
            kea.close()
        fail_at += 1


def test_info_reads_many_macs_with_one_config_get_and_compares_the_ipxe_secret(kea):
    params = module_params(kea.url, mac=None, ip=None, subnet=None, reservations=[
        {"mac": BOOT_MAC.upper(), "chap": {"username": "vmuser", "secret": "Wrong-Secret-12"}},
        {"mac": OTHER_MAC}, {"mac": "52:54:00:99:99:99"}])
    result = dhcp.run_reservation_info(params, BACKENDS)
    assert kea.calls.count("config-get") == 1
    found = {reservation["mac"]: reservation for reservation in result["reservations"]}  # in the server's order
    assert sorted(found) == sorted([BOOT_MAC, OTHER_MAC])
    assert found[BOOT_MAC]["chap_secret_differs"] is True
    assert "chap_secret_differs" not in found[OTHER_MAC]
    assert "Wrong-Secret-12" not in json.dumps(result)
