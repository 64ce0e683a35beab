# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts.ini, gpt.ini and the Group Policy Scripts registry map of a local shutdown script."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils.windows import gpo

ISCSIBCG = "C:\\Windows\\System32\\iscsibcg.exe"
THEIRS = "\ufeff\r\n[Shutdown]\r\n0CmdLine=C:\\Scripts\\flush-logs.cmd\r\n0Parameters=-quiet\r\n"
CSE_PAIR = "[{42B5FAAE-6536-11D2-AE5A-0000F87571E3}{40B6664F-4972-11D1-A7CA-0000F87571E3}]"
REGISTRY_CSE = "[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{D02B1F72-3407-48AE-BA88-E8213C6761F1}]"


def utf16(text):
    return text.encode("utf-16-le")


def test_scripts_ini_is_created_with_our_script_only():
    plan = gpo.plan_scripts_ini(None, ISCSIBCG, "/verify /fix")
    assert plan["changed"]
    assert plan["content"] == "[Shutdown]\r\n0CmdLine=%s\r\n0Parameters=/verify /fix\r\n" % ISCSIBCG
    assert plan["index"] == 0


def test_our_script_goes_after_the_other_administrators_script_which_keeps_its_number_and_text():
    plan = gpo.plan_scripts_ini(utf16(THEIRS), ISCSIBCG, "/verify /fix")
    assert plan["index"] == 1
    assert plan["content"].startswith("\r\n[Shutdown]\r\n0CmdLine=C:\\Scripts\\flush-logs.cmd\r\n0Parameters=-quiet\r\n")
    assert plan["content"].endswith("1CmdLine=%s\r\n1Parameters=/verify /fix\r\n" % ISCSIBCG)
    assert [script["cmdline"] for script in plan["scripts"]] == ["C:\\Scripts\\flush-logs.cmd", ISCSIBCG]


@pytest.mark.parametrize("spelling", [ISCSIBCG, "%SystemRoot%\\system32\\ISCSIBCG.EXE", "c:/windows/system32/iscsibcg.exe",
                                      '"C:\\Windows\\System32\\iscsibcg.exe"'])
def test_our_script_is_never_added_twice_whatever_the_spelling(spelling):
    first = gpo.plan_scripts_ini(utf16(THEIRS), ISCSIBCG, "/verify /fix", "C:\\Windows")
    second = gpo.plan_scripts_ini(gpo.encode_scripts_ini(first["content"]), spelling, "/verify /fix", "C:\\Windows")
    assert not second["changed"]
    assert second["index"] == 1
    assert len(second["scripts"]) == 2


def test_only_our_parameters_are_corrected_in_place():
    current = THEIRS + "1CmdLine=%s\r\n1Parameters=/verify\r\n[Startup]\r\n0CmdLine=x.cmd\r\n0Parameters=\r\n" % ISCSIBCG
    plan = gpo.plan_scripts_ini(utf16(current), ISCSIBCG, "/verify /fix")
    assert plan["changed"]
    assert plan["content"] == current[1:].replace("1Parameters=/verify\r\n", "1Parameters=/verify /fix\r\n")


def test_a_missing_parameters_key_of_ours_is_added_next_to_its_cmdline():
    plan = gpo.plan_scripts_ini("[Shutdown]\r\n0CmdLine=%s\r\n[Other]\r\nx=1\r\n" % ISCSIBCG, ISCSIBCG, "/verify /fix")
    assert plan["content"] == "[Shutdown]\r\n0CmdLine=%s\r\n0Parameters=/verify /fix\r\n[Other]\r\nx=1\r\n" % ISCSIBCG


def test_other_sections_and_blank_lines_survive_and_the_new_keys_go_into_shutdown():
    current = "[Startup]\r\n0CmdLine=a.cmd\r\n0Parameters=\r\n\r\n[Shutdown]\r\n0CmdLine=b.cmd\r\n0Parameters=\r\n\r\n[Logoff]\r\n"
    plan = gpo.plan_scripts_ini(current, ISCSIBCG, "/verify /fix")
    assert plan["content"] == ("[Startup]\r\n0CmdLine=a.cmd\r\n0Parameters=\r\n\r\n[Shutdown]\r\n0CmdLine=b.cmd\r\n"
                               "0Parameters=\r\n1CmdLine=%s\r\n1Parameters=/verify /fix\r\n\r\n[Logoff]\r\n" % ISCSIBCG)


