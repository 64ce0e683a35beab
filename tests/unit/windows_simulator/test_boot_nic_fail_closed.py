# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The boot NIC rule, measured on the simulator's default host (a fresh Windows Server 2022 booted
from iSCSI as Microsoft documents it: MSiSCSI Manual and stopped, the boot connection's
InitiatorAddress 0.0.0.0): whatever the probe reads, and however it fails, the NIC that carries the
boot disk (Ethernet, interface 4) is never planned for DHCP.

The probe results are the simulator's models of the role's probe.ps1 and of the shared
iscsi_boot.ps1 (sanboot.iscsi.win_iscsi_boot_info) combined, with the service stopped or running,
with every subset of its boot queries failing (fault injection), each cut at every depth as
win_powershell would return it, and every value of the full result replaced by a missing or
malformed one."""

from __future__ import annotations

import copy
import itertools
import json

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils.windows import initiator as wi
from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.host import plan_or_errors
from simulator_paths import ROLES, load_simulator

sim = load_simulator()
DEFAULT = ROLES.parent / "tests" / "windows_simulator" / "states" / "server2022-iscsi-boot.json"
BOOT_NIC = {"name": "Ethernet", "mac": "52:54:00:12:34:56", "interface_index": 4}
SETTINGS = {"boot_nics": [{"mac": "52:54:00:12:34:56"}, {"alias": "Ethernet 2"}, {"mac": "52-54-00-aa-00-01"}],
            "iqn": "iqn.2026-11.test:winboot01", "boot_target_iqn": "iqn.2026-11.test:boot01", "mpio": True}
# The probe's queries that decide the boot NIC, each of which can fail on its own.
FAULTS = ("Get-Disk", "Get-IscsiSession", "Get-Disk of iSCSI session", "Get-IscsiConnection", "Find-NetRoute",
          "MSiSCSI_BootConfiguration")
MALFORMED = (None, "", "System.Collections.Hashtable", [], {}, 0, True)


@pytest.fixture
def host(tmp_path, monkeypatch):
    state_file = tmp_path / "state.json"
    state_file.write_text(DEFAULT.read_text())
    monkeypatch.setenv(sim.STATE_ENV, str(state_file))
    return state_file


def probe(host, service="stopped", faults=()):
    state = json.loads(DEFAULT.read_text())
    state["services"]["MSiSCSI"]["state"] = service
    state["faults"] = list(faults)
    host.write_text(json.dumps(state))
    with sim.WindowsState(check_mode=True) as windows:
        # What the role plans from: its probe and win_iscsi_boot_info, combined.
        result = dict(sim.MODELS["win_iscsi_initiator/probe"](windows, {}, True)["result"])
        result.update(sim.MODELS["iscsi_boot"](windows, {}, True)["result"])
        return result


def boot_nic_planned_for_dhcp(result) -> bool:
    # Any other exception than the planner's own errors is a defect here (a traceback, not a message).
    plan = plan_or_errors(wi.plan_initiator, result, SETTINGS)
    if plan["errors"]:
        return False  # the role stops before any change
    return any(nic.get("mac") == BOOT_NIC["mac"] or nic.get("interface_index") == BOOT_NIC["interface_index"]
               or nic.get("name") == BOOT_NIC["name"] for nic in plan["nics"]["to_dhcp"])


def test_the_default_host_is_as_microsoft_documents_it(host):
    state = json.loads(DEFAULT.read_text())
    assert state["services"]["MSiSCSI"] == {"display_name": "Microsoft iSCSI Initiator Service", "start_mode": "manual",
                                            "state": "stopped"}
    assert [connection["initiator_address"] for session in state["iscsi"]["sessions"]
            for connection in session["connections"]] == ["0.0.0.0"]
    stopped = probe(host)
    assert stopped["boot_sessions"] == [] and stopped["boot_errors"][0].startswith("Get-IscsiSession: ")


@pytest.mark.parametrize("service", ["stopped (the default)", "started"])
def test_the_default_hosts_boot_nic_is_never_planned_for_dhcp(host, service):
    plan = wi.plan_initiator(probe(host, service.split()[0]), SETTINGS)
    assert BOOT_NIC["name"] not in [nic["name"] for nic in plan["nics"]["to_dhcp"]]


def test_with_the_service_running_the_boot_nic_is_recognised_and_the_others_switched(host):
    nics = wi.plan_initiator(probe(host, "started"), SETTINGS)["nics"]
    assert [nic["name"] for nic in nics["protected"]] == ["Ethernet"]
    assert [nic["name"] for nic in nics["to_dhcp"]] == ["Ethernet 2", "Management"]


def test_no_failure_of_the_probe_and_no_cut_of_its_result_plans_the_boot_nic_for_dhcp(host):
    checked = 0
    for service in ("stopped", "started"):
        for size in range(len(FAULTS) + 1):
            for faults in itertools.combinations(FAULTS, size):
                result = probe(host, service, faults)
                for depth in range(10):
                    shape = sim.convert_output(result, depth)
                    if isinstance(shape, dict):
                        assert not boot_nic_planned_for_dhcp(shape), (service, faults, depth)
                        checked += 1
    assert checked == 1280


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, prefix + (index,))


def replaced(value, path, new):
    result = copy.deepcopy(value)
    target = result
    for key in path[:-1]:
        target = target[key]
    if new is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = new
    return result


def test_no_missing_or_malformed_value_in_the_probe_plans_the_boot_nic_for_dhcp(host):
    full = probe(host, "started")
    checked = 0
    for path in paths(full):
        if not path:
            continue
        for new in MALFORMED + ((KeyError,) if isinstance(path[-1], str) else ()):
            assert not boot_nic_planned_for_dhcp(replaced(full, path, new)), (path, new)
            checked += 1
    assert checked > 400, checked
