# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""redfish_iscsi_boot and redfish_iscsi_boot_info in real ansible-playbook runs against the Redfish BMC test
double (tests/labkit/redfish.py) in each of its profiles: dmtf (PATCH in place), dell (@Redfish.Settings, a job
applied at the next reset) and lenovo (/Pending). The emulator is held to the real thing by DMTF's own
redfish-service-validator and read back by an independent client, OpenStack's sushy."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

import labkit
from labkit import redfish

MAC = "52:54:00:5b:00:01"
INITIATOR = "iqn.2026-11.lab.sanboot:vm1"
TARGET = "iqn.2026-11.lab.sanboot.san:vm1"
SECRET = "SbtBmcSecret12"
SECRET_NEW = "SbtBmcSecret34"
MUTUAL_SECRET = "SbtBmcMutual56"
PROFILES = ("dmtf", "dell", "lenovo")
MOCKUP_CHASSIS = "/redfish/v1/Chassis/Tower"


def boot_task(check_mode=None, **overrides):
    arguments = {"mac_address": MAC, "initiator_iqn": INITIATOR,
                 "target": {"name": TARGET, "address": "10.77.0.1", "lun": 1},
                 "chap": {"username": "vm1-boot", "secret": SECRET}}
    arguments.update(overrides)
    task = {"name": "redfish_iscsi_boot", "sanboot.iscsi.redfish_iscsi_boot": arguments}
    if check_mode is not None:
        task["check_mode"] = check_mode
    return task


@pytest.fixture(params=PROFILES)
def bmc(request, cleanup, workdir, repo):
    return redfish.RedfishBmc.start(cleanup, workdir, profile=request.param, mac=MAC)


def test_first_run_changes_second_does_not_also_while_pending_check_mode_sends_nothing(bmc, workdir):
    before = bmc.snapshot()
    checked = redfish.run_play(bmc, workdir, [boot_task(check_mode=True)], "--diff")
    assert checked.returncode == 0, checked.output[-3000:]
    assert checked[0]["changed"] is True
    assert bmc.writes() == [] and bmc.snapshot() == before, "check mode wrote to the BMC"
    assert bmc.sessions() == 0, "the module left its Redfish session open"

    run = redfish.run_play(bmc, workdir, [boot_task(), boot_task(), boot_task(check_mode=True),
                                          {"sanboot.iscsi.redfish_iscsi_boot_info": {}}], "--diff")
    assert run.returncode == 0, run.output[-3000:]
    first, second, third, info = run.results
    assert first["changed"] is True
    # The second run compares with what will be in force (pending merged over active): no change, nothing sent.
    assert second["changed"] is False and third["changed"] is False
    assert len(bmc.writes()) == 1
    where = {"dmtf": "", "dell": "/Settings", "lenovo": "/Pending"}[bmc.profile]
    assert bmc.writes()[0] == ("PATCH", bmc.function_uri(1) + where)
    # The diff names the fields; secrets are only ever (hidden) / (hidden, changed).
    diff = first["diff"]
    assert diff["after"]["BootMode"] == "iSCSI" and diff["before"]["BootMode"] == "Disabled"
    assert diff["after"]["iSCSIBoot"]["PrimaryTargetName"] == TARGET
    assert diff["after"]["iSCSIBoot"]["InitiatorName"] == INITIATOR
    assert (diff["before"]["iSCSIBoot"]["CHAPSecret"], diff["after"]["iSCSIBoot"]["CHAPSecret"]) == \
        ("(hidden)", "(hidden, changed)")
    assert second["diff"]["after"]["iSCSIBoot"] == {"CHAPSecret": "(hidden)"}
    assert "CHAPSecret" not in json.dumps(first["iscsi_boot"])
    assert first["iscsi_boot"]["iSCSIBoot"]["PrimaryTargetIPAddress"] == "10.77.0.1"
    applied = bmc.applied(mac=MAC)
    if bmc.profile == "dmtf":
        assert first["pending"] is False and first["apply_time"] == "Immediate" and first["job"] is None
    else:
        assert first["pending"] is True and first["apply_time"] == "OnReset"
        assert applied["BootMode"] == "Disabled", "a staged change must not be in force before the reset"
        function = [entry for entry in info["functions"] if entry["mac_address"] == MAC][0]
        assert function["pending"]["BootMode"] == "iSCSI"
        assert function["settings_kind"] == {"dell": "settings", "lenovo": "pending"}[bmc.profile]
        if bmc.profile == "dell":
            assert first["job"]["state"] == "Pending" and second["job"]["uri"] == first["job"]["uri"]
        bmc.reset()
        applied = bmc.applied(mac=MAC)
        after_reset = redfish.run_play(bmc, workdir, [boot_task()])
        assert after_reset[0]["changed"] is False and after_reset[0]["pending"] is False
    # What the NIC holds now is exactly what was asked, the secret included.
    boot = applied["iSCSIBoot"]
    assert applied["BootMode"] == "iSCSI"
    assert (boot["InitiatorName"], boot["PrimaryTargetName"], boot["PrimaryTargetIPAddress"], boot["PrimaryLUN"],
            boot["PrimaryTargetTCPPort"]) == (INITIATOR, TARGET, "10.77.0.1", 1, 3260)
    assert (boot["AuthenticationMethod"], boot["CHAPUsername"], boot["CHAPSecret"]) == ("CHAP", "vm1-boot", SECRET)
    assert boot["IPMaskDNSViaDHCP"] is True and boot["SecondaryTargetName"] is None
    info_function = [entry for entry in info["functions"] if entry["mac_address"] == MAC][0]
    assert "CHAPSecret" not in json.dumps(info)
    assert info_function["function_uri"] == bmc.function_uri(1)
    assert bmc.sessions() == 0


