# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Windows DHCP Server reservations from the dhcp_reservation contract."""

from __future__ import annotations

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.backends.windows import plan as wd
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.boot_options import boot_option_values

TARGET = "iqn.2026-11.test:boot01"
RESERVATION = {"mac": "52:54:00:12:34:56", "ip": "10.77.0.60", "scope": "10.77.0.0/24", "hostname": "winboot01",
               "iscsi": {"server": "10.77.0.1", "target_iqn": TARGET.upper(), "lun": 10,
                         "initiator_iqn": "IQN.1991-05.com.microsoft:WinBoot01"}}
PROBE = {"scopes": ["10.77.0.0", "10.78.0.0"], "option_definitions": {},
         "reservations": [{"scope_id": "10.77.0.0", "ip": "10.77.0.20", "client_id": "52-54-00-00-00-20", "name": "printer01"}]}


def plan(reservations, probe=None, **settings):
    return wd.plan_reservations(probe or PROBE, dict(settings, reservations=reservations))


def test_the_option_values_are_the_ones_the_kea_backend_gets():
    result = plan([RESERVATION])
    expected = boot_option_values(RESERVATION["iscsi"], hostname="winboot01")
    assert result["options"] == [{"scope_id": "10.77.0.0", "ip": "10.77.0.60",
                                  "values": {str(code): value for code, value in expected.items()}}]
    assert result["options"][0]["values"] == {"12": "winboot01", "17": "iscsi:10.77.0.1:6:3260:a:" + TARGET,
                                              "203": "iqn.1991-05.com.microsoft:winboot01"}


def test_the_lease_arguments_use_the_windows_mac_notation_and_no_dns_hostname():
    result = plan([RESERVATION])
    assert result["leases"] == [{"type": "reservation", "state": "present", "mac": "52-54-00-12-34-56", "ip": "10.77.0.60",
                                 "scope_id": "10.77.0.0", "reservation_name": "winboot01"}]
    assert result["option_definition"]["option_id"] == 203 and result["option_definition"]["type"] == "String"
    assert result["managed_options"] == [12, 17, 203]


def test_without_initiator_iqn_no_option_203_and_no_definition():
    reservation = dict(RESERVATION, hostname=None, iscsi={"server": "10.77.0.1", "target_iqn": TARGET})
    result = plan([reservation])
    assert result["options"][0]["values"] == {"17": "iscsi:10.77.0.1:6:3260:1:" + TARGET}
    assert result["option_definition"] is None


@pytest.mark.parametrize("iscsi", [None, {}])
def test_without_iscsi_the_reservation_carries_the_address_and_host_name_only(iscsi):
    """A server whose NIC takes its boot parameters from its BMC: options 17 and 203 are managed, so the ones the
    reservation had are removed (option_values.ps1 removes a managed option it is not given)."""
    reservation = dict(RESERVATION, iscsi=iscsi)
    result = plan([reservation])
    assert result["options"] == [{"scope_id": "10.77.0.0", "ip": "10.77.0.60", "values": {"12": "winboot01"}}]
    assert result["managed_options"] == [12, 17, 203] and result["option_definition"] is None
    assert result["leases"][0]["ip"] == "10.77.0.60"
    assert plan([dict(reservation, hostname=None)])["options"][0]["values"] == {}


def test_an_address_held_by_another_mac_is_an_error_unless_replace():
    taken = dict(RESERVATION, ip="10.77.0.20")
    with pytest.raises(wd.DhcpPlanError) as info:
        plan([taken])
    assert str(info.value).startswith("win_dhcp_boot_reservation_reservations[0].ip: 10.77.0.20 is already reserved for "
                                      "52-54-00-00-00-20 (printer01)")
    result = plan([taken], replace=True)
    assert result["removals"] == [{"ip": "10.77.0.20", "state": "absent"}]
    assert "removing the reservation of 10.77.0.20" in result["warnings"][0]


def test_a_mac_reserved_elsewhere_is_an_error_unless_replace_because_win_dhcp_lease_would_keep_the_old_address():
    probe = dict(PROBE, reservations=[{"scope_id": "10.77.0.0", "ip": "10.77.0.99", "client_id": "52-54-00-12-34-56",
                                       "name": "old"}])
    with pytest.raises(wd.DhcpPlanError, match=r"\.mac: 52-54-00-12-34-56 already has a reservation for 10\.77\.0\.99"):
        plan([RESERVATION], probe)
    assert plan([RESERVATION], probe, replace=True)["removals"] == [{"ip": "10.77.0.99", "state": "absent"}]


def test_the_same_reservation_already_there_is_no_conflict():
    probe = dict(PROBE, reservations=[{"scope_id": "10.77.0.0", "ip": "10.77.0.60", "client_id": "52-54-00-12-34-56"}])
    assert plan([RESERVATION], probe)["removals"] == []


def test_absent_removes_by_mac():
    assert plan([{"mac": "525400123456", "state": "absent"}])["leases"] == [{"mac": "52-54-00-12-34-56", "state": "absent"}]


def test_an_unknown_scope_is_an_error():
    with pytest.raises(wd.DhcpPlanError, match=r"\[0\]\.scope: 10\.79\.0\.0 is not a scope on this DHCP server"):
        plan([dict(RESERVATION, scope="10.79.0.0", ip="10.79.0.5")])


def test_an_option_203_defined_as_something_else_is_refused():
    probe = dict(PROBE, option_definitions={"203": {"name": "vendor thing", "type": "IPv4Address"}})
    with pytest.raises(wd.DhcpPlanError, match="option 203 is already defined on this DHCP server as IPv4Address"):
        plan([RESERVATION], probe)


