# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Windows roles end to end with ansible-playbook, against the Windows state simulator (a test
double: this machine has no Windows). Checked: bad input is refused naming the variable with the
simulated host left byte-identical, secrets stay out of -vvv output, the Windows Server 2003 paths
decide right, warnings reach the operator, and the roles' plugins are documented."""

from __future__ import annotations

import base64
import json

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


# What the roles must say on Windows Server 2003, where no Ansible module can run: the seed's steps.
MANUAL_STEPS_2003 = ("Ansible requires PowerShell v5.1", "Microsoft iSCSI Software Initiator 2.0x", "boot version",
                     "KB902113", "iscsibcg.exe /verify /fix", "DHCP")
ROLE_VARIABLES = {"win_iscsi_initiator": {}, "win_pagefile": {}, "win_iscsi_boot_script": {},
                  "win_dhcp_boot_reservation": {"win_dhcp_boot_reservation_reservations": [RESERVATION]}}


@pytest.mark.parametrize("role", sorted(ROLE_VARIABLES))
def test_windows_server_2003_stops_every_role_with_the_manual_steps_and_changes_nothing(repo, workdir, role):
    host = SimulatedWindowsHost(workdir, "server2003-iscsi-boot", name="legacy01")
    before = host.state_bytes()
    result = host.run_role(role, ROLE_VARIABLES[role])
    assert result.returncode != 0
    for step in MANUAL_STEPS_2003:
        assert step in output(result), step
    assert "Traceback" not in output(result)
    assert recap(result)["changed"] == 0 and host.state_bytes() == before


