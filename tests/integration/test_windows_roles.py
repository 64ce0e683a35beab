# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Windows roles end to end with ansible-playbook, against the Windows state simulator (a test
double: this machine has no Windows). Checked: bad input is refused naming the variable with the
simulated host left byte-identical, secrets stay out of -vvv output, the Windows Server 2003 paths
decide right, warnings reach the operator, and the roles' plugins are documented."""

from __future__ import annotations

import base64

import pytest

from labkit.winsim import SimulatedWindowsHost, load_state, recap

TARGET = "iqn.2026-11.test:boot01"
RESERVATION = {"mac": "52:54:00:12:34:56", "ip": "10.77.0.60", "scope": "10.77.0.0/24", "hostname": "winboot01",
               "iscsi": {"server": "10.77.0.1", "target_iqn": TARGET, "initiator_iqn": "iqn.2026-11.test:winboot01"}}


def output(result):
    return result.stdout + result.stderr


BAD_INPUT = [
    # (role, state, variables, text the error must contain)
    ("win_iscsi_initiator", "server2022-iscsi-boot", {"win_iscsi_initiator_iqn": "not-an-iqn"},
     "win_iscsi_initiator_iqn: 'not-an-iqn' looks like a target alias or host name, not an iSCSI name"),
    ("win_iscsi_initiator", "server2022-iscsi-boot", {"win_iscsi_initiator_boot_nics": [{"mac": "52:54:00:zz:34:56"}]},
     "win_iscsi_initiator_boot_nics[0].mac: '52:54:00:zz:34:56' is not a MAC address"),
    ("win_iscsi_initiator", "server2022-iscsi-boot", {"win_iscsi_initiator_mpio_policy": "fastest"},
     "win_iscsi_initiator_mpio_policy"),
    ("win_pagefile", "server2022-iscsi-boot", {"win_pagefile_size": "fixed", "win_pagefile_initial_size": "4 apples"},
     "win_pagefile_initial_size: size '4 apples' has an unknown unit 'apples'"),
    ("win_pagefile", "server2022-iscsi-boot", {"win_pagefile_drive": "C"},
     "win_pagefile_drive: C: is not a local fixed disk that may hold the pagefile: it is on disk 0 (bus iSCSI"),
    ("win_iscsi_boot_script", "server2022-iscsi-boot", {"win_iscsi_boot_script_command": "x.exe\n1CmdLine=evil.exe"},
     "win_iscsi_boot_script_command: "),
    ("win_dhcp_boot_reservation", "dhcp-server2022",
     {"win_dhcp_boot_reservation_reservations": [dict(RESERVATION, iscsi=dict(RESERVATION["iscsi"], target_iqn="boot01"))]},
     "win_dhcp_boot_reservation_reservations[0].iscsi: 'boot01' looks like a target alias"),
    ("win_dhcp_boot_reservation", "dhcp-server2022",
     {"win_dhcp_boot_reservation_reservations": [dict(RESERVATION, ip="10.77.0.20")]},
     "win_dhcp_boot_reservation_reservations[0].ip: 10.77.0.20 is already reserved for 52-54-00-00-00-20 (printer01)"),
]


@pytest.mark.parametrize("role, state, variables, message", BAD_INPUT,
                         ids=["%s-%s" % (case[0], "-".join(case[2])) for case in BAD_INPUT])
def test_bad_input_is_refused_naming_the_variable_and_nothing_changes(repo, workdir, role, state, variables, message):
    host = SimulatedWindowsHost(workdir, state)
    before = host.state_bytes()
    result = host.run_role(role, variables)
    assert result.returncode != 0, output(result)
    assert message in output(result)
    assert "Traceback" not in output(result)
    assert recap(result)["changed"] == 0
    assert host.state_bytes() == before


def test_a_chap_secret_in_a_windows_dhcp_reservation_is_refused_and_never_shown(repo, workdir):
    secret = "Sb7SecretNever9"
    host = SimulatedWindowsHost(workdir, "dhcp-server2022", name="dhcp01")
    before = host.state_bytes()
    reservation = dict(RESERVATION, iscsi=dict(RESERVATION["iscsi"], chap={"username": "winboot01", "secret": secret}))
    result = host.run_role("win_dhcp_boot_reservation", {"win_dhcp_boot_reservation_reservations": [reservation]},
                           verbosity=3)
    assert result.returncode != 0
    assert "win_dhcp_boot_reservation_reservations[0].iscsi.chap is not supported on Windows DHCP Server" in output(result)
    assert secret not in output(result)
    assert host.state_bytes() == before


