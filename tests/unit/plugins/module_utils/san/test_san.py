# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The backend-independent core of san_volume: parameters to desired state, the plan, diff and results.

The backend here is a test double (MemoryBackend) that keeps volumes in a dict and records the
interface calls; the real tgt backend is exercised against a real tgtd in the integration tests.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils.san import core as san
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import Credential, SanInputError, Volume
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.argspec import volume_argument_spec
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.registry import BACKENDS

SECRET = "SbtSecretAa123"
OTHER_SECRET = "SbtSecretBb456"


class MemoryBackend(san.SanBackend):
    """Test double of a SAN backend: volumes in memory, every changing call recorded."""

    name = "memory"
    size_granularity = 512

    def __init__(self, params=None, run_command=None, warn=None, volumes=None, portal=("10.0.0.5", 3260)):
        super().__init__(params or {}, run_command, warn or (lambda message: None))
        self.volumes = {volume.name: volume for volume in volumes or []}
        self.calls = []
        self._portal = portal

    def list(self, include_unmanaged=False):
        return [volume for volume in self.volumes.values() if include_unmanaged or volume.managed]

    def get(self, name, desired=None):
        return self.volumes.get(name)

    def find_clone_source(self, clone_from):
        if clone_from not in self.volumes:
            raise SanInputError("clone_from: there is no volume '%s' to clone" % clone_from)
        return "volume '%s'" % clone_from, self.volumes[clone_from].size_bytes

    def portal(self):
        return self._portal

    def default_path(self, name):
        return "/srv/iscsi/%s.img" % name

    def validate(self, desired, params):
        if desired is not None and desired.path is None:
            desired.path = self.default_path(desired.name)

    def create(self, desired):
        self.calls.append(("create", desired.name))
        size = desired.size_bytes
        if desired.clone_from:
            size = max(size or 0, self.volumes[desired.clone_from].size_bytes)
        self.volumes[desired.name] = Volume(desired.name, desired.target_iqn, desired.lun, desired.path, size,
                                            desired.initiators, desired.allowed_addresses, desired.chap,
                                            desired.mutual_chap)

    def clone(self, clone_from, desired):
        self.calls.append(("clone", clone_from, desired.name))
        return "reflink"

    def grow(self, current, size_bytes):
        self.calls.append(("grow", current.name, size_bytes))
        current.size_bytes = size_bytes

    def delete(self, current, force, remove_data):
        self.calls.append(("delete", current.name, force, remove_data))
        del self.volumes[current.name]

    def set_access(self, current, initiators, allowed_addresses):
        self.calls.append(("set_access", current.name))
        current.initiators, current.allowed_addresses = list(initiators), list(allowed_addresses)

    def set_chap(self, current, chap, mutual_chap):
        self.calls.append(("set_chap", current.name))
        current.chap, current.mutual_chap = chap, mutual_chap


def params(**values):
    base = {"name": "boot01", "state": "present", "target_prefix": "iqn.2026-11.com.example.san", "lun": 1,
            "size": "64M", "initiators": ["iqn.1991-05.com.microsoft:winboot01"],
            "chap": {"username": "boot01", "secret": SECRET}}
    if values.get("target_iqn"):
        base["target_prefix"] = None  # the two are mutually exclusive
    base.update(values)
    return base


def existing(**values):
    volume = Volume("boot01", "iqn.2026-11.com.example.san:boot01", 1, "/srv/iscsi/boot01.img", 64 * 1024 * 1024,
                    ["iqn.1991-05.com.microsoft:winboot01"], [], Credential("boot01", SECRET), None)
    for key, value in values.items():
        setattr(volume, key, value)
    return volume


def run(backend, check_mode=False, **values):
    return san.run_present(backend, san.desired_from_params(params(**values), backend), check_mode)


# --- desired state from parameters ---------------------------------------------------------------

