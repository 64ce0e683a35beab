# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TEST DOUBLE: an SSH server that behaves like the Cisco IOS command line, for the parts
sanboot.iscsi.switch_portfast and the network_cli / cisco.ios cliconf and terminal plugins use.

It is not a switch and forwards no traffic. It stands in for a vendor switch, which cannot run
here, so that the whole path ansible-playbook -> ansible.netcommon.network_cli -> SSH -> device
runs for real. What it emulates (see docs/switch.md):

- login with user/password; privilege 15 users land at `hostname#`, others at `hostname>` and
  reach `#` with `enable` and the enable secret (`Password:` prompt, no echo; `% Bad secrets`);
- prompts `hostname>`, `hostname#`, `hostname(config)#`, `hostname(config-if)#`;
- `terminal length N`, `terminal width N` (0-512, as IOS); `show privilege` (the cisco.ios terminal
  plugin asks it when become is used); `show version` (cliconf's get_device_info asks it);
- `show running-config`, `show running-config interface X`, `show running-config | include RE`;
- `configure terminal`, `interface X`, `spanning-tree portfast [edge] [trunk] | disable | network`,
  `spanning-tree bpduguard enable|disable`, `no spanning-tree portfast ...`,
  `no spanning-tree bpduguard ...`, `description TEXT`, `end`, `exit`, `disable`,
  `write memory`;
- keywords may be abbreviated to any unique prefix (`conf t`, `sh run int gi1/0/1`), as IOS allows;
- everything else: `% Invalid input detected at '^' marker.` with the caret under the offending word;
  an interface the switch does not have is refused the same way, as IOS does;
- the portfast setting is one value per interface, as on IOS: a new form replaces the old one.
  With --portfast-syntax edge it behaves like IOS 15.2(2)E and later: it accepts the `edge` keyword
  and stores the classic forms as `spanning-tree portfast edge [trunk]`; with classic (the
  default), like older releases: `edge` is refused.

Every line received is appended to the JSON-lines file --log with the mode it was typed in (the
enable secret is never written there), and the running and startup configuration are written to
--state after every change, so tests can check what was sent and what the device now holds.

Run: python ios_cli_double.py --port N --state state.json --log commands.jsonl [--user admin
--password pw] [--enable-secret s --privilege 1] [--portfast-syntax classic|edge]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys

INTERFACE_TYPES = ("GigabitEthernet", "FastEthernet", "TenGigabitEthernet", "TwoGigabitEthernet",
                   "FiveGigabitEthernet", "TwentyFiveGigE", "FortyGigabitEthernet", "HundredGigE", "Port-channel",
                   "Vlan", "Loopback")
DEFAULT_INTERFACES = (["GigabitEthernet1/0/%d" % port for port in range(1, 25)]
                      + ["TenGigabitEthernet1/1/%d" % port for port in range(1, 5)] + ["Port-channel1"])

PORTFAST_WARNING = (
    "%Warning: portfast should only be enabled on ports connected to a single\n"
    " host. Connecting hubs, concentrators, switches, bridges, etc... to this\n"
    " interface  when portfast is enabled, can cause temporary bridging loops.\n"
    " Use with CAUTION\n")


class CliError(Exception):
    def __init__(self, kind, position=0, text=""):
        super().__init__(kind)
        self.kind = kind
        self.position = position
        self.text = text


class Tokens:
    """The words of a command line with their positions, consumed left to right."""

    def __init__(self, line):
        self.items = [(match.group(0), match.start()) for match in re.finditer(r"\S+", line)]
        self.index = 0
        self.line = line

    def more(self):
        return self.index < len(self.items)

    def position(self):
        return self.items[self.index][1] if self.more() else len(self.line.rstrip()) + 1

    def peek(self):
        return self.items[self.index][0] if self.more() else None

    def keyword(self, choices, required=True):
        """The choice the next word abbreviates (unique prefix, any case), as IOS matches keywords."""
        if not self.more():
            if required:
                raise CliError("incomplete")
            return None
        word, position = self.items[self.index]
        matches = [choice for choice in choices if choice.lower().startswith(word.lower())]
        exact = [choice for choice in matches if choice.lower() == word.lower()]
        if exact:
            matches = exact
        if not matches:
            raise CliError("invalid", position)
        if len(matches) > 1:
            raise CliError("ambiguous", position, self.line)
        self.index += 1
        return matches[0]

    def rest(self):
        if not self.more():
            return ""
        text = self.line[self.items[self.index][1]:].rstrip()
        self.index = len(self.items)
        return text

    def end(self):
        if self.more():
            raise CliError("invalid", self.position())


class IosDevice:
    """The command-line state machine: no I/O, so that it can be unit-tested directly."""

    def __init__(self, hostname="sw1", interfaces=None, privilege=15, enable_secret=None, portfast_syntax="classic",
                 on_change=None):
        self.hostname = hostname
        self.portfast_syntax = portfast_syntax
        self.enable_secret = enable_secret
        self.level = privilege
        self.mode = "exec"
        self.current_interface = None
        self.awaiting_secret = False
        self.terminal = {"length": 24, "width": 80}
        self.running = {}
        for name, lines in (interfaces or {name: [] for name in DEFAULT_INTERFACES}).items():
            self.running[name] = self._interface_from_lines(lines)
        self.startup = json.loads(json.dumps(self.running))
        self.on_change = on_change or (lambda device: None)

    # --- configuration model ---------------------------------------------------------------

    def _interface_from_lines(self, lines):
        interface = {"lines": [], "portfast": None, "bpduguard": None}
        for line in lines:
            words = line.split()
            if words[:2] == ["spanning-tree", "portfast"]:
                interface["portfast"] = line
            elif words[:2] == ["spanning-tree", "bpduguard"]:
                interface["bpduguard"] = line
            else:
                interface["lines"].append(line)
        return interface

    def interface_lines(self, name):
        interface = self.running[name]
        lines = list(interface["lines"])
        lines += [line for line in (interface["portfast"], interface["bpduguard"]) if line]
        return lines

    def interface_block(self, name):
        return "interface %s\n%s" % (name, "".join(" %s\n" % line for line in self.interface_lines(name)))

    def config_text(self):
        blocks = ["!\nversion 15.2\nhostname %s\n!\n" % self.hostname]
        blocks += [self.interface_block(name) + "!\n" for name in self.running]
        return "".join(blocks) + "end\n"

    # --- prompts -----------------------------------------------------------------------------

    def prompt(self):
        if self.awaiting_secret:
            return "Password: "
        if self.mode == "config":
            return "%s(config)#" % self.hostname
        if self.mode == "config-if":
            return "%s(config-if)#" % self.hostname
        return "%s%s" % (self.hostname, "#" if self.level == 15 else ">")

    # --- commands ----------------------------------------------------------------------------

    def execute(self, line):
        """One line typed at the current prompt -> (output, keep_session)."""
        if self.awaiting_secret:
            self.awaiting_secret = False
            if self.enable_secret is not None and line == self.enable_secret:
                self.level = 15
                return "", True
            return "% Bad secrets\n\n", True
        prompt = self.prompt()
        if not line.strip():
            return "", True
        try:
            handler = {"exec": self._exec, "config": self._config, "config-if": self._config_if}[self.mode]
            return handler(Tokens(line))
        except CliError as error:
            if error.kind == "incomplete":
                return "% Incomplete command.\n\n", True
            if error.kind == "ambiguous":
                return '%% Ambiguous command:  "%s"\n' % error.text.strip(), True
            return "%s^\n%% Invalid input detected at '^' marker.\n\n" % (" " * (len(prompt) + error.position)), True

    def _exec(self, tokens):
        commands = ["enable", "disable", "exit", "logout", "show", "terminal"]
        if self.level == 15:
            commands += ["configure", "write"]
        command = tokens.keyword(commands)
        if command in ("exit", "logout"):
            tokens.end()
            return "", False
        if command == "enable":
            tokens.end()
            if self.level == 15:
                return "", True
            if self.enable_secret is None:
                return "% No password set\n", True
            self.awaiting_secret = True
            return "", True
        if command == "disable":
            tokens.end()
            self.level = 1
            return "", True
        if command == "terminal":
            setting = tokens.keyword(["length", "width"])
            value = tokens.peek()
            position = tokens.position()
            if value is None:
                raise CliError("incomplete")
            limit = 512
            if not value.isdigit() or int(value) > limit:
                raise CliError("invalid", position)
            tokens.index += 1
            tokens.end()
            self.terminal[setting] = int(value)
            return "", True
        if command == "configure":
            tokens.keyword(["terminal"])
            tokens.end()
            self.mode = "config"
            return "Enter configuration commands, one per line.  End with CNTL/Z.\n", True
        if command == "write":
            tokens.keyword(["memory"])
            tokens.end()
            self.startup = json.loads(json.dumps(self.running))
            self.on_change(self)
            return "Building configuration...\n[OK]\n", True
        return self._show(tokens), True

    def _show(self, tokens):
        topics = ["privilege", "version"] + (["running-config"] if self.level == 15 else [])
        topic = tokens.keyword(topics)
        if topic == "privilege":
            tokens.end()
            return "Current privilege level is %d\n" % self.level
        if topic == "version":
            tokens.end()
            return ("Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E9, "
                    "RELEASE SOFTWARE (fc2)\n\n%s uptime is 1 week, 2 days, 3 hours, 4 minutes\n"
                    "System image file is \"flash:c2960x-universalk9-mz.152-7.E9.bin\"\n\n"
                    "cisco WS-C2960X-48FPD-L (APM86XXX) processor (revision B0) with 524288K bytes of memory.\n"
                    % self.hostname)
        if tokens.peek() == "|":
            tokens.index += 1
            tokens.keyword(["include"])
            pattern = tokens.rest()
            if not pattern:
                raise CliError("incomplete")
            regex = re.compile(pattern)
            return "".join(line + "\n" for line in self.config_text().splitlines() if regex.search(line))
        if not tokens.more():
            text = self.config_text()
            return "Building configuration...\n\nCurrent configuration : %d bytes\n%s\n" % (len(text), text)
        tokens.keyword(["interface"])
        name = self._interface_name(tokens)
        tokens.end()
        block = "!\n" + self.interface_block(name) + "end\n"
        return "Building configuration...\n\nCurrent configuration : %d bytes\n%s\n" % (len(block), block)

    def _interface_name(self, tokens):
        """`GigabitEthernet1/0/1`, `gi1/0/1` or `Gi 1/0/1`: an interface this switch has, or invalid input."""
        if not tokens.more():
            raise CliError("incomplete")
        word, position = tokens.items[tokens.index]
        match = re.match(r"^([A-Za-z-]+)(.*)$", word)
        if not match:
            raise CliError("invalid", position)
        kinds = [kind for kind in INTERFACE_TYPES if kind.lower().startswith(match.group(1).lower())]
        if len(kinds) != 1:
            raise CliError("invalid" if not kinds else "ambiguous", position, tokens.line)
        tokens.index += 1
        number, number_position = match.group(2), position + len(match.group(1))
        if not number:
            if not tokens.more():
                raise CliError("incomplete")
            number, number_position = tokens.items[tokens.index]
            tokens.index += 1
        name = kinds[0] + number
        if name not in self.running:
            raise CliError("invalid", number_position)
        return name

    def _config(self, tokens):
        command = tokens.keyword(["interface", "end", "exit", "no", "spanning-tree", "do", "hostname"])
        if command == "interface":
            name = self._interface_name(tokens)
            tokens.end()
            self.mode = "config-if"
            self.current_interface = name
            return "", True
        if command == "end":
            tokens.end()
            self.mode = "exec"
            self.current_interface = None
            return "", True
        if command == "exit":
            tokens.end()
            self.mode = "exec" if self.mode == "config" else "config"
            self.current_interface = None
            return "", True
        # Global commands the double does not model (no, spanning-tree, do, hostname ...).
        raise CliError("invalid", 0)

    def _config_if(self, tokens):
        command = tokens.keyword(["spanning-tree", "no", "description", "interface", "end", "exit", "shutdown",
                                  "switchport"])
        if command in ("interface", "end", "exit"):
            tokens.index -= 1
            return self._config(tokens)
        interface = self.running[self.current_interface]
        if command == "description":
            text = tokens.rest()
            interface["lines"] = [line for line in interface["lines"] if not line.startswith("description ")]
            interface["lines"].insert(0, "description " + text)
            self.on_change(self)
            return "", True
        if command == "no":
            tokens.keyword(["spanning-tree"])
            feature = tokens.keyword(["portfast", "bpduguard"])
            # IOS ignores what follows the feature in the no form: the setting goes back to its default.
            tokens.rest()
            interface["portfast" if feature == "portfast" else "bpduguard"] = None
            self.on_change(self)
            return "", True
        if command == "spanning-tree":
            feature = tokens.keyword(["portfast", "bpduguard"])
            if feature == "bpduguard":
                mode = tokens.keyword(["enable", "disable"])
                tokens.end()
                interface["bpduguard"] = "spanning-tree bpduguard %s" % mode
                self.on_change(self)
                return "", True
            return self._portfast(tokens, interface), True
        # shutdown / switchport: accepted by IOS, not modelled here.
        raise CliError("invalid", tokens.items[tokens.index - 1][1])

    def _portfast(self, tokens, interface):
        options = ["trunk", "disable", "network"] + (["edge"] if self.portfast_syntax == "edge" else [])
        option = tokens.keyword(options, required=False)
        trunk = False
        edge = option == "edge"
        if edge:
            trunk = tokens.keyword(["trunk"], required=False) == "trunk"
        elif option == "trunk":
            trunk = True
        tokens.end()
        if option in ("disable", "network"):
            interface["portfast"] = "spanning-tree portfast %s" % option
            self.on_change(self)
            return ""
        # Releases with the edge keyword store every edge form with it.
        line = "spanning-tree portfast" + (" edge" if self.portfast_syntax == "edge" else "")
        interface["portfast"] = line + (" trunk" if trunk else "")
        self.on_change(self)
        warning = PORTFAST_WARNING
        if not trunk:
            warning += ("\n%%Portfast has been configured on %s but will only\n"
                        " have effect when the interface is in a non-trunking mode.\n" % self.current_interface)
        return warning

    def snapshot(self):
        return {"hostname": self.hostname,
                "running": {name: self.interface_lines(name) for name in self.running},
                "startup": {name: [line for line in ([*self.startup[name]["lines"]]
                                                     + [self.startup[name]["portfast"], self.startup[name]["bpduguard"]])
                                   if line] for name in self.startup}}


# --- SSH server --------------------------------------------------------------------------------

async def serve(arguments):
    import asyncssh

    with open(arguments.state) as handle:
        initial = json.load(handle)
    # The switch's ports, with the configuration the test gives for some of them.
    interfaces = {name: [] for name in DEFAULT_INTERFACES}
    interfaces.update(initial.get("running") or {})
    log = open(arguments.log, "a", buffering=1)

    def write_state(device):
        temporary = arguments.state + ".tmp"
        with open(temporary, "w") as handle:
            json.dump(device.snapshot(), handle, indent=1)
        os.replace(temporary, arguments.state)

    # One configuration shared by every session, as on a real switch.
    shared = {"device": None}

    def new_device():
        device = IosDevice(hostname=initial.get("hostname", "sw1"), interfaces=interfaces,
                           privilege=arguments.privilege, enable_secret=arguments.enable_secret,
                           portfast_syntax=arguments.portfast_syntax, on_change=write_state)
        if shared["device"] is not None:
            device.running = shared["device"].running
            device.startup = shared["device"].startup
        shared["device"] = device
        return device

    async def session(process):
        device = new_device()
        write_state(device)
        # asyncssh turns "\n" into "\r\n" on a terminal, as a real terminal line discipline does.
        process.stdout.write("\n" + device.prompt())
        try:
            while True:
                line = await process.stdin.readline()
                if not line:
                    break
                line = line.rstrip("\r\n")
                secret = device.awaiting_secret
                log.write(json.dumps({"mode": "password" if secret else device.mode, "level": device.level,
                                      "command": "<enable secret>" if secret else line}) + "\n")
                output, keep = device.execute(line)
                if secret:
                    process.channel.set_echo(True)
                    process.stdout.write("\n")
                if not keep:
                    break
                if device.awaiting_secret:
                    process.channel.set_echo(False)
                process.stdout.write(output + device.prompt())
        except (asyncssh.BreakReceived, asyncssh.TerminalSizeChanged, ConnectionError):
            pass
        process.exit(0)

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username):
            return True

        def password_auth_supported(self):
            return True

        def validate_password(self, username, password):
            return username == arguments.user and password == arguments.password

    host_key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.create_server(Server, arguments.host, arguments.port, server_host_keys=[host_key],
                                          process_factory=session, encoding="utf-8")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print("ios_cli_double listening on %s:%d" % (arguments.host, arguments.port), flush=True)
    await stop.wait()
    server.close()
    log.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description="TEST DOUBLE: an SSH server that behaves like the IOS CLI")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", required=True, help="JSON: initial configuration in, current configuration out")
    parser.add_argument("--log", required=True, help="JSON lines: every command received")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--privilege", type=int, default=15, choices=(1, 15))
    parser.add_argument("--enable-secret", default=None)
    parser.add_argument("--portfast-syntax", default="classic", choices=("classic", "edge"))
    arguments = parser.parse_args(argv)
    asyncio.run(serve(arguments))


if __name__ == "__main__":
    sys.exit(main())
