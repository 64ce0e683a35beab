# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Spanning-tree portfast/edge on a switch port: what each switch OS calls it, how to read it
back from the OS's own configuration text, and which commands take a port from what it has to
what is wanted.

Plain Python with no Ansible or device imports, so that the module, the action plugin and the
unit tests share one implementation. The device side (network_cli, ovs-vsctl) is in
switch/device.py.

The state of a port is always the same three booleans, whatever the platform:
  portfast  - the port is an administrative edge port (skips listening/learning);
  trunk     - the configured form also applies when the port is a trunk. On IOS and NX-OS only the
              trunk variant does; on EOS, Junos, OS10 and Open vSwitch the one form covers trunk
              ports, so there trunk equals portfast;
  bpduguard - BPDU guard (Junos: BPDU block) is configured on the port.
"""

from __future__ import annotations

import json
import re
import shlex

PLATFORMS = ("ios", "nxos", "eos", "junos", "os10", "ovs")
CLI_PLATFORMS = ("ios", "nxos", "eos", "junos", "os10")
IOS_SYNTAXES = ("auto", "portfast", "portfast_edge")
STATES = ("enabled", "disabled", "rendered", "parsed")

# ansible_network_os values (fully qualified and the old short forms) -> platform.
NETWORK_OS_PLATFORMS = {
    "cisco.ios.ios": "ios", "ios": "ios",
    "cisco.nxos.nxos": "nxos", "nxos": "nxos",
    "arista.eos.eos": "eos", "eos": "eos",
    "junipernetworks.junos.junos": "junos", "junos": "junos",
    "dellemc.os10.os10": "os10", "os10": "os10",
}

# Platforms with a separate trunk form; elsewhere one form covers access and trunk ports.
TRUNK_VARIANT_PLATFORMS = ("ios", "nxos")

OVS_ADMIN_EDGE = "rstp-port-admin-edge"


class SwitchPortfastError(ValueError):
    """Bad input or an answer the module cannot work with. The message names the option or interface and the rule."""


def port_state(portfast=False, trunk=False, bpduguard=False) -> dict:
    return {"portfast": bool(portfast), "trunk": bool(trunk), "bpduguard": bool(bpduguard)}


# --- platform selection ---------------------------------------------------------------------

def platform_from_network_os(network_os):
    """The platform for an ansible_network_os value; None when none is set. Unknown values are refused."""
    if network_os is None or network_os == "":
        return None
    key = str(network_os).strip().lower()
    if key not in NETWORK_OS_PLATFORMS:
        raise SwitchPortfastError(
            "unsupported platform: ansible_network_os %s is not one of %s; set platform to one of %s"
            % (network_os, ", ".join(sorted(k for k in NETWORK_OS_PLATFORMS if "." in k)), ", ".join(PLATFORMS)))
    return NETWORK_OS_PLATFORMS[key]


def resolve_platform(platform, network_os, state, connection=None):
    """The platform a task works on: the `platform` option, else the one ansible_network_os names.

    Talking to a device through the connection of one OS while rendering commands for another
    would send the wrong syntax, so the two must agree for enabled/disabled. rendered and parsed
    touch no device and take `platform` as given."""
    if platform is not None and platform not in PLATFORMS:
        raise SwitchPortfastError("platform must be one of %s, got %s" % (", ".join(PLATFORMS), platform))
    device_state = state in ("enabled", "disabled")
    try:
        from_network_os = platform_from_network_os(network_os)
    except SwitchPortfastError:
        if platform is None or (device_state and platform != "ovs"):
            raise
        from_network_os = None
    if platform is None:
        platform = from_network_os
    elif device_state and from_network_os and platform != "ovs" and from_network_os != platform:
        raise SwitchPortfastError(
            "platform %s conflicts with ansible_network_os %s (platform %s): the connection would send %s "
            "commands to a %s device; remove platform or correct ansible_network_os"
            % (platform, network_os, from_network_os, platform, from_network_os))
    if device_state and platform == "ovs" and connection and "network_cli" in str(connection):
        raise SwitchPortfastError(
            "platform ovs runs ovs-vsctl on the Linux host that runs Open vSwitch; use an ssh or local connection "
            "to that host, not %s" % connection)
    return platform


# --- interface names --------------------------------------------------------------------------

# (full type name as the OS prints it, abbreviations the OS accepts). Any unique prefix of a
# full name is also accepted, as the OS itself does; the listed abbreviations win over prefixes.
_INTERFACE_TYPES = {
    "ios": (
        ("GigabitEthernet", ("gi", "gig", "ge")),
        ("FastEthernet", ("fa",)),
        ("TenGigabitEthernet", ("te", "ten", "tengig")),
        ("TwoGigabitEthernet", ("tw",)),
        ("FiveGigabitEthernet", ("fi",)),
        ("TwentyFiveGigE", ("twe",)),
        ("FortyGigabitEthernet", ("fo",)),
        ("HundredGigE", ("hu",)),
        ("Ethernet", ("e", "et", "eth")),
        ("Port-channel", ("po",)),
        ("AppGigabitEthernet", ("ap",)),
    ),
    "nxos": (
        ("Ethernet", ("e", "et", "eth")),
        ("port-channel", ("po", "pc")),
    ),
    "eos": (
        ("Ethernet", ("e", "et", "eth")),
        ("Port-Channel", ("po",)),
    ),
    "os10": (
        ("ethernet", ("e", "et", "eth")),
        ("port-channel", ("po",)),
    ),
}
_INTERFACE_NAME = re.compile(r"^\s*(?P<type>[A-Za-z][A-Za-z-]*?)\s*(?P<number>\d[\d/.:]*)\s*$")
_INTERFACE_NUMBER = re.compile(r"^\d+(?:/\d+)*(?:[.:]\d+)*$")
_JUNOS_INTERFACE = re.compile(r"^[a-z][a-z0-9]*(?:-\d+/\d+/\d+(?::\d+)?|\d+)(?:\.\d+)?$")
_OVS_PORT = re.compile(r"^[^\s/\"'\\,{}=]{1,255}$")


def normalize_interface(platform, name) -> str:
    """The interface name as the platform prints it in its configuration: abbreviations expanded
    (Gi1/0/1 -> GigabitEthernet1/0/1, Eth1/1 -> Ethernet1/1, Po10 -> Port-channel10 on IOS),
    case and spacing as the OS writes them."""
    if not isinstance(name, str) or not name.strip():
        raise SwitchPortfastError("interfaces: %r is not an interface name" % (name,))
    text = name.strip()
    if platform == "ovs":
        if not _OVS_PORT.match(text):
            raise SwitchPortfastError("interfaces: %r is not an Open vSwitch port name (no spaces, quotes, commas, "
                                      "braces, '=' or '/')" % name)
        return text
    if platform == "junos":
        lowered = text.lower()
        if not _JUNOS_INTERFACE.match(lowered):
            raise SwitchPortfastError("interfaces: %r is not a Junos interface name such as ge-0/0/1, xe-0/0/1 or ae0"
                                      % name)
        return lowered
    types = _INTERFACE_TYPES.get(platform)
    if types is None:
        raise SwitchPortfastError("platform must be one of %s, got %s" % (", ".join(PLATFORMS), platform))
    match = _INTERFACE_NAME.match(text)
    if not match or not _INTERFACE_NUMBER.match(match.group("number")):
        raise SwitchPortfastError("interfaces: %r is not an interface name such as %s" % (name, _example(platform)))
    typed = match.group("type").lower()
    number = match.group("number")
    for full, abbreviations in types:
        if typed == full.lower() or typed in abbreviations:
            return full + number
    candidates = [full for full, _abbreviations in types if full.lower().startswith(typed)]
    if len(candidates) == 1:
        return candidates[0] + number
    if len(candidates) > 1:
        raise SwitchPortfastError("interfaces: %r is ambiguous on %s: %s could be %s"
                                  % (name, platform, match.group("type"), " or ".join(candidates)))
    # A type this table does not know (a newer speed, say): keep it as typed and let the device judge.
    return match.group("type") + number


def _example(platform):
    return {"ios": "GigabitEthernet1/0/1 or Gi1/0/1", "nxos": "Ethernet1/1 or Eth1/1", "eos": "Ethernet1 or Et1",
            "os10": "ethernet1/1/1 or eth1/1/1"}.get(platform, "")


def normalize_interfaces(platform, names) -> list:
    """normalize_interface for a list, duplicates (Gi1/0/1 and GigabitEthernet1/0/1) merged, order kept."""
    if not names:
        raise SwitchPortfastError("interfaces must name at least one interface")
    result = []
    for name in names:
        normalized = normalize_interface(platform, name)
        if normalized not in result:
            result.append(normalized)
    return result


def _split_type_number(name):
    match = _INTERFACE_NAME.match(name)
    return (match.group("type"), match.group("number")) if match else (name, "")


# --- what each platform writes ----------------------------------------------------------------

def edge_line(platform, trunk=False, ios_syntax="portfast") -> str:
    """The interface-mode line that makes a port an edge port (Cisco-like CLIs)."""
    if platform == "ios":
        line = "spanning-tree portfast edge" if ios_syntax == "portfast_edge" else "spanning-tree portfast"
        return line + " trunk" if trunk else line
    if platform == "nxos":
        return "spanning-tree port type edge trunk" if trunk else "spanning-tree port type edge"
    if platform == "eos":
        return "spanning-tree portfast"
    if platform == "os10":
        return "spanning-tree port type edge"
    raise SwitchPortfastError("platform %s has no interface-mode edge line" % platform)


BPDUGUARD_LINE = "spanning-tree bpduguard enable"


def interface_header(platform, interface) -> str:
    if platform == "os10":
        # Dell's documentation and its os10 roles enter interfaces as "ethernet 1/1/1".
        kind, number = _split_type_number(interface)
        return "interface %s %s" % (kind, number)
    return "interface %s" % interface


def junos_edge_path(interface) -> str:
    return "protocols rstp interface %s edge" % interface


def junos_bpdu_block_path(interface) -> str:
    return "protocols layer2-control bpdu-block interface %s" % interface


def ovs_command(ovs_db, *arguments) -> str:
    words = ["ovs-vsctl"] + (["--db=%s" % ovs_db] if ovs_db else []) + list(arguments)
    return " ".join(shlex.quote(word) for word in words)


def ovs_set_edge(port):
    return ("set", "port", port, "other_config:%s=true" % OVS_ADMIN_EDGE)


def ovs_remove_edge(port):
    return ("remove", "port", port, "other_config", OVS_ADMIN_EDGE)


# --- parsing ---------------------------------------------------------------------------------

class InterfaceConfig:
    """What one interface's configuration says about edge/BPDU guard, with the exact lines (or
    Junos paths, or OVS keys) that say it, so that removing them sends the OS its own words."""

    def __init__(self, name):
        self.name = name
        self.portfast = False
        self.trunk = False
        self.bpduguard = False
        self.edge_lines = []          # lines or paths that make the port an edge port
        self.bpduguard_lines = []     # lines or paths that configure BPDU guard / block
        self.inactive_edge = []       # Junos: deactivated edge statements
        self.inactive_bpduguard = []  # Junos: deactivated bpdu-block statements
        self.lines = []               # every line of the interface, for reference

    def state(self) -> dict:
        return port_state(self.portfast, self.trunk, self.bpduguard)

    def __repr__(self):
        return "InterfaceConfig(%s, %s)" % (self.name, self.state())


_HEADER = re.compile(r"^interface\s+(?P<name>\S+(?:\s+\d\S*)?)\s*$", re.IGNORECASE)
_PORTFAST = re.compile(r"^spanning-tree\s+portfast(?P<args>(?:\s+\S+)*)\s*$", re.IGNORECASE)
_PORT_TYPE = re.compile(r"^spanning-tree\s+port\s+type(?P<args>(?:\s+\S+)*)\s*$", re.IGNORECASE)
_BPDUGUARD = re.compile(r"^spanning-tree\s+bpduguard\s+(?P<mode>enable|disable)\s*$", re.IGNORECASE)


def _classify_cisco_line(platform, config, line):
    """Update config from one interface line of IOS, NX-OS, EOS or OS10."""
    portfast = _PORTFAST.match(line)
    port_type = _PORT_TYPE.match(line)
    edge = trunk = None
    if portfast:
        args = portfast.group("args").lower().split()
        # portfast | portfast edge | portfast trunk | portfast edge trunk make an edge port;
        # portfast disable | network | auto and the global-style bpduguard/bpdufilter keywords do not.
        if args in ([], ["edge"]):
            edge, trunk = True, False
        elif args in (["trunk"], ["edge", "trunk"]):
            edge, trunk = True, True
    elif port_type:
        args = port_type.group("args").lower().split()
        if args == ["edge"]:
            edge, trunk = True, False
        elif args == ["edge", "trunk"]:
            edge, trunk = True, True
    guard = _BPDUGUARD.match(line)
    if edge:
        config.portfast = True
        config.trunk = trunk or platform not in TRUNK_VARIANT_PLATFORMS
        config.edge_lines = [line]
    elif guard:
        if guard.group("mode").lower() == "enable":
            config.bpduguard = True
            config.bpduguard_lines = [line]
        else:
            config.bpduguard = False
            config.bpduguard_lines = []


def parse_cisco_style(platform, text) -> dict:
    """Interface blocks of `show running-config interface` (IOS, NX-OS), `show running-config
    interfaces` (EOS) or `show running-configuration interface` (OS10) -> {name: InterfaceConfig}.

    A block starts with `interface <name>` at the left margin; its lines are indented; it ends at
    the next line at the left margin (`!`, `end`, another interface, any global command)."""
    found = {}
    current = None
    for raw in (text or "").replace("\r", "").split("\n"):
        if not raw.strip():
            continue
        if raw[0] not in " \t":
            header = _HEADER.match(raw.strip())
            current = None
            if header:
                try:
                    name = normalize_interface(platform, header.group("name"))
                except SwitchPortfastError:
                    continue
                current = found.setdefault(name, InterfaceConfig(name))
            continue
        if current is None:
            continue
        line = " ".join(raw.split())
        current.lines.append(line)
        _classify_cisco_line(platform, current, line)
    return found


def _junos_tokens(line):
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()


def junos_statements(text) -> list:
    """Junos configuration text, `| display set` or the brace format, -> [(path tuple, active)].

    Paths are made absolute: the output of `show configuration protocols` starts below
    `protocols`, so a path starting with rstp/mstp/layer2-control gets `protocols` in front."""
    lines = [line.strip() for line in (text or "").replace("\r", "").split("\n")]
    # Comments, and the routing-engine role line Junos prints above its prompt ({master:0}).
    skipped = ("#", "/*", "{master", "{backup", "{primary", "{secondary", "{linecard")
    lines = [line for line in lines if line and not line.startswith(skipped)]
    statements = []
    inactive_prefixes = []
    if any(line.split(None, 1)[0] in ("set", "deactivate") for line in lines):
        for line in lines:
            tokens = _junos_tokens(line)
            if not tokens:
                continue
            if tokens[0] == "set":
                statements.append(tuple(tokens[1:]))
            elif tokens[0] == "deactivate":
                inactive_prefixes.append(tuple(tokens[1:]))
        result = [(path, True) for path in statements]
    else:
        result = []
        stack = []  # (tokens, inactive)
        for line in lines:
            inactive = False
            if line.startswith("inactive:"):
                inactive = True
                line = line[len("inactive:"):].strip()
            if line == "}":
                if stack:
                    stack.pop()
                continue
            if line.endswith("{"):
                stack.append((_junos_tokens(line[:-1]), inactive))
                continue
            if line.endswith(";"):
                line = line[:-1]
            tokens = _junos_tokens(line)
            # `interface [ ge-0/0/1 ge-0/0/2 ]` lists several values of one leaf.
            if "[" in tokens and tokens[-1] == "]":
                head = tokens[:tokens.index("[")]
                values = tokens[tokens.index("[") + 1:-1]
                leaves = [head + [value] for value in values]
            else:
                leaves = [tokens]
            parents_inactive = any(flag for _tokens, flag in stack)
            for leaf in leaves:
                path = tuple(word for tokens_, _flag in stack for word in tokens_) + tuple(leaf)
                result.append((path, not (inactive or parents_inactive)))
    absolute = []
    for path, active in result:
        if path and path[0] in ("rstp", "mstp", "vstp", "layer2-control"):
            path = ("protocols",) + path
        if any(path[:len(prefix)] == prefix for prefix in inactive_prefixes):
            active = False
        absolute.append((path, active))
    return absolute


def parse_junos(text) -> dict:
    """Edge and BPDU-block statements of a Junos configuration -> {interface: InterfaceConfig}.

    Recognised: protocols rstp|mstp interface <if> edge; protocols layer2-control bpdu-block
    interface <if> (ELS) and ethernet-switching-options bpdu-block interface <if> (older EX)."""
    found = {}
    for path, active in junos_statements(text):
        interface = None
        kind = None
        if len(path) >= 4 and path[0] == "protocols" and path[1] in ("rstp", "mstp") and path[2] == "interface":
            interface = path[3]
            if len(path) == 5 and path[4] == "edge":
                kind = "edge"
        elif len(path) >= 5 and path[:4] == ("protocols", "layer2-control", "bpdu-block", "interface"):
            interface, kind = path[4], "guard"
            path = path[:5]
        elif len(path) >= 4 and path[:3] == ("ethernet-switching-options", "bpdu-block", "interface"):
            interface, kind = path[3], "guard"
            path = path[:4]
        if interface is None:
            continue
        config = found.setdefault(interface, InterfaceConfig(interface))
        statement = " ".join(path)
        config.lines.append(("" if active else "inactive: ") + statement)
        if kind == "edge":
            if active:
                config.portfast = config.trunk = True
                config.edge_lines.append(statement)
            else:
                config.inactive_edge.append(statement)
        elif kind == "guard":
            if active:
                if statement not in config.bpduguard_lines:
                    config.bpduguard = True
                    config.bpduguard_lines.append(statement)
            elif statement not in config.inactive_bpduguard:
                config.inactive_bpduguard.append(statement)
    return found


_SMAP_ITEM = re.compile(r'\s*(?P<key>"(?:[^"\\]|\\.)*"|[^=,}\s]+)=(?P<value>"(?:[^"\\]|\\.)*"|[^,}]*)\s*(?:,|$)')


def _ovs_string(value):
    value = value.strip()
    if value.startswith('"'):
        try:
            return json.loads(value)
        except ValueError:
            return value.strip('"')
    return value


def _parse_smap(text):
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    result = {}
    for item in _SMAP_ITEM.finditer(body):
        result[_ovs_string(item.group("key"))] = _ovs_string(item.group("value"))
    return result


def _ovs_json_value(value):
    if isinstance(value, list) and value and value[0] == "map":
        return dict(value[1])
    return value


def parse_ovs(text) -> dict:
    """Ports from `ovs-vsctl --format=json list port` or plain `ovs-vsctl list port` -> {name: InterfaceConfig}."""
    text = text or ""
    records = []
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            table = json.loads(stripped)
            headings = table["headings"]
            for row in table["data"]:
                records.append({heading: _ovs_json_value(value) for heading, value in zip(headings, row)})
        except (ValueError, KeyError, TypeError) as exc:
            raise SwitchPortfastError("running_config is not the JSON of `ovs-vsctl --format=json list port`: %s" % exc)
    else:
        record = {}
        for line in text.replace("\r", "").split("\n"):
            if not line.strip():
                if record:
                    records.append(record)
                record = {}
                continue
            key, separator, value = line.partition(":")
            if not separator:
                continue
            key = key.strip()
            value = value.strip()
            if key == "name":
                record["name"] = _ovs_string(value)
            elif key == "other_config":
                record["other_config"] = _parse_smap(value)
        if record:
            records.append(record)
    found = {}
    for record in records:
        name = record.get("name")
        if not isinstance(name, str):
            continue
        config = InterfaceConfig(name)
        other_config = record.get("other_config") or {}
        if not isinstance(other_config, dict):
            other_config = {}
        value = other_config.get(OVS_ADMIN_EDGE)
        config.lines = ["other_config:%s=%s" % item for item in sorted(other_config.items())]
        # ovs-vswitchd reads the key with smap_get_bool: only "true" makes the port an edge port.
        if value == "true":
            config.portfast = config.trunk = True
            config.edge_lines = [OVS_ADMIN_EDGE]
        found[name] = config
    return found


def parse_config(platform, text) -> dict:
    """Every interface the text shows -> InterfaceConfig."""
    if platform in ("ios", "nxos", "eos", "os10"):
        return parse_cisco_style(platform, text)
    if platform == "junos":
        return parse_junos(text)
    if platform == "ovs":
        return parse_ovs(text)
    raise SwitchPortfastError("platform must be one of %s, got %s" % (", ".join(PLATFORMS), platform))


def parsed_states(platform, text, interfaces=None) -> dict:
    """state: parsed. {interface: {portfast, trunk, bpduguard}} for every interface in the text,
    or for the interfaces asked for (an interface the text does not show is refused by name)."""
    if not isinstance(text, str) or not text.strip():
        raise SwitchPortfastError("running_config is empty: give the text of the platform's show command")
    configs = parse_config(platform, text)
    if interfaces:
        wanted = normalize_interfaces(platform, interfaces)
        if platform == "junos":
            # Junos shows only interfaces that carry a statement: absent means nothing configured.
            return {name: (configs[name].state() if name in configs else port_state()) for name in wanted}
        missing = [name for name in wanted if name not in configs]
        if missing:
            raise SwitchPortfastError("running_config has no configuration for %s (interfaces found: %s)"
                                      % (", ".join(missing), ", ".join(configs) or "none"))
        return {name: configs[name].state() for name in wanted}
    if not configs:
        raise SwitchPortfastError("running_config shows no interface of platform %s" % platform)
    return {name: config.state() for name, config in configs.items()}


# --- desired state and commands ---------------------------------------------------------------

def desired_state(platform, have, state, trunk=False, bpduguard=None) -> dict:
    """The state after the change. A trunk form already configured also satisfies trunk=false
    (it makes the port an edge port in access mode too), so it is kept, never narrowed."""
    want = dict(have)
    if state == "enabled":
        want["portfast"] = True
        if platform in TRUNK_VARIANT_PLATFORMS:
            want["trunk"] = bool(trunk) or (have["portfast"] and have["trunk"])
        else:
            want["trunk"] = True
    else:
        want["portfast"] = False
        want["trunk"] = False
    if bpduguard is not None:
        want["bpduguard"] = bool(bpduguard)
    return want


def interface_commands(platform, config, state, trunk=False, bpduguard=None, ios_syntax="portfast"):
    """Commands (without the interface header) that take one interface from `config` to the wanted
    state; [] when it is already there. Removals negate the exact line or path the device shows."""
    have = config.state()
    want = desired_state(platform, have, state, trunk, bpduguard)
    commands = []
    if platform == "junos":
        if want["portfast"] and not have["portfast"]:
            commands.append(("activate %s" % config.inactive_edge[0]) if config.inactive_edge
                            else "set %s" % junos_edge_path(config.name))
        elif not want["portfast"]:
            commands += ["delete %s" % path for path in config.edge_lines]
        if want["bpduguard"] and not have["bpduguard"]:
            commands.append(("activate %s" % config.inactive_bpduguard[0]) if config.inactive_bpduguard
                            else "set %s" % junos_bpdu_block_path(config.name))
        elif not want["bpduguard"]:
            commands += ["delete %s" % path for path in config.bpduguard_lines]
        return commands, want
    if platform == "ovs":
        if want["portfast"] and not have["portfast"]:
            commands.append(ovs_set_edge(config.name))
        elif not want["portfast"] and have["portfast"]:
            commands.append(ovs_remove_edge(config.name))
        return commands, want
    if want["portfast"] and (not have["portfast"] or (want["trunk"] and not have["trunk"])):
        commands.append(edge_line(platform, want["trunk"], ios_syntax))
    elif not want["portfast"]:
        commands += ["no %s" % line for line in config.edge_lines]
    if want["bpduguard"] and not have["bpduguard"]:
        commands.append(BPDUGUARD_LINE)
    elif not want["bpduguard"]:
        commands += ["no %s" % line for line in config.bpduguard_lines]
    return commands, want


def ios_syntax_from_config(configs, requested="auto", hint_text=None) -> str:
    """The IOS portfast keyword to write: as requested, or with auto the one the device already
    uses (on these interfaces first, then anywhere in hint_text, e.g. `show running-config |
    include portfast`); the classic form when the device shows neither."""
    if requested != "auto":
        return requested
    for config in configs:
        for line in config.edge_lines:
            return "portfast_edge" if " edge" in line.lower() else "portfast"
    for line in (hint_text or "").replace("\r", "").split("\n"):
        words = line.strip().lower().split()
        if words[:2] == ["spanning-tree", "portfast"]:
            if len(words) > 2 and words[2] == "edge":
                return "portfast_edge"
            if len(words) == 2 or words[2] in ("trunk", "default", "bpduguard", "bpdufilter"):
                return "portfast"
    return "portfast"


def with_headers(platform, per_interface) -> list:
    """[(interface, [commands])] -> the flat list sent to the device, with interface headers where the OS needs them."""
    flat = []
    for interface, commands in per_interface:
        if not commands:
            continue
        if platform in ("junos", "ovs"):
            flat += commands
        else:
            flat.append(interface_header(platform, interface))
            flat += commands
    return flat


def display_commands(platform, commands, ovs_db=None) -> list:
    """Commands as returned to the user: strings; OVS ones as the ovs-vsctl command line."""
    if platform == "ovs":
        return [ovs_command(ovs_db, *command) for command in commands]
    return list(commands)


def render(platform, interfaces, state, trunk=False, bpduguard=None, ios_syntax="auto", ovs_db=None) -> list:
    """state: rendered. The full commands for the wanted state, with no device to compare against:
    what enabled writes, or the negation of it for disabled; BPDU guard only when bpduguard is set."""
    names = normalize_interfaces(platform, interfaces)
    syntax = "portfast" if ios_syntax == "auto" else ios_syntax
    per_interface = []
    for name in names:
        commands = []
        if platform == "junos":
            edge = junos_edge_path(name)
            commands.append(("set %s" if state == "enabled" else "delete %s") % edge)
            if bpduguard is not None:
                commands.append(("set %s" if bpduguard else "delete %s") % junos_bpdu_block_path(name))
        elif platform == "ovs":
            commands.append(ovs_set_edge(name) if state == "enabled" else ovs_remove_edge(name))
        else:
            line = edge_line(platform, trunk, syntax)
            commands.append(line if state == "enabled" else "no %s" % line)
            if bpduguard is not None:
                commands.append(BPDUGUARD_LINE if bpduguard else "no %s" % BPDUGUARD_LINE)
        per_interface.append((name, commands))
    return display_commands(platform, with_headers(platform, per_interface), ovs_db)


def check_options(platform, state, interfaces=None, running_config=None, ios_syntax="auto", bpduguard=None,
                  ovs_db=None):
    """Refuse combinations that cannot do what they say. Messages name the options and the rule."""
    if platform not in PLATFORMS:
        raise SwitchPortfastError("platform is required (one of %s) when ansible_network_os does not name a "
                                  "supported network OS" % ", ".join(PLATFORMS))
    if state not in STATES:
        raise SwitchPortfastError("state must be one of %s, got %s" % (", ".join(STATES), state))
    if running_config is not None and state != "parsed":
        raise SwitchPortfastError("running_config is only read with state=parsed (state is %s)" % state)
    if state == "parsed" and running_config is None:
        raise SwitchPortfastError("state=parsed needs running_config: the text of the platform's show command")
    if state != "parsed" and not interfaces:
        raise SwitchPortfastError("interfaces must name at least one interface for state=%s" % state)
    if ios_syntax not in IOS_SYNTAXES:
        raise SwitchPortfastError("ios_syntax must be one of %s, got %s" % (", ".join(IOS_SYNTAXES), ios_syntax))
    if ios_syntax != "auto" and platform != "ios":
        raise SwitchPortfastError("ios_syntax=%s only applies to platform ios, not %s; leave it at auto"
                                  % (ios_syntax, platform))
    if platform == "ovs" and bpduguard:
        raise SwitchPortfastError("bpduguard=true cannot be done on Open vSwitch: it has no BPDU guard; leave "
                                  "bpduguard unset (or false) with platform ovs")
    if ovs_db and platform != "ovs":
        raise SwitchPortfastError("ovs_db only applies to platform ovs, not %s" % platform)
