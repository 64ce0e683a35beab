# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real Kea DHCPv4 server and control agent, and a real DHCP client, for tests and the boot lab.

    lab = KeaLab.start(cleanup, workdir)          # kea-dhcp4 in its own namespace on a bridge,
                                                   # kea-ctrl-agent on 127.0.0.1:<free port>, basic auth
    lab.command("config-get")                      # the agent's answer for dhcp4
    client = lab.client(cleanup)                   # a second namespace on the same bridge
    client.lease("52:54:00:12:34:56")              # busybox udhcpc with that MAC -> Lease or None
    run_play(lab, workdir, [task, ...])            # the collection's modules in a real ansible-playbook play,
                                                   # module_defaults pointing at the lab; registered results back

Everything it creates carries labkit.RUN_MARKER (namespaces, and the workdir path on every daemon's
command line) and goes on the cleanup stack: daemons are stopped by PID, namespaces deleted.
Kea keeps its lock, pid, lease and control-socket files in the workdir (KEA_LOCKFILE_DIR,
KEA_PIDFILE_DIR), so parallel labs never share state.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import os
import stat
import subprocess
from pathlib import Path

import requests
import yaml

import labkit

KEA_DHCP4 = "kea-dhcp4"
KEA_CTRL_AGENT = "kea-ctrl-agent"
LEASE_CMDS_HOOK = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so"
API_USER = "ansible"
_labs = itertools.count(1)

DUMP_SCRIPT = """#!/bin/sh
# udhcpc calls this at each event; keep what the server sent on the bound/renew event.
case "$1" in bound|renew)
  env | grep -E '^(ip|subnet|router|rootpath|hostname|opt[0-9]+)=' | sort > "%s"
esac
exit 0
"""


class Lease:
    """What a real client received: address, root path (17), host name (12), option 203 decoded, raw options."""

    def __init__(self, values: dict):
        self.values = values
        self.ip = values.get("ip")
        self.rootpath = values.get("rootpath")
        self.hostname = values.get("hostname")
        self.options = {int(key[3:]): value for key, value in values.items() if key.startswith("opt")}
        raw_203 = self.options.get(203)
        self.initiator_iqn = bytes.fromhex(raw_203).decode("utf-8") if raw_203 else None

    def option_bytes(self, code: int):
        value = self.options.get(code)
        return bytes.fromhex(value) if value is not None else None

    def __repr__(self):
        return "Lease(%r)" % self.values


def sub_options(packed: bytes) -> dict:
    """Decode encapsulated DHCP sub-options (code, length, value)... as a client reads option 175."""
    found, position = {}, 0
    while position + 2 <= len(packed):
        code, length = packed[position], packed[position + 1]
        found[code] = packed[position + 2:position + 2 + length]
        position += 2 + length
    return found


