# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The BMC core, driven directly: validation, planning against pending-over-active, secrets, apply times."""

from __future__ import annotations

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils.bmc.core import (
    HIDDEN,
    HIDDEN_CHANGED,
    BmcError,
    FunctionView,
    apply_time_for,
    build_request,
    plan_change,
    run_iscsi_boot,
)

SECRET = "SbtUnitSecret1"
PARAMS = {"mac_address": "52-54-00-5B-00-01", "initiator_iqn": "IQN.2026-11.Lab.Sanboot:VM1",
          "target": {"name": "iqn.2026-11.lab.sanboot.san:vm1", "address": "10.77.0.1", "port": 3260, "lun": 1},
          "chap": {"username": "vm1-boot", "secret": SECRET}}


def request(**overrides):
    return build_request(dict(PARAMS, **overrides))


def function(boot_mode="Disabled", pending=None, write_kind="function", apply_times=None, **boot):
    values = {"IPAddressType": "IPv4", "InitiatorName": "iqn.2005-03.com.acme:database-server",
              "PrimaryTargetName": "iqn.2005-03.com.acme:image-server", "PrimaryTargetIPAddress": "169.0.15.1",
              "PrimaryTargetTCPPort": 3260, "PrimaryLUN": 5, "AuthenticationMethod": "CHAP", "CHAPUsername": "yosemite",
              "CHAPSecret": None, "IPMaskDNSViaDHCP": False, "TargetInfoViaDHCP": False, "PrimaryVLANEnable": True,
              "SecondaryTargetName": "iqn.2005-03.com.acme:image-server", "SecondaryTargetIPAddress": "16.0.11.5"}
    values.update(boot)
    active = {"BootMode": boot_mode, "NetDevFuncType": "Ethernet", "NetDevFuncCapabilities": ["Ethernet", "iSCSI"],
              "iSCSIBoot": values}
    return FunctionView("/redfish/v1/Chassis/1/NetworkAdapters/1/NetworkDeviceFunctions/1", "52:54:00:5b:00:01",
                        active, pending, write_kind=write_kind, apply_times=apply_times)


def configured(**boot):
    planned = plan_change(request(), function())
    view = function()
    view.active = dict(view.active, BootMode="iSCSI",
                       iSCSIBoot=dict(dict(view.active["iSCSIBoot"], **planned.body["iSCSIBoot"]), **boot))
    return view


def test_names_are_canonical_through_the_naming_core():
    built = request()
    assert built.mac_address == "52:54:00:5b:00:01"
    assert built.initiator_iqn == "iqn.2026-11.lab.sanboot:vm1"
    assert (built.target.port, built.target.lun, built.ip_dhcp) == (3260, 1, True)


@pytest.mark.parametrize("overrides, message", [
    ({"target": {"name": "boot01", "address": "10.77.0.1"}}, "target.name: 'boot01' looks like a target alias"),
    ({"target": {"name": PARAMS["target"]["name"], "address": "10.77.0.1", "lun": 16384}}, "LUN 16384 is out of range"),
    ({"target": {"name": PARAMS["target"]["name"], "address": "10.77.0.1", "port": 70000}}, "target.port 70000 is out of range"),
    ({"vlan_id": 4095}, "vlan_id 4095 is out of range: an 802.1Q VLAN id is 1 to 4094"),
    ({"vlan_id": 0}, "vlan_id 0 is out of range"),
    ({"chap": {"username": "u", "secret": "Short12345a"}}, "chap.secret must be 12 to 16 characters long"),
    ({"chap": None, "mutual_chap": {"username": "u", "secret": SECRET}}, "mutual_chap needs chap"),
    ({"mutual_chap": {"username": "san", "secret": SECRET}}, "mutual_chap.secret must differ from chap.secret"),
    ({"mac_address": "52:54:00:zz:00:01"}, "mac_address: '52:54:00:zz:00:01' is not a MAC address"),
    ({"mac_address": None}, "give exactly one of mac_address"),
    ({"function_id": "/redfish/v1/x"}, "give exactly one of mac_address"),
    ({"ip": {"dhcp": True, "address": "10.77.0.61", "netmask": "24"}}, "ip: give either dhcp: true or"),
    ({"ip": {"address": "10.77.0.61"}}, "a static address needs ip.address and ip.netmask"),
    ({"ip": {"address": "fd00::5", "netmask": "64"}}, "ip.address fd00::5 is IPv6 but the other addresses are IPv4"),
    ({"initiator_iqn": None}, "initiator_iqn is required with state=present"),
    ({"target": {"name": PARAMS["target"]["name"], "address": "san01"}}, "target.address 'san01' is not an IP address"),
])
def test_bad_input_names_the_option_and_the_rule(overrides, message):
    with pytest.raises(BmcError) as raised:
        request(**overrides)
    assert message in str(raised.value)
    assert SECRET not in str(raised.value)


