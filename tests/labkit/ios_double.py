# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start the IOS CLI test double (tests/doubles/ios_cli_double.py) on 127.0.0.1 and read what it
received and what its configuration now is. It is stopped by PID through the cleanup stack.

    double = IosCliDouble(stack, workdir, running={"GigabitEthernet1/0/10": ["switchport mode access"]})
    ... ansible-playbook with ansible_host=127.0.0.1 ansible_port=double.port ...
    double.running("GigabitEthernet1/0/10")   # lines of the interface, as show running-config prints them
    double.commands()                          # every line typed, with the mode it was typed in
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import labkit

SCRIPT = Path(__file__).resolve().parents[1] / "doubles" / "ios_cli_double.py"


class IosCliDouble:
    def __init__(self, cleanup: labkit.Cleanup, workdir: Path, running: dict | None = None, hostname: str = "sw1",
                 user: str = "admin", password: str = "lab-password", privilege: int = 15,
                 enable_secret: str | None = None, portfast_syntax: str = "classic"):
        self.directory = Path(workdir) / "ios-double"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.state_path = self.directory / "state.json"
        self.log_path = self.directory / "commands.jsonl"
        self.user, self.password, self.enable_secret = user, password, enable_secret
        self.host = "127.0.0.1"
        self.port = labkit.free_tcp_port(self.host)
        self.state_path.write_text(json.dumps({"hostname": hostname, "running": running or None}))
        self.log_path.touch()
        argv = [sys.executable, SCRIPT, "--port", self.port, "--state", self.state_path, "--log", self.log_path,
                "--user", user, "--password", password, "--privilege", privilege, "--portfast-syntax", portfast_syntax]
        if enable_secret:
            argv += ["--enable-secret", enable_secret]
        self.daemon = labkit.start_daemon(cleanup, argv, self.directory / "double.out")
        labkit.wait_for(lambda: not self.daemon.alive() or labkit.tcp_open(self.host, self.port), 20,
                        "the IOS CLI test double on port %d" % self.port)
        if not self.daemon.alive():
            raise labkit.LabError("the IOS CLI test double exited: %s" % self.daemon.log())

    def state(self) -> dict:
        return json.loads(self.state_path.read_text())

    def running(self, interface: str) -> list:
        return self.state()["running"][interface]

    def startup(self, interface: str) -> list:
        return self.state()["startup"][interface]

    def commands(self) -> list:
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    def mark(self) -> int:
        """Position in the command log, to look only at what a later run sent."""
        return len(self.commands())