BAD_INPUT = [
    ({"target": {"name": "boot01", "address": "10.77.0.1"}}, "target.name: 'boot01' looks like a target alias"),
    ({"target": {"name": TARGET, "address": "10.77.0.1", "lun": 70000}}, "LUN 70000 is out of range"),
    ({"vlan_id": 4095}, "vlan_id 4095 is out of range"),
    ({"mac_address": "52:54:00:99:99:99"}, "mac_address 52:54:00:99:99:99 matches none of the BMC's network device "
                                           "functions: /redfish/v1/Chassis/Tower/NetworkAdapters/NIC1/"
                                           "NetworkDeviceFunctions/1 (52:54:00:5b:00:01)"),
    ({"chap": {"username": "vm1-boot", "secret": "Short12345a"}}, "chap.secret must be 12 to 16 characters long"),
    ({"chap": None, "mutual_chap": {"username": "san", "secret": MUTUAL_SECRET}}, "mutual_chap needs chap"),
    ({"initiator_iqn": "iqn.2026-13.lab.sanboot:vm1"}, "initiator_iqn: 'iqn.2026-13.lab.sanboot:vm1' is not a valid IQN"),
    ({"target": {"name": TARGET, "address": "san01.example.com"}}, "target.address 'san01.example.com' is not an IP"),
]


def test_bad_input_is_refused_naming_the_option_and_nothing_is_sent(bmc, workdir):
    before = bmc.snapshot()
    closed_port = labkit.free_tcp_port()
    tasks = [boot_task(**overrides) for overrides, _message in BAD_INPUT]
    tasks.append(dict(boot_task(), **{"sanboot.iscsi.redfish_iscsi_boot": dict(
        boot_task()["sanboot.iscsi.redfish_iscsi_boot"], baseuri="127.0.0.1:%d" % closed_port)}))
    tasks.append(dict(boot_task(), **{"sanboot.iscsi.redfish_iscsi_boot": dict(
        boot_task()["sanboot.iscsi.redfish_iscsi_boot"], password="NotThePassword1")}))
    run = redfish.run_play(bmc, workdir, tasks, "--diff")
    for (overrides, message), result in zip(BAD_INPUT, run.results):
        assert result["failed"] is True, (overrides, result)
        assert message in result["msg"], (message, result["msg"])
    unreachable, wrong_password = run.results[-2], run.results[-1]
    assert unreachable["failed"] and unreachable["msg"].startswith(
        "cannot reach the BMC at https://127.0.0.1:%d: " % closed_port), unreachable["msg"]
    assert wrong_password["failed"] and "refused user 'root' (HTTP 401 Unauthorized)" in wrong_password["msg"]
    assert "check username and password" in wrong_password["msg"]
    assert bmc.writes() == [] and bmc.snapshot() == before
    for secret in (SECRET, MUTUAL_SECRET, "Short12345a", "NotThePassword1", bmc.password):
        assert secret not in run.output
    assert bmc.sessions() == 0


