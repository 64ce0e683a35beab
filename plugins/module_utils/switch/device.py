# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The device side of switch_portfast: read, change and save through one interface, with two
implementations.

CliSwitch talks to IOS, NX-OS, EOS, Junos and OS10 through ansible.netcommon's persistent
network_cli connection and the platform's cliconf plugin (get_config / get / edit_config), so it
works with whatever ansible_network_os names. OvsSwitch runs ovs-vsctl on the host that runs Open
vSwitch. run() is the whole module: validate, read, plan, change (not in check mode), read back.
"""

from __future__ import annotations

import ast
import json
import re

from ansible_collections.sanboot.iscsi.plugins.module_utils.switch.portfast import (
    InterfaceConfig,
    SwitchPortfastError,
    check_options,
    display_commands,
    interface_commands,
    interface_header,
    ios_syntax_from_config,
    normalize_interfaces,
    parse_config,
    parse_ovs,
    parsed_states,
    render,
    with_headers,
)

COMMIT_COMMENT = "sanboot.iscsi.switch_portfast"
OVS_TIMEOUT_SECONDS = 30
# Junos lists every statement the module reads in one short answer.
JUNOS_SHOW = 'show configuration | display set | match "rstp|mstp|bpdu-block"'
_PROMPT_LINE = re.compile(r"^\S+(?:\([^)]*\))?[#>%]\s*$")
# Junos prints the routing engine's role above its prompt.
_JUNOS_RE_LINE = re.compile(r"^\{\w+(?::\d+)?\}$")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def device_answer(text, command=None) -> str:
    """The device's own words from an error: without the echoed command, caret lines and prompts."""
    text = str(text)
    # network_cli passes the device's answer on as the repr of its bytes.
    if re.match(r"""^b(['"]).*\1$""", text, re.DOTALL):
        try:
            text = ast.literal_eval(text).decode("utf-8", "replace")
        except (ValueError, SyntaxError, AttributeError):
            pass
    lines = []
    for raw in _ANSI.sub("", text).replace("\r", "").split("\n"):
        line = raw.strip()
        if not line or set(line) == {"^"} or (command and line.endswith(command)) or _PROMPT_LINE.match(line) \
                or _JUNOS_RE_LINE.match(line):
            continue
        lines.append(line)
    return " ".join(lines) if lines else text.strip()


# From this many interfaces on, read() reads the whole running configuration once.
BULK_READ = 4


class CliSwitch:
    """A switch reached through network_cli. `connection` is ansible.module_utils.connection.Connection
    (anything with get_config, get and edit_config that raises on a device error)."""

    def __init__(self, connection, platform, connection_error=Exception):
        self.connection = connection
        self.platform = platform
        self.connection_error = connection_error

    def _get(self, command, interface=None):
        try:
            return self.connection.get(command=command)
        except self.connection_error as exc:
            raise SwitchPortfastError(self._refusal(command, exc, interface)) from None

    def _refusal(self, command, exc, interface):
        answer = device_answer(exc, command)
        if interface:
            return "interface %s: the device refused `%s`: %s" % (interface, command, answer)
        return "the device refused `%s`: %s" % (command, answer)

    def show_command(self, interface) -> str:
        if self.platform in ("ios", "nxos"):
            return "show running-config interface %s" % interface
        if self.platform == "eos":
            return "show running-config interfaces %s" % interface
        if self.platform == "os10":
            return "show running-configuration %s" % interface_header("os10", interface)
        return "show interfaces %s terse" % interface

    def _show_interface(self, interface):
        command = self.show_command(interface)
        if self.platform in ("ios", "nxos", "eos"):
            flags = [command.split("show running-config ", 1)[1]]
            try:
                return self.connection.get_config(flags=flags)
            except self.connection_error as exc:
                raise SwitchPortfastError(self._refusal(command, exc, interface)) from None
        # dellemc.os10's get_config ignores flags and Junos' joins them without a space: ask directly.
        return self._get(command, interface)

    def read(self, interfaces) -> dict:
        """{interface: InterfaceConfig}. An interface the device does not know is refused with the device's answer.

        For BULK_READ interfaces or more (a rack's servers on one switch), the whole running configuration is read
        once and parsed, instead of one `show` per interface; an interface it does not show is then asked for
        alone, so that a refusal still carries the device's own words."""
        configs = {}
        if self.platform != "junos" and len(interfaces) >= BULK_READ:
            found = parse_config(self.platform, self._running_config())
            for interface in interfaces:
                configs[interface] = found[interface] if interface in found else self.read([interface])[interface]
            return configs
        if self.platform == "junos":
            for interface in interfaces:
                # Junos accepts configuration for interfaces that do not exist: ask for the interface itself.
                self._show_interface(interface)
            found = parse_config("junos", self._get(JUNOS_SHOW))
            # Junos shows only interfaces that carry a statement: absent means nothing configured.
            return {interface: found.get(interface) or InterfaceConfig(interface) for interface in interfaces}
        for interface in interfaces:
            answer = self._show_interface(interface)
            found = parse_config(self.platform, answer)
            if interface not in found:
                raise SwitchPortfastError("interface %s: the device showed no configuration block for it in answer to "
                                          "`%s`: %s" % (interface, self.show_command(interface),
                                                        device_answer(answer) or "(nothing)"))
            configs[interface] = found[interface]
        return configs

    def _running_config(self):
        if self.platform in ("ios", "nxos", "eos"):
            try:
                return self.connection.get_config()
            except self.connection_error as exc:
                raise SwitchPortfastError(self._refusal("show running-config", exc, None)) from None
        return self._get("show running-configuration" if self.platform == "os10" else "show running-config")

    def ios_syntax_hint(self) -> str:
        """Portfast lines anywhere in the configuration, for ios_syntax=auto."""
        return self._get("show running-config | include portfast")

    def apply(self, commands):
        try:
            if self.platform == "junos":
                # Junos applies a candidate only by commit; edit_config commits (and rolls back on error).
                return self.connection.edit_config(commands, True, None, COMMIT_COMMENT)
            # Positional: dellemc.os10's edit_config names its parameter `command`, the others `candidate`.
            return self.connection.edit_config(commands)
        except self.connection_error as exc:
            raise SwitchPortfastError("the device refused the change %s: %s"
                                      % (commands, device_answer(exc))) from None

    def save(self):
        command = {"ios": "write memory", "os10": "write memory", "nxos": "copy running-config startup-config",
                   "eos": "copy running-config startup-config"}.get(self.platform)
        if command:
            self._get(command)