def test_a_gap_in_the_numbering_is_refused_rather_than_renumbering_someone_elses_scripts():
    with pytest.raises(gpo.GpoError, match=r"numbered 0, 2, with 1 missing.*never renumbers"):
        gpo.plan_scripts_ini("[Shutdown]\r\n0CmdLine=a.cmd\r\n2CmdLine=b.cmd\r\n", ISCSIBCG, "")


def test_duplicates_found_are_reported_and_left_in_place():
    current = "[Shutdown]\r\n0CmdLine=%s\r\n0Parameters=/verify /fix\r\n1CmdLine=%s\r\n1Parameters=/verify /fix\r\n" % (
        ISCSIBCG, ISCSIBCG)
    plan = gpo.plan_scripts_ini(current, ISCSIBCG, "/verify /fix")
    assert not plan["changed"]
    assert "2 times" in plan["warnings"][0]


@pytest.mark.parametrize("raw, text", [
    (b"\xff\xfe" + "[Shutdown]\r\n".encode("utf-16-le"), "[Shutdown]\r\n"),
    (b"\xfe\xff" + "[Shutdown]\r\n".encode("utf-16-be"), "[Shutdown]\r\n"),
    (b"\xef\xbb\xbf[Shutdown]\r\n", "[Shutdown]\r\n"),
    ("[Shutdown]\r\n".encode("utf-16-le"), "[Shutdown]\r\n"),
    (b"[Shutdown]\r\n0CmdLine=C:\\caf\xe9.cmd\r\n", "[Shutdown]\r\n0CmdLine=C:\\caf\xe9.cmd\r\n"),
])
def test_scripts_ini_is_read_in_every_encoding_windows_writes(raw, text):
    assert gpo.decode_ini(raw) == text


def test_scripts_ini_is_written_as_utf16le_with_a_bom():
    assert gpo.encode_scripts_ini("[Shutdown]\r\n") == b"\xff\xfe" + "[Shutdown]\r\n".encode("utf-16-le")


def test_gpt_ini_is_created_with_the_scripts_extension_and_version_1():
    plan = gpo.plan_gpt_ini(None, True)
    assert plan["content"] == "[General]\r\ngPCMachineExtensionNames=%s\r\nVersion=1\r\n" % CSE_PAIR
    assert plan["changed"]


def test_gpt_ini_version_rises_in_the_computer_half_only_on_a_change():
    current = "[General]\r\ngPCMachineExtensionNames=%s\r\nVersion=131075\r\n" % CSE_PAIR
    unchanged = gpo.plan_gpt_ini(current, False)
    assert not unchanged["changed"] and unchanged["version_after"] == 131075
    changed = gpo.plan_gpt_ini(current, True)
    # 131075 = user 2, computer 3: the computer half goes to 4, the user half stays 2 ([MS-GPOL] 3.3.5.4).
    assert changed["version_after"] == 131076
    assert changed["content"] == current.replace("Version=131075", "Version=131076")


def test_gpt_ini_gets_the_extension_next_to_others_sorted_and_that_alone_raises_the_version():
    current = "[General]\r\nVersion=7\r\ngPCMachineExtensionNames=%s\r\ndisplayName=Local\r\n" % REGISTRY_CSE
    plan = gpo.plan_gpt_ini(current, False)
    assert "gPCMachineExtensionNames=%s%s\r\n" % (REGISTRY_CSE, CSE_PAIR) in plan["content"]
    assert plan["version_after"] == 8
    assert "displayName=Local\r\n" in plan["content"]


def test_a_missing_tool_guid_is_added_to_the_existing_scripts_entry():
    names = "[{42B5FAAE-6536-11D2-AE5A-0000F87571E3}{00000000-0000-0000-0000-000000000001}]"
    assert gpo.add_extension(names) == ("[{42B5FAAE-6536-11D2-AE5A-0000F87571E3}{00000000-0000-0000-0000-000000000001}"
                                        "{40B6664F-4972-11D1-A7CA-0000F87571E3}]")
    assert gpo.add_extension(CSE_PAIR.lower()) == CSE_PAIR.lower()