class KeaLab:
    """kea-dhcp4 in a server namespace (bridge br0 carrying the subnet's first address, raw sockets) and
    kea-ctrl-agent in the root namespace on 127.0.0.1, both reading configuration files in workdir."""

    def __init__(self, cleanup: labkit.Cleanup, workdir: Path, subnet: str, pool: str | None, dhcp4_extra: dict | None,
                 tls: bool = False, netns: str | None = None, interface: str = "br0"):
        self.cleanup = cleanup
        self.workdir = Path(workdir)
        self.index = next(_labs)
        self.network = ipaddress.IPv4Network(subnet)
        self.server_ip = str(next(self.network.hosts()))
        self.pool = pool
        self.password = "kea-api-%s-%d" % (labkit.RUN_MARKER, os.getpid())
        self.user = API_USER
        self.socket = self.workdir / "kea4-ctrl.sock"
        self.config_path = self.workdir / "kea-dhcp4.conf"
        self.agent_config_path = self.workdir / "kea-ctrl-agent.conf"
        self.port = labkit.free_tcp_port()
        self.tls = tls
        self.ca_path = self.workdir / "lab-ca.pem" if tls else None
        self.url = "%s://127.0.0.1:%d/" % ("https" if tls else "http", self.port)
        # An existing namespace and interface (the boot lab's switch) or, by default, a new namespace
        # with a bridge br0 made here.
        self.own_netns = netns is None
        self.netns = netns or labkit.unique_name("kea", self.index)
        self.interface = interface
        self.dhcp4 = None
        self.agent = None
        self._clients = 0
        self.env = dict(os.environ, KEA_LOCKFILE_DIR=str(self.workdir), KEA_PIDFILE_DIR=str(self.workdir))
        self.initial_dhcp4 = self._dhcp4_config(dhcp4_extra or {})

    # -- configuration

    def _dhcp4_config(self, extra: dict) -> dict:
        subnet = {"id": 1, "subnet": str(self.network), "option-data": [{"name": "routers", "data": self.server_ip}]}
        if self.pool:
            subnet["pools"] = [{"pool": self.pool}]
        config = {
            "interfaces-config": {"interfaces": [self.interface], "dhcp-socket-type": "raw"},
            "control-socket": {"socket-type": "unix", "socket-name": str(self.socket)},
            "lease-database": {"type": "memfile", "persist": True, "name": str(self.workdir / "leases4.csv"),
                               "lfc-interval": 0},
            "hooks-libraries": [{"library": LEASE_CMDS_HOOK}],
            "valid-lifetime": 600,
            "subnet4": [subnet],
            "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "stdout"}], "severity": "WARN"}],
        }
        for key, value in extra.items():
            if key == "subnet1":
                subnet.update(value)
            elif key == "subnet4":
                config["subnet4"] = [subnet] + value
            else:
                config[key] = value
        return config

    def _write_private(self, path: Path, content: dict):
        # The files hold the API password and (after config-write) any CHAP secret: root only.
        path.write_text(json.dumps(content, indent=2) + "\n")
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)

    # -- daemons

    def _make_certificates(self) -> dict:
        """A throw-away CA and a certificate for 127.0.0.1 signed by it (EC keys: fast)."""
        files = {name: self.workdir / name for name in ("lab-ca.key", "lab-ca.pem", "agent.key", "agent.csr", "agent.pem")}
        key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        labkit.run(["openssl", "req", "-x509"] + key + ["-keyout", files["lab-ca.key"], "-out", files["lab-ca.pem"],
                                                        "-days", "2", "-subj", "/CN=sanboot lab CA %s" % labkit.RUN_MARKER])
        labkit.run(["openssl", "req"] + key + ["-keyout", files["agent.key"], "-out", files["agent.csr"],
                                               "-subj", "/CN=127.0.0.1"])
        extensions = self.workdir / "agent.ext"
        extensions.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
        labkit.run(["openssl", "x509", "-req", "-in", files["agent.csr"], "-CA", files["lab-ca.pem"], "-CAkey",
                    files["lab-ca.key"], "-CAcreateserial", "-out", files["agent.pem"], "-days", "2",
                    "-extfile", extensions])
        for path in files.values():
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        return {"trust-anchor": str(files["lab-ca.pem"]), "cert-file": str(files["agent.pem"]),
                "key-file": str(files["agent.key"]), "cert-required": False}

    @classmethod
    def start(cls, cleanup: labkit.Cleanup, workdir: Path, subnet: str = "10.77.0.0/24",
              pool: str | None = "10.77.0.100 - 10.77.0.150", dhcp4_extra: dict | None = None,
              tls: bool = False, netns: str | None = None, interface: str = "br0") -> "KeaLab":
        """tls: the agent serves HTTPS with a certificate from a lab CA (lab.ca_path) instead of HTTP.
        netns, interface: serve on an interface that already carries the subnet's first address in an
        existing namespace, instead of a new namespace with a bridge br0."""
        lab = cls(cleanup, workdir, subnet, pool, dhcp4_extra, tls, netns, interface)
        if lab.own_netns:
            labkit.add_netns(cleanup, lab.netns)
            labkit.add_bridge(lab.netns, "br0", "%s/%d" % (lab.server_ip, lab.network.prefixlen))
        lab._write_private(lab.config_path, {"Dhcp4": lab.initial_dhcp4})
        labkit.run([KEA_DHCP4, "-t", lab.config_path], netns=lab.netns, env=lab.env)
        lab.start_dhcp4()
        agent = {
            "http-host": "127.0.0.1", "http-port": lab.port,
            "authentication": {"type": "basic", "realm": "sanboot-lab",
                               "clients": [{"user": lab.user, "password": lab.password}]},
            "control-sockets": {"dhcp4": {"socket-type": "unix", "socket-name": str(lab.socket)}},
            "loggers": [{"name": "kea-ctrl-agent", "output_options": [{"output": "stdout"}], "severity": "WARN"}],
        }
        if tls:
            agent.update(lab._make_certificates())
        lab._write_private(lab.agent_config_path, {"Control-agent": agent})
        lab.agent = labkit.start_daemon(cleanup, [KEA_CTRL_AGENT, "-c", lab.agent_config_path],
                                        lab.workdir / "kea-ctrl-agent.log", env=lab.env)
        labkit.wait_for(lambda: labkit.tcp_open("127.0.0.1", lab.port) or not lab.agent.alive(), 20,
                        "kea-ctrl-agent on 127.0.0.1:%d" % lab.port)
        if not lab.agent.alive():
            raise labkit.LabError("kea-ctrl-agent exited: %s" % lab.agent.log())
        lab.wait_ready()
        return lab

    def start_dhcp4(self):
        """Start kea-dhcp4 from the configuration file (as a restart does)."""
        self.dhcp4 = labkit.start_daemon(self.cleanup, [KEA_DHCP4, "-c", self.config_path],
                                         self.workdir / "kea-dhcp4.log", netns=self.netns, env=self.env)
        labkit.wait_for(lambda: self.socket.exists() or not self.dhcp4.alive(), 20, "kea-dhcp4 control socket")
        if not self.dhcp4.alive():
            raise labkit.LabError("kea-dhcp4 exited: %s" % self.dhcp4.log())

    def stop_dhcp4(self):
        """Stop kea-dhcp4 cleanly (the shutdown command), then make sure by PID."""
        try:
            self.command("shutdown")
        except (labkit.LabError, requests.RequestException):
            pass
        try:
            labkit.wait_for(lambda: not self.dhcp4.alive(), 10, "kea-dhcp4 to exit after shutdown")
        except labkit.LabError:
            pass
        self.dhcp4.stop()
        if self.socket.exists():
            self.socket.unlink()

    def restart_dhcp4(self):
        self.stop_dhcp4()
        self.start_dhcp4()
        self.wait_ready()

    def wait_ready(self):
        def ready():
            try:
                return self.command("config-get", check=False).get("result") == 0
            except requests.RequestException:
                return False
        labkit.wait_for(ready, 20, "kea-dhcp4 to answer through the control agent")

    # -- the API, as an administrator would check it (curl equivalent)

    def command(self, name: str, arguments=None, check=True, auth=None) -> dict:
        body = {"command": name, "service": ["dhcp4"]}
        if arguments is not None:
            body["arguments"] = arguments
        response = requests.post(self.url, json=body, auth=auth or (self.user, self.password), timeout=30,
                                 verify=str(self.ca_path) if self.tls else True)
        if response.status_code != 200:
            raise labkit.LabError("%s: HTTP %d %s" % (name, response.status_code, response.text))
        answer = response.json()[0]
        if check and answer.get("result") != 0:
            raise labkit.LabError("%s: %s" % (name, answer.get("text")))
        return answer

    def config(self) -> dict:
        """The running configuration as config-get returns it (Kea's canonical, expanded form)."""
        arguments = self.command("config-get")["arguments"]
        arguments.pop("hash", None)
        return arguments

    def persisted(self) -> dict:
        return json.loads(self.config_path.read_text())

    def reservations(self, config: dict | None = None, subnet_id: int = 1) -> list:
        config = config or self.config()
        for subnet in config["Dhcp4"].get("subnet4", []):
            if subnet.get("id") == subnet_id:
                return subnet.get("reservations", [])
        return []

    def api_params(self) -> dict:
        """The connection options of the collection's dhcp modules for this lab."""
        return {"api_url": self.url, "api_username": self.user, "api_password": self.password}

    # -- clients

    def client(self, cleanup: labkit.Cleanup | None = None) -> "DhcpClient":
        self._clients += 1
        return DhcpClient(cleanup or self.cleanup, self, self._clients)