def test_canonical_desired_state():
    desired = san.desired_from_params(params(initiators=["IQN.1991-05.com.Microsoft:WinBoot01", "iqn.1991-05.com.microsoft:winboot01"],
                                             allowed_addresses=["10.0.0.5/32", "10.0.1.0/24", "FD00::1"],
                                             size="1000"), MemoryBackend())
    assert desired.target_iqn == "iqn.2026-11.com.example.san:boot01"
    assert desired.initiators == ["iqn.1991-05.com.microsoft:winboot01"]
    assert desired.allowed_addresses == ["10.0.0.5", "10.0.1.0/24", "fd00::1"]
    assert desired.size_bytes == 1024  # rounded up to whole 512-byte blocks
    assert repr(desired.chap) == "Credential(username='boot01', secret=<hidden>)"
    assert SECRET not in repr(desired)


def test_target_iqn_is_lowercased():
    desired = san.desired_from_params(params(target_iqn="IQN.2026-11.com.Example:Boot-X"), MemoryBackend())
    assert desired.target_iqn == "iqn.2026-11.com.example:boot-x"


@pytest.mark.parametrize("values, message", [
    ({"name": "boot_01"}, "name: 'boot_01' is not a volume name"),
    ({"name": ""}, "name: '' is not a volume name"),
    ({"target_prefix": None}, "target_iqn or target_prefix is required"),
    ({"target_prefix": "eui.02004567a425678d"}, "target_prefix: 'eui.02004567a425678d' must be an IQN"),
    ({"target_iqn": "winboot01"}, "target_iqn: 'winboot01' looks like a target alias"),
    ({"target_iqn": "iqn.2026-11.example:b c"}, "target_iqn: 'iqn.2026-11.example:b c' is not a valid IQN"),
    ({"initiators": ["iqn.2026-13.test:x"]}, "initiators: 'iqn.2026-13.test:x' is not a valid IQN: month 13"),
    ({"lun": 0}, "lun: LUN 0 is out of range: it must be 1 to 16383 (LUN 0 is the target's controller"),
    ({"lun": 16384}, "lun: LUN 16384 is out of range"),
    ({"size": "G"}, "size: size 'G' is not a size"),
    ({"size": "0"}, "size: size '0' must be greater than zero"),
    ({"size": "10 parsecs"}, "size: size '10 parsecs' has an unknown unit"),
    ({"initiators": [], "allowed_addresses": []}, "initiators or allowed_addresses is required"),
    ({"initiators": None}, "initiators or allowed_addresses is required"),
    ({"allowed_addresses": ["0.0.0.0/0"]}, "allowed_addresses: '0.0.0.0/0' would admit every address"),
    ({"allowed_addresses": ["10.0.0.5/24"]}, "allowed_addresses: address '10.0.0.5/24' has host bits set: write the "
                                             "network, 10.0.0.0/24"),
    ({"allowed_addresses": ["server01"]}, "allowed_addresses: address 'server01' is not an IP address"),
    ({"chap": {"username": "u", "secret": "short"}}, "chap.secret must be 12 to 16 characters long"),
    ({"chap": {"username": "u", "secret": "x" * 17}}, "chap.secret must be 12 to 16 characters long"),
    ({"chap": None, "mutual_chap": {"username": "m", "secret": SECRET}}, "mutual_chap needs chap"),
    ({"mutual_chap": {"username": "m", "secret": SECRET}}, "mutual_chap.secret must differ from chap.secret"),
    ({"portal": "10.0.0.5:99999"}, "portal: portal port 99999 is out of range"),
    ({"portal": "fd00::5]:3260"}, "portal: "),
    ({"backend": "purestorage"}, "backend: 'purestorage' is not a known backend; the backends are memory"),
])
def test_bad_parameters_name_the_option_and_the_rule(values, message):
    with pytest.raises(SanInputError) as caught:
        if "backend" in values:
            san.make_backend({"memory": MemoryBackend}, params(**values), None, None)
        san.desired_from_params(params(**values), MemoryBackend())
    assert str(caught.value).startswith(message)
    assert SECRET not in str(caught.value) and "x" * 17 not in str(caught.value)


def test_portal_forms():
    assert san.parse_portal("10.0.0.5") == ("10.0.0.5", None)
    assert san.parse_portal("10.0.0.5:3261") == ("10.0.0.5", 3261)
    assert san.parse_portal("[fd00::5]:3260") == ("fd00::5", 3260)
    assert san.parse_portal("fd00::5") == ("fd00::5", None)
    assert san.parse_portal("SAN01.example.com") == ("san01.example.com", None)


