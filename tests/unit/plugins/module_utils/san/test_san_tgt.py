# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tgt backend's pure parts: tgtadm output parsers (fixtures captured from tgt 1.0.85), the config
file renderer and reader, the control-socket request encoding, cloning, and its input rules."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.tgt import backend as tgt_backend
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.tgt import clone as tgt_clone
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.tgt import config as tgt_config
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.tgt import control as tgt_control
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.tgt import parser as tgt_parser
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import Credential, Desired, SanError, SanInputError

FIXTURES = Path(__file__).parent / "fixtures" / "tgt"


def fixture(name):
    return (FIXTURES / name).read_text()


@pytest.fixture
def targets():
    return {target.tid: target for target in tgt_parser.parse_show_target(fixture("show_target_sessions.txt"))}


def test_targets_luns_and_backing_stores(targets):
    assert sorted(targets) == [1, 2, 4, 7]
    boot = targets[1]
    assert boot.name == "iqn.2026-11.test.sanboot:boot01" and boot.state == "ready"
    assert sorted(boot.luns) == [0, 1]
    assert boot.luns[0].type == "controller" and boot.luns[0].path is None
    data = boot.luns[1]
    assert (data.type, data.size_mb, data.block_size, data.online, data.readonly, data.backing_type, data.path) == \
        ("disk", 67, 512, True, False, "rdwr", "/tmp/sanexp/boot01.img")
    assert targets[2].luns[3].size_mb == 1074 and targets[2].luns[3].path == "/tmp/sanexp/gold.img"
    assert sorted(targets[4].luns) == [0]


def test_sessions_accounts_and_acls(targets):
    boot, gold = targets[1], targets[2]
    assert boot.sessions == [{"nexus": 2, "initiator": "iqn.2026-11.test:client1", "addresses": ["127.0.0.1"]}]
    assert gold.sessions[0]["initiator"] == "iqn.2026-11.test:golden-writer"
    assert (boot.accounts, boot.outgoing_accounts) == (["boot01-in"], ["boot01-out"])
    assert boot.acl == ["NONE", "iqn.1991-05.com.microsoft:winboot01", "iqn.2026-11.test:client1"]
    assert boot.acl_names == ["iqn.1991-05.com.microsoft:winboot01", "iqn.2026-11.test:client1"]
    assert boot.acl_addresses == ["NONE"]
    assert gold.acl_addresses == ["10.77.0.0/24", "fd00:77::/64", "127.0.0.1"] and gold.acl_names == []
    assert (gold.accounts, gold.outgoing_accounts) == ([], [])


def test_names_are_kept_as_tgt_shows_them_and_offline_luns_are_seen(targets):
    mixed = targets[7]
    assert mixed.name == "IQN.2026-11.Test:Mixed"
    assert mixed.luns[1].online is False and mixed.acl == ["ALL"]


def test_after_logout_there_are_no_sessions_and_nothing_else_changes():
    after = {target.tid: target for target in tgt_parser.parse_show_target(fixture("show_target_no_sessions.txt"))}
    assert all(target.sessions == [] for target in after.values())
    assert after[1].acl == ["NONE", "iqn.1991-05.com.microsoft:winboot01", "iqn.2026-11.test:client1"]


def test_no_targets_and_garbage():
    assert tgt_parser.parse_show_target("") == []
    with pytest.raises(tgt_parser.TgtParseError, match="line 1 .* not a target header"):
        tgt_parser.parse_show_target("tgtadm: something unexpected\n")
    with pytest.raises(tgt_parser.TgtParseError, match="before any target"):
        tgt_parser.parse_show_target("    LUN information:\n")


def test_portals_and_accounts():
    assert tgt_parser.parse_show_portal(fixture("show_portal.txt")) == [("127.0.0.1", 13262)]
    assert tgt_parser.parse_show_portal(fixture("show_portal_ipv6.txt")) == [("::1", 49449), ("127.0.0.1", 49449)]
    # tgtd's default portals, in the format of its show code (iscsi_target_show_portals).
    assert tgt_parser.parse_show_portal("Portal: 0.0.0.0:3260,1\nPortal: [::]:3260,1\n") == [("0.0.0.0", 3260), ("::", 3260)]
    assert tgt_parser.parse_show_account(fixture("show_account.txt")) == ["boot01-out", "boot01-in"]
    assert tgt_parser.parse_show_account("Account list:\n") == []