@pytest.mark.parametrize("version, expected", [(0, 1), (1, 2), (0xFFFF, 1), (0x0002FFFF, 0x00020001), (0x00030004, 0x00030005)])
def test_the_computer_half_rises_by_one_and_never_wraps_to_zero(version, expected):
    assert gpo.bump_machine_version(version) == expected


def test_gpt_ini_with_a_version_that_is_not_a_number_is_refused():
    with pytest.raises(gpo.GpoError, match="Version=abc"):
        gpo.plan_gpt_ini("[General]\r\nVersion=abc\r\n", True)


def registry_entry(name, values, scripts=()):
    return {"name": name, "values": values, "scripts": [{"name": script_name, "values": script_values}
                                                        for script_name, script_values in scripts]}


def test_the_registry_map_covers_both_trees_for_every_script():
    scripts = gpo.plan_scripts_ini(utf16(THEIRS), ISCSIBCG, "/verify /fix")["scripts"]
    writes = gpo.plan_shutdown_registry({}, scripts, 1, "C:\\Windows")["values"]
    keys = {(write["key"], write["name"]): (write["type"], write["data"]) for write in writes}
    for root in gpo.SHUTDOWN_KEYS.values():
        assert keys[(root + "\\0", "GPO-ID")] == ("string", "LocalGPO")
        assert keys[(root + "\\0", "SOM-ID")] == ("string", "Local")
        assert keys[(root + "\\0", "FileSysPath")] == ("string", "C:\\Windows\\System32\\GroupPolicy\\Machine")
        assert keys[(root + "\\0", "PSScriptOrder")] == ("dword", 1)
        assert keys[(root + "\\0\\1", "Script")] == ("string", ISCSIBCG)
        assert keys[(root + "\\0\\1", "Parameters")] == ("string", "/verify /fix")
        assert keys[(root + "\\0\\1", "IsPowershell")] == ("dword", 0)
        assert keys[(root + "\\0\\1", "ExecTime")] == ("qword", 0)
        assert keys[(root + "\\0\\0", "Script")] == ("string", "C:\\Scripts\\flush-logs.cmd")
    assert len(writes) == 2 * (6 + 4 + 4)


def test_registry_values_windows_rewrites_are_never_enforced_and_theirs_never_changed():
    scripts = gpo.plan_scripts_ini(utf16(THEIRS), ISCSIBCG, "/verify /fix")["scripts"]
    gpo_values = {"GPO-ID": {"type": "string", "data": "LocalGPO"}, "SOM-ID": {"type": "string", "data": "Local"},
                  "FileSysPath": {"type": "string", "data": "C:\\WINDOWS\\system32\\GroupPolicy\\Machine"},
                  "DisplayName": {"type": "string", "data": "Lokale Gruppenrichtlinie"},
                  "GPOName": {"type": "string", "data": "Lokale Gruppenrichtlinie"},
                  "PSScriptOrder": {"type": "dword", "data": 1}}
    theirs = {"Script": {"type": "string", "data": "C:\\Scripts\\old-name.cmd"}, "Parameters": {"type": "string", "data": ""},
              "IsPowershell": {"type": "dword", "data": 0}, "ExecTime": {"type": "qword", "data": 133500000000000000}}
    ours = {"Script": {"type": "string", "data": ISCSIBCG}, "Parameters": {"type": "string", "data": "/verify /fix"},
            "IsPowershell": {"type": "dword", "data": 0}, "ExecTime": {"type": "qword", "data": 133500000000000001}}
    listing = {tree: [registry_entry("0", gpo_values, [("0", theirs), ("1", ours)])] for tree in gpo.SHUTDOWN_KEYS}
    assert gpo.plan_shutdown_registry(listing, scripts, 1, "C:\\Windows")["values"] == []
    ours_wrong = dict(ours, Parameters={"type": "string", "data": "/verify"})
    listing = {tree: [registry_entry("0", gpo_values, [("0", theirs), ("1", ours_wrong)])] for tree in gpo.SHUTDOWN_KEYS}
    writes = gpo.plan_shutdown_registry(listing, scripts, 1, "C:\\Windows")["values"]
    assert [(write["key"].rsplit("\\", 2)[-2:], write["name"], write["data"]) for write in writes] == \
        [(["0", "1"], "Parameters", "/verify /fix")] * 2


