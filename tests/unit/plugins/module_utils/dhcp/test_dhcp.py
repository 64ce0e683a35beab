# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The backend-independent DHCP core: request validation, normalised comparison, planning, masking, the lock."""

from __future__ import annotations

import os

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp import core as dhcp
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.core import (
    MASK,
    MASK_CHANGED,
    DhcpError,
    build_request,
    find_conflicts,
    make_option,
    make_reservation,
    masked_diff,
    options_equal,
    plan_change,
    scrub,
    writer_lock,
)

TARGET = "iqn.2026-11.test:boot1"
MAC = "52:54:00:12:34:56"
SECRET_KEYS = {("ipxe", 191)}


def params(**overrides):
    values = {"state": "present", "mac": MAC, "ip": "10.77.0.60", "subnet": "10.77.0.0/24", "subnet_id": None,
              "hostname": None, "options": [], "replace": False, "persist": True,
              "iscsi": {"server": "10.77.0.1", "target_iqn": TARGET, "port": None, "lun": None, "protocol": None,
                        "initiator_iqn": None, "chap": None}}
    values.update(overrides)
    return values


def reservation(mac=MAC, ip="10.77.0.60", hostname=None, options=()):
    return make_reservation("10.77.0.0/24", 1, mac, ip, hostname, list(options))


def root_path_option(data="iscsi:10.77.0.1:6:3260:1:" + TARGET, name="root-path"):
    return make_option("dhcp4", 17, name, data)


# --- the request ------------------------------------------------------------------------------

def test_request_takes_the_iscsi_contract_from_dhcp_boot():
    request = build_request(params(mac="52-54-00-12-34-56", hostname="WinBoot01",
                                   iscsi={"server": "10.77.0.1", "target_iqn": TARGET.upper(), "lun": "10",
                                          "initiator_iqn": "IQN.2026-11.test:VM1",
                                          "chap": {"username": "vmuser", "secret": "Vm-Secret-1234"}}))
    assert request.mac == MAC
    assert request.root_path == "iscsi:10.77.0.1:6:3260:a:" + TARGET
    assert request.boot_values == {17: request.root_path, 203: "iqn.2026-11.test:vm1", 190: "vmuser", 191: "Vm-Secret-1234"}
    assert request.hostname == "WinBoot01"
    assert request.chap and request.secrets == ["Vm-Secret-1234"]


def test_without_iscsi_there_are_no_boot_options():
    request = build_request(params(iscsi=None))
    assert request.boot_values == {} and request.root_path is None and not request.chap


@pytest.mark.parametrize("overrides, message", [
    ({"mac": "52:54:00:zz:00:01"}, "mac: '52:54:00:zz:00:01' is not a MAC address"),
    ({"mac": "01:00:5e:00:00:01"}, "mac: '01:00:5e:00:00:01' is a multicast"),
    ({"ip": "10.77.0.300"}, "ip '10.77.0.300' is not an IPv4 address"),
    ({"ip": None}, "ip is required with state=present"),
    ({"ip": "10.99.0.5"}, "ip 10.99.0.5 is outside subnet 10.77.0.0/24"),
    ({"subnet": "10.77.0.5/24"}, "subnet '10.77.0.5/24' has host bits set: the network is 10.77.0.0/24"),
    ({"subnet": "10.77.0/24x"}, "subnet '10.77.0/24x' is not an IPv4 network in CIDR notation"),
    ({"subnet": None}, "one of subnet or subnet_id is required"),
    ({"subnet": None, "subnet_id": "one"}, "subnet_id 'one' is not a whole number"),
    ({"subnet": None, "subnet_id": 0}, "subnet_id 0 is out of range"),
    ({"hostname": "win_boot"}, "hostname 'win_boot' is not a host name"),
    ({"iscsi": {"server": "10.77.0.1", "target_iqn": "iqn.2026-13.test:boot1"}}, "iscsi: 'iqn.2026-13.test:boot1' is not a valid IQN: month 13"),
    ({"iscsi": {"server": "10.77.0.1", "target_iqn": TARGET, "lun": "one"}}, "iscsi: LUN 'one' is not a whole number"),
    ({"iscsi": {"target_iqn": TARGET}}, "iscsi.server is required"),
    ({"iscsi": {"server": "10.77.0.1", "target_iqn": TARGET, "chap": {"username": "u", "secret": "short"}}},
     "iscsi.chap.secret must be 12 to 16 characters"),
    ({"options": [{"data": "x"}]}, "options[0] needs a code (1 to 254) or a name"),
    ({"options": [{"code": 300, "data": "x"}]}, "options[0].code 300 is not an option code"),
    ({"options": [{"code": 6, "data": "a"}, {"code": "6", "data": "b"}]}, "options[1] repeats option code 6"),
    ({"options": [{"code": 17, "data": "x"}]}, "options[0] sets option 17, which the module derives from iscsi"),
    ({"options": [{"name": "host-name", "data": "x"}]}, "options[0] sets option host-name, which the module derives from hostname"),
    ({"options": [{"code": 6, "data": "x", "value": 1}]}, "options[0] has unknown key(s) value"),
])
def test_bad_parameters_name_the_option_and_the_rule(overrides, message):
    with pytest.raises(DhcpError) as info:
        build_request(params(**overrides))
    assert message in str(info.value)