@pytest.mark.parametrize("size_bytes, shown", [
    (67108864, 67),       # 64 MiB, fixture target 1
    (1073741824, 1074),   # 1 GiB, fixture target 2
    (1049088, 1),         # 1 MiB + 512, fixture target 7
    (104857600, 105),     # 100 MiB, seen after a grow
    (146800640, 147),     # 140 MiB, seen after a grow
])
def test_the_size_tgtadm_shows_is_computed_exactly(size_bytes, shown):
    assert tgt_parser.tgt_display_mb(size_bytes) == shown


def test_initiators_see_whole_blocks():
    assert tgt_parser.exposed_size(1000000) == 999936  # measured with iscsi-readcapacity16
    assert tgt_parser.exposed_size(1049088) == 1049088


RECORD = {"name": "boot01", "size_bytes": 67108864, "target_iqn": "iqn.2026-11.test.sanboot:boot01", "lun": 1,
          "path": "/srv/iscsi/boot01.img", "initiators": ["iqn.2026-11.test:client1"], "allowed_addresses": [],
          "chap": Credential("boot01-in", "SbtSecretAa123"), "mutual_chap": Credential("boot01-out", "SbtMutualCc789")}


def test_config_file_in_tgt_admin_syntax():
    text = tgt_config.render_config(RECORD)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert lines == [
        "<target iqn.2026-11.test.sanboot:boot01>",
        "<backing-store /srv/iscsi/boot01.img>",
        "lun 1",
        "</backing-store>",
        "initiator-address NONE",
        "initiator-name iqn.2026-11.test:client1",
        "incominguser boot01-in SbtSecretAa123",
        "outgoinguser boot01-out SbtMutualCc789",
        "</target>",
    ]
    assert "# sanboot.iscsi volume: name=boot01 size_bytes=67108864 format=1" in text
    assert tgt_config.render_config(dict(RECORD)) == text


def test_addresses_replace_none_and_names_follow():
    record = dict(RECORD, allowed_addresses=["10.0.0.0/24", "10.1.1.5"], chap=None, mutual_chap=None)
    text = tgt_config.render_config(record)
    assert "initiator-address NONE" not in text
    assert text.index("initiator-address 10.0.0.0/24") < text.index("initiator-address 10.1.1.5") \
        < text.index("initiator-name iqn.2026-11.test:client1")
    assert "incominguser" not in text and "outgoinguser" not in text
    assert tgt_config.acl_rules(["iqn.x:y"], []) == ["NONE", "iqn.x:y"]
    assert tgt_config.acl_rules(["iqn.x:y"], ["10.0.0.1"]) == ["10.0.0.1", "iqn.x:y"]


def test_config_round_trip():
    for record in (RECORD, dict(RECORD, allowed_addresses=["fd00::/64"], initiators=[], chap=None, mutual_chap=None)):
        parsed = tgt_config.parse_config(tgt_config.render_config(record))
        for key in ("name", "size_bytes", "target_iqn", "lun", "path", "initiators", "allowed_addresses", "chap",
                    "mutual_chap"):
            assert parsed[key] == record[key], key


def test_files_sanboot_iscsi_did_not_write_are_not_read():
    hand_made = "<target iqn.2026-11.test:other>\n    backing-store /srv/other.img\n</target>\n"
    assert tgt_config.parse_config(hand_made) is None


def test_private_file_is_0600_from_the_start_and_replaced_atomically(tmp_path):
    path = tmp_path / "sanboot-boot01.conf"
    path.write_text("old\n")
    os.chmod(path, 0o644)
    tgt_config.write_private_file(str(path), "new secret\n")
    assert path.read_text() == "new secret\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [entry.name for entry in tmp_path.iterdir()] == ["sanboot-boot01.conf"]


def test_control_socket_request_is_byte_for_byte_what_tgtadm_sends():
    captured = bytes.fromhex([line for line in fixture("tgtadm_account_new_request.hex").splitlines()
                              if not line.startswith("#")][0])
    control = tgt_control.TgtControl
    encoded = control.encode(control.MODE_ACCOUNT, control.OP_NEW, "user=boot01-in,password=SbtSecretAa123")
    assert encoded == captured
    assert control.HEADER.size == 120


def test_every_request_is_byte_for_byte_what_tgtadm_sends_for_the_same_command_line():
    captured = json.loads(fixture("tgtadm_requests.json"))["requests"]
    assert len(captured) >= 20
    for entry in captured:
        mode, op, params, fields = tgt_control.request_from_argv(entry["argv"])
        assert tgt_control.TgtControl.encode(mode, op, params, **fields) == bytes.fromhex(entry["request"]), entry["argv"]