# --- plans -----------------------------------------------------------------------------------------

def test_create_plan_and_result():
    backend = MemoryBackend()
    result = run(backend)
    assert result["changed"] is True and backend.calls == [("create", "boot01")]
    volume = result["volume"]
    assert volume["root_path"] == "iscsi:10.0.0.5:6:3260:1:iqn.2026-11.com.example.san:boot01"
    assert volume["portal"] == "10.0.0.5:3260" and volume["chap_username"] == "boot01"
    assert sorted(volume) == sorted(["name", "size_bytes", "target_iqn", "lun", "portal", "initiators",
                                     "allowed_addresses", "chap_username", "mutual_chap_username", "path",
                                     "root_path", "sessions", "loaded"])
    assert result["diff"]["before"] == {} and result["diff"]["after"]["chap_secret"] == "(hidden)"
    assert SECRET not in json.dumps(result)


def test_check_mode_plans_without_calling_the_backend():
    backend = MemoryBackend()
    result = run(backend, check_mode=True)
    assert result["changed"] is True and backend.calls == [] and backend.volumes == {}
    assert result["volume"]["size_bytes"] == 64 * 1024 * 1024


def test_size_is_required_to_create_unless_cloning():
    with pytest.raises(SanInputError, match="^size is required to create volume 'boot01'"):
        run(MemoryBackend(), size=None)


def test_nothing_to_do():
    backend = MemoryBackend(volumes=[existing()])
    result = run(backend, initiators=["iqn.1991-05.com.MICROSOFT:winboot01"])
    assert result["changed"] is False and result["actions"] == [] and backend.calls == []


def test_grow_and_rounding():
    backend = MemoryBackend(volumes=[existing(size_bytes=1024)])
    assert run(backend, size="1000")["changed"] is False  # 1000 bytes round up to the 1024 there are
    assert run(backend, size="1025")["changed"] is True
    assert backend.calls == [("grow", "boot01", 1536)]


def test_shrink_is_refused():
    backend = MemoryBackend(volumes=[existing()])
    with pytest.raises(SanInputError, match=r"^size: 32MiB \(33554432 bytes\) is smaller than the current size of "
                                            r"volume 'boot01', 64MiB .* volumes only grow, never shrink"):
        run(backend, size="32M")
    assert backend.calls == []


@pytest.mark.parametrize("values, option", [
    ({"target_iqn": "iqn.2026-11.com.example.san:other"}, "target_iqn"),
    ({"lun": 2}, "lun"),
])
def test_identity_cannot_change(values, option):
    with pytest.raises(SanInputError, match="^%s: volume 'boot01' has %s .* cannot be changed" % (option, option)):
        run(MemoryBackend(volumes=[existing()]), **values)


def test_conflicts_with_other_volumes():
    other = existing(name="other", path="/srv/iscsi/other.img")
    with pytest.raises(SanInputError, match="^target_iqn: iqn.2026-11.com.example.san:boot01 is already used by volume 'other'"):
        run(MemoryBackend(volumes=[other]))
    other = existing(name="other", target_iqn="iqn.2026-11.com.example.san:other")
    with pytest.raises(SanInputError, match="^path: /srv/iscsi/boot01.img is already the backing store of volume 'other'"):
        run(MemoryBackend(volumes=[other]))
    unmanaged = existing(name=None, managed=False, path="/x.img")
    with pytest.raises(SanInputError, match="already used by target .* which sanboot.iscsi does not manage"):
        run(MemoryBackend(volumes=[unmanaged]))


def test_access_changes():
    backend = MemoryBackend(volumes=[existing()])
    result = run(backend, initiators=["iqn.1991-05.com.microsoft:winboot01"], allowed_addresses=["10.0.0.0/24"])
    assert backend.calls == [("set_access", "boot01")]
    assert result["actions"] == ["set access of volume 'boot01': initiators iqn.1991-05.com.microsoft:winboot01 -> "
                                 "iqn.1991-05.com.microsoft:winboot01; addresses none -> 10.0.0.0/24"]


