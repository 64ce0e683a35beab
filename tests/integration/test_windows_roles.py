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

from labkit.winsim import SimulatedWindowsHost, load_simulator, load_state, recap

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
    ("win_sysprep_image", "server2022-iscsi-boot",
     {"win_sysprep_image_servers": [{"name": "winboot-number-02", "initiator_iqn": "iqn.2026-11.test:2"}]},
     "win_sysprep_image_servers[0].name: 'winboot-number-02' is not a computer name Windows takes"),
    ("win_sysprep_image", "server2022-iscsi-boot", {"win_sysprep_image_servers_group": "boot_servers"},
     "win_sysprep_image_servers_group: boot_servers is not a group of the inventory"),
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
    ("filter", "sanboot.iscsi.win_dhcp_boot_plan"), ("filter", "sanboot.iscsi.win_sysprep_image_plan"),
    ("module", "sanboot.iscsi.warn"),
    ("module", "sanboot.iscsi.win_reboot_pending"), ("module", "sanboot.iscsi.win_iscsi_boot_info"),
    ("role", "sanboot.iscsi.win_iscsi_initiator"), ("role", "sanboot.iscsi.win_pagefile"),
    ("role", "sanboot.iscsi.win_iscsi_boot_script"), ("role", "sanboot.iscsi.win_dhcp_boot_reservation"),
    ("role", "sanboot.iscsi.win_sysprep_image"),
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


# --- win_sysprep_image --------------------------------------------------------------------------

IMAGE_STATE = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\State"
ACTIVE_NAME = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\ComputerName\\ActiveComputerName"
# Where the role waits for WinRM to stop answering: loopback, where nothing answers on 5986.
REFERENCE_VARS = {"ansible_host": "127.0.0.1"}
# The servers the golden LUN is cloned for, as the inventory has them for the DHCP and SAN roles.
BOOT_SERVERS = {"boot_servers": {
    "winboot02.example.test": {"sanboot_initiator_iqn": "iqn.2026-11.test:winboot02", "sanboot_mac": "52:54:00:12:34:02"},
    "winboot03": {"sanboot_hostname": "WINBOOT03.example.test", "sanboot_mac": "5254.0012.3403"}}}


def reference_host(**changes) -> dict:
    """The default host as win_iscsi_initiator and win_pagefile leave it, restarted since: MSiSCSI
    automatic and running, the boot NIC on DHCP, the pagefile on the local D:."""
    state = load_state("server2022-iscsi-boot")
    state["services"]["MSiSCSI"].update(start_mode="auto", state="started")
    state["network_adapters"][0]["dhcp_enabled"] = True
    state["pagefile"] = {"automatic_managed": False,
                         "settings": [{"name": "D:\\pagefile.sys", "initial_size": 0, "maximum_size": 0}],
                         "usage": [{"name": "D:\\pagefile.sys", "allocated_base_size": 2432}]}
    state.update(changes)
    return state


def image_state(host) -> str:
    return host.state()["registry"][IMAGE_STATE]["values"]["ImageState"]["data"]


def test_sysprep_generalizes_the_reference_host_and_each_clone_takes_its_identity(repo, workdir):
    secret = "Sb7AdminNever9"
    host = SimulatedWindowsHost(workdir, reference_host(), host_vars=REFERENCE_VARS, groups=BOOT_SERVERS)
    result = host.run_role("win_sysprep_image", {
        "win_sysprep_image_servers_group": "boot_servers",
        "win_sysprep_image_servers": [{"name": "winboot09", "initiator_iqn": "iqn.2026-11.test:winboot09"}],
        "win_sysprep_image_administrator_password": secret}, verbosity=3)
    assert result.returncode == 0, output(result)[-6000:]
    state = host.state()
    assert state["power"] == "off" and image_state(host) == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
    assert state["licensing"]["remaining_rearm_count"] == 1000
    # The password is in the answer file, encoded as Windows System Image Manager does, and nowhere in the output.
    encoded = base64.b64encode((secret + "AdministratorPassword").encode("utf-16-le")).decode()
    unattend = base64.b64decode(state["files"]["C:\\Windows\\Panther\\unattend.xml"]).decode()
    assert "<Value>%s</Value>" % encoded in unattend
    assert secret not in output(result) and encoded not in output(result)
    table = json.loads(base64.b64decode(state["files"]["C:\\Windows\\Setup\\Scripts\\sanboot-servers.json"]))
    assert table["servers"] == [
        {"name": "winboot09", "initiator_iqn": "iqn.2026-11.test:winboot09", "mac": ""},
        {"name": "winboot02", "initiator_iqn": "iqn.2026-11.test:winboot02", "mac": "52:54:00:12:34:02"},
        {"name": "WINBOOT03", "initiator_iqn": "", "mac": "52:54:00:12:34:03"}]

    # Each clone of the generalized LUN boots: the firmware logs on with its option 203 name.
    simulator = load_simulator()
    generalized = host.state_bytes()
    clones = [("iqn.2026-11.test:winboot02", None, "winboot02"), ("iqn.2026-11.test:winboot09", None, "winboot09"),
              ("iqn.2026-11.test:dhcp-only", ["52-54-00-12-34-03"], "WINBOOT03"),
              # In no entry: Windows' default initiator name form from option 203 names it.
              ("iqn.1991-05.com.microsoft:winboot07.example.test", ["52-54-00-12-34-07"], "winboot07")]
    for firmware_iqn, macs, name in clones:
        host.state_file.write_bytes(generalized)
        with simulator.WindowsState(path=str(host.state_file), powered_off_ok=True) as clone:
            assert simulator.boot_clone(clone, firmware_iqn, macs)["computer_name"] == name
        clone = host.state()
        assert clone["registry"][ACTIVE_NAME]["values"]["ComputerName"]["data"] == name
        assert clone["iscsi"]["node_name"] == firmware_iqn and image_state(host) == "IMAGE_STATE_COMPLETE"


