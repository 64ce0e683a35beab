# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""switch_portfast's platform knowledge: rendering, parsing real samples, interface names, plans."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.sanboot.iscsi.plugins.module_utils.switch.portfast import (
    InterfaceConfig,
    SwitchPortfastError,
    check_options,
    desired_state,
    interface_commands,
    ios_syntax_from_config,
    normalize_interface,
    normalize_interfaces,
    parse_config,
    parsed_states,
    platform_from_network_os,
    render,
    resolve_platform,
)

FIXTURES = Path(__file__).parent / "fixtures" / "switch_portfast"
FIXTURE_FILES = sorted(FIXTURES.glob("*.yml"))

# The vendor syntax table of ../shared/notes/domain-and-peers.md, written out by hand here (not
# computed by the code under test): access line, trunk line, BPDU guard line, per platform.
PORT = {"ios": "GigabitEthernet1/0/10", "nxos": "Ethernet1/5", "eos": "Ethernet5", "junos": "ge-0/0/10",
        "os10": "ethernet1/1/5", "ovs": "vnet-winboot01"}
HEADER = {"ios": ["interface GigabitEthernet1/0/10"], "nxos": ["interface Ethernet1/5"], "eos": ["interface Ethernet5"],
          "os10": ["interface ethernet 1/1/5"], "junos": [], "ovs": []}
VENDOR_SYNTAX = {
    "ios": ("spanning-tree portfast", "spanning-tree portfast trunk", "spanning-tree bpduguard enable"),
    "nxos": ("spanning-tree port type edge", "spanning-tree port type edge trunk", "spanning-tree bpduguard enable"),
    "eos": ("spanning-tree portfast", "spanning-tree portfast", "spanning-tree bpduguard enable"),
    "junos": ("set protocols rstp interface ge-0/0/10 edge", "set protocols rstp interface ge-0/0/10 edge",
              "set protocols layer2-control bpdu-block interface ge-0/0/10"),
    "os10": ("spanning-tree port type edge", "spanning-tree port type edge", "spanning-tree bpduguard enable"),
    "ovs": ("ovs-vsctl set port vnet-winboot01 other_config:rstp-port-admin-edge=true",
            "ovs-vsctl set port vnet-winboot01 other_config:rstp-port-admin-edge=true", None),
}


def fixture(path):
    sample = yaml.safe_load(path.read_text())
    if "output_file" in sample:
        sample["output"] = (path.parent / sample["output_file"]).read_text()
    return sample


# --- rendered ----------------------------------------------------------------------------------

# Open vSwitch has no BPDU guard: that combination is refused (test_ovs_refuses_bpduguard...).
RENDER_CASES = [(platform, trunk, bpduguard) for platform in sorted(VENDOR_SYNTAX) for trunk in (False, True)
                for bpduguard in (None, True) if not (bpduguard and VENDOR_SYNTAX[platform][2] is None)]


@pytest.mark.parametrize("platform, trunk, bpduguard", RENDER_CASES,
                         ids=["%s-%s-%s" % (p, "trunk" if t else "access", "bpduguard" if b else "plain")
                              for p, t, b in RENDER_CASES])
def test_rendered_is_the_vendor_syntax(platform, trunk, bpduguard):
    access, trunk_line, guard = VENDOR_SYNTAX[platform]
    expected = HEADER[platform] + [trunk_line if trunk else access] + ([guard] if bpduguard else [])
    assert render(platform, [PORT[platform]], "enabled", trunk=trunk, bpduguard=bpduguard) == expected


@pytest.mark.parametrize("trunk, expected", [(False, "spanning-tree portfast edge"),
                                             (True, "spanning-tree portfast edge trunk")])
def test_rendered_ios_edge_keyword(trunk, expected):
    assert render("ios", ["Gi1/0/10"], "enabled", trunk=trunk, ios_syntax="portfast_edge") == \
        ["interface GigabitEthernet1/0/10", expected]


def test_rendered_several_interfaces_each_with_its_header_and_abbreviations_expanded():
    assert render("ios", ["Gi1/0/10", "Te1/1/1", "Po12"], "enabled", bpduguard=True) == [
        "interface GigabitEthernet1/0/10", "spanning-tree portfast", "spanning-tree bpduguard enable",
        "interface TenGigabitEthernet1/1/1", "spanning-tree portfast", "spanning-tree bpduguard enable",
        "interface Port-channel12", "spanning-tree portfast", "spanning-tree bpduguard enable"]