class OvsSwitch:
    """Open vSwitch through ovs-vsctl on this host. `run_command` is AnsibleModule.run_command."""

    def __init__(self, run_command, ovs_vsctl, ovs_db=None):
        self.run_command = run_command
        self.ovs_vsctl = ovs_vsctl
        self.ovs_db = ovs_db

    def _vsctl(self, *arguments, **kwargs):
        argv = [self.ovs_vsctl] + (["--db=%s" % self.ovs_db] if self.ovs_db else []) + list(arguments)
        rc, out, err = self.run_command(argv)
        if rc != 0:
            raise SwitchPortfastError(kwargs.get("what", "ovs-vsctl failed") + ": " + (err or out).strip())
        return out

    def read(self, ports) -> dict:
        """{port: InterfaceConfig}: one ovs-vsctl call for all the ports; when it fails (a port Open vSwitch does not
        have), one call per port, so that the message names it."""
        if len(ports) > 1:
            try:
                answer = self._vsctl("--format=json", "--columns=name,other_config", "list", "port", *ports)
            except SwitchPortfastError:
                answer = None
            found = parse_ovs(answer) if answer is not None else {}
            if all(port in found for port in ports):
                return {port: found[port] for port in ports}
        configs = {}
        for port in ports:
            answer = self._vsctl("--format=json", "--columns=name,other_config", "list", "port", port,
                                 what="interface %s: Open vSwitch has no such port" % port)
            found = parse_ovs(answer)
            if port not in found:
                raise SwitchPortfastError("interface %s: ovs-vsctl listed no port of that name" % port)
            configs[port] = found[port]
        return configs

    def warnings(self, ports) -> list:
        """Ports on a bridge that runs classic STP: admin-edge is an RSTP setting and does nothing there."""
        port_table = json.loads(self._vsctl("--format=json", "--columns=_uuid,name", "list", "port"))
        uuid_to_name = {row[0][1]: row[1] for row in port_table["data"]}
        bridges = json.loads(self._vsctl("--format=json", "--columns=name,ports,rstp_enable,stp_enable",
                                         "list", "bridge"))
        messages = []
        for name, bridge_ports, rstp_enable, stp_enable in bridges["data"]:
            members = bridge_ports[1] if bridge_ports[0] == "set" else [bridge_ports]
            names = {uuid_to_name.get(member[1]) for member in members}
            for port in ports:
                if port in names and not rstp_enable:
                    if stp_enable:
                        messages.append("port %s is on bridge %s, which runs classic STP (stp_enable=true): "
                                        "rstp-port-admin-edge only takes effect with rstp_enable=true" % (port, name))
                    else:
                        messages.append("port %s is on bridge %s, which runs no spanning tree (rstp_enable=false): "
                                        "the port forwards at once anyway; the edge setting takes effect once RSTP "
                                        "is enabled" % (port, name))
        return messages

    def apply(self, commands):
        """All changes in one ovs-vsctl transaction: all of them or none."""
        arguments = ["--timeout=%d" % OVS_TIMEOUT_SECONDS]
        for command in commands:
            arguments += ["--"] + list(command)
        self._vsctl(*arguments, what="ovs-vsctl refused the change")

    def save(self):
        """The Open vSwitch database is persistent: nothing to save."""