@pytest.mark.parametrize("current, wanted, action", [
    (Credential("boot01", SECRET), {"username": "boot01", "secret": SECRET}, None),
    (Credential("boot01", SECRET), {"username": "boot01", "secret": OTHER_SECRET}, "CHAP secret of user boot01 changed"),
    (Credential("boot01"), {"username": "boot01", "secret": SECRET}, "CHAP secret of user boot01 set: the current one "
                                                                     "cannot be read back"),
    (Credential("old"), {"username": "boot01", "secret": SECRET}, "CHAP user old -> boot01"),
    (None, {"username": "boot01", "secret": SECRET}, "CHAP user boot01 added"),
    (Credential("boot01", SECRET), "remove", "CHAP user boot01 removed"),
])
def test_chap_is_compared_never_set_blindly(current, wanted, action):
    backend = MemoryBackend(volumes=[existing(chap=current)])
    result = run(backend, chap=None, remove_chap=True) if wanted == "remove" else run(backend, chap=wanted)
    if action is None:
        assert result["changed"] is False and backend.calls == []
    else:
        assert backend.calls == [("set_chap", "boot01")]
        assert action in result["actions"][0]
    assert SECRET not in json.dumps(result) and OTHER_SECRET not in json.dumps(result)


def test_secret_change_shows_in_the_diff_as_a_marker():
    backend = MemoryBackend(volumes=[existing()])
    diff = run(backend, check_mode=True, chap={"username": "boot01", "secret": OTHER_SECRET})["diff"]
    assert (diff["before"]["chap_secret"], diff["after"]["chap_secret"]) == ("(hidden)", "(hidden, changed)")
    assert diff["before"]["mutual_chap_secret"] is None


def test_a_volume_the_target_lost_is_loaded_again():
    backend = MemoryBackend(volumes=[existing(loaded=False)])
    result = run(backend)
    assert result["changed"] is True and backend.calls == [("create", "boot01")]
    assert result["actions"][0].startswith("load volume 'boot01' into the target again")


def test_clone_plan():
    golden = existing(name="golden", target_iqn="iqn.2026-11.com.example.san:golden", path="/srv/iscsi/golden.img")
    backend = MemoryBackend(volumes=[golden])
    result = run(backend, size=None, clone_from="golden")
    assert backend.calls == [("clone", "golden", "boot01"), ("create", "boot01")]
    assert result["clone_method"] == "reflink" and result["volume"]["size_bytes"] == golden.size_bytes
    with pytest.raises(SanInputError, match="^size: 32MiB .* is smaller than clone_from volume 'golden'"):
        run(MemoryBackend(volumes=[golden]), size="32M", clone_from="golden")
    with pytest.raises(SanInputError, match="^clone_from: there is no volume 'nosuch'"):
        run(MemoryBackend(), size=None, clone_from="nosuch")


def test_absent():
    backend = MemoryBackend(volumes=[existing(sessions=[{"initiator": "iqn.1991-05.com.microsoft:winboot01",
                                                         "address": "10.0.0.21"}])])
    desired = san.desired_from_params(params(state="absent"), backend)
    with pytest.raises(SanInputError, match="^force: volume 'boot01' has live sessions from "
                                            "iqn.1991-05.com.microsoft:winboot01; log them out first"):
        san.run_absent(backend, desired, False)
    assert backend.calls == []
    desired.force = True
    checked = san.run_absent(backend, desired, True)
    assert checked["changed"] is True and backend.calls == []
    done = san.run_absent(backend, desired, False)
    assert done["volume"] == {} and backend.calls == [("delete", "boot01", True, False)]
    assert "its data is kept in /srv/iscsi/boot01.img" in done["actions"][0]
    assert san.run_absent(backend, desired, False)["changed"] is False


def test_without_a_portal_root_path_is_null_and_a_warning_says_why():
    warnings = []
    backend = MemoryBackend(portal=None, warn=warnings.append)
    result = run(backend)
    assert result["volume"]["root_path"] is None and result["volume"]["portal"] is None
    assert "set portal" in warnings[0]
    assert run(MemoryBackend(portal=None), portal="10.9.9.9")["volume"]["root_path"].startswith("iscsi:10.9.9.9:6:3260:1:")
    assert run(MemoryBackend(portal=("127.0.0.1", 3261)), portal="10.9.9.9")["volume"]["portal"] == "10.9.9.9:3261"