@pytest.mark.parametrize("plugin_type, name", [
    ("filter", "sanboot.iscsi.windows_input_errors"), ("filter", "sanboot.iscsi.win_iscsi_initiator_plan"),
    ("filter", "sanboot.iscsi.win_pagefile_plan"), ("filter", "sanboot.iscsi.win_shutdown_script_plan"),
    ("filter", "sanboot.iscsi.win_dhcp_boot_plan"), ("module", "sanboot.iscsi.warn"),
    ("module", "sanboot.iscsi.win_reboot_pending"), ("module", "sanboot.iscsi.win_iscsi_boot_info"),
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


BOOT_NICS = [{"mac": "52:54:00:12:34:56"}, {"alias": "Ethernet 2"}]


def adapters_on_dhcp(host):
    return {adapter["name"]: adapter["dhcp_enabled"] for adapter in host.state()["network_adapters"]}


def test_the_nic_carrying_the_boot_disk_stays_as_it_is_on_the_default_host(repo, workdir):
    """The simulator's default host: MSiSCSI manual and stopped, the boot connection's
    InitiatorAddress 0.0.0.0; Ethernet carries the boot session, Ethernet 2 does not."""
    host = SimulatedWindowsHost(workdir, "server2022-iscsi-boot")
    result = host.run_role("win_iscsi_initiator", {"win_iscsi_initiator_boot_nics": BOOT_NICS})
    assert result.returncode == 0, output(result)
    assert adapters_on_dhcp(host) == {"Ethernet": False, "Ethernet 2": True, "Management": False}
    assert "Ethernet (52:54:00:12:34:56) is left as it is: it carries the iSCSI boot disk (the boot connection to " \
           "10.77.0.1:3260 goes out of it (Find-NetRoute))" in output(result)


# Two of the probe's boot queries here; every subset of all of them is in test_boot_nic_fail_closed.py.
@pytest.mark.parametrize("fault", ["Get-IscsiSession", "Find-NetRoute"])
def test_when_a_boot_query_fails_no_nic_is_touched_and_the_role_says_why(repo, workdir, fault):
    state = load_state("server2022-iscsi-boot")
    state["faults"] = [fault]
    host = SimulatedWindowsHost(workdir, state)
    result = host.run_role("win_iscsi_initiator", {"win_iscsi_initiator_boot_nics": BOOT_NICS})
    assert result.returncode == 0, output(result)
    assert adapters_on_dhcp(host) == {"Ethernet": False, "Ethernet 2": False, "Management": False}
    assert "no NIC is switched to DHCP (Ethernet, Ethernet 2 left as they are)" in output(result)
    assert "%s" % fault in output(result)


def test_when_reading_the_boot_fails_the_role_stops_and_no_nic_is_touched(repo, workdir):
    state = load_state("server2022-iscsi-boot")
    state["faults"] = ["iscsi_boot"]  # the whole of sanboot.iscsi.win_iscsi_boot_info's script fails
    host = SimulatedWindowsHost(workdir, state)
    before = host.state_bytes()
    result = host.run_role("win_iscsi_initiator", {"win_iscsi_initiator_boot_nics": BOOT_NICS})
    assert result.returncode != 0 and "the script failed (a fault injected into the simulator)" in output(result)
    assert host.state_bytes() == before


def test_check_mode_on_the_default_host_plans_no_nic_and_changes_nothing(repo, workdir):
    host = SimulatedWindowsHost(workdir, "server2022-iscsi-boot")
    before = host.state_bytes()
    result = host.run_role("win_iscsi_initiator", {"win_iscsi_initiator_boot_nics": BOOT_NICS}, check=True)
    assert result.returncode == 0, output(result)
    assert host.state_bytes() == before
    assert "no NIC is switched to DHCP (Ethernet, Ethernet 2 left as they are)" in output(result)
    assert "the Microsoft iSCSI Initiator Service is Stopped" in output(result)


def test_the_planned_adapter_is_switched_when_others_share_its_mac(repo, workdir):
    """A Hyper-V external switch: its host vNIC has the MAC of the physical NIC bound to the switch
    (as team interfaces share their members' MACs); the plan names the vNIC by alias."""
    state = load_state("server2022-iscsi-boot")
    adapters = state["network_adapters"]
    physical = next(adapter for adapter in adapters if adapter["name"] == "Ethernet 2")
    physical.update(ip_addresses=[], ip_subnets=[])
    adapters.append({"name": "vEthernet (External)", "mac": physical["mac"], "interface_index": 12, "dhcp_enabled": False,
                     "ip_addresses": ["10.78.0.60"], "ip_subnets": ["255.255.255.0"], "default_ip_gateway": []})
    host = SimulatedWindowsHost(workdir, state)
    result = host.run_role("win_iscsi_initiator", {"win_iscsi_initiator_boot_nics": [{"alias": "vEthernet (External)"}]})
    assert result.returncode == 0, output(result)
    assert adapters_on_dhcp(host) == {"Ethernet": False, "Ethernet 2": False, "Management": False,
                                      "vEthernet (External)": True}
    by_mac = host.run_role("win_iscsi_initiator", {"win_iscsi_initiator_boot_nics": [{"mac": physical["mac"]}]})
    assert by_mac.returncode != 0
    assert "2 network adapters have MAC 52:54:00:12:34:57 (Ethernet 2, vEthernet (External))" in output(by_mac)


def test_mpio_on_a_fresh_host_is_installed_and_its_settings_reported_pending_not_failed(repo, workdir):
    """Right after Install-WindowsFeature Multipath-IO, the MPIO cmdlets are there but MSDSM fails
    until the restart (the simulator's default, as on Windows)."""
    host = SimulatedWindowsHost(workdir, "server2022-iscsi-boot")
    result = host.run_role("win_iscsi_initiator", {"win_iscsi_initiator_mpio": True})
    assert result.returncode == 0, output(result)
    state = host.state()
    assert state["features"]["Multipath-IO"]["installed"] and state["mpio"]["iscsi_claimed"] is False
    assert "the MPIO settings (automatic claim of iSCSI disks, policy RR) are pending" in output(result)
    assert "the Multipath-IO feature was installed" in output(result)


def test_mpio_with_restarts_allowed_converges_in_one_run(repo, workdir):
    host = SimulatedWindowsHost(workdir, "server2022-iscsi-boot")
    variables = {"win_iscsi_initiator_mpio": True, "win_iscsi_initiator_reboot": True}
    result = host.run_role("win_iscsi_initiator", variables)
    assert result.returncode == 0, output(result)
    state = host.state()
    assert (state["mpio"]["iscsi_claimed"], state["mpio"]["policy"]) == (True, "RR")
    # One restart for the feature, one for the claim (MSDSM claims the boot disk when it arrives).
    assert state["boot_count"] == 3
    again = host.run_role("win_iscsi_initiator", variables)
    assert again.returncode == 0 and recap(again)["changed"] == 0, output(again)


def test_a_reservation_is_made_at_the_requested_address_when_the_mac_holds_a_dynamic_lease(repo, workdir):
    """The simulator's default DHCP server: winboot01's NIC (52-54-00-12-34-56) has booted once in the
    scope and holds a dynamic lease for 10.77.0.150; the reservation asks for 10.77.0.60."""
    host = SimulatedWindowsHost(workdir, "dhcp-server2022", name="dhcp01")
    result = host.run_role("win_dhcp_boot_reservation", {"win_dhcp_boot_reservation_reservations": [RESERVATION]})
    assert result.returncode == 0, output(result)
    dhcp = host.state()["dhcp"]
    assert [(held["ip"], held["client_id"].lower()) for held in dhcp["reservations"] if held["ip"] != "10.77.0.20"] == [
        ("10.77.0.60", "52-54-00-12-34-56")]
    assert dhcp["reservation_options"]["10.77.0.60"]["17"] == "iscsi:10.77.0.1:6:3260:1:iqn.2026-11.test:boot01"
    assert [lease["ip"] for lease in dhcp["leases"]] == ["10.77.0.62"]
    again = host.run_role("win_dhcp_boot_reservation", {"win_dhcp_boot_reservation_reservations": [RESERVATION]})
    assert again.returncode == 0 and recap(again)["changed"] == 0, output(again)


def test_an_address_another_client_holds_a_dynamic_lease_on_is_a_conflict(repo, workdir):
    host = SimulatedWindowsHost(workdir, "dhcp-server2022", name="dhcp01")
    before = host.state_bytes()
    taken = dict(RESERVATION, ip="10.77.0.62")
    result = host.run_role("win_dhcp_boot_reservation", {"win_dhcp_boot_reservation_reservations": [taken]})
    assert result.returncode != 0
    assert ("win_dhcp_boot_reservation_reservations[0].ip: 10.77.0.62 is leased to 52-54-00-00-00-62 (laptop62)"
            in output(result))
    assert host.state_bytes() == before
    replaced = host.run_role("win_dhcp_boot_reservation", {"win_dhcp_boot_reservation_reservations": [taken],
                                                           "win_dhcp_boot_reservation_replace": True})
    assert replaced.returncode == 0, output(replaced)
    assert [(held["ip"], held["client_id"].lower()) for held in host.state()["dhcp"]["reservations"]
            if held["ip"] != "10.77.0.20"] == [("10.77.0.62", "52-54-00-12-34-56")]


def test_win_iscsi_boot_info_names_the_boot_nic_on_the_default_host_once_msiscsi_runs(repo, workdir, run_tool):
    host = SimulatedWindowsHost(workdir, "server2022-iscsi-boot")
    found = workdir / "boot-info.json"
    playbook = workdir / "boot-info.yml"
    playbook.write_text(json.dumps([{"hosts": "all", "gather_facts": False, "tasks": [
        {"sanboot.iscsi.win_iscsi_boot_info": {}, "register": "stopped"},
        {"ansible.windows.win_service": {"name": "MSiSCSI", "state": "started"}},
        {"sanboot.iscsi.win_iscsi_boot_info": {}, "register": "running"},
        {"ansible.builtin.copy": {"content": "{{ {'stopped': stopped, 'running': running} | to_json }}",
                                  "dest": str(found), "mode": "0600"}}]}]))
    result = run_tool("ansible-playbook", "-i", host.inventory, playbook, cwd=workdir, env=host.env())
    assert result.returncode == 0, output(result)
    stopped, running = (json.loads(found.read_text())[key] for key in ("stopped", "running"))
    assert stopped["boot_nic_known"] is False and "the Microsoft iSCSI Initiator Service is Stopped" in stopped["reason"]
    assert running["boot_nic_known"] is True and running["booted_from_iscsi"] is True
    assert running["boot_interfaces"] == {"4": ["the boot connection to 10.77.0.1:3260 goes out of it (Find-NetRoute)"]}