def test_no_secret_in_output_verbose_output_diff_or_warnings(bmc, workdir):
    # reset=true: on dell the next change is then not refused as a second pending job.
    tasks = [boot_task(mutual_chap={"username": "san01", "secret": MUTUAL_SECRET}, reset=True),
             boot_task(chap={"username": "vm1-boot", "secret": SECRET_NEW},
                       mutual_chap={"username": "san01", "secret": MUTUAL_SECRET}, update_secrets="always",
                       boot_order=True),
             boot_task(chap={"username": "vm1-boot", "secret": SECRET_NEW + "toolong"}),
             {"sanboot.iscsi.redfish_iscsi_boot_info": {}}]
    run = redfish.run_play(bmc, workdir, tasks, "--diff", "-vvv")
    assert run.returncode == 0, run.output[-3000:]
    assert "AnsiballZ_redfish_iscsi_boot.py" in run.output and "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in run.output
    created, always, refused, _info = run.results
    assert created["changed"] is True
    # update_secrets=always writes the secret on every run, and says so.
    assert always["changed"] is True and always["diff"]["after"]["iSCSIBoot"]["CHAPSecret"] == "(hidden, changed)"
    assert always["diff"]["after"]["iSCSIBoot"]["MutualCHAPSecret"] == "(hidden, changed)"
    # boot_order: the mockup system has no iSCSI boot option yet: a warning, the boot order left alone.
    assert always["boot_order"] == {"changed": False, "method": None}
    assert any("lists no UEFI boot option for the iSCSI device" in warning for warning in always.get("warnings", []))
    assert refused["failed"] and "chap.secret must be 12 to 16 characters long" in refused["msg"]
    for secret in (SECRET, SECRET_NEW, MUTUAL_SECRET, SECRET_NEW + "toolong", bmc.password):
        assert secret not in run.output
    if bmc.profile != "dmtf":
        bmc.reset()
    boot = bmc.applied(mac=MAC)["iSCSIBoot"]
    assert (boot["AuthenticationMethod"], boot["CHAPSecret"], boot["MutualCHAPSecret"]) == \
        ("MutualCHAP", SECRET_NEW, MUTUAL_SECRET)


@pytest.mark.parametrize("bmc", ["dell"], indirect=True)
def test_dell_pending_job_of_another_change_is_refused_unless_clear_pending_and_reset_waits_for_the_job(bmc, workdir):
    other = {"name": "iqn.2026-11.lab.sanboot.san:other", "address": "10.77.0.2", "lun": 3}
    run = redfish.run_play(bmc, workdir, [boot_task(), boot_task(target=other)])
    staged, refused = run.results
    assert staged["job"]["state"] == "Pending"
    assert refused["failed"] and "a configuration job is pending on %s" % bmc.function_uri(1) in refused["msg"]
    assert "Set clear_pending=true" in refused["msg"] and "Nothing was changed" in refused["msg"]
    assert len(bmc.writes()) == 1
    run = redfish.run_play(bmc, workdir, [boot_task(target=other, clear_pending=True, reset=True, timeout=20)])
    done = run[0]
    assert done["changed"] is True and done["pending"] is False, done
    assert done["job"]["state"] == "Completed" and done["job"]["uri"] != staged["job"]["uri"]
    assert ("DELETE", staged["job"]["uri"]) in bmc.writes()
    boot = bmc.applied(mac=MAC)["iSCSIBoot"]
    assert (boot["PrimaryTargetName"], boot["PrimaryTargetIPAddress"], boot["PrimaryLUN"]) == (other["name"], "10.77.0.2", 3)
    assert bmc.state.resets == ["GracefulRestart"]
    # apply_time must be one the service offers.
    refused = redfish.run_play(bmc, workdir, [boot_task(apply_time="immediate", vlan_id=20)])[0]
    assert refused["failed"] and "apply_time immediate is not offered" in refused["msg"]
    assert refused["msg"].endswith("it offers maintenance_window, on_reset")


@pytest.mark.parametrize("bmc", ["lenovo"], indirect=True)
def test_state_absent_turns_iscsi_boot_off_and_reset_applies_it(bmc, workdir):
    run = redfish.run_play(bmc, workdir, [boot_task(reset=True), boot_task(state="absent", reset=True),
                                          boot_task(state="absent")])
    created, removed, again = run.results
    assert created["changed"] and created["pending"] is False and created["job"]["state"] == "Completed"
    assert removed["changed"] and removed["iscsi_boot"]["BootMode"] == "Disabled"
    assert again["changed"] is False
    assert bmc.applied(mac=MAC)["BootMode"] == "Disabled"