REFUSALS = [
    # (what differs from the ready reference host, text the refusal must contain)
    ("the default host", None, ["the Microsoft iSCSI Initiator Service starts Manual",
                                "Windows manages the pagefile (on the system drive, the iSCSI boot disk)",
                                "the NICs that carry the boot disk cannot be identified"]),
    ("a pending servicing restart", {"registry_add": "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\"
                                                     "Component Based Servicing\\RebootPending"},
     ["Windows waits for a restart (Component Based Servicing: RebootPending)"]),
    ("an image rearmed too often", {"licensing": {"remaining_rearm_count": 0}},
     ["this image was rearmed too often (remaining Windows rearm count 0)", "win_sysprep_image_skip_rearm: true"]),
    ("an installation upgraded before Server 2016", {"registry_add": "HKLM\\SYSTEM\\Setup\\Upgrade", "version": "6.3.9600"},
     ["upgraded in place", "older than Windows Server 2016 (build 9600)"]),
]


@pytest.mark.parametrize("case, change, messages", REFUSALS, ids=[case[0] for case in REFUSALS])
def test_sysprep_is_refused_before_any_change_saying_what_to_do(repo, workdir, case, change, messages):
    if change is None:
        state = load_state("server2022-iscsi-boot")
    else:
        state = reference_host(**{key: value for key, value in change.items() if key not in ("registry_add", "version")})
        if "registry_add" in change:
            state["registry"][change["registry_add"]] = {"values": {}, "volatile": False}
        if "version" in change:
            state["os"]["version"] = change["version"]
    host = SimulatedWindowsHost(workdir, state, host_vars=REFERENCE_VARS)
    before = host.state_bytes()
    result = host.run_role("win_sysprep_image", {"win_sysprep_image_servers": [
        {"name": "winboot02", "initiator_iqn": "iqn.2026-11.test:winboot02"}]})
    assert result.returncode != 0, case
    assert "Sysprep is not run on winboot01" in output(result)
    for message in messages:
        assert message in output(result), (case, message)
    assert "Traceback" not in output(result)
    assert recap(result)["changed"] == 0 and host.state_bytes() == before


def test_skip_rearm_lets_an_image_rearmed_too_often_generalize_keeping_its_count(repo, workdir):
    host = SimulatedWindowsHost(workdir, reference_host(licensing={"remaining_rearm_count": 0}), host_vars=REFERENCE_VARS)
    result = host.run_role("win_sysprep_image", {"win_sysprep_image_skip_rearm": True})
    assert result.returncode == 0, output(result)[-4000:]
    assert "SkipRearm=1: the clones keep the reference host's licensing state" in output(result)
    assert host.state()["power"] == "off" and host.state()["licensing"]["remaining_rearm_count"] == 0


def test_when_sysprep_fails_the_role_fails_with_its_errors_and_the_host_stays_up(repo, workdir):
    # What Microsoft documents for an app updated for one user (Sysprep (Generalize) a Windows installation).
    package = "Microsoft.MicrosoftEdge.Stable_120.0.2210.91_neutral__8wekyb3d8bbwe"
    host = SimulatedWindowsHost(workdir, reference_host(appx={"user_only": [package]}), host_vars=REFERENCE_VARS)
    result = host.run_role("win_sysprep_image", {})
    assert result.returncode != 0
    assert "Sysprep failed (exit code 1) on winboot01, image state IMAGE_STATE_COMPLETE" in output(result)
    assert ("setuperr.log: Error SYSPRP Package %s was installed for a user, but not provisioned for all users"
            % package) in output(result)
    assert "Traceback" not in output(result)
    assert host.state().get("power", "on") == "on" and image_state(host) == "IMAGE_STATE_COMPLETE"
