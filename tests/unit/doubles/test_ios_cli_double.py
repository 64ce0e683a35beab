# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The IOS CLI test double behaves like IOS where switch_portfast and cisco.ios's plugins touch it."""

from __future__ import annotations

from doubles.ios_cli_double import IosDevice


def device(**kwargs):
    return IosDevice(interfaces={"GigabitEthernet1/0/1": ["description winboot01", "switchport mode access"],
                                 "GigabitEthernet1/0/2": []}, **kwargs)


def type_lines(switch, *lines):
    return [switch.execute(line)[0] for line in lines]


def test_prompts_follow_the_mode():
    switch = device()
    assert switch.prompt() == "sw1#"
    type_lines(switch, "configure terminal")
    assert switch.prompt() == "sw1(config)#"
    type_lines(switch, "interface GigabitEthernet1/0/1")
    assert switch.prompt() == "sw1(config-if)#"
    type_lines(switch, "exit")
    assert switch.prompt() == "sw1(config)#"
    type_lines(switch, "interface Gi1/0/2", "end")
    assert switch.prompt() == "sw1#"


def test_user_level_needs_enable_and_the_secret():
    switch = device(privilege=1, enable_secret="s3cret-enable")
    assert switch.prompt() == "sw1>"
    assert "Invalid input" in switch.execute("configure terminal")[0]
    assert "Invalid input" in switch.execute("show running-config")[0]
    assert switch.execute("show privilege")[0] == "Current privilege level is 1\n"
    switch.execute("enable")
    assert switch.prompt() == "Password: "
    assert switch.execute("wrong")[0] == "% Bad secrets\n\n"
    assert switch.prompt() == "sw1>"
    switch.execute("enable")
    switch.execute("s3cret-enable")
    assert switch.prompt() == "sw1#"
    assert switch.execute("show privilege")[0] == "Current privilege level is 15\n"


def test_invalid_input_marks_the_offending_word_under_the_echoed_line():
    switch = device()
    type_lines(switch, "conf t", "interface Gi1/0/1")
    output = switch.execute("spanning-tree portfast edge")[0]
    caret_line, message = output.splitlines()[:2]
    assert message == "% Invalid input detected at '^' marker."
    # Aligned with "sw1(config-if)#spanning-tree portfast edge": under "edge" (classic release).
    assert caret_line.index("^") == len("sw1(config-if)#spanning-tree portfast ")


def test_unknown_interface_is_invalid_input_as_on_ios():
    switch = device()
    output = switch.execute("show running-config interface GigabitEthernet1/0/99")[0]
    assert "% Invalid input detected at '^' marker." in output
    type_lines(switch, "configure terminal")
    assert "% Invalid input detected at '^' marker." in switch.execute("interface GigabitEthernet1/0/99")[0]
    assert switch.prompt() == "sw1(config)#"


def test_terminal_settings_as_the_cisco_ios_terminal_plugin_sends_them():
    switch = device()
    assert type_lines(switch, "terminal length 0", "terminal width 512", "terminal width 0") == ["", "", ""]
    assert "Invalid input" in switch.execute("terminal width 513")[0]


def test_portfast_is_one_setting_per_interface_and_no_resets_it():
    switch = device()
    type_lines(switch, "conf t", "int gi1/0/2", "spanning-tree portfast", "spanning-tree portfast trunk",
               "spanning-tree bpduguard enable")
    assert switch.interface_lines("GigabitEthernet1/0/2") == ["spanning-tree portfast trunk",
                                                              "spanning-tree bpduguard enable"]
    type_lines(switch, "no spanning-tree portfast trunk", "no spanning-tree bpduguard enable")
    assert switch.interface_lines("GigabitEthernet1/0/2") == []


def test_edge_release_stores_every_edge_form_with_the_edge_keyword():
    switch = device(portfast_syntax="edge")
    type_lines(switch, "conf t", "int gi1/0/2", "spanning-tree portfast")
    assert switch.interface_lines("GigabitEthernet1/0/2") == ["spanning-tree portfast edge"]
    type_lines(switch, "spanning-tree portfast edge trunk")
    assert switch.interface_lines("GigabitEthernet1/0/2") == ["spanning-tree portfast edge trunk"]


def test_show_running_config_interface_and_include():
    switch = device()
    type_lines(switch, "conf t", "int gi1/0/1", "spanning-tree portfast", "end")
    block = switch.execute("sh run int Gi1/0/1")[0]
    assert block.startswith("Building configuration...\n\nCurrent configuration : ")
    assert "!\ninterface GigabitEthernet1/0/1\n description winboot01\n switchport mode access\n" \
           " spanning-tree portfast\nend\n" in block
    assert switch.execute("show running-config | include portfast")[0] == " spanning-tree portfast\n"


def test_write_memory_copies_running_to_startup():
    switch = device()
    type_lines(switch, "conf t", "int gi1/0/2", "spanning-tree portfast", "end")
    assert switch.snapshot()["startup"]["GigabitEthernet1/0/2"] == []
    assert switch.execute("write memory")[0] == "Building configuration...\n[OK]\n"
    assert switch.snapshot()["startup"]["GigabitEthernet1/0/2"] == ["spanning-tree portfast"]


def test_ambiguous_and_incomplete_commands():
    switch = device()
    assert switch.execute("e")[0].startswith("% Ambiguous command:")
    assert switch.execute("show")[0] == "% Incomplete command.\n\n"