def test_the_secret_never_appears_in_a_validation_error():
    with pytest.raises(DhcpError) as info:
        build_request(params(iscsi={"server": "10.77.0.1", "target_iqn": TARGET,
                                    "chap": {"username": "u", "secret": "has space inside"}}))
    assert "has space inside" not in str(info.value)


def test_option_17_is_free_without_iscsi_and_options_are_normalised():
    request = build_request(params(iscsi=None, options=[
        {"code": "17", "data": "iscsi:10.0.0.1::::" + TARGET}, {"name": "domain-name-servers", "data": "10.0.0.2"},
        {"code": 190, "space": "ipxe", "data": True}]))
    assert request.options == [make_option("dhcp4", 17, None, "iscsi:10.0.0.1::::" + TARGET),
                               make_option("dhcp4", None, "domain-name-servers", "10.0.0.2"),
                               make_option("ipxe", 190, None, "true")]


# --- comparison ---------------------------------------------------------------------------------

def test_options_compare_by_code_and_data_ignoring_names_and_order():
    held = [make_option("dhcp4", 6, "domain-name-servers", "10.0.0.2"), root_path_option()]
    assert options_equal([root_path_option(name=None), make_option("dhcp4", 6, None, "10.0.0.2")], held)
    assert not options_equal([root_path_option(data="iscsi:10.77.0.1:6:3260:2:" + TARGET),
                              make_option("dhcp4", 6, None, "10.0.0.2")], held)
    assert not options_equal([root_path_option()], held)
    assert not options_equal([root_path_option(), make_option("dhcp4", 6, None, "10.0.0.2"),
                              make_option("dhcp4", 42, None, "10.0.0.3")], held)


def test_an_option_known_only_by_name_matches_the_held_one_of_that_name():
    held = [make_option("dhcp4", 6, "domain-name-servers", "10.0.0.2")]
    assert options_equal([make_option("dhcp4", None, "domain-name-servers", "10.0.0.2")], held)
    assert not options_equal([make_option("dhcp4", None, "ntp-servers", "10.0.0.2")], held)
    assert not options_equal([make_option("ipxe", None, "domain-name-servers", "10.0.0.2")], held)


# --- planning -----------------------------------------------------------------------------------

def test_plan_adds_a_new_reservation():
    request = build_request(params())
    target = reservation(options=[root_path_option()])
    plan = plan_change(request, target, [reservation(mac="52:54:00:00:00:10", ip="10.77.0.10")])
    assert plan.changed and plan.same is None and plan.remove == []
    assert plan.before == [] and plan.after == [target]


def test_plan_is_unchanged_for_an_equal_reservation_and_keeps_an_unmanaged_hostname():
    request = build_request(params())
    held = reservation(hostname="kept", options=[root_path_option()])
    plan = plan_change(request, reservation(options=[root_path_option(name=None)]), [held])
    assert not plan.changed
    assert plan.target["hostname"] == "kept"


def test_plan_updates_in_place_when_the_options_differ():
    request = build_request(params(hostname="winboot01"))
    held = reservation(hostname="winboot01", options=[root_path_option(), make_option("dhcp4", 66, "tftp-server-name", "x")])
    plan = plan_change(request, reservation(hostname="winboot01", options=[root_path_option()]), [held])
    assert plan.changed and plan.same is held and plan.remove == []


@pytest.mark.parametrize("held, message", [
    (reservation(mac="52:54:00:00:00:10"), "ip 10.77.0.60 is already reserved for MAC 52:54:00:00:00:10 in subnet "
     "10.77.0.0/24 (id 1): set replace=true to take it over for mac 52:54:00:12:34:56"),
    (reservation(ip="10.77.0.61"), "mac 52:54:00:12:34:56 already has a reservation for 10.77.0.61 in subnet "
     "10.77.0.0/24 (id 1): set replace=true to move it to 10.77.0.60"),
    (make_reservation("10.77.0.0/24", 1, None, "10.77.0.60", None, [], "client-id 01:02"),
     "ip 10.77.0.60 is already reserved for client-id 01:02"),
])
def test_conflicts_need_replace(held, message):
    request = build_request(params())
    with pytest.raises(DhcpError) as info:
        plan_change(request, reservation(), [held])
    assert message in str(info.value)
    replaced = plan_change(build_request(params(replace=True)), reservation(), [held])
    assert replaced.changed and replaced.remove == [held] and replaced.before == [held]