def _state_map(configs, names):
    return {name: configs[name].state() for name in names}


def make_switch(module, platform, connection_factory, connection_error):
    if platform == "ovs":
        return OvsSwitch(module.run_command, module.get_bin_path("ovs-vsctl", required=True), module.params.get("ovs_db"))
    socket_path = getattr(module, "_socket_path", None)
    if not socket_path:
        raise SwitchPortfastError(
            "platform %s is reached through a persistent CLI connection: set connection: ansible.netcommon.network_cli "
            "and ansible_network_os (for example cisco.ios.ios) for this host" % platform)
    return CliSwitch(connection_factory(socket_path), platform, connection_error)


def run(module, connection_factory=None, connection_error=Exception) -> dict:
    """The whole module. module is an AnsibleModule; connection_factory(socket_path) gives the
    network_cli connection (ansible.module_utils.connection.Connection), connection_error is the
    exception it raises for a device error."""
    params = module.params
    platform = params["platform"]
    state = params["state"]
    check_options(platform, state, params.get("interfaces"), params.get("running_config"), params["ios_syntax"],
                  params.get("bpduguard"), params.get("ovs_db"))
    if state == "rendered":
        # rendered shows what state=enabled writes; against a device, check mode shows either direction.
        return {"changed": False,
                "commands": render(platform, params["interfaces"], "enabled", params["trunk"], params["bpduguard"],
                                   params["ios_syntax"], params.get("ovs_db"))}
    if state == "parsed":
        return {"changed": False, "parsed": parsed_states(platform, params["running_config"], params.get("interfaces"))}

    interfaces = normalize_interfaces(platform, params["interfaces"])
    switch = make_switch(module, platform, connection_factory, connection_error)
    configs = switch.read(interfaces)
    syntax = params["ios_syntax"]
    if platform == "ios" and syntax == "auto" and state == "enabled":
        present = [configs[name] for name in interfaces]
        hint = None if any(config.edge_lines for config in present) else switch.ios_syntax_hint()
        syntax = ios_syntax_from_config(present, "auto", hint)
    per_interface = []
    wanted = {}
    for name in interfaces:
        commands, wanted[name] = interface_commands(platform, configs[name], state, params["trunk"],
                                                    params["bpduguard"], syntax)
        per_interface.append((name, commands))
    commands = with_headers(platform, per_interface)
    result = {"changed": bool(commands), "commands": display_commands(platform, commands, params.get("ovs_db")),
              "before": _state_map(configs, interfaces), "after": wanted}
    if platform == "ovs" and state == "enabled":
        for message in switch.warnings(interfaces):
            module.warn(message)
    if commands and not module.check_mode:
        try:
            switch.apply(commands)
        except SwitchPortfastError as exc:
            if platform == "ios" and params["ios_syntax"] == "auto" and syntax == "portfast":
                raise SwitchPortfastError("%s (ios_syntax=auto found no portfast line on the device and sent the classic "
                                          "form; set ios_syntax: portfast_edge if this release requires the edge "
                                          "keyword)" % exc) from None
            raise
        if params["save"]:
            switch.save()
        # Report what the device now says, not what was sent; refuse if it did not take the change.
        after = _state_map(switch.read(interfaces), interfaces)
        differs = [name for name in interfaces if after[name] != wanted[name]]
        if differs:
            raise SwitchPortfastError(
                "the device accepted %s but still shows %s for %s (wanted %s)"
                % (result["commands"], {name: after[name] for name in differs}, ", ".join(differs),
                   {name: wanted[name] for name in differs}))
        result["after"] = after
    if module._diff:
        result["diff"] = {"before": result["before"], "after": result["after"]}
    return result