def test_info(monkeypatch):
    backend = MemoryBackend(volumes=[existing(), existing(name="boot02", target_iqn="iqn.2026-11.x:boot02")])
    backends = {"memory": lambda *args: backend}
    everything = san.run_info(backends, {"backend": "memory"}, None, None)
    assert [volume["name"] for volume in everything["volumes"]] == ["boot01", "boot02"]
    one = san.run_info(backends, {"backend": "memory", "name": "boot02"}, None, None)
    assert one["volumes"][0] == everything["volumes"][1]
    assert san.run_info(backends, {"backend": "memory", "name": "nosuch"}, None, None)["volumes"] == []


def test_the_modules_argument_spec_has_every_option_of_the_contract():
    spec = volume_argument_spec()
    for option in ("name", "state", "backend", "size", "target_iqn", "target_prefix", "lun", "path", "storage_dir",
                   "initiators", "allowed_addresses", "chap", "mutual_chap", "clone_from", "portal",
                   "tgt_control_port", "config_dir", "force", "remove_data",
                   "api_url", "api_token", "validate_certs", "ca_path", "timeout"):
        assert option in spec, option
    assert spec["chap"]["options"]["secret"]["no_log"] is True
    assert spec["mutual_chap"]["options"]["secret"]["no_log"] is True
    assert spec["api_token"]["no_log"] is True
    assert sorted(BACKENDS) == ["purefa", "tgt"]


def test_a_target_named_outside_the_rules_gets_no_root_path():
    result = san.volume_result(existing(target_iqn="IQN.bad name"), ("10.0.0.5", 3260))
    assert result["root_path"] is None and result["portal"] == "10.0.0.5:3260"


# --- issue 11: CHAP left out is kept, explicit removal, option rules, order, rollback ---------------

MUTUAL = Credential("boot01-out", OTHER_SECRET)


def test_leaving_chap_out_keeps_it_and_the_result_says_so():
    """A play that lost its CHAP variable must not weaken a boot LUN to initiator-name-only access."""
    backend = MemoryBackend(volumes=[existing(mutual_chap=MUTUAL)])
    result = run(backend, chap=None)
    assert result["changed"] is False and backend.calls == []
    assert result["kept"] == ["chap", "mutual_chap"]
    assert (result["volume"]["chap_username"], result["volume"]["mutual_chap_username"]) == ("boot01", "boot01-out")
    assert result["diff"]["after"]["chap_secret"] == "(hidden)"
    assert SECRET not in json.dumps(result) and OTHER_SECRET not in json.dumps(result)


def test_leaving_mutual_chap_out_while_chap_is_given_keeps_mutual_chap():
    backend = MemoryBackend(volumes=[existing(mutual_chap=MUTUAL)])
    result = run(backend, chap={"username": "boot01", "secret": "SbtSecretCc789"})
    assert backend.calls == [("set_chap", "boot01")] and result["kept"] == ["mutual_chap"]
    volume = backend.volumes["boot01"]
    assert volume.mutual_chap is MUTUAL and volume.chap.secret == "SbtSecretCc789"
    assert "mutual CHAP" not in result["actions"][0]


def test_remove_chap_removes_chap_and_mutual_chap_and_remove_mutual_chap_only_mutual():
    backend = MemoryBackend(volumes=[existing(mutual_chap=MUTUAL)])
    result = run(backend, chap=None, remove_mutual_chap=True)
    assert backend.volumes["boot01"].chap is not None and backend.volumes["boot01"].mutual_chap is None
    assert result["kept"] == ["chap"] and "mutual CHAP user boot01-out removed" in result["actions"][0]
    result = run(backend, chap=None, remove_chap=True)
    assert backend.volumes["boot01"].chap is None and "kept" not in result
    assert "CHAP user boot01 removed" in result["actions"][0]
    assert run(backend, chap=None, remove_chap=True)["changed"] is False


def test_a_new_volume_without_chap_has_none_and_keeps_nothing():
    result = run(MemoryBackend(), chap=None)
    assert result["volume"]["chap_username"] is None and "kept" not in result