def test_rendered_removal_of_bpduguard_and_disable_negate_the_enable_lines():
    assert render("nxos", ["Eth1/5"], "enabled", bpduguard=False) == [
        "interface Ethernet1/5", "spanning-tree port type edge", "no spanning-tree bpduguard enable"]
    assert render("junos", ["ge-0/0/10"], "disabled", bpduguard=False) == [
        "delete protocols rstp interface ge-0/0/10 edge", "delete protocols layer2-control bpdu-block interface ge-0/0/10"]
    assert render("ovs", ["p1"], "disabled", ovs_db="unix:/tmp/db dir/db.sock") == [
        "ovs-vsctl '--db=unix:/tmp/db dir/db.sock' remove port p1 other_config rstp-port-admin-edge"]


# --- parsed ------------------------------------------------------------------------------------

def test_every_platform_has_fixtures_and_each_names_its_source():
    platforms = set()
    for path in FIXTURE_FILES:
        sample = fixture(path)
        assert sample["source"].strip() and sample["command"].strip() and sample["expected"], path.name
        platforms.add(sample["platform"])
    assert platforms == {"ios", "nxos", "eos", "junos", "os10", "ovs"}


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[path.stem for path in FIXTURE_FILES])
def test_parsed_returns_the_state_of_every_fixture(path):
    sample = fixture(path)
    assert parsed_states(sample["platform"], sample["output"]) == sample["expected"]
    for name, state in sample["expected"].items():
        assert parsed_states(sample["platform"], sample["output"], [name]) == {name: state}


@pytest.mark.parametrize("platform, text, expected", [
    ("ios", "interface GigabitEthernet1/0/1\n spanning-tree portfast edge\n", (True, False)),
    ("ios", "interface GigabitEthernet1/0/1\n spanning-tree portfast edge trunk\n", (True, True)),
    ("ios", "interface GigabitEthernet1/0/1\n spanning-tree portfast trunk\n", (True, True)),
    ("ios", "interface GigabitEthernet1/0/1\n spanning-tree portfast\n", (True, False)),
    ("nxos", "interface Ethernet1/1\n  spanning-tree port type edge trunk\n", (True, True)),
    ("nxos", "interface Ethernet1/1\n  spanning-tree port type edge\n", (True, False)),
    ("os10", "interface ethernet1/1/1\n spanning-tree port type edge\n", (True, True)),
    ("eos", "interface Ethernet1\n   spanning-tree portfast\n", (True, True)),
    ("ios", "interface GigabitEthernet1/0/1\n spanning-tree portfast network\n", (False, False)),
    ("nxos", "interface Ethernet1/1\n  spanning-tree port type network\n", (False, False)),
    ("eos", "interface Ethernet1\n   spanning-tree portfast auto\n", (False, False)),
])
def test_every_equivalent_form_is_recognised(platform, text, expected):
    name = next(iter(parse_config(platform, text)))
    state = parsed_states(platform, text)[name]
    assert (state["portfast"], state["trunk"]) == expected


def test_parsed_refuses_an_interface_the_text_does_not_show():
    text = fixture(FIXTURES / "ios_portfast_edge.yml")["output"]
    with pytest.raises(SwitchPortfastError, match="running_config has no configuration for GigabitEthernet1/0/12"):
        parsed_states("ios", text, ["Gi1/0/12"])


def test_parsed_junos_interface_without_statements_is_plainly_not_configured():
    text = fixture(FIXTURES / "junos_display_set.yml")["output"]
    nothing = {"portfast": False, "trunk": False, "bpduguard": False}
    assert parsed_states("junos", text, ["ge-0/0/47"]) == {"ge-0/0/47": nothing}


def test_parsed_refuses_empty_text():
    with pytest.raises(SwitchPortfastError, match="running_config is empty"):
        parsed_states("ios", "  \n")


# --- interface names ---------------------------------------------------------------------------

