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


def test_target_iqn_wins_over_the_prefix_and_is_lowercased():
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
    (Credential("boot01", SECRET), None, "CHAP user boot01 removed"),
])
def test_chap_is_compared_never_set_blindly(current, wanted, action):
    backend = MemoryBackend(volumes=[existing(chap=current)])
    result = run(backend, chap=wanted)
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
                   "tgt_control_port", "config_dir", "force", "remove_data"):
        assert option in spec, option
    assert spec["chap"]["options"]["secret"]["no_log"] is True
    assert spec["mutual_chap"]["options"]["secret"]["no_log"] is True
    assert sorted(BACKENDS) == ["tgt"]


def test_a_target_named_outside_the_rules_gets_no_root_path():
    result = san.volume_result(existing(target_iqn="IQN.bad name"), ("10.0.0.5", 3260))
    assert result["root_path"] is None and result["portal"] == "10.0.0.5:3260"