def test_find_conflicts_is_the_one_rule_and_keeps_the_servers_order():
    same = reservation()
    moved = reservation(ip="10.77.0.61")
    taken = reservation(mac="52:54:00:00:00:10")
    unrelated = reservation(mac="52:54:00:00:00:11", ip="10.77.0.11")
    found_same, conflicts = find_conflicts([taken, unrelated, same, moved], MAC, "10.77.0.60")
    assert found_same is same
    assert conflicts == [("ip", taken), ("mac", moved)]
    # Windows DHCP reports MACs in its own spelling: the caller says how two MACs compare.
    dashed = dict(reservation(), mac="52-54-00-12-34-56")
    assert find_conflicts([dashed], MAC, "10.77.0.60")[0] is None
    assert find_conflicts([dashed], MAC, "10.77.0.60",
                          same_mac=lambda a, b: a.replace("-", ":") == b.replace("-", ":"))[0] is dashed


def test_replace_with_nothing_to_take_over_changes_nothing():
    held = reservation(options=[root_path_option()])
    assert not plan_change(build_request(params(replace=True)), reservation(options=[root_path_option()]), [held]).changed


def test_absent_removes_only_the_reservation_of_the_mac():
    mine, other = reservation(), reservation(mac="52:54:00:00:00:10", ip="10.77.0.10")
    plan = plan_change(build_request(params(state="absent", ip=None)), None, [other, mine])
    assert plan.changed and plan.remove == [mine] and plan.after == []
    assert not plan_change(build_request(params(state="absent", ip=None)), None, [other]).changed


def test_absent_with_another_ip_removes_nothing():
    with pytest.raises(DhcpError) as info:
        plan_change(build_request(params(state="absent", ip="10.77.0.99")), None, [reservation()])
    assert "mac 52:54:00:12:34:56 is reserved for 10.77.0.60 in subnet 10.77.0.0/24 (id 1), not for ip 10.77.0.99" in str(info.value)


# --- secrets ------------------------------------------------------------------------------------

def chap_reservation(secret):
    return reservation(options=[make_option("dhcp4", 175, "ipxe-encap-opts", ""), make_option("ipxe", 190, "u", "vmuser"),
                                make_option("ipxe", 191, "p", secret)])


def test_masked_diff_hides_secrets_but_shows_that_they_change():
    diff = masked_diff([chap_reservation("Old-Secret-123")], [chap_reservation("New-Secret-456")], SECRET_KEYS)
    assert "Secret" not in repr(diff)
    assert diff["before"]["reservations"][0]["options"][2]["data"] == MASK
    assert diff["after"]["reservations"][0]["options"][2]["data"] == MASK_CHANGED
    same = masked_diff([chap_reservation("Old-Secret-123")], [chap_reservation("Old-Secret-123")], SECRET_KEYS)
    assert same["before"] == same["after"]
    new = masked_diff([], [chap_reservation("New-Secret-456")], SECRET_KEYS)
    assert new["after"]["reservations"][0]["options"][2]["data"] == MASK


def test_scrub_removes_secrets_and_their_hex_forms():
    text = scrub("Kea: bad data 'Vm-Secret-1234' (566D2D5365637265742D31323334, 566d2d5365637265742d31323334)",
                 ["Vm-Secret-1234", None, ""])
    assert "Secret" not in text and "566" not in text and text.count(MASK) == 3


# --- the writer lock --------------------------------------------------------------------------------

def test_lock_directory_is_private_and_the_lock_excludes_a_second_writer(tmp_path):
    directory = tmp_path / "locks"
    with writer_lock("kea http://127.0.0.1:8000 dhcp4", directory=str(directory)) as first:
        assert oct(os.stat(directory).st_mode & 0o777) == "0o700"
        assert oct(os.stat(first.path).st_mode & 0o777) == "0o600"
        with pytest.raises(DhcpError) as info:
            with writer_lock("kea http://127.0.0.1:8000 dhcp4", wait=0.2, directory=str(directory)):
                pass
        assert "held the lock" in str(info.value) and "nothing changed" in str(info.value)
        # ... and names the holder (issue 11: as the SAN lock does).
        assert "(pid %d (dhcp_reservation, writer of kea http://127.0.0.1:8000 dhcp4) since " % os.getpid() \
            in str(info.value)
        with writer_lock("kea http://127.0.0.1:8001 dhcp4", wait=0.2, directory=str(directory)):
            pass  # another server: another lock
    with writer_lock("kea http://127.0.0.1:8000 dhcp4", wait=0.2, directory=str(directory)):
        pass  # released