class DhcpClient:
    """A network namespace on the lab's bridge with one veth, eth0, whose MAC is set per lease."""

    def __init__(self, cleanup: labkit.Cleanup, lab: KeaLab, number: int):
        self.lab = lab
        self.netns = labkit.unique_name("kc%d" % number, lab.index)
        labkit.add_netns(cleanup, self.netns)
        labkit.add_veth_to_bridge(lab.netns, "br0", self.netns, "eth0", "vc%d" % number)
        self.script = lab.workdir / ("udhcpc-%d.sh" % number)
        self.output = lab.workdir / ("udhcpc-%d.env" % number)
        self.script.write_text(DUMP_SCRIPT % self.output)
        os.chmod(self.script, stat.S_IRWXU)

    def set_mac(self, mac: str):
        labkit.run(["ip", "-n", self.netns, "link", "set", "eth0", "down"])
        labkit.run(["ip", "-n", self.netns, "link", "set", "eth0", "address", mac])
        labkit.run(["ip", "-n", self.netns, "link", "set", "eth0", "up"])

    def lease(self, mac: str, attempts: int = 5) -> Lease | None:
        """Ask for a lease with busybox udhcpc as `mac` (requesting root path, host name, 203 and 175).
        Returns what the server sent, or None when no server answered."""
        self.set_mac(mac)
        if self.output.exists():
            self.output.unlink()
        labkit.run(["busybox", "udhcpc", "-f", "-q", "-n", "-t", str(attempts), "-T", "1", "-i", "eth0",
                    "-s", self.script, "-O", "rootpath", "-O", "hostname", "-O", "203", "-O", "175"],
                   netns=self.netns, check=False, timeout=30)
        if not self.output.exists():
            return None
        values = dict(line.split("=", 1) for line in self.output.read_text().splitlines() if "=" in line)
        return Lease(values)

    def leases(self, macs) -> dict:
        """A lease for each MAC in turn, in one shell inside the namespace (fast for many MACs)."""
        macs = list(macs)
        outputs = [self.lab.workdir / ("lease-%s.env" % mac.replace(":", "")) for mac in macs]
        lines = ["set -u"]
        for mac, output in zip(macs, outputs):
            lines += ["ip link set eth0 down", "ip link set eth0 address %s" % mac, "ip link set eth0 up",
                      "busybox udhcpc -f -q -n -t 5 -T 1 -i eth0 -s %s -O rootpath -O hostname -O 203 >/dev/null 2>&1"
                      % self.script,
                      "if [ -f %s ]; then mv %s %s; fi" % (self.output, self.output, output)]
        labkit.run(["sh", "-c", "\n".join(lines)], netns=self.netns, check=False, timeout=30 + 10 * len(macs))
        found = {}
        for mac, output in zip(macs, outputs):
            if output.exists():
                found[mac] = Lease(dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line))
                output.unlink()
            else:
                found[mac] = None
        return found