def test_a_reservation_without_iscsi_keeps_the_address_and_loses_its_boot_options(repo, workdir):
    """A server moved to boot parameters in its BMC (sanboot_boot_parameters: bmc): options 17 and 203 go, the
    address and host name stay, and a second run changes nothing."""
    host = SimulatedWindowsHost(workdir, "dhcp-server2022", name="dhcp01")
    booting = host.run_role("win_dhcp_boot_reservation", {"win_dhcp_boot_reservation_reservations": [RESERVATION]})
    assert booting.returncode == 0, output(booting)
    assert set(host.state()["dhcp"]["reservation_options"]["10.77.0.60"]) == {"12", "17", "203"}
    address_only = dict(RESERVATION)
    del address_only["iscsi"]
    for changed in (True, False):
        result = host.run_role("win_dhcp_boot_reservation", {"win_dhcp_boot_reservation_reservations": [address_only]})
        assert result.returncode == 0, output(result)
        assert (recap(result)["changed"] > 0) is changed, output(result)
        dhcp = host.state()["dhcp"]
        assert dhcp["reservation_options"]["10.77.0.60"] == {"12": "winboot01"}
        assert [entry["client_id"] for entry in dhcp["reservations"] if entry["ip"] == "10.77.0.60"] == ["52-54-00-12-34-56"]


def test_no_iscsibcg_means_nothing_registered_and_a_clear_message(repo, workdir):
    host = SimulatedWindowsHost(workdir, "server2022-iscsi-boot")
    before = host.state_bytes()
    result = host.run_role("win_iscsi_boot_script")
    assert result.returncode == 0, output(result)
    assert "C:\\\\Windows\\\\System32\\\\iscsibcg.exe is not on this host" in result.stdout
    assert recap(result)["changed"] == 0 and host.state_bytes() == before
    required = host.run_role("win_iscsi_boot_script", {"win_iscsi_boot_script_require_command": True})
    assert required.returncode != 0 and "win_iscsi_boot_script_require_command is true" in output(required)


def test_local_group_policy_turned_off_by_a_domain_policy_is_a_warning(repo, workdir):
    state = load_state("server2022-iscsi-boot")
    state["files"]["C:\\Windows\\System32\\iscsibcg.exe"] = base64.b64encode(b"MZ").decode()
    state["registry"]["HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\System"] = {
        "volatile": False, "values": {"DisableLGPP": {"type": "dword", "data": 1}}}
    host = SimulatedWindowsHost(workdir, state)
    result = host.run_role("win_iscsi_boot_script", {"win_iscsi_boot_script_gpupdate": False})
    assert result.returncode == 0, output(result)
    assert "[WARNING]: a policy turns off local Group Policy processing" in result.stderr + result.stdout
    # It is registered all the same, for when the policy goes away.
    ini = base64.b64decode(host.state()["files"]["C:\\Windows\\System32\\GroupPolicy\\Machine\\Scripts\\scripts.ini"])
    assert ini.decode("utf-16-le") == "\ufeff[Shutdown]\r\n0CmdLine=C:\\Windows\\System32\\iscsibcg.exe\r\n0Parameters=/verify /fix\r\n"


LEGACY_PACKAGE = "\\\\fileserver\\install\\Initiator-2.08-boot-build3825-x86fre.exe"
LEGACY_HOTFIX = "\\\\fileserver\\install\\WindowsServer2003-KB902113-x86-ENU.exe"


def test_windows_2003_installs_the_boot_initiator_package_once_then_the_shutdown_script(repo, workdir):
    host = SimulatedWindowsHost(workdir, "server2003-iscsi-boot", name="legacy01")
    missing = host.run_role("win_iscsi_initiator")
    assert missing.returncode != 0 and "win_iscsi_initiator_legacy_package_path is required" in output(missing)

    variables = {"win_iscsi_initiator_legacy_package_path": LEGACY_PACKAGE, "win_iscsi_initiator_mpio": True}
    first = host.run_role("win_iscsi_initiator", variables)
    assert first.returncode == 0, output(first)
    state = host.state()
    assert state["installed_packages"] == [{"path": LEGACY_PACKAGE, "arguments": "/quiet /norestart"}]
    assert "C:\\WINDOWS\\system32\\iscsibcg.exe" in state["files"]
    assert state["services"]["MSiSCSI"] == dict(state["services"]["MSiSCSI"], start_mode="auto", state="started")
    # No Multipath-IO feature and no firewall rule on 2003: MPIO comes with the package there.
    assert state["firewall_rules"] == [] and state["features"] == {}
    assert "MPIO is chosen in the boot initiator package's installer" in output(first)
    assert "the boot initiator package asked for a restart (exit code 3010)" in output(first)

    second = host.run_role("win_iscsi_initiator", variables)
    assert second.returncode == 0 and recap(second)["changed"] == 0, output(second)
    assert len(host.state()["installed_packages"]) == 1
    assert "a change of an earlier run waits for a restart" in output(second)

    script = host.run_role("win_iscsi_boot_script")
    assert script.returncode == 0, output(script)
    ini = base64.b64decode(host.state()["files"]["C:\\WINDOWS\\System32\\GroupPolicy\\Machine\\Scripts\\scripts.ini"])
    assert "0CmdLine=C:\\WINDOWS\\System32\\iscsibcg.exe\r\n" in ini.decode("utf-16-le")


