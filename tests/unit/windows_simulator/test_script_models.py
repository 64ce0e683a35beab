# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' PowerShell scripts and the simulator's Python models of them.

PowerShell cannot run here. What can be checked is that every script follows the rules the roles
rely on (a model marker, $ErrorActionPreference = 'Stop', check mode support, an explicit
$Ansible.Changed), that each script has a model and each model a script, that the roles pass
exactly the parameters each script declares, and that each model behaves as its script reads."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from simulator_paths import ROLES, load_simulator

sim = load_simulator()
# The roles' own scripts, and the collection's shared ones (run by its Windows actions).
SHARED = ROLES.parent / "plugins" / "module_utils" / "windows"
SCRIPTS = sorted(ROLES.glob("*/files/*.ps1")) + sorted(SHARED.glob("*.ps1"))


def script_parameters(path) -> set:
    text = path.read_text()
    block = text[text.index("param ("):]
    depth, end = 0, 0
    for position, char in enumerate(block):
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and char == ")":
            end = position
            break
    return set(re.findall(r"^\s*\$(\w+)", block[:end], re.MULTILINE))


@pytest.mark.parametrize("path", SCRIPTS, ids=[str(path.relative_to(ROLES.parent)) for path in SCRIPTS])
def test_every_script_follows_the_rules(path):
    text = path.read_text()
    name, _model = sim.script_model(text)
    assert name in sim.MODELS
    assert "$ErrorActionPreference = 'Stop'" in text
    if "not through win_powershell" in text:
        return  # run by Windows Setup on a clone (specialize.ps1): no $Ansible there
    # win_powershell skips (and reports changed for) scripts without it in check mode.
    assert sim.SHOULD_PROCESS.search(text)
    # $Ansible.Changed is true unless a script says otherwise: every script says.
    assert "$Ansible.Changed = $false" in text or "$Ansible.Changed = $" in text
    if "probe" in path.name:
        assert "$Ansible.Changed = $false" in text and "ShouldProcess(" not in text


def test_every_model_has_exactly_one_script_and_every_script_a_model():
    names = {}
    for path in SCRIPTS:
        names.setdefault(sim.script_model(path.read_text())[0], []).append(path)
    assert set(names) == set(sim.MODELS)
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}, "one script, one place"


def test_no_role_reads_another_roles_files():
    for path in list(ROLES.glob("*/tasks/*.yml")) + list(ROLES.glob("*/handlers/*.yml")):
        assert "role_path ~ '/.." not in path.read_text() and "/../win_" not in path.read_text(), path


def test_each_model_reads_only_parameters_its_script_declares():
    import inspect

    for path in SCRIPTS:
        _name, function = sim.script_model(path.read_text())
        read = set(re.findall(r'_param\(params, "(\w+)"', inspect.getsource(function)))
        assert read <= script_parameters(path), (path, read - script_parameters(path))


def test_a_script_without_a_model_is_refused():
    with pytest.raises(sim.SimulatorError, match="runs no PowerShell"):
        sim.script_model("Get-Process")


def tasks_running_scripts():
    for path in ROLES.glob("*/tasks/*.yml"):
        for task in yaml.safe_load(path.read_text()) or []:
            arguments = task.get("ansible.windows.win_powershell")
            if arguments:
                match = re.search(r"lookup\('ansible.builtin.file', '([^']+)'\)", arguments["script"])
                yield path.parent.parent / "files" / match.group(1), set(arguments.get("parameters") or {})