def test_a_command_line_outside_what_is_captured_is_refused_not_guessed():
    with pytest.raises(ValueError):
        tgt_control.request_from_argv(["--op", "new", "--mode", "logicalunit", "--tid", "1", "--lun", "1", "--bstype", "aio"])


def test_sparse_copy_keeps_content_and_holes(tmp_path):
    source = tmp_path / "gold.img"
    with open(source, "wb") as stream:
        stream.truncate(32 * 1024 * 1024)
        stream.seek(4096)
        stream.write(b"boot sector" * 100)
        stream.seek(20 * 1024 * 1024)
        stream.write(os.urandom(65536))
    destination = tmp_path / "clone.img"
    method = tgt_clone.clone_file(str(source), str(destination))
    assert method in ("reflink", "sparse copy")
    assert destination.read_bytes() == source.read_bytes()
    assert stat.S_IMODE(destination.stat().st_mode) == 0o600
    if method == "sparse copy":
        assert destination.stat().st_blocks * 512 < 2 * 1024 * 1024


def test_clone_never_overwrites(tmp_path):
    source, destination = tmp_path / "gold.img", tmp_path / "taken.img"
    source.write_bytes(b"gold")
    destination.write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        tgt_clone.clone_file(str(source), str(destination))
    assert destination.read_bytes() == b"precious"


def _desired(**values):
    base = {"name": "boot01", "target_iqn": "iqn.2026-11.test:boot01", "initiators": ["iqn.2026-11.test:client1"],
            "size_bytes": 1024}
    base.update(values)
    return Desired(**base)


@pytest.mark.parametrize("chap, mutual_chap, message", [
    ({"username": "boot 01", "secret": "SbtSecretAa123"}, None, "chap.username 'boot 01' may contain only"),
    # tgtd splits "user=...,password=..." at the first comma: the account would get another name.
    ({"username": "boot,01", "secret": "SbtSecretAa123"}, None,
     "chap.username 'boot,01' may contain only letters, digits and _ . : @ + = % / ^ - (no comma: tgtd splits "
     "'user=...,password=...' at the first comma"),
    ({"username": "boot01", "secret": "Sbt'Secret123"}, None, "chap.secret may contain only letters"),
    ({"username": "u", "secret": "SbtSecretAa123"}, {"username": "m", "secret": "Sbt#ecretAa123"},
     "mutual_chap.secret may contain only"),
    ({"username": "u", "secret": "SbtSecretAa123"}, {"username": "m,x", "secret": "SbtMutualCc789"},
     "mutual_chap.username 'm,x' may contain only"),
    ({"username": "sanboot-rotate-1a2b3c4d", "secret": "SbtSecretAa123"}, None,
     "chap.username 'sanboot-rotate-1a2b3c4d' must not start with sanboot-rotate- on the tgt backend"),
])
def test_tgt_credential_rules_are_checked_by_the_core_before_anything(chap, mutual_chap, message):
    from ansible_collections.sanboot.iscsi.plugins.module_utils.san import core as san
    params = {"name": "boot01", "target_prefix": "iqn.2026-11.test", "initiators": ["iqn.2026-11.test:client1"],
              "size": "1M", "chap": chap, "mutual_chap": mutual_chap}
    with pytest.raises(SanInputError) as caught:
        san.desired_from_params(params, tgt_backend.TgtBackend({}, None, None))
    assert str(caught.value).startswith(message)
    for credential in (chap, mutual_chap):
        if credential is not None:
            assert credential["secret"] not in str(caught.value)


def test_a_comma_in_a_secret_is_carried():
    """Everything after "password=" is the secret for tgtd (measured: a login with it works)."""
    from ansible_collections.sanboot.iscsi.plugins.module_utils.san import core as san
    params = {"name": "boot01", "target_prefix": "iqn.2026-11.test", "initiators": ["iqn.2026-11.test:client1"],
              "size": "1M", "chap": {"username": "boot01", "secret": "Sbt,SecretAa1"}}
    assert san.desired_from_params(params, tgt_backend.TgtBackend({}, None, None)).chap.secret == "Sbt,SecretAa1"