def test_a_given_secret_equal_to_the_kept_mutual_secret_is_refused():
    backend = MemoryBackend(volumes=[existing(mutual_chap=MUTUAL)])
    with pytest.raises(SanInputError, match=r"^chap.secret must differ from the secret of the mutual CHAP that volume "
                                            r"'boot01' keeps"):
        run(backend, chap={"username": "boot01", "secret": OTHER_SECRET})
    assert backend.calls == []


@pytest.mark.parametrize("values, message", [
    ({"remove_chap": True}, "chap: parameters are mutually exclusive: chap|remove_chap (remove_chap removes the CHAP"),
    ({"mutual_chap": {"username": "m", "secret": OTHER_SECRET}, "remove_mutual_chap": True},
     "mutual_chap: parameters are mutually exclusive: mutual_chap|remove_mutual_chap"),
    ({"target_iqn": "iqn.2026-11.x:y", "target_prefix": "iqn.2026-11.x"},
     "target_iqn: parameters are mutually exclusive: target_iqn|target_prefix (the target IQN is target_iqn, or"),
    ({"chap": None, "mutual_chap": {"username": "m", "secret": OTHER_SECRET}}, "mutual_chap needs chap"),
])
def test_option_rules_are_checked_by_the_core_too(values, message):
    with pytest.raises(SanInputError) as caught:
        san.desired_from_params(params(**values), MemoryBackend())
    assert str(caught.value).startswith(message)


def test_the_modules_declare_the_same_option_rules():
    from ansible_collections.sanboot.iscsi.plugins.module_utils.san import argspec, registry
    kwargs = argspec.volume_module_kwargs()
    assert sorted(map(sorted, kwargs["mutually_exclusive"])) == [["chap", "remove_chap"],
                                                                 ["mutual_chap", "remove_mutual_chap"],
                                                                 ["name", "volumes"],
                                                                 ["target_iqn", "target_prefix"]]
    assert kwargs["required_one_of"] == [["name", "volumes"]]
    assert kwargs["required_by"] == {"mutual_chap": ["chap"]}
    # An entry of volumes leaves its rules to the core, which names the entry (an option given as null is left out).
    assert "mutually_exclusive" not in kwargs["argument_spec"]["volumes"]
    for spec in (kwargs["argument_spec"], argspec.info_module_kwargs()["argument_spec"]):
        assert spec["backend"]["choices"] == sorted(registry.BACKENDS)
        assert spec["backend"]["default"] == registry.DEFAULT_BACKEND
    for option in ("remove_chap", "remove_mutual_chap"):
        assert kwargs["argument_spec"][option]["type"] == "bool"


def test_the_default_backend_is_written_once():
    """registry.DEFAULT_BACKEND is the one place; the doc fragment and the roles' defaults mirror it."""
    import pathlib
    import yaml
    from ansible_collections.sanboot.iscsi.plugins.doc_fragments.san_backends import ModuleDocFragment
    from ansible_collections.sanboot.iscsi.plugins.module_utils.san import registry
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]["backend"]
    assert documented["default"] == registry.DEFAULT_BACKEND
    assert documented["choices"] == sorted(registry.BACKENDS)
    root = pathlib.Path(__file__).resolve().parents[5]
    for role in ("san_boot_volume", "san_golden_image"):
        assert "'%s'" % registry.DEFAULT_BACKEND not in (root / "roles" / role / "defaults/main.yml").read_text(), role
    with pytest.raises(SanInputError, match="^backend is required: one of memory"):
        san.make_backend({"memory": MemoryBackend}, {"name": "x"}, None, None)


def test_chap_comes_before_access_is_widened_and_access_is_narrowed_before_chap_goes():
    backend = MemoryBackend(volumes=[existing(chap=None)])
    run(backend, initiators=["iqn.1991-05.com.microsoft:winboot01", "iqn.1991-05.com.microsoft:winboot02"])
    assert backend.calls == [("set_chap", "boot01"), ("set_access", "boot01")]
    backend.calls.clear()
    run(backend, chap=None, remove_chap=True, initiators=["iqn.1991-05.com.microsoft:winboot01"])
    assert backend.calls == [("set_access", "boot01"), ("set_chap", "boot01")]