def test_a_domain_gpo_keeps_its_number_and_the_local_gpo_gets_the_next():
    domain = registry_entry("0", {"GPO-ID": {"type": "string", "data": "cn={31B2F340-016D-11D2-945F-00C04FB984F9}"}},
                            [("0", {"Script": {"type": "string", "data": "\\\\corp\\netlogon\\x.cmd"}})])
    ours = [{"index": 0, "cmdline": ISCSIBCG, "parameters": "/verify /fix"}]
    plan = gpo.plan_shutdown_registry({"scripts": [domain], "state": []}, ours, 0, "C:\\Windows")
    assert plan["gpo_index"] == {"scripts": 1, "state": 0}
    assert not [write for write in plan["values"] if write["key"].endswith("Scripts\\Shutdown\\0\\0")
                and "State" not in write["key"]]


def probe(**overrides):
    result = {"system_root": "C:\\Windows", "scripts_ini_base64": base64.b64encode(utf16(THEIRS)).decode(),
              "gpt_ini_base64": base64.b64encode(("[General]\r\nVersion=3\r\ngPCMachineExtensionNames=%s\r\n" % REGISTRY_CSE).encode()).decode(),
              "registry": {}, "local_gpo_disabled": False}
    result.update(overrides)
    return result


def test_the_whole_plan_from_a_probe():
    plan = gpo.plan_shutdown_script(probe(), ISCSIBCG, "/verify /fix")
    assert plan["scripts_ini_changed"] and plan["gpt_ini_changed"]
    assert plan["scripts_ini"].startswith(gpo.BOM)
    assert plan["gpt_version_before"] == 3 and plan["gpt_version_after"] == 4
    assert plan["scripts_ini_path"] == "C:\\Windows\\System32\\GroupPolicy\\Machine\\Scripts\\scripts.ini"
    assert plan["gpt_ini_path"] == "C:\\Windows\\System32\\GroupPolicy\\gpt.ini"
    assert plan["scripts_directory"] == "C:\\Windows\\System32\\GroupPolicy\\Machine\\Scripts\\Shutdown"
    assert plan["warnings"] == []


def test_a_converged_host_plans_nothing():
    first = gpo.plan_shutdown_script(probe(), ISCSIBCG, "/verify /fix")
    registry = {tree: [registry_entry("0", {}, [])] for tree in gpo.SHUTDOWN_KEYS}
    for write in first["registry"]:
        tree = "state" if "\\State\\" in write["key"] else "scripts"
        entry = registry[tree][0]
        parts = write["key"].split("\\")
        if parts[-2] == "Shutdown":
            entry["values"][write["name"]] = {"type": write["type"], "data": write["data"]}
        else:
            scripts = {script["name"]: script for script in entry["scripts"]}
            scripts.setdefault(parts[-1], {"name": parts[-1], "values": {}})["values"][write["name"]] = \
                {"type": write["type"], "data": write["data"]}
            entry["scripts"] = list(scripts.values())
    again = gpo.plan_shutdown_script(probe(scripts_ini_base64=base64.b64encode(gpo.encode_scripts_ini(first["scripts_ini"])).decode(),
                                           gpt_ini_base64=base64.b64encode(first["gpt_ini"].encode()).decode(),
                                           registry=registry), ISCSIBCG, "/verify /fix")
    assert not again["changed"]
    assert again["gpt_version_after"] == 4


def test_local_policy_turned_off_by_a_domain_policy_is_warned_about():
    plan = gpo.plan_shutdown_script(probe(local_gpo_disabled=True), ISCSIBCG, "/verify /fix")
    assert "DisableLGPP" in plan["warnings"][0]
    assert "ignores the local shutdown script" in plan["warnings"][0]


@pytest.mark.parametrize("settings, message", [
    ({"command": "", "parameters": ""}, "win_iscsi_boot_script_command: must be the path"),
    ({"command": "a.exe\r\n1CmdLine=evil.exe", "parameters": ""}, "win_iscsi_boot_script_command: "),
    ({"command": "a.exe", "parameters": "/x\n"}, "win_iscsi_boot_script_parameters: "),
])
def test_bad_input_names_the_variable(settings, message):
    errors = gpo.validate_settings(settings)
    assert errors and errors[0].startswith(message)