def test_windows_2003_mpio_asked_for_but_not_installed_by_the_package_fails_clearly(repo, workdir):
    state = load_state("server2003-iscsi-boot")
    del state["installers"][LEGACY_PACKAGE]["files"]["C:\\WINDOWS\\system32\\drivers\\msiscdsm.sys"]
    host = SimulatedWindowsHost(workdir, state, name="legacy01")
    result = host.run_role("win_iscsi_initiator", {"win_iscsi_initiator_legacy_package_path": LEGACY_PACKAGE,
                                                   "win_iscsi_initiator_mpio": True})
    assert result.returncode != 0
    assert "win_iscsi_initiator_mpio is true, but" in output(result) and "without its MPIO component" in output(result)


def test_windows_2003_pagefile_needs_a_named_drive_and_installs_the_crash_dump_hotfix_once(repo, workdir):
    state = load_state("server2003-iscsi-boot")
    host = SimulatedWindowsHost(workdir, state, name="legacy01")
    unnamed = host.run_role("win_pagefile", {"win_pagefile_legacy_hotfix_path": LEGACY_HOTFIX})
    assert unnamed.returncode != 0 and "win_pagefile_drive is required" in output(unnamed)

    variables = {"win_pagefile_drive": "C", "win_pagefile_legacy_hotfix_path": LEGACY_HOTFIX}
    first = host.run_role("win_pagefile", variables)
    assert first.returncode == 0, output(first)
    assert host.state()["hotfixes"] == ["KB914961", "KB902113"]
    assert "hotfix KB902113 was installed" in output(first)
    second = host.run_role("win_pagefile", variables)
    assert second.returncode == 0 and recap(second)["changed"] == 0, output(second)
    assert [package["path"] for package in host.state()["installed_packages"]] == [LEGACY_HOTFIX]


@pytest.mark.parametrize("plugin_type, name", [
    ("filter", "sanboot.iscsi.windows_input_errors"), ("filter", "sanboot.iscsi.win_iscsi_initiator_plan"),
    ("filter", "sanboot.iscsi.win_pagefile_plan"), ("filter", "sanboot.iscsi.win_shutdown_script_plan"),
    ("filter", "sanboot.iscsi.win_dhcp_boot_plan"), ("module", "sanboot.iscsi.warn"),
    ("role", "sanboot.iscsi.win_iscsi_initiator"), ("role", "sanboot.iscsi.win_pagefile"),
    ("role", "sanboot.iscsi.win_iscsi_boot_script"), ("role", "sanboot.iscsi.win_dhcp_boot_reservation"),
])
def test_every_windows_plugin_and_role_is_documented(repo, run_tool, plugin_type, name):
    result = run_tool("ansible-doc", "-t", plugin_type, name)
    assert result.returncode == 0, result.stderr
    assert ("EXAMPLES" in result.stdout) if plugin_type != "role" else ("ENTRY POINT:" in result.stdout and "main" in result.stdout)


def test_the_winrm_password_is_never_shown_even_at_vvv_when_the_host_refuses(repo, workdir, cleanup, run_tool):
    """A real pywinrm connection to a WinRM endpoint on loopback that refuses every login."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import labkit

    class RefusingWinRM(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(401)
            self.send_header("WWW-Authenticate", "Negotiate")
            self.send_header("WWW-Authenticate", "NTLM")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    port = labkit.free_tcp_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), RefusingWinRM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cleanup.push("stop the refusing WinRM endpoint", server.server_close)
    cleanup.push("shut down the refusing WinRM endpoint", server.shutdown)

    secret = "Sb7WinRMPassword9"
    inventory = workdir / "winrm.json"
    inventory.write_text(json.dumps({"all": {"hosts": {"winboot01": {
        "ansible_host": "127.0.0.1", "ansible_port": port, "ansible_connection": "winrm", "ansible_winrm_scheme": "http",
        "ansible_winrm_transport": "ntlm", "ansible_user": "Administrator", "ansible_password": secret,
        "ansible_winrm_operation_timeout_sec": 5, "ansible_winrm_read_timeout_sec": 10}}}}))
    inventory.chmod(0o600)
    result = run_tool("ansible", "-i", inventory, "all", "-m", "ansible.windows.win_ping", "-vvv", cwd=workdir,
                      env={"ANSIBLE_COLLECTIONS_PATH": str(labkit.COLLECTIONS)})
    assert result.returncode != 0
    assert "UNREACHABLE" in result.stdout and "ntlm" in (result.stdout + result.stderr).lower()
    assert secret not in result.stdout + result.stderr