class CountingBackend(MemoryBackend):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clone_lookups = 0
        self.rolled_back = 0
        self.fail_on = None
        self.undo_message = None

    def find_clone_source(self, clone_from):
        self.clone_lookups += 1
        return super().find_clone_source(clone_from)

    def set_access(self, current, initiators, allowed_addresses):
        if self.fail_on == "set_access":
            raise san.SanError("tgtadm --op bind --mode target failed (exit 22): invalid request")
        super().set_access(current, initiators, allowed_addresses)

    def rollback(self):
        self.rolled_back += 1
        return self.undo_message


def test_find_clone_source_runs_once_per_run():
    golden = existing(name="golden", target_iqn="iqn.2026-11.com.example.san:golden", path="/srv/iscsi/golden.img")
    backend = CountingBackend(volumes=[golden])
    result = run(backend, size=None, clone_from="golden")
    assert backend.clone_lookups == 1 and result["volume"]["size_bytes"] == golden.size_bytes


def test_a_failed_step_rolls_back_and_says_what_could_not_be_undone():
    backend = CountingBackend(volumes=[existing(chap=None)])
    backend.fail_on = "set_access"
    with pytest.raises(san.SanError) as caught:
        run(backend, initiators=["iqn.1991-05.com.microsoft:winboot02"])
    assert backend.rolled_back == 1 and str(caught.value).startswith("tgtadm --op bind --mode target failed")
    backend.undo_message = "undoing 'bind the account x to target 1' failed (...)"
    with pytest.raises(san.SanError) as caught:
        run(backend, initiators=["iqn.1991-05.com.microsoft:winboot02"])
    assert str(caught.value).endswith("; undoing 'bind the account x to target 1' failed (...)")


def test_a_change_the_target_did_not_take_is_rolled_back():
    class Forgetful(CountingBackend):
        def set_access(self, current, initiators, allowed_addresses):
            self.calls.append(("set_access", current.name))  # says yes, changes nothing

    backend = Forgetful(volumes=[existing()])
    with pytest.raises(san.SanError, match=r"does not hold the changes after they were applied \(initiators "):
        run(backend, initiators=["iqn.1991-05.com.microsoft:winboot02"])
    assert backend.rolled_back == 1


def test_no_step_is_a_placeholder():
    """Every planned step changes something (item 10): the tgt config-file step writes the file."""
    from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.tgt.backend import TgtBackend
    import tempfile
    import os
    with tempfile.TemporaryDirectory() as directory:
        image = os.path.join(directory, "boot01.img")
        open(image, "wb").close()
        os.truncate(image, 1024 * 1024)
        backend = TgtBackend({"config_dir": os.path.join(directory, "conf.d")}, None, None)
        desired = san.desired_from_params(params(size="1M", path=image), backend)
        desired.path = image
        current = existing(loaded=False, path=image, size_bytes=1024 * 1024, backend_data={})
        steps = backend.extra_steps(current, desired)
        assert [description.split(" /")[0] for description, _action in steps] == ["write the config file"]
        steps[0][1]()
        assert os.path.exists(backend.config_path("boot01"))
        assert oct(os.stat(backend.config_path("boot01")).st_mode & 0o777) == "0o600"
        assert backend.extra_steps(current, desired) == []


# --- issue 16: the batch form ----------------------------------------------------------------------

def batch_params(entries, **values):
    spec = volume_argument_spec()
    base = {option: definition.get("default") for option, definition in spec.items()}
    base.update({"backend": "memory", "target_prefix": "iqn.2026-11.com.example.san", "size": "64M",
                 "volumes": entries})
    base.update(values)
    return base


def run_batch(backend, entries, check_mode=False, **values):
    return san.run_volume({"memory": lambda params, run_command, warn: backend}, batch_params(entries, **values), None,
                          lambda message: None, check_mode)


def test_an_entry_takes_the_top_level_options_it_leaves_out_and_drops_those_its_own_exclude():
    merged = san.item_params({"target_prefix": "iqn.2026-11.x", "chap": {"username": "u", "secret": SECRET},
                              "mutual_chap": {"username": "m", "secret": OTHER_SECRET}, "size": "8G", "lun": 1,
                              "name": "ignored", "path": "/ignored"},
                             {"name": "b1", "target_iqn": "iqn.2026-11.x:other", "remove_chap": True, "size": None},
                             san.ITEM_OPTIONS)
    assert merged["name"] == "b1" and merged["path"] is None and merged["size"] == "8G" and merged["lun"] == 1
    # target_iqn wins over the inherited target_prefix; remove_chap drops chap and the mutual CHAP that needs it.
    assert merged["target_prefix"] is None and merged["chap"] is None and merged["mutual_chap"] is None