# --- the collection's dhcp modules in real plays ------------------------------------------------

_plays = itertools.count(1)


class PlayRun:
    def __init__(self, completed: subprocess.CompletedProcess, results: list):
        self.returncode = completed.returncode
        self.output = completed.stdout + completed.stderr
        self.results = results

    def __getitem__(self, index):
        return self.results[index]


def run_play(lab, workdir: Path, tasks: list, *arguments, collect: bool = True, inventory: str | None = None,
             hosts: str = "localhost", env: dict | None = None, forks: int | None = None, timeout: int = 600) -> PlayRun:
    """One play against `lab` (module_defaults carry its API URL and credentials); every task is registered
    (ignore_errors, so later tasks still run) and, with collect, written to a JSON file read back here."""
    number = next(_plays)
    results_path = workdir / ("play-%d-results.json" % number)
    body = []
    for index, task in enumerate(tasks):
        body.append(dict(task, register="step%d" % index, ignore_errors=True))
    play = {"name": "dhcp play %d" % number, "hosts": hosts, "gather_facts": False,
            "module_defaults": {"group/sanboot.iscsi.dhcp": lab.api_params()}}
    if collect:
        content = "{{ [%s] | to_json }}" % ", ".join("step%d | default(None)" % index for index in range(len(tasks)))
        play["tasks"] = [{"block": body, "always": [{
            "name": "Keep the registered results for the test",
            "ansible.builtin.copy": {"content": content, "dest": str(results_path), "mode": "0600"},
            "check_mode": False, "diff": False, "delegate_to": "localhost", "run_once": True}]}]
    else:
        play["tasks"] = body
    playbook = workdir / ("play-%d.yml" % number)
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    playbook.chmod(0o600)
    argv = [str(labkit.VENV_BIN / "ansible-playbook"), str(playbook)]
    if inventory:
        argv += ["-i", inventory]
    if forks:
        argv += ["--forks", str(forks)]
    argv += list(arguments)
    environment = labkit.ansible_env(dict({"ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false"},
                                          **(env or {})))
    completed = subprocess.run(argv, cwd=str(labkit.REPO), env=environment, capture_output=True, text=True,
                               timeout=timeout, check=False)
    results = []
    if collect:
        if not results_path.exists():
            output = completed.stdout + completed.stderr
            raise AssertionError("the play wrote no results (exit %d):\n%s" % (completed.returncode, output))
        results = json.loads(results_path.read_text())
    return PlayRun(completed, results)


def start_play(lab, workdir: Path, tasks: list, inventory: str, forks: int, env: dict | None = None):
    """Like run_play without collecting, but started in the background: returns the Popen."""
    number = next(_plays)
    play = {"name": "dhcp play %d" % number, "hosts": "all", "gather_facts": False,
            "module_defaults": {"group/sanboot.iscsi.dhcp": lab.api_params()}, "tasks": tasks}
    playbook = workdir / ("play-%d.yml" % number)
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    playbook.chmod(0o600)
    log = open(workdir / ("play-%d.log" % number), "w")
    process = subprocess.Popen([str(labkit.VENV_BIN / "ansible-playbook"), str(playbook), "-i", inventory,
                                "--forks", str(forks)], cwd=str(labkit.REPO), env=labkit.ansible_env(env or {}),
                               stdout=log, stderr=subprocess.STDOUT, text=True)
    process.log_path = workdir / ("play-%d.log" % number)
    process.log_file = log
    return process