def test_chap_is_refused_without_showing_the_secret():
    reservation = dict(RESERVATION, iscsi=dict(RESERVATION["iscsi"], chap={"username": "u", "secret": "TopSecret12345"}))
    errors = wd.validate_settings({"reservations": [reservation]})
    assert errors[0].startswith("win_dhcp_boot_reservation_reservations[0].iscsi.chap is not supported")
    assert "TopSecret12345" not in " ".join(errors)


@pytest.mark.parametrize("change, message", [
    ({"mac": "52:54:00:12:34"}, "[0].mac: '52:54:00:12:34' is not a MAC address"),
    ({"mac": 41135085296}, "[0].mac: 41135085296 is a number, not a MAC address"),
    ({"ip": "10.77.0.256"}, "[0].ip: '10.77.0.256' is not an IPv4 address"),
    ({"ip": "10.78.0.60"}, "[0].ip: 10.78.0.60 is outside the scope 10.77.0.0/24"),
    ({"scope": "10.77.0.1/24"}, "[0].scope: 10.77.0.1/24 is not a network address"),
    ({"scope": "boot"}, "[0].scope: 'boot' is not a scope id"),
    ({"hostname": "win_boot"}, "[0].hostname: 'win_boot' is not a host name"),
    ({"iscsi": {"server": "10.77.0.1", "target_iqn": "boot01"}}, "[0].iscsi: 'boot01' looks like a target alias"),
    ({"iscsi": {"server": "10.77.0.1", "target_iqn": TARGET, "lun": "one"}}, "[0].iscsi: LUN 'one' is not a whole number"),
    ({"iscsi": {"server": "10.77.0.1", "target_iqn": TARGET, "initiator_iqn": "x"}}, "[0].iscsi.initiator_iqn: "),
    ({"ip": None}, "[0].ip is required when state is present"),
    ({"state": "gone"}, "[0].state: 'gone' is not present or absent"),
    ({"subnet": "10.77.0.0/24"}, "[0]: unknown key(s) subnet"),
])
def test_bad_input_names_the_reservation_and_key(change, message):
    errors = wd.validate_settings({"reservations": [dict(RESERVATION, **change)]})
    assert errors and errors[0].startswith("win_dhcp_boot_reservation_reservations" + message), errors


def test_duplicates_across_reservations_are_refused():
    errors = wd.validate_settings({"reservations": [RESERVATION, dict(RESERVATION, mac="52:54:00:12:34:99")]})
    assert errors == ["win_dhcp_boot_reservation_reservations[1].ip: 10.77.0.60 is also in "
                      "win_dhcp_boot_reservation_reservations[0]"]


def test_a_boot_lun_of_10_or_more_is_warned_about_as_with_kea():
    result = plan([RESERVATION])
    assert result["warnings"] == ["win_dhcp_boot_reservation_reservations[0]: iscsi.lun 10 goes into the root path "
                                  "(option 17) as 'a', in hexadecimal as RFC 4173 says and iPXE reads it; dracut and "
                                  "OpenStack Ironic read that field as decimal and would find no LUN at all (the field "
                                  "is not a decimal number). Boot LUNs 0 to 9 read the same everywhere: prefer one of "
                                  "them when such clients boot from this reservation"]
    assert plan([dict(RESERVATION, iscsi=dict(RESERVATION["iscsi"], lun=9))])["warnings"] == []


LEASE_150 = {"scope_id": "10.77.0.0", "ip": "10.77.0.150", "client_id": "52-54-00-12-34-56", "hostname": "minint-7q2k1",
             "address_state": "Active"}


def test_a_dynamic_lease_of_the_mac_elsewhere_is_removed_first_because_win_dhcp_lease_would_reserve_its_address():
    result = plan([RESERVATION], dict(PROBE, leases=[LEASE_150]))
    assert result["lease_removals"] == [{"ip": "10.77.0.150", "state": "absent"}]
    assert result["leases"][0]["ip"] == "10.77.0.60" and result["removals"] == []
    assert any("52-54-00-12-34-56 holds a dynamic lease of 10.77.0.150; it is removed" in warning
               for warning in result["warnings"])


def test_a_dynamic_lease_of_the_mac_at_the_address_itself_is_left_to_become_the_reservation():
    result = plan([RESERVATION], dict(PROBE, leases=[dict(LEASE_150, ip="10.77.0.60")]))
    # (RESERVATION's LUN 10 brings its own warning about option 17: no warning about a lease.)
    assert result["lease_removals"] == [] and not [warning for warning in result["warnings"] if "lease" in warning]


def test_an_address_another_client_holds_a_dynamic_lease_on_is_an_error_unless_replace():
    other = dict(LEASE_150, ip="10.77.0.60", client_id="52-54-00-00-00-62", hostname="laptop62")
    with pytest.raises(wd.DhcpPlanError, match=r"\.ip: 10\.77\.0\.60 is leased to 52-54-00-00-00-62 \(laptop62\); set "
                                               r"win_dhcp_boot_reservation_replace: true"):
        plan([RESERVATION], dict(PROBE, leases=[other]))
    assert plan([RESERVATION], dict(PROBE, leases=[other]), replace=True)["lease_removals"] == [
        {"ip": "10.77.0.60", "state": "absent"}]


def test_reservations_listed_among_the_leases_are_not_taken_for_dynamic_ones():
    reserved = dict(LEASE_150, address_state="InactiveReservation")
    assert plan([RESERVATION], dict(PROBE, leases=[reserved]))["lease_removals"] == []