@pytest.mark.parametrize("bmc", ["dmtf"], indirect=True)
def test_bmcs_the_module_cannot_configure_fail_with_their_message_and_nothing_is_sent(bmc, workdir):
    """The double reshaped as those BMCs show themselves (DMTF-valid shapes): an HPE iLO names its vendor in the
    service root (ServiceRoot.Vendor) and keeps iSCSI boot in its OEM BIOS resource, so its network device
    functions, where it lists any, carry no iSCSIBoot; some BMCs list no network device function at all."""
    state = bmc.state
    with state.lock:
        state.resources["/redfish/v1"]["Vendor"] = "HPE"
        for uri in state.functions:
            state.resources[uri].pop("iSCSIBoot")
            state.resources[uri]["NetDevFuncCapabilities"] = ["Ethernet"]
    before = bmc.snapshot()
    hpe = "this BMC is an HPE iLO, which keeps a NIC's iSCSI boot settings in its OEM BIOS resource"
    run = redfish.run_play(bmc, workdir, [boot_task(), boot_task(state="absent"),
                                          {"sanboot.iscsi.redfish_iscsi_boot_info": {}}])
    present, absent, info = run.results
    assert present["failed"] and present["msg"].startswith(hpe) and "changed nothing" in present["msg"], present
    assert absent["failed"] and absent["msg"].startswith(hpe), absent
    # The info module lists the functions as they are, each with nowhere to write iSCSI boot settings.
    assert [function["settings_kind"] for function in info["functions"]] == ["none", "none"], info
    with state.lock:
        state.resources[MOCKUP_CHASSIS].pop("NetworkAdapters")
        state.resources[redfish.MOCKUP_SYSTEM].pop("NetworkInterfaces")
    run = redfish.run_play(bmc, workdir, [boot_task(), {"sanboot.iscsi.redfish_iscsi_boot_info": {}}])
    assert all(result["failed"] and result["msg"].startswith(hpe) for result in run.results), run.results
    with state.lock:
        state.resources["/redfish/v1"]["Vendor"] = "Contoso"
    run = redfish.run_play(bmc, workdir, [boot_task()])
    assert run[0]["failed"] and run[0]["msg"].startswith("the BMC at https://%s lists no network device functions"
                                                         % bmc.url.split("://", 1)[1]), run[0]["msg"]
    assert bmc.writes() == []
    assert bmc.sessions() == 0
    with state.lock:
        state.resources["/redfish/v1"].pop("Vendor")
        assert before["secrets"] == state.secrets and before["staged"] == state.staged == {}


# --- the double held to the real thing ----------------------------------------------------------------

# What the validator cannot check offline, because the reference data holds the CSDL of NetworkDeviceFunction only:
# exactly these properties of a function, each with the one failure that says so. Anything else fails the test,
# including any failure under /iSCSIBoot, the properties the module writes.
UNCHECKABLE = {
    # Id and Name are inherited from Resource.v1_0_0.Resource, whose CSDL (Resource_v1.xml) is not held.
    "/Id": "Unknown Property Error: The property 'Id' is not defined in the 'NetworkDeviceFunction.",
    "/Name": "Unknown Property Error: The property 'Name' is not defined in the 'NetworkDeviceFunction.",
    # Their types' CSDL (VLanNetworkInterface_v1.xml, Port_v1.xml) is not held.
    "/Ethernet/VLAN": "Schema Error: Unable to locate the schema definition for the 'VLanNetworkInterface.VLAN' type.",
    "/AssignablePhysicalNetworkPorts/0": "Schema Error: Unable to locate the schema definition for the 'Port.Port' type.",
    "/AssignablePhysicalNetworkPorts/1": "Schema Error: Unable to locate the schema definition for the 'Port.Port' type.",
    "/Links/PhysicalNetworkPortAssignment":
        "Schema Error: Unable to locate the schema definition for the 'Port.Port' type.",
}