@pytest.mark.parametrize("values, params, message", [
    ({"chap": Credential("u", "SbtSecretAa123"), "mutual_chap": Credential("u", "SbtMutualCc789")}, {},
     "mutual_chap.username must differ from chap.username on the tgt backend"),
    ({}, {"path": "/srv/iscsi/boot 01.img"}, "path: '/srv/iscsi/boot 01.img' must be an absolute path"),
    ({}, {"path": "relative.img"}, "path: 'relative.img' must be an absolute path"),
    ({}, {"config_dir": "/etc/tgt/conf.d\"x"}, "config_dir: "),
    ({}, {"tgt_control_port": 70000}, "tgt_control_port: 70000 is out of range"),
])
def test_tgt_input_rules(values, params, message):
    backend = tgt_backend.TgtBackend(dict(params), None, None)
    with pytest.raises(SanInputError) as caught:
        backend.validate(_desired(**values), params)
    assert str(caught.value).startswith(message)
    for credential in (values.get("chap"), values.get("mutual_chap")):
        if credential is not None:
            assert credential.secret not in str(caught.value)


def test_default_path_is_under_storage_dir():
    backend = tgt_backend.TgtBackend({"storage_dir": "/data/luns"}, None, None)
    desired = _desired()
    backend.validate(desired, {"storage_dir": "/data/luns"})
    assert desired.path == "/data/luns/boot01.img"
    # A batch's entry gives its own storage_dir (the module's top level has none, or another one).
    batch = tgt_backend.TgtBackend({"storage_dir": None}, None, None)
    entry = _desired()
    batch.validate(entry, {"storage_dir": "/data/rack2"})
    assert entry.path == "/data/rack2/boot01.img"


def test_the_san_lock_waits_a_bounded_time_and_names_its_holder(tmp_path, monkeypatch):
    """Two runs against one tgtd: the second waits at most lock_wait, then names the first."""
    from ansible_collections.sanboot.iscsi.plugins.module_utils import locking
    socket_path, lock_path = tmp_path / "socket.7", tmp_path / "sanboot-iscsi.7.lock"
    socket_path.write_text("")
    monkeypatch.setattr(tgt_backend, "CONTROL_SOCKET", str(tmp_path / "socket.%d"))
    monkeypatch.setattr(tgt_backend, "LOCK_FILE", str(tmp_path / "sanboot-iscsi.%d.lock"))
    first = tgt_backend.TgtBackend({"tgt_control_port": 7, "name": "boot01"}, None, None)
    first.lock()
    second = tgt_backend.TgtBackend({"tgt_control_port": 7, "name": "boot02"}, None, None)
    second.lock_wait = 0.3
    with pytest.raises(SanError) as caught:
        second.lock()
    message = str(caught.value)
    assert message.startswith("another run has held the lock of the tgtd on control port 7 (%s) for 0 s: pid %d "
                              "(san_volume, volume 'boot01') since " % (lock_path, os.getpid())), message
    assert message.endswith("nothing was changed, run again when it is done")
    first.close()
    second.lock()
    assert "volume 'boot02'" in locking.describe_holder(os.open(lock_path, os.O_RDONLY))
    second.close()


def test_a_config_file_that_cannot_be_read_is_named_with_the_reason(tmp_path):
    config_dir = tmp_path / "conf.d"
    config_dir.mkdir()
    (config_dir / "sanboot-boot01.conf").write_bytes(b"# sanboot.iscsi volume: name=boot01 \xff\xfe\n")
    (config_dir / "sanboot-boot02.conf").mkdir()
    warnings = []
    backend = tgt_backend.TgtBackend({"config_dir": str(config_dir)}, None, warnings.append)
    with pytest.raises(SanError) as caught:
        backend.get("boot01")
    assert str(caught.value) == ("config_dir: the config file of volume 'boot01', %s, cannot be read: it is not UTF-8 "
                                 "text (byte 36); nothing was changed (fix or remove the file)"
                                 % (config_dir / "sanboot-boot01.conf"))
    with pytest.raises(SanError, match="cannot be read: it is not a regular file"):
        backend.get("boot02")
    backend.targets = lambda refresh=False: []
    assert backend.list() == []
    assert warnings == ["config_dir: %s cannot be read (it is not UTF-8 text (byte 36)); the volume it describes is not "
                        "listed" % (config_dir / "sanboot-boot01.conf"),
                        "config_dir: %s cannot be read (it is not a regular file); the volume it describes is not "
                        "listed" % (config_dir / "sanboot-boot02.conf")]