def test_plan_sets_boot_mode_and_values_and_writes_the_secret_once():
    plan = plan_change(request(), function())
    assert plan.changed and plan.body["BootMode"] == "iSCSI"
    assert plan.body["iSCSIBoot"]["InitiatorName"] == "iqn.2026-11.lab.sanboot:vm1"
    assert plan.body["iSCSIBoot"]["SecondaryTargetName"] is None
    assert "CHAPSecret" not in plan.body["iSCSIBoot"] and plan.secrets == {"CHAPSecret": SECRET}
    assert (plan.before["iSCSIBoot"]["CHAPSecret"], plan.after["iSCSIBoot"]["CHAPSecret"]) == (HIDDEN, HIDDEN_CHANGED)
    # Configured already (names differing only in case, addresses in another spelling): nothing to do.
    again = plan_change(request(), configured(InitiatorName="IQN.2026-11.LAB.SANBOOT:vm1"))
    assert not again.changed and again.after["iSCSIBoot"]["CHAPSecret"] == HIDDEN
    assert plan_change(request(update_secrets="always"), configured()).secrets == {"CHAPSecret": SECRET}
    # A new CHAP user is a new identity: its secret is written (on_create).
    assert plan_change(request(chap={"username": "other", "secret": SECRET}), configured()).secrets


def test_a_staged_change_counts_as_what_will_be_in_force():
    planned = plan_change(request(), function())
    staged = function(pending={"BootMode": "iSCSI", "iSCSIBoot": planned.body["iSCSIBoot"]}, write_kind="settings",
                      apply_times=["OnReset"])
    assert not plan_change(request(), staged).changed
    assert plan_change(request(vlan_id=12), staged).body == {"iSCSIBoot": {"PrimaryVLANEnable": True, "PrimaryVLANId": 12}}


def test_absent_turns_iscsi_boot_off_only_when_on():
    assert plan_change(request(state="absent"), configured()).body == {"BootMode": "Disabled"}
    assert not plan_change(request(state="absent"), function()).changed


def test_apply_times_follow_what_the_service_offers():
    settings = function(write_kind="settings", apply_times=["OnReset", "AtMaintenanceWindowStart"])
    assert apply_time_for(request(), settings) == "OnReset"
    assert apply_time_for(request(apply_time="maintenance_window"), settings) == "AtMaintenanceWindowStart"
    assert apply_time_for(request(), function()) == "Immediate"
    with pytest.raises(BmcError, match="apply_time immediate is not offered .* it offers maintenance_window, on_reset"):
        apply_time_for(request(apply_time="immediate"), settings)


class FakeBackend:
    """A backend that records what the core asks of it (the Redfish backend is tested against the emulator)."""

    def __init__(self, params):
        self.view = params["_view"]
        self.calls = params["_calls"]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.calls.append("closed")

    def find_function(self, mac_address=None, function_id=None):
        return self.view

    def write(self, view, plan, apply_time):
        self.calls.append(("write", apply_time, plan.body, plan.secrets))

    def clear_pending(self, view):
        self.calls.append("clear")


def test_run_check_mode_writes_nothing_and_a_foreign_job_is_refused():
    calls = []
    view = function()
    result = run_iscsi_boot(dict(PARAMS, _view=view, _calls=calls), {"redfish": FakeBackend}, check_mode=True)
    assert result["changed"] and calls == ["closed"]
    assert SECRET not in repr(result)
    view = function(pending={"iSCSIBoot": {"PrimaryLUN": 9}}, write_kind="settings", apply_times=["OnReset"])
    view.job = {"uri": "/redfish/v1/TaskService/Tasks/7", "state": "Pending"}
    with pytest.raises(BmcError, match="a configuration job is pending .* Set clear_pending=true"):
        run_iscsi_boot(dict(PARAMS, _view=view, _calls=calls), {"redfish": FakeBackend})
    assert not [call for call in calls if call != "closed"]