def test_the_roles_pass_exactly_the_parameters_each_script_declares():
    checked = 0
    for script, passed in tasks_running_scripts():
        assert passed == script_parameters(script), script
        checked += 1
    assert checked >= 8


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A simulated Windows Server 2022 host; returns (state file path, a function opening it)."""
    source = ROLES.parent / "tests" / "windows_simulator" / "states" / "server2022-iscsi-boot.json"
    state_file = tmp_path / "state.json"
    state_file.write_text(source.read_text())
    monkeypatch.setenv(sim.STATE_ENV, str(state_file))
    return state_file


def run(model_name, params, check_mode=False):
    with sim.WindowsState(check_mode=check_mode) as state:
        return sim.MODELS[model_name](state, params, check_mode)


def test_a_run_that_changes_nothing_leaves_the_file_byte_identical(host):
    before = host.read_bytes()
    assert run("win_iscsi_initiator/probe", {})["changed"] is False
    assert run("win_iscsi_initiator/node_name", {"NodeName": "iqn.2026-11.test:x"}, check_mode=True)["changed"]
    assert host.read_bytes() == before


def test_a_failing_model_leaves_the_file_as_it_was(host):
    before = host.read_bytes()
    with pytest.raises(sim.ScriptFailure, match="not running"):
        run("win_iscsi_initiator/node_name", {"NodeName": "iqn.2026-11.test:x"})
    assert host.read_bytes() == before


def test_node_name_compares_case_insensitively_and_needs_the_service(host):
    assert run("win_iscsi_initiator/node_name", {"nodename": "IQN.1991-05.COM.MICROSOFT:WINBOOT01"})["changed"] is False
    state = json.loads(host.read_text())
    state["services"]["MSiSCSI"]["state"] = "started"
    host.write_text(json.dumps(state))
    assert run("win_iscsi_initiator/node_name", {"NodeName": "iqn.2026-11.test:x"})["result"] == {
        "before": "iqn.1991-05.com.microsoft:winboot01", "after": "iqn.2026-11.test:x"}
    assert json.loads(host.read_text())["iscsi"]["node_name"] == "iqn.2026-11.test:x"


def test_the_reboot_mark_lasts_until_a_restart(host):
    assert run("reboot_pending", {"Name": "win_pagefile"})["result"]["marked"] is False
    assert run("reboot_pending", {"Name": "win_pagefile", "Mark": True}, check_mode=True)["changed"] is True
    assert run("reboot_pending", {"Name": "win_pagefile"})["result"]["marked"] is False
    assert run("reboot_pending", {"Name": "win_pagefile", "Mark": True})["changed"] is True
    assert run("reboot_pending", {"Name": "win_pagefile", "Mark": True})["changed"] is False
    assert run("reboot_pending", {"Name": "win_iscsi_initiator"})["result"]["marked"] is False
    with sim.WindowsState() as state:
        assert state.reg_find(sim.REBOOT_MARKER_KEY + "\\win_pagefile")
        sim.reboot(state)
    assert run("reboot_pending", {"Name": "win_pagefile"})["result"]["marked"] is False


def test_windows_own_pending_restarts_are_read_and_a_restart_clears_them(host):
    assert run("reboot_pending", {})["result"]["windows_reasons"] == []
    with sim.WindowsState() as state:
        state.reg_create(sim.CBS_REBOOT_PENDING)
        state.reg_create(sim.WU_REBOOT_REQUIRED)
        state.reg_set(sim.SESSION_MANAGER_KEY, "PendingFileRenameOperations", "multistring", ["\\??\\C:\\x", ""])
        state.reg_set(sim.COMPUTER_NAME_KEY + "\\ActiveComputerName", "ComputerName", "string", "WINBOOT01")
        state.reg_set(sim.COMPUTER_NAME_KEY + "\\ComputerName", "ComputerName", "string", "WINBOOT02")
    result = run("reboot_pending", {})["result"]
    assert result["windows_reasons"] == ["Component Based Servicing: RebootPending", "Windows Update: RebootRequired",
                                         "Session Manager: PendingFileRenameOperations",
                                         "computer name change: WINBOOT01 -> WINBOOT02"]
    assert (result["os_version"], result["powershell_version"]) == ("10.0.20348.0", "5.1.20348.2849")
    with sim.WindowsState() as state:
        sim.reboot(state)
    assert run("reboot_pending", {})["result"]["windows_reasons"] == []


def test_no_module_runs_on_a_host_whose_powershell_is_older_than_5_1(tmp_path, monkeypatch):
    source = ROLES.parent / "tests" / "windows_simulator" / "states" / "server2003-iscsi-boot.json"
    state_file = tmp_path / "legacy.json"
    state_file.write_text(source.read_text())
    monkeypatch.setenv(sim.STATE_ENV, str(state_file))
    with pytest.raises(sim.SimulatorError, match="^Ansible requires PowerShell v5.1$"):
        with sim.WindowsState():
            pass


def test_a_restart_puts_the_configured_pagefile_in_use(host):
    state = json.loads(host.read_text())
    settings = [{"name": "D:\\pagefile.sys", "initial_size": 0, "maximum_size": 0}]
    state["pagefile"].update(automatic_managed=False, settings=settings)
    host.write_text(json.dumps(state))
    with sim.WindowsState() as windows:
        sim.reboot(windows)
    assert json.loads(host.read_text())["pagefile"]["usage"] == [{"name": "D:\\pagefile.sys", "allocated_base_size": 0}]


def test_mpio_settings_wait_for_the_feature_and_the_claim_needs_a_restart(host):
    assert run("win_iscsi_initiator/mpio", {"ClaimIscsi": True, "Policy": "RR"})["result"]["available"] is False
    state = json.loads(host.read_text())
    state["features"]["Multipath-IO"]["installed"] = True
    host.write_text(json.dumps(state))
    outcome = run("win_iscsi_initiator/mpio", {"ClaimIscsi": True, "Policy": "RR"})
    assert outcome["result"]["reboot_reasons"] == ["enabled automatic claim of iSCSI disks"]
    assert outcome["result"]["changes"][1] == "default load-balance policy None -> RR"
    assert run("win_iscsi_initiator/mpio", {"ClaimIscsi": True, "Policy": "RR"})["changed"] is False


def test_nic_dhcp_switches_only_the_adapters_named_by_index_with_dhcp_off(host):
    outcome = run("win_iscsi_initiator/nic_dhcp", {"Adapters": {"6": "52-54-00-12-34-57"}})
    assert outcome["result"]["changed_adapters"] == ["Ethernet 2"]
    assert run("win_iscsi_initiator/nic_dhcp", {"Adapters": {"6": "52:54:00:12:34:57"}})["changed"] is False
    with pytest.raises(sim.ScriptFailure, match="no network adapter has the interface index 99"):
        run("win_iscsi_initiator/nic_dhcp", {"Adapters": {"99": "52:54:00:99:99:99"}})
    with pytest.raises(sim.ScriptFailure, match="interface index 4 .Ethernet. has the MAC address 52:54:00:12:34:56, "
                                                "not 52:54:00:12:34:57 as planned"):
        run("win_iscsi_initiator/nic_dhcp", {"Adapters": {"4": "52:54:00:12:34:57"}})
    assert json.loads(host.read_text())["network_adapters"][0]["dhcp_enabled"] is False


def test_boot_script_probe_lists_the_registry_trees_and_reads_files_as_bytes(host):
    with sim.WindowsState() as state:
        state.file_put("C:\\Windows\\System32\\GroupPolicy\\gpt.ini", b"[General]\r\nVersion=3\r\n")
        state.reg_set(sim.SHUTDOWN_ROOTS["state"] + "\\0", "GPO-ID", "string", "LocalGPO")
        state.reg_set(sim.SHUTDOWN_ROOTS["state"] + "\\0\\0", "Script", "string", "C:\\a.cmd")
        state.reg_set(sim.LGPP_KEY, "DisableLGPP", "dword", 1)
    result = run("win_iscsi_boot_script/probe", {"Command": "%SystemRoot%\\System32\\iscsibcg.exe"})["result"]
    assert result["command_path"] == "C:\\Windows\\System32\\iscsibcg.exe" and result["command_present"] is False
    assert result["gpt_ini_base64"] == "W0dlbmVyYWxdDQpWZXJzaW9uPTMNCg=="
    assert result["scripts_ini_base64"] == ""
    assert result["registry"] == {"scripts": [], "state": [{"name": "0", "values": {"GPO-ID": {"type": "string", "data": "LocalGPO"}},
                                                            "scripts": [{"name": "0", "values": {"Script": {"type": "string", "data": "C:\\a.cmd"}}}]}]}
    assert result["local_gpo_disabled"] is True


def dhcp_host(tmp_path, monkeypatch):
    source = ROLES.parent / "tests" / "windows_simulator" / "states" / "dhcp-server2022.json"
    state_file = tmp_path / "dhcp.json"
    state_file.write_text(source.read_text())
    monkeypatch.setenv(sim.STATE_ENV, str(state_file))
    return state_file


def test_dhcp_option_values_set_the_owned_options_exactly(tmp_path, monkeypatch):
    state_file = dhcp_host(tmp_path, monkeypatch)
    params = {"ReservedIP": "10.77.0.20", "Values": {"17": "iscsi:10.77.0.1:6:3260:1:iqn.2026-11.test:b"},
              "ManagedOptionIds": [12, 17, 203]}
    assert run("win_dhcp_boot_reservation/option_values", params)["result"]["set"] == ["17"]
    options = json.loads(state_file.read_text())["dhcp"]["reservation_options"]["10.77.0.20"]
    # Option 3 is not ours: it stays.
    assert options == {"3": "10.77.0.1", "17": "iscsi:10.77.0.1:6:3260:1:iqn.2026-11.test:b"}
    assert run("win_dhcp_boot_reservation/option_values", params)["changed"] is False
    with pytest.raises(sim.ScriptFailure, match="option 203 is not defined"):
        run("win_dhcp_boot_reservation/option_values", dict(params, Values={"203": "iqn.2026-11.test:i"}))
    removed = run("win_dhcp_boot_reservation/option_values", dict(params, Values={}))
    assert removed["result"]["removed"] == ["17"]


def test_dhcp_option_values_in_check_mode_before_the_reservation_exists(tmp_path, monkeypatch):
    dhcp_host(tmp_path, monkeypatch)
    params = {"ReservedIP": "10.77.0.60", "Values": {"17": "x", "12": "y"}, "ManagedOptionIds": [12, 17, 203]}
    assert run("win_dhcp_boot_reservation/option_values", params, check_mode=True)["result"] == {
        "set": ["12", "17"], "removed": [], "reservation": False}
    with pytest.raises(sim.ScriptFailure, match="no reservation for 10.77.0.60"):
        run("win_dhcp_boot_reservation/option_values", params)


def test_an_option_definition_of_another_type_is_never_redefined(tmp_path, monkeypatch):
    dhcp_host(tmp_path, monkeypatch)
    params = {"OptionId": 203, "Name": "iSCSI initiator IQN", "Type": "String", "Description": ""}
    assert run("win_dhcp_boot_reservation/option_definition", params)["changed"] is True
    assert run("win_dhcp_boot_reservation/option_definition", params)["changed"] is False
    with pytest.raises(sim.ScriptFailure, match="already defined as String"):
        run("win_dhcp_boot_reservation/option_definition", dict(params, Type="IPv4Address"))


def test_the_dhcp_probe_fails_on_a_host_without_the_dhcp_server(host):
    with pytest.raises(sim.ScriptFailure, match="not a Windows DHCP Server"):
        run("win_dhcp_boot_reservation/probe", {"MacAddresses": [], "IPAddresses": []})


@pytest.mark.parametrize("value, depth, expected", [
    ({"a": {"b": {"c": 1}}}, 2, {"a": {"b": {"c": 1}}}),
    ({"a": {"b": {"c": {"d": 1}}}}, 2, {"a": {"b": {"c": "System.Collections.Hashtable"}}}),
    ({"a": [["x", "y"]]}, 1, {"a": ["x y"]}),
    ({"a": [1, True, None, "s"]}, 0, {"a": "1 True  s"}),
])
def test_results_deeper_than_depth_become_strings_as_win_powershell_returns_them(value, depth, expected):
    assert sim.convert_output(value, depth) == expected


def test_check_mode_skips_a_script_without_should_process_like_the_real_module(host):
    script = "# sanboot.iscsi simulator model: reboot_pending\nparam ($Name)\n"
    with sim.WindowsState(check_mode=True) as state:
        assert sim.run_script(state, script, {"Name": "x"}, True) == {"changed": True, "msg": "skipped, running in check mode",
                                                                      "model": "reboot_pending"}


def hba_boot_configuration(address):
    """An MSiSCSI_BootConfiguration instance as Config.mof shapes it: TargetPortal is an embedded
    ISCSI_TargetPortal whose Address is an embedded ISCSI_IP_Address (iscsidef.h)."""
    return {"InstanceName": "PCI\\VEN_1077&DEV_8032\\4&1_0", "Active": True, "LUN": 0, "SecurityFlags": 0,
            "UsernameSize": 0, "PasswordSize": 0, "DiscoverBootDevice": False,
            "InitiatorNode": "iqn.1991-05.com.microsoft:winboot01", "TargetName": "iqn.2026-11.test:boot01",
            "TargetPortal": {"Address": address, "Socket": 3260}}


TEXT_ADDRESS = {"Type": 0, "IpV4Address": 0, "IpV6Address": [0] * 16, "IpV6FlowInfo": 0, "IpV6ScopeId": 0,
                "TextAddress": "10.77.0.1"}


def test_an_hbas_boot_portal_address_is_read_from_the_embedded_ip_address(host):
    state = json.loads(host.read_text())
    state["iscsi"].update(sessions=[], boot_configuration=[hba_boot_configuration(TEXT_ADDRESS)])
    host.write_text(json.dumps(state))
    result = run("iscsi_boot", {})["result"]
    firmware = [entry for entry in result["firmware_boot"] if entry.get("source") == "MSiSCSI_BootConfiguration"]
    assert [(entry["target_iqn"], entry["target_address"], entry["target_port"]) for entry in firmware] == [
        ("iqn.2026-11.test:boot01", "10.77.0.1", 3260)]


@pytest.mark.parametrize("address, expected", [
    (dict(TEXT_ADDRESS, Type=2, TextAddress="", IpV6Address=[0xfd, 0] + [0] * 13 + [1]), "fd00::1"),
    (dict(TEXT_ADDRESS, Type=1, TextAddress="", IpV4Address=0x01004D0A), ""),
    (dict(TEXT_ADDRESS, Type=3, TextAddress=""), ""),
])
def test_other_embedded_address_types_are_read_by_their_type_and_never_guessed(address, expected):
    assert sim.portal_address(address) == expected


def test_the_mpio_claim_is_compared_as_text(host):
    """Get-MSDSMAutomaticClaimSettings prints True/False: [bool] of the text 'False' is $true."""
    state = json.loads(host.read_text())
    state["features"]["Multipath-IO"]["installed"] = True
    state["mpio"] = {"iscsi_claimed": False, "policy": "None"}
    host.write_text(json.dumps(state))
    outcome = run("win_iscsi_initiator/mpio", {"ClaimIscsi": True, "Policy": "RR"})
    assert outcome["result"]["changes"] == ["enabled automatic claim of iSCSI disks", "default load-balance policy None -> RR"]
    assert json.loads(host.read_text())["mpio"] == {"iscsi_claimed": True, "policy": "RR"}


MPIO_SCRIPT = (ROLES / "win_iscsi_initiator" / "files" / "mpio.ps1").read_text()
OPTION_VALUES = (ROLES / "win_dhcp_boot_reservation" / "files" / "option_values.ps1").read_text()


@pytest.mark.parametrize("script, parameters, refusal", [
    (MPIO_SCRIPT, {"ClaimIscsi": True, "Policy": "RR", "Colour": "red"},
     "A parameter cannot be found that matches parameter name 'Colour'."),
    (MPIO_SCRIPT, {"ClaimIscsi": True}, "missing mandatory parameters: Policy."),
    (MPIO_SCRIPT, {"ClaimIscsi": True, "Policy": "fastest"},
     'The argument "fastest" does not belong to the set "FOO,RR,LQD,LB,None" specified by the ValidateSet attribute.'),
    (MPIO_SCRIPT, {"ClaimIscsi": "False", "Policy": "RR"}, "Boolean parameters accept only Boolean values and numbers"),
    (OPTION_VALUES, {"ReservedIP": "10.77.0.60", "Values": ["17"], "ManagedOptionIds": [17]}, "parameter 'Values'"),
    (OPTION_VALUES, {"ReservedIP": "10.77.0.60", "Values": {}, "ManagedOptionIds": ["seventeen"]},
     "parameter 'ManagedOptionIds'"),
    (OPTION_VALUES, {"ReservedIP": "", "Values": {}, "ManagedOptionIds": [17]},
     "Cannot bind argument to parameter 'ReservedIP' because it is an empty string."),
    (OPTION_VALUES, {"ReservedIP": "10.77.0.60", "Values": {}, "ManagedOptionIds": []},
     "Cannot bind argument to parameter 'ManagedOptionIds' because it is an empty array."),
], ids=["unknown name", "missing mandatory", "ValidateSet", "text for a bool", "list for a dictionary", "text for an int",
        "empty mandatory string", "empty mandatory array"])
def test_a_script_refuses_the_parameters_powershell_would_not_bind(host, script, parameters, refusal):
    before = host.read_bytes()
    with sim.WindowsState() as state:
        with pytest.raises(sim.ScriptFailure) as info:
            sim.run_script(state, script, parameters, False)
    assert refusal in str(info.value)
    assert host.read_bytes() == before


def test_parameters_bind_case_insensitively_and_convert_as_powershell_does():
    assert sim.bind_parameters(MPIO_SCRIPT, {"claimiscsi": 1, "POLICY": "rr"}) == {"ClaimIscsi": True, "Policy": "rr"}
    assert sim.bind_parameters(OPTION_VALUES, {"ReservedIP": "10.77.0.60", "Values": {"17": "x"},
                                               "ManagedOptionIds": ["12", 17]}) == {
        "ReservedIP": "10.77.0.60", "Values": {"17": "x"}, "ManagedOptionIds": [12, 17]}


def test_the_simulator_reads_each_scripts_parameters_as_declared():
    for path in SCRIPTS:
        assert {entry["name"] for entry in sim.script_parameters(path.read_text()).values()} == script_parameters(path), path


# --- Sysprep ------------------------------------------------------------------------------------

UNATTEND = ('<?xml version="1.0" encoding="utf-8"?><unattend xmlns="urn:schemas-microsoft-com:unattend">'
            '<settings pass="generalize">%s</settings></unattend>')
SKIP_REARM = ('<component name="Microsoft-Windows-Security-SPP" processorArchitecture="amd64"><SkipRearm>1</SkipRearm>'
              '</component>')
SYSPREP = {"UnattendPath": "%SystemRoot%\\Panther\\unattend.xml", "Arguments": ["/generalize", "/oobe", "/shutdown", "/quiet"],
           "TimeoutSeconds": 3600}


def sysprep_host(host, unattend=UNATTEND % "", **changes):
    state = json.loads(host.read_text())
    state["files"]["C:\\Windows\\Panther\\unattend.xml"] = __import__("base64").b64encode(unattend.encode()).decode()
    for key, value in changes.items():
        state[key] = value
    host.write_text(json.dumps(state))
    return state


def test_sysprep_probe_reads_the_documented_defaults_of_a_fresh_installation(host):
    result = run("win_sysprep_image/probe", {})["result"]
    assert result == {"system_root": "C:\\Windows", "sysprep_present": True, "image_state": "IMAGE_STATE_COMPLETE",
                      "generalization_state": 7, "upgraded": False, "remaining_rearm_count": 1001,
                      "automatic_managed_pagefile": True, "pagefiles": [{"name": "C:\\pagefile.sys", "bus_type": "iSCSI"}],
                      "domain_member": False, "domain": "WORKGROUP"}


def test_sysprep_generalizes_uses_one_rearm_caches_the_answer_file_and_shuts_the_host_down(host):
    sysprep_host(host)
    result = run("win_sysprep_image/sysprep", SYSPREP)["result"]
    assert result["succeeded"] and result["exit_code"] == 0 and result["errors"] == []
    assert result["image_state"] == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
    assert result["command"] == ("C:\\Windows\\System32\\Sysprep\\sysprep.exe /generalize /oobe /shutdown /quiet "
                                 "/unattend:C:\\Windows\\Panther\\unattend.xml")
    state = json.loads(host.read_text())
    assert state["power"] == "off" and state["licensing"]["remaining_rearm_count"] == 1000
    assert "C:\\Windows\\System32\\Sysprep\\Sysprep_succeeded.tag" in state["files"]
    # A host Sysprep shut down answers no more.
    with pytest.raises(sim.SimulatorError, match="shut down"):
        run("win_sysprep_image/probe", {})


def test_skip_rearm_keeps_the_rearm_count_and_lets_an_exhausted_image_generalize(host):
    sysprep_host(host, unattend=UNATTEND % SKIP_REARM, licensing={"remaining_rearm_count": 0})
    assert run("win_sysprep_image/sysprep", SYSPREP)["result"]["succeeded"]
    assert json.loads(host.read_text())["licensing"]["remaining_rearm_count"] == 0


@pytest.mark.parametrize("change, error", [
    ({"licensing": {"remaining_rearm_count": 0}}, "returned error code 0xc004d307"),
    ({"registry_add": sim.UPGRADE_KEY, "os": "6.3.9600"}, "Sysprep will not run on an upgraded OS"),
    ({"appx": {"user_only": ["Microsoft.MicrosoftEdge.Stable_120.0_neutral__8wekyb3d8bbwe"]}},
     "Package Microsoft.MicrosoftEdge.Stable_120.0_neutral__8wekyb3d8bbwe was installed for a user, but not provisioned"),
    ({"registry_add": sim.CBS_REBOOT_PENDING}, "Sysprep cannot run while Windows waits for a restart"),
    ({"generalization": 4}, "GeneralizationState is not 7"),
    ({"faults": ["sysprep"]}, "a fault injected into the simulator"),
])
def test_sysprep_refuses_as_documented_leaving_the_host_up_and_saying_why_in_setuperr(host, change, error):
    state = sysprep_host(host, **{key: value for key, value in change.items() if key in ("licensing", "faults", "appx")})
    if "os" in change:
        state["os"]["version"] = change["os"]
    if "registry_add" in change:
        state["registry"][change["registry_add"]] = {"values": {}, "volatile": False}
    if "generalization" in change:
        state["registry"][sim.SYSPREP_STATUS_KEY]["values"]["GeneralizationState"]["data"] = change["generalization"]
    host.write_text(json.dumps(state))
    result = run("win_sysprep_image/sysprep", SYSPREP)["result"]
    assert not result["succeeded"] and result["exit_code"] == 1
    assert len(result["errors"]) == 1 and error in result["errors"][0]
    after = json.loads(host.read_text())
    assert after.get("power", "on") == "on"
    assert after["registry"][sim.IMAGE_STATE_KEY]["values"]["ImageState"]["data"] == "IMAGE_STATE_COMPLETE"
    # A second run reports only its own errors, never an earlier run's success mark.
    second = run("win_sysprep_image/sysprep", SYSPREP)["result"]
    assert len(second["errors"]) == 1 and not second["succeeded"]


def test_sysprep_generalizes_an_upgraded_installation_from_server_2016_on_and_takes_it_out_of_its_domain(host):
    state = sysprep_host(host)
    state["registry"][sim.UPGRADE_KEY] = {"values": {}, "volatile": False}
    state["os"]["domain"] = "corp.example.com"
    host.write_text(json.dumps(state))
    assert run("win_sysprep_image/probe", {})["result"]["domain_member"] is True
    assert run("win_sysprep_image/sysprep", SYSPREP)["result"]["succeeded"]
    assert "domain" not in json.loads(host.read_text())["os"]


def test_sysprep_refuses_a_bad_command_line_and_an_unreadable_answer_file(host):
    sysprep_host(host, unattend="<unattend")
    assert "is not valid XML" in run("win_sysprep_image/sysprep", SYSPREP)["result"]["errors"][0]
    bad = dict(SYSPREP, Arguments=["/generalize", "/oobe", "/audit"])
    assert "is not valid" in run("win_sysprep_image/sysprep", bad)["result"]["errors"][0]
    with pytest.raises(sim.ScriptFailure, match="is not there"):
        run("win_sysprep_image/sysprep", dict(SYSPREP, UnattendPath="C:\\nowhere\\unattend.xml"))


def test_sysprep_in_check_mode_runs_nothing(host):
    sysprep_host(host)
    before = host.read_bytes()
    result = run("win_sysprep_image/sysprep", SYSPREP, check_mode=True)
    assert result["changed"] and result["result"]["pid"] is None
    assert host.read_bytes() == before


def test_a_clone_boots_and_takes_its_identity_in_the_specialize_pass(host):
    sysprep_host(host)
    with sim.WindowsState() as state:
        state.file_put("C:\\Windows\\Setup\\Scripts\\sanboot-servers.json", json.dumps({"servers": [
            {"name": "winboot02", "initiator_iqn": "iqn.2026-11.test:winboot02", "mac": ""},
            {"name": "WINBOOT03", "initiator_iqn": "", "mac": "52:54:00:12:34:99"}]}).encode())
    run("win_sysprep_image/sysprep", SYSPREP)
    generalized = host.read_text()
    with sim.WindowsState(powered_off_ok=True) as state:
        clone = sim.boot_clone(state, "IQN.2026-11.test:WINBOOT02")
    assert clone == {"computer_name": "winboot02", "node_name": "IQN.2026-11.test:WINBOOT02"}
    state = json.loads(host.read_text())
    active = state["registry"][sim.COMPUTER_NAME_KEY + "\\ActiveComputerName"]["values"]["ComputerName"]["data"]
    assert active == "winboot02" and state["iscsi"]["node_name"] == "IQN.2026-11.test:WINBOOT02"
    assert state["registry"][sim.IMAGE_STATE_KEY]["values"]["ImageState"]["data"] == "IMAGE_STATE_COMPLETE"
    host.write_text(generalized)
    with sim.WindowsState(powered_off_ok=True) as state:
        assert sim.boot_clone(state, "iqn.2026-11.test:unknown", macs=["52-54-00-12-34-99"])["computer_name"] == "WINBOOT03"
    host.write_text(generalized)
    with sim.WindowsState(powered_off_ok=True) as state:
        assert sim.boot_clone(state, "iqn.2026-11.test:unknown", macs=["52-54-00-00-00-01"])["computer_name"] == ""