@pytest.mark.parametrize("platform, typed, expected", [
    ("ios", "Gi1/0/1", "GigabitEthernet1/0/1"),
    ("ios", "gi 1/0/1", "GigabitEthernet1/0/1"),
    ("ios", "GigabitEthernet1/0/1", "GigabitEthernet1/0/1"),
    ("ios", "Te1/1/1", "TenGigabitEthernet1/1/1"),
    ("ios", "Fa0/1", "FastEthernet0/1"),
    ("ios", "Tw1/0/1", "TwoGigabitEthernet1/0/1"),
    ("ios", "Twe1/0/1", "TwentyFiveGigE1/0/1"),
    ("ios", "Fo1/1/1", "FortyGigabitEthernet1/1/1"),
    ("ios", "Hu1/0/49", "HundredGigE1/0/49"),
    ("ios", "Po12", "Port-channel12"),
    ("ios", "Eth0/1", "Ethernet0/1"),
    ("ios", "gigabit1/0/2", "GigabitEthernet1/0/2"),
    ("nxos", "Eth1/5", "Ethernet1/5"),
    ("nxos", "e1/5", "Ethernet1/5"),
    ("nxos", "Po5", "port-channel5"),
    ("nxos", "ethernet101/1/1", "Ethernet101/1/1"),
    ("eos", "Et5", "Ethernet5"),
    ("eos", "Eth49/1", "Ethernet49/1"),
    ("eos", "Po10", "Port-Channel10"),
    ("os10", "eth1/1/5", "ethernet1/1/5"),
    ("os10", "ethernet 1/1/5", "ethernet1/1/5"),
    ("os10", "Po7", "port-channel7"),
    ("junos", "GE-0/0/10", "ge-0/0/10"),
    ("junos", "ae0", "ae0"),
    ("ovs", "vnet-winboot01", "vnet-winboot01"),
])
def test_abbreviations_are_expanded_per_platform(platform, typed, expected):
    assert normalize_interface(platform, typed) == expected


@pytest.mark.parametrize("platform, typed, message", [
    ("ios", "T1/0/1", "ambiguous on ios: T could be TenGigabitEthernet or TwoGigabitEthernet or TwentyFiveGigE"),
    ("ios", "1/0/1", "not an interface name such as GigabitEthernet1/0/1"),
    ("ios", "Gi1/0/x", "not an interface name"),
    ("junos", "ge-0/0", "not a Junos interface name"),
    ("ovs", "bad port", "not an Open vSwitch port name"),
    ("ios", "", "not an interface name"),
])
def test_bad_interface_names_are_refused_with_the_rule(platform, typed, message):
    with pytest.raises(SwitchPortfastError, match=message):
        normalize_interface(platform, typed)


def test_the_same_port_written_twice_is_one_interface():
    assert normalize_interfaces("ios", ["Gi1/0/1", "GigabitEthernet1/0/1", "gi1/0/2"]) == \
        ["GigabitEthernet1/0/1", "GigabitEthernet1/0/2"]


# --- plans: only the difference ----------------------------------------------------------------

def config_from(platform, text, name):
    return parse_config(platform, text).get(name) or InterfaceConfig(name)


IOS_BLOCK = "interface GigabitEthernet1/0/10\n switchport mode access\n%s"


@pytest.mark.parametrize("lines, trunk, bpduguard, expected", [
    ("", False, None, ["spanning-tree portfast"]),
    (" spanning-tree portfast\n", False, None, []),
    (" spanning-tree portfast edge\n", False, None, []),
    # The trunk form covers access mode too: kept for trunk=false, never narrowed.
    (" spanning-tree portfast edge trunk\n", False, None, []),
    (" spanning-tree portfast edge\n", True, None, ["spanning-tree portfast edge trunk"]),
    (" spanning-tree portfast\n", True, None, ["spanning-tree portfast trunk"]),
    (" spanning-tree portfast disable\n", False, None, ["spanning-tree portfast"]),
    (" spanning-tree portfast\n", False, True, ["spanning-tree bpduguard enable"]),
    (" spanning-tree portfast\n spanning-tree bpduguard enable\n", False, True, []),
    (" spanning-tree portfast\n spanning-tree bpduguard enable\n", False, None, []),
    (" spanning-tree portfast\n spanning-tree bpduguard enable\n", False, False, ["no spanning-tree bpduguard enable"]),
    (" spanning-tree portfast\n spanning-tree bpduguard disable\n", False, True, ["spanning-tree bpduguard enable"]),
])
def test_ios_enabled_sends_only_the_difference(lines, trunk, bpduguard, expected):
    config = config_from("ios", IOS_BLOCK % lines, "GigabitEthernet1/0/10")
    syntax = ios_syntax_from_config([config])
    commands, _want = interface_commands("ios", config, "enabled", trunk, bpduguard, syntax)
    assert commands == expected