@pytest.mark.parametrize("bmc", ["dmtf", "dell"], indirect=True)
def test_dmtf_service_validator_passes_on_the_network_device_functions(bmc, workdir):
    """DMTF's redfish-service-validator, offline, with the CSDL the reference data holds
    (NetworkDeviceFunction_v1.xml). The properties whose schema the reference data does not hold (UNCHECKABLE:
    Id and Name from Resource, Ethernet/VLAN, the Port links) cannot be checked here; only their own failure is
    let through, by property, and every other failure fails."""
    redfish.run_play(bmc, workdir, [boot_task()])
    if bmc.profile == "dell":
        bmc.reset()
    schemas = workdir / "schemas"
    schemas.mkdir()
    (schemas / "NetworkDeviceFunction_v1.xml").write_text(
        labkit.reference_file("redfish", "schemas", "NetworkDeviceFunction_v1.xml").read_text())
    for number in (1, 2):
        logs = workdir / ("validator-%d" % number)
        completed = subprocess.run(
            [str(labkit.VENV_BIN / "rf_service_validator"), "--rhost", bmc.url, "--user", bmc.username,
             "--password", bmc.password, "--authtype", "Session", "--logdir", str(logs), "--schema_directory",
             str(schemas), "--skipschema", "--payload", "Single", bmc.function_uri(number)],
            capture_output=True, text=True, timeout=120, check=False,
            env=dict(labkit.ansible_env(), REQUESTS_CA_BUNDLE=str(bmc.ca_path)))
        log = next(logs.rglob("*Debug*.log")).read_text()
        counts = re.search(r"\|\s+(\d+)\s+\|\s+(\d+)\s+\|\s+(\d+)\s+\|\s+(\d+)\s+\|", completed.stdout)
        assert counts, completed.stdout[-2000:] + completed.stderr[-2000:]
        passed = int(counts.group(1))
        failures = re.findall(r"FAIL - (/\S+) \(.*?\): (.*)", log)
        unexplained = [(pointer, text) for pointer, text in failures
                       if pointer not in UNCHECKABLE or not text.startswith(UNCHECKABLE[pointer])]
        assert unexplained == [], unexplained
        assert passed >= 50, completed.stdout[-2000:]
        # Every iSCSIBoot property the module writes was checked against the schema and passed.
        for name in ("InitiatorName", "PrimaryTargetName", "PrimaryTargetIPAddress", "PrimaryLUN",
                     "AuthenticationMethod", "CHAPUsername", "IPMaskDNSViaDHCP"):
            assert re.search(r"PASS - /iSCSIBoot/%s\b" % name, log) or "/iSCSIBoot/%s" % name not in log, name
        assert "/iSCSIBoot" in log and "Copyright Annotation" not in log


@pytest.mark.parametrize("bmc", ["dell"], indirect=True)
def test_sushy_reads_back_what_the_module_wrote(bmc, workdir, monkeypatch):
    sushy = pytest.importorskip("sushy")
    static = {"address": "10.77.0.61", "netmask": "24", "gateway": "10.77.0.1"}
    run = redfish.run_play(bmc, workdir, [boot_task(vlan_id=120, ip=static, reset=True)])
    assert run[0]["changed"] and run[0]["job"]["state"] == "Completed", run[0]
    # REQUESTS_CA_BUNDLE would override sushy's verify= (requests merges the environment over the session).
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    root = sushy.Sushy(bmc.url + "/redfish/v1", username=bmc.username, password=bmc.password, verify=str(bmc.ca_path))
    try:
        chassis = root.get_chassis("/redfish/v1/Chassis/Tower")
        functions = [function for adapter in chassis.network_adapters.get_members()
                     for function in adapter.network_device_functions.get_members()]
        mine = [function for function in functions if function.ethernet.mac_address.lower() == MAC]
        assert len(mine) == 1
        boot = mine[0].iscsi_boot
        assert (boot.primary_target_ip_address, boot.primary_lun, boot.primary_target_tcp_port) == ("10.77.0.1", 1, 3260)
        assert (boot.primary_vlan_enabled, boot.primary_vlan_id) == (True, 120)
        assert (boot.initiator_ip_address, boot.initiator_netmask, boot.initiator_default_gateway) == \
            ("10.77.0.61", "255.255.255.0", "10.77.0.1")
        assert str(boot.authentication_method).lower().endswith("chap")
        raw = mine[0].json
        assert raw["BootMode"] == "iSCSI"
        assert (raw["iSCSIBoot"]["InitiatorName"], raw["iSCSIBoot"]["PrimaryTargetName"]) == (INITIATOR, TARGET)
        assert raw["iSCSIBoot"]["CHAPSecret"] is None
    finally:
        root._conn.close()