def test_lock_refuses_a_directory_others_can_write(tmp_path):
    directory = tmp_path / "shared"
    directory.mkdir()
    directory.chmod(0o777)
    with pytest.raises(DhcpError) as info:
        with writer_lock("key", directory=str(directory)):
            pass
    assert "refusing the lock directory" in str(info.value)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    with pytest.raises(DhcpError):
        with writer_lock("key", directory=str(link)):
            pass


def test_select_backend_names_the_choices():
    class Fake(dhcp.DhcpBackend):
        name = "fake"
    assert dhcp.select_backend("fake", {"fake": Fake}) is Fake
    with pytest.raises(DhcpError) as info:
        dhcp.select_backend("windows", {"fake": Fake})
    assert "backend 'windows' is not available; the backends are fake" in str(info.value)


def test_the_iscsi_settings_are_normalised_once(monkeypatch):
    from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp import boot_options
    calls = []
    real = boot_options.normalize_iscsi
    monkeypatch.setattr(boot_options, "normalize_iscsi", lambda iscsi: calls.append(1) or real(iscsi))
    monkeypatch.setattr(dhcp, "normalize_iscsi", boot_options.normalize_iscsi, raising=False)
    request = build_request(params())
    assert len(calls) == 1 and request.root_path == "iscsi:10.77.0.1:6:3260:1:" + TARGET


def test_an_ipv6_root_path_and_a_lun_of_10_or_more_in_the_request():
    request = build_request(params(iscsi={"server": "[fd00::5]", "target_iqn": TARGET, "lun": 12}))
    assert request.root_path == "iscsi:[fd00::5]:6:3260:c:" + TARGET
    assert request.iscsi["target_iqn"] == TARGET and request.iscsi["server"] == "fd00::5"
    assert len(request.warnings) == 1 and request.warnings[0].startswith("iscsi.lun 12 goes into the root path")
    assert build_request(params()).warnings == []


def test_backends_come_from_one_registry_with_one_default():
    from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp import argspec, registry
    from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.backends.kea.backend import KeaBackend
    import pathlib
    import yaml
    from ansible_collections.sanboot.iscsi.plugins.doc_fragments.dhcp_backends import ModuleDocFragment
    assert registry.BACKENDS == {"kea": KeaBackend} and registry.DEFAULT_BACKEND in registry.BACKENDS
    spec = argspec.connection_argument_spec()["backend"]
    assert (spec["default"], spec["choices"]) == (registry.DEFAULT_BACKEND, sorted(registry.BACKENDS))
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]["backend"]
    assert (documented["default"], documented["choices"]) == (registry.DEFAULT_BACKEND, sorted(registry.BACKENDS))
    root = pathlib.Path(__file__).resolve().parents[5]
    for playbook in ("site.yml", "verify_boot_chain.yml"):
        assert "default('%s')" % registry.DEFAULT_BACKEND not in (root / "playbooks" / playbook).read_text(), playbook
    # The role's own default variable mirrors the registry's.
    role_defaults = yaml.safe_load((root / "roles/iscsi_boot_dhcp/defaults/main.yml").read_text())
    assert role_defaults["iscsi_boot_dhcp_backend"] == "{{ sanboot_dhcp_backend | default('%s') }}" \
        % registry.DEFAULT_BACKEND
    with pytest.raises(DhcpError, match="^backend is required: one of kea"):
        dhcp.run_reservation(params(), registry.BACKENDS)


def test_a_backend_without_batches_converges_each_request_and_names_the_one_that_fails():
    """DhcpBackend.converge_many's default (issue 16): one request after the other, the failing one named."""

    class OneAtATime(dhcp.DhcpBackend):
        name = "one"
        done = []

        def converge(self, request, check_mode):
            if request.mac.endswith("02"):
                raise dhcp.DhcpError("ip %s is already reserved for another client" % request.ip)
            self.done.append(request.mac)
            return dhcp.Outcome(True, [], [], None)

    params = {"backend": "one", "subnet": "10.77.0.0/24", "reservations": [
        {"mac": "52:54:00:00:00:01", "ip": "10.77.0.1"}, {"mac": "52:54:00:00:00:02", "ip": "10.77.0.2"}]}
    with pytest.raises(dhcp.DhcpError) as caught:
        dhcp.run_reservation(params, {"one": OneAtATime})
    assert str(caught.value) == ("reservations[1].ip 10.77.0.2 is already reserved for another client "
                                 "(reservations[1] is mac 52:54:00:00:00:02)")
    assert OneAtATime.done == ["52:54:00:00:00:01"]