def test_a_batch_plans_every_entry_before_anything_changes_and_names_the_entry():
    backend = MemoryBackend(volumes=[existing()])
    entries = [{"name": "new1", "initiators": ["iqn.1991-05.com.microsoft:new1"]},
               {"name": "boot01", "size": "1M", "initiators": ["iqn.1991-05.com.microsoft:winboot01"]}]
    with pytest.raises(SanInputError) as caught:
        run_batch(backend, entries)
    assert str(caught.value).startswith("volumes[1].size: 1MiB (1048576 bytes) is smaller than the current size of "
                                        "volume 'boot01'")
    assert backend.calls == [] and "new1" not in backend.volumes
    with pytest.raises(SanInputError) as caught:
        run_batch(backend, [{"name": "x1", "initiators": ["iqn.1991-05.com.microsoft:x1"], "chap":
                             {"username": "x1", "secret": "short"}}])
    assert str(caught.value).startswith("volumes[0].chap.secret must be 12 to 16 characters long")
    assert "short" not in str(caught.value)
    with pytest.raises(SanInputError) as caught:
        run_batch(backend, [dict(entries[0]), dict(entries[0], name="new2", target_iqn="iqn.2026-11.com.example.san:new1",
                                                   target_prefix=None)])
    assert str(caught.value).startswith("volumes[1].target_iqn: iqn.2026-11.com.example.san:new1 is also the "
                                        "target_iqn of volumes[0]")
    assert backend.calls == []


def test_a_batch_result_is_each_entrys_single_form_result():
    batch, single = MemoryBackend(volumes=[existing()]), MemoryBackend(volumes=[existing()])
    entries = [{"name": "new1", "initiators": ["iqn.1991-05.com.microsoft:new1"]},
               {"name": "boot01", "initiators": ["iqn.1991-05.com.microsoft:winboot01"]}]
    result = run_batch(batch, entries)
    singles = [san.run_volume({"memory": lambda params, run_command, warn: single}, dict(batch_params(None), **entry),
                              None, lambda message: None, False) for entry in entries]
    assert result["volume_results"] == singles
    assert result["changed"] is True and [entry["changed"] for entry in singles] == [True, False]
    assert result["actions"] == ["new1: %s" % action for action in singles[0]["actions"]]
    assert [diff["before_header"] for diff in result["diff"]] == ["volumes[0] (volume new1)"]
    assert singles[1]["kept"] == ["chap"]


def test_info_reads_many_volumes_once_and_compares_chap_secrets_without_returning_them():
    backend = MemoryBackend(volumes=[existing(), existing(name="boot02", chap=None)])
    listed = []
    backend.list = lambda include_unmanaged=False: listed.append(1) or []
    result = san.run_info({"memory": lambda params, run_command, warn: backend},
                          {"backend": "memory", "volumes": [
                              {"name": "boot01", "chap": {"username": "boot01", "secret": SECRET}},
                              {"name": "nosuch"},
                              {"name": "boot02", "chap": {"username": "boot02", "secret": OTHER_SECRET}},
                              {"name": "boot01-again-not-there"}]}, None, None)
    volumes = result["volumes"]
    assert [volume["name"] for volume in volumes] == ["boot01", "boot02"]
    assert volumes[0]["chap_secret_differs"] is False and volumes[1]["chap_secret_differs"] is True
    assert "mutual_chap_secret_differs" not in volumes[0]
    assert SECRET not in json.dumps(result) and OTHER_SECRET not in json.dumps(result)
    with pytest.raises(SanInputError, match=r"^volumes\[0\]\.name: 'bad name' is not a volume name"):
        san.run_info({"memory": lambda params, run_command, warn: backend},
                     {"backend": "memory", "volumes": [{"name": "bad name"}]}, None, None)