@pytest.mark.parametrize("lines, bpduguard, expected", [
    (" spanning-tree portfast edge trunk\n spanning-tree bpduguard enable\n", False,
     ["no spanning-tree portfast edge trunk", "no spanning-tree bpduguard enable"]),
    (" spanning-tree portfast\n spanning-tree bpduguard enable\n", None, ["no spanning-tree portfast"]),
    (" spanning-tree portfast network\n", None, []),
    ("", None, []),
])
def test_ios_disabled_negates_exactly_what_the_device_shows(lines, bpduguard, expected):
    config = config_from("ios", IOS_BLOCK % lines, "GigabitEthernet1/0/10")
    assert interface_commands("ios", config, "disabled", False, bpduguard)[0] == expected


def test_nxos_port_type_edge_trunk_satisfies_trunk_and_removal_uses_its_own_words():
    text = "interface Ethernet1/5\n  spanning-tree port type edge trunk\n"
    config = config_from("nxos", text, "Ethernet1/5")
    assert interface_commands("nxos", config, "enabled", True, None)[0] == []
    assert interface_commands("nxos", config, "disabled", False, None)[0] == ["no spanning-tree port type edge trunk"]


@pytest.mark.parametrize("platform, text, name", [
    ("eos", "interface Ethernet5\n   spanning-tree portfast\n", "Ethernet5"),
    ("os10", "interface ethernet1/1/5\n spanning-tree port type edge\n", "ethernet1/1/5"),
])
def test_one_form_platforms_need_nothing_more_for_a_trunk(platform, text, name):
    config = config_from(platform, text, name)
    assert interface_commands(platform, config, "enabled", True, None)[0] == []


def test_junos_plans():
    text = fixture(FIXTURES / "junos_brace.yml")["output"]
    configs = parse_config("junos", text)
    assert interface_commands("junos", configs["ge-0/0/20"], "enabled", False, True)[0] == []
    assert interface_commands("junos", configs["ge-0/0/20"], "disabled", False, False)[0] == [
        "delete protocols rstp interface ge-0/0/20 edge", "delete protocols layer2-control bpdu-block interface ge-0/0/20"]
    # Deactivated statements are activated, not set again (a set would stay inactive).
    assert interface_commands("junos", configs["ge-0/0/22"], "enabled", False, True)[0] == [
        "activate protocols rstp interface ge-0/0/22 edge", "activate protocols layer2-control bpdu-block interface ge-0/0/22"]
    assert interface_commands("junos", InterfaceConfig("ge-0/0/30"), "enabled", False, None)[0] == [
        "set protocols rstp interface ge-0/0/30 edge"]
    # The MSTP form counts as edge and is removed by its own path.
    mstp = parse_config("junos", fixture(FIXTURES / "junos_mstp_non_els.yml")["output"])["ge-0/0/5"]
    assert interface_commands("junos", mstp, "enabled", False, None)[0] == []
    assert interface_commands("junos", mstp, "disabled", False, False)[0] == [
        "delete protocols mstp interface ge-0/0/5 edge", "delete ethernet-switching-options bpdu-block interface ge-0/0/5"]


def test_ovs_plans():
    configs = parse_config("ovs", fixture(FIXTURES / "ovs_list_port_json.yml")["output"])
    assert interface_commands("ovs", configs["vnet-winboot01"], "enabled")[0] == []
    assert interface_commands("ovs", configs["uplink0"], "enabled")[0] == [
        ("set", "port", "uplink0", "other_config:rstp-port-admin-edge=true")]
    assert interface_commands("ovs", configs["vnet-winboot01"], "disabled")[0] == [
        ("remove", "port", "vnet-winboot01", "other_config", "rstp-port-admin-edge")]
    assert interface_commands("ovs", configs["uplink0"], "disabled")[0] == []


def test_desired_state_keeps_bpduguard_unless_asked():
    have = {"portfast": False, "trunk": False, "bpduguard": True}
    assert desired_state("ios", have, "enabled") == {"portfast": True, "trunk": False, "bpduguard": True}
    nothing = {"portfast": False, "trunk": False, "bpduguard": False}
    assert desired_state("ios", have, "disabled", bpduguard=False) == nothing


@pytest.mark.parametrize("interface_lines, hint, expected", [
    ([" spanning-tree portfast edge"], None, "portfast_edge"),
    ([" spanning-tree portfast trunk"], " spanning-tree portfast edge\n", "portfast"),
    ([], " spanning-tree portfast edge trunk\n", "portfast_edge"),
    ([], "spanning-tree portfast edge bpduguard default\n", "portfast_edge"),
    ([], "spanning-tree portfast bpduguard default\n", "portfast"),
    ([], "", "portfast"),
])
def test_ios_syntax_auto_follows_the_device(interface_lines, hint, expected):
    config = config_from("ios", "interface GigabitEthernet1/0/1\n" + "\n".join(interface_lines) + "\n",
                         "GigabitEthernet1/0/1")
    assert ios_syntax_from_config([config], "auto", hint) == expected
    assert ios_syntax_from_config([config], "portfast_edge", hint) == "portfast_edge"


# --- platform and option checks ----------------------------------------------------------------

@pytest.mark.parametrize("network_os, platform", [
    ("cisco.ios.ios", "ios"), ("ios", "ios"), ("cisco.nxos.nxos", "nxos"), ("nxos", "nxos"),
    ("arista.eos.eos", "eos"), ("eos", "eos"), ("junipernetworks.junos.junos", "junos"), ("junos", "junos"),
    ("dellemc.os10.os10", "os10"), ("os10", "os10"), (None, None)])
def test_platform_from_network_os(network_os, platform):
    assert platform_from_network_os(network_os) == platform


def test_unsupported_network_os_is_refused():
    with pytest.raises(SwitchPortfastError, match="unsupported platform: ansible_network_os vyos.vyos.vyos"):
        resolve_platform(None, "vyos.vyos.vyos", "enabled")


def test_platform_must_agree_with_the_connection_for_device_states():
    assert resolve_platform(None, "cisco.nxos.nxos", "enabled") == "nxos"
    assert resolve_platform("nxos", "cisco.nxos.nxos", "disabled") == "nxos"
    with pytest.raises(SwitchPortfastError, match="platform eos conflicts with ansible_network_os cisco.ios.ios"):
        resolve_platform("eos", "cisco.ios.ios", "enabled")
    # No device involved: rendering for another OS is fine.
    assert resolve_platform("eos", "cisco.ios.ios", "rendered") == "eos"
    assert resolve_platform("junos", "vyos.vyos.vyos", "parsed") == "junos"
    with pytest.raises(SwitchPortfastError, match="platform ovs runs ovs-vsctl on the Linux host"):
        resolve_platform("ovs", None, "enabled", "ansible.netcommon.network_cli")
    assert resolve_platform("ovs", None, "enabled", "ssh") == "ovs"


@pytest.mark.parametrize("arguments, message", [
    (dict(platform=None, state="enabled", interfaces=["Gi1/0/1"]), "platform is required"),
    (dict(platform="nxos", state="enabled", interfaces=["Eth1/1"], ios_syntax="portfast_edge"),
     "ios_syntax=portfast_edge only applies to platform ios, not nxos"),
    (dict(platform="ios", state="enabled", interfaces=["Gi1/0/1"], running_config="interface x"),
     "running_config is only read with state=parsed"),
    (dict(platform="ios", state="parsed"), "state=parsed needs running_config"),
    (dict(platform="ios", state="enabled", interfaces=[]), "interfaces must name at least one interface"),
    (dict(platform="ovs", state="enabled", interfaces=["p1"], bpduguard=True), "bpduguard=true cannot be done on Open vSwitch"),
    (dict(platform="ios", state="enabled", interfaces=["Gi1/0/1"], ovs_db="unix:/x"), "ovs_db only applies to platform ovs"),
])
def test_conflicting_options_are_refused(arguments, message):
    with pytest.raises(SwitchPortfastError, match=message):
        check_options(**arguments)


def test_ovs_refuses_bpduguard_but_accepts_its_absence():
    with pytest.raises(SwitchPortfastError, match="Open vSwitch"):
        check_options("ovs", "enabled", ["p1"], bpduguard=True)
    check_options("ovs", "enabled", ["p1"], bpduguard=False)
    check_options("ovs", "enabled", ["p1"], bpduguard=None)
