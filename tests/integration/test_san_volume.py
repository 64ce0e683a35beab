# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""san_volume and san_volume_info against a real tgtd, proven with real initiators.

Who may log in is proven with libiscsi's iscsi-inq, iscsi-readcapacity16 and iscsi-ls (initiator
name with -i, CHAP in the URL, mutual CHAP through libiscsi's environment); data with QEMU's
iscsi driver (qemu-img, qemu-io). Each test starts its own tgtd and runs several plays against
it; every play is a real ansible-playbook run with the modules run locally, as when they are
delegated to the storage host.
"""

from __future__ import annotations

import json
import os
import re

import pytest

import labkit
from labkit import tgt
from san_lab import CLIENT, MUTUAL_SECRET, PREFIX, SECRET, SECRET_NEW, SanLab, private_files_only

MIB = 1024 * 1024
CHAP = {"username": "boot01-in", "secret": SECRET}
MUTUAL = {"username": "boot01-out", "secret": MUTUAL_SECRET}


@pytest.fixture
def lab(root, repo, cleanup, workdir):
    return SanLab(cleanup, workdir)


def target(name):
    return "%s:%s" % (PREFIX, name)


def login(lab, name, initiator=CLIENT, chap=(CHAP["username"], SECRET), mutual=None):
    return tgt.iscsi_inq(lab.portal, target(name), 1, initiator, chap=chap, mutual_chap=mutual)


def capacity(lab, name, initiator=CLIENT, chap=(CHAP["username"], SECRET)):
    return tgt.read_capacity(lab.portal, target(name), 1, initiator, chap=chap)


def test_create_then_only_the_right_initiator_with_the_right_chap_logs_in(lab):
    lab.start()
    before = lab.snapshot()
    # The initiator is given with capitals; it logs in with its real, lowercase name.
    create = lab.volume_task("boot01", size="64M", initiators=["IQN.2026-11.Test:Client1"], chap=CHAP,
                             mutual_chap=MUTUAL)
    result = lab.play(create, create, lab.info_task("boot01"))
    assert result.returncode == 0, result.stdout[-3000:]
    created, again, info = result[0], result[1], result[2]
    assert created["changed"] is True
    volume = created["volume"]
    assert volume == info["volumes"][0] == dict(again["volume"])
    assert volume["initiators"] == [CLIENT]
    assert volume["size_bytes"] == 64 * MIB
    assert volume["target_iqn"] == target("boot01") and volume["lun"] == 1
    assert volume["portal"] == lab.portal
    assert volume["root_path"] == "iscsi:%s:6:%d:1:%s" % (lab.tgtd.host, lab.tgtd.port, target("boot01"))
    assert (volume["chap_username"], volume["mutual_chap_username"]) == ("boot01-in", "boot01-out")
    assert volume["path"] == str(lab.storage_dir / "boot01.img") and volume["sessions"] == []
    # Second identical run: nothing to do, CHAP included.
    assert again["changed"] is False and again["actions"] == []
    assert lab.snapshot() != before

    # The right initiator with the right CHAP logs in and reads the right capacity.
    assert login(lab, "boot01").returncode == 0
    assert capacity(lab, "boot01") == 64 * MIB
    assert login(lab, "boot01", mutual=("boot01-out", MUTUAL_SECRET)).returncode == 0
    # Each wrong credential is refused.
    wrong_iqn = login(lab, "boot01", initiator="iqn.2026-11.test:intruder")
    assert wrong_iqn.returncode != 0 and "Target not found" in wrong_iqn.stdout + wrong_iqn.stderr
    wrong_secret = login(lab, "boot01", chap=("boot01-in", "WrongSecret99"))
    assert wrong_secret.returncode != 0 and "Authentication failure" in wrong_secret.stdout + wrong_secret.stderr
    no_chap = login(lab, "boot01", chap=None)
    assert no_chap.returncode != 0 and "Authentication failure" in no_chap.stdout + no_chap.stderr
    wrong_mutual = login(lab, "boot01", mutual=("boot01-out", "WrongMutual99"))
    assert wrong_mutual.returncode != 0
    assert tgt.list_targets(lab.portal, CLIENT, chap=("boot01-in", SECRET)) == [target("boot01")]
    assert tgt.list_targets(lab.portal, "iqn.2026-11.test:intruder") == []
    # One ACL entry, canonical lowercase; NONE keeps tgt-admin from adding ALL on a restore.
    assert lab.acl(target("boot01")) == ["NONE", CLIENT]

    # Another spelling of the same IQN: no change, no duplicate.
    respelled = lab.volume_task("boot01", size="64M", initiators=["iqn.2026-11.TEST:CLIENT1"], chap=CHAP,
                                mutual_chap=MUTUAL, target_iqn=target("boot01").upper())
    unchanged = lab.play(respelled)
    assert unchanged[0]["changed"] is False
    assert lab.acl(target("boot01")) == ["NONE", CLIENT]

    # Check mode with diff: reports the changes, changes nothing on the target or on disk.
    state = lab.snapshot()
    wanted = lab.volume_task("boot01", check_mode=True, size="128M",
                             initiators=[CLIENT, "iqn.1991-05.com.microsoft:WinBoot01"],
                             chap={"username": "boot01-in", "secret": SECRET_NEW}, mutual_chap=MUTUAL)
    checked = lab.play(wanted, diff=True)[0]
    assert checked["changed"] is True
    assert lab.snapshot() == state
    diff = checked["diff"]
    assert (diff["before"]["size_bytes"], diff["after"]["size_bytes"]) == (64 * MIB, 128 * MIB)
    assert diff["after"]["initiators"] == ["iqn.1991-05.com.microsoft:winboot01", CLIENT]
    assert (diff["before"]["chap_secret"], diff["after"]["chap_secret"]) == ("(hidden)", "(hidden, changed)")
    assert diff["before"]["mutual_chap_secret"] == diff["after"]["mutual_chap_secret"] == "(hidden)"
    assert any(action.startswith("grow volume 'boot01'") for action in checked["actions"])
    assert any("CHAP secret of user boot01-in changed" in action for action in checked["actions"])
    assert checked["volume"]["size_bytes"] == 128 * MIB

    # A real secret change: the old secret stops working, the new one works, and it is stable.
    rotate = lab.volume_task("boot01", size="64M", initiators=[CLIENT],
                             chap={"username": "boot01-in", "secret": SECRET_NEW}, mutual_chap=MUTUAL)
    # A play that lost its CHAP variables: CHAP stays as it is, and the result says so.
    lost = lab.volume_task("boot01", size="64M", initiators=[CLIENT])
    rotated = lab.play(rotate, rotate, lost)
    assert (rotated[0]["changed"], rotated[1]["changed"], rotated[2]["changed"]) == (True, False, False)
    assert rotated[2]["kept"] == ["chap", "mutual_chap"] and rotated[2]["volume"]["chap_username"] == "boot01-in"
    assert login(lab, "boot01", chap=("boot01-in", SECRET_NEW)).returncode == 0
    assert login(lab, "boot01", chap=("boot01-in", SECRET)).returncode != 0
    assert login(lab, "boot01", chap=None).returncode != 0


def test_grow_keeps_data_and_sessions_and_absent_respects_them(lab):
    lab.start()
    data = os.urandom(MIB)
    image = lab.workdir / "data.bin"
    image.write_bytes(data)
    volume = lab.volume_task("boot01", size="64M", initiators=[CLIENT], chap=CHAP)
    # A second volume shares the CHAP account (same secret): deleting boot01 must keep it.
    shared = lab.volume_task("boot02", size="1000000", allowed_addresses=["127.0.0.1"], chap=CHAP)
    created = lab.play(volume, shared)
    assert created.returncode == 0, created.stdout[-3000:]
    # 1000000 bytes are rounded up to whole 512-byte blocks.
    assert created[1]["volume"]["size_bytes"] == 1000448
    assert capacity(lab, "boot02", initiator="iqn.2026-11.test:any-name") == 1000448
    tgt.qemu_write(image, lab.portal, target("boot01"), 1, CLIENT, chap=("boot01-in", SECRET))

    session = tgt.QemuSession(lab.cleanup, lab.workdir, lab.portal, target("boot01"), 1, CLIENT,
                              chap=("boot01-in", SECRET))
    session.command("length", r"64 MiB")
    assert "failed" not in session.command("write -P 0x5a %d 65536" % (4 * MIB), r"wrote \d+/\d+ bytes|failed")
    grow = lab.volume_task("boot01", size="96M", initiators=[CLIENT], chap=CHAP)
    same_after_rounding = lab.volume_task("boot02", size="999999", allowed_addresses=["127.0.0.1"], chap=CHAP)
    grown = lab.play(grow, same_after_rounding, grow, lab.info_task("boot01"))
    assert grown[0]["changed"] is True and grown[0]["volume"]["size_bytes"] == 96 * MIB
    assert grown[1]["changed"] is False
    assert grown[2]["changed"] is False
    assert grown[3]["volumes"][0]["sessions"] == [{"initiator": CLIENT, "address": "127.0.0.1"}]
    # A new login sees the new capacity; the data written before is intact.
    assert capacity(lab, "boot01") == 96 * MIB
    assert tgt.qemu_read(lab.workdir / "back.bin", MIB, lab.portal, target("boot01"), 1, CLIENT,
                         chap=("boot01-in", SECRET)) == data
    # The initiator that stayed logged in through the grow still reads its data in the same session.
    answer = session.command("read -P 0x5a %d 65536" % (4 * MIB), r"read \d+/\d+ bytes|failed")
    assert "failed" not in answer

    # absent refuses while a session is logged in, and changes nothing.
    state = lab.snapshot()
    refused = lab.play(lab.volume_task("boot01", state="absent", ignore_errors=True))[0]
    assert refused["failed"] is True
    assert refused["msg"].startswith("force: volume 'boot01' has live sessions from %s" % CLIENT)
    assert lab.snapshot() == state
    # force cuts the session off and deletes target, bindings and config file; the data stays.
    removed = lab.play(lab.volume_task("boot01", state="absent", force=True),
                       lab.volume_task("boot01", state="absent", force=True), lab.info_task())
    assert (removed[0]["changed"], removed[1]["changed"]) == (True, False)
    assert [volume["name"] for volume in removed[2]["volumes"]] == ["boot02"]
    assert target("boot01") not in lab.tgtd.show_targets()
    assert not lab.config_file("boot01").exists()
    assert (lab.storage_dir / "boot01.img").stat().st_size == 96 * MIB
    assert "boot01-in" in lab.tgtd.accounts()  # boot02 still uses it
    assert capacity(lab, "boot02", initiator="iqn.2026-11.test:any-name", chap=("boot01-in", SECRET)) == 1000448

    # remove_data deletes the backing file too, and the account nobody uses any more.
    gone = lab.play(lab.volume_task("boot02", state="absent", remove_data=True))[0]
    assert gone["changed"] is True
    assert not (lab.storage_dir / "boot02.img").exists() and not lab.config_file("boot02").exists()
    assert lab.tgtd.accounts() == [] and lab.tgtd.tids() == []


def test_a_fresh_tgtd_gets_every_volume_back_from_the_play_or_from_the_config_files(lab):
    lab.start()
    data = os.urandom(MIB)
    (lab.workdir / "data.bin").write_bytes(data)
    tasks = [lab.volume_task("boot01", size="64M", initiators=[CLIENT], chap=CHAP, mutual_chap=MUTUAL),
             lab.volume_task("boot02", size="32M", allowed_addresses=["127.0.0.0/8"],
                             chap={"username": "boot02-in", "secret": SECRET_NEW})]
    assert lab.play(*tasks).returncode == 0
    tgt.qemu_write(lab.workdir / "data.bin", lab.portal, target("boot01"), 1, CLIENT, chap=("boot01-in", SECRET))
    served = lab.tgtd.show_targets()
    accounts = lab.tgtd.accounts()

    def all_back():
        assert login(lab, "boot01", mutual=("boot01-out", MUTUAL_SECRET)).returncode == 0
        assert login(lab, "boot01", initiator="iqn.2026-11.test:intruder").returncode != 0
        assert capacity(lab, "boot02", initiator="iqn.2026-11.test:other", chap=("boot02-in", SECRET_NEW)) == 32 * MIB
        assert tgt.qemu_read(lab.workdir / "back.bin", MIB, lab.portal, target("boot01"), 1, CLIENT,
                             chap=("boot01-in", SECRET)) == data
        assert sorted(lab.tgtd.accounts()) == sorted(accounts)
        assert lab.acl(target("boot01")) == ["NONE", CLIENT]
        assert lab.acl(target("boot02")) == ["127.0.0.0/8"]

    # A crash, and a fresh tgtd that knows nothing: the volumes are recorded but not served.
    lab.tgtd.kill()
    lab.tgtd = lab.tgtd.start_again()
    assert lab.tgtd.show_targets() == ""
    lost = lab.play(lab.info_task())[0]
    assert [(volume["name"], volume["loaded"]) for volume in lost["volumes"]] == [("boot01", False), ("boot02", False)]
    # The same play brings everything back.
    back = lab.play(*tasks)
    assert back[0]["changed"] is True and back[1]["changed"] is True
    all_back()
    assert _without_sessions(lab.tgtd.show_targets()) == _without_sessions(served)
    assert [task["changed"] for task in lab.play(*tasks).tasks] == [False, False]

    # Again, but restored by tgt-admin from the config files alone.
    lab.tgtd.kill()
    lab.tgtd = lab.tgtd.start_again()
    top = lab.workdir / "targets.conf"
    top.write_text("include %s/*.conf\n" % lab.config_dir)
    restored = labkit.run(["tgt-admin", "-e", "-C", str(lab.tgtd.control_port), "-c", str(top)], check=False)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    all_back()
    # What tgt-admin made is exactly what the modules make: nothing to change.
    assert [task["changed"] for task in lab.play(*tasks).tasks] == [False, False]


def test_parallel_runs_share_one_tgtd_and_a_lost_config_file_is_written_again(lab, workdir):
    lab.start()
    # Six servers' volumes at once (forks), as a play delegating to the storage host makes them,
    # all with one shared CHAP account.
    inventory = workdir / "inventory.ini"
    inventory.write_text("[servers]\n" + "".join("server%d ansible_connection=local\n" % index for index in range(6)))
    shared = {"username": "shared-in", "secret": SECRET}
    play = [{"hosts": "servers", "gather_facts": False,
             "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
             "tasks": [{"sanboot.iscsi.san_volume": dict(lab.defaults(), name="{{ inventory_hostname }}", size="8M",
                                                         target_prefix=PREFIX, initiators=[CLIENT], chap=shared,
                                                         storage_dir=str(lab.storage_dir))}]}]
    playbook = workdir / "servers.yml"
    playbook.write_text(json.dumps(play))
    playbook.chmod(0o600)
    command = [str(labkit.VENV_BIN / "ansible-playbook"), "-i", str(inventory), "--forks", "6", str(playbook)]
    first = labkit.run(command, check=False, env=labkit.ansible_env(), timeout=300)
    assert first.returncode == 0 and first.stdout.count("changed: [server") == 6, first.stdout[-3000:]
    assert len(lab.tgtd.tids()) == 6 and lab.tgtd.accounts() == ["shared-in"]
    second = labkit.run(command, check=False, env=labkit.ansible_env(), timeout=300)
    assert second.returncode == 0 and "changed: [" not in second.stdout, second.stdout[-3000:]
    for index in range(6):
        assert login(lab, "server%d" % index, chap=("shared-in", SECRET)).returncode == 0

    # A config file lost (or a run that stopped before writing it): the next run adopts the
    # target it finds with this volume's IQN, LUN and backing file and records the volume again.
    # The shared account's secret is known from the other volumes' files: nothing else changes.
    lab.config_file("server0").unlink()
    task = lab.volume_task("server0", size="8M", initiators=[CLIENT], chap=shared)
    again = lab.play(task, task)
    assert again[0]["changed"] is True and again[1]["changed"] is False
    assert [action.split(" /")[0] for action in again[0]["actions"]] == ["write the config file"]
    # An account no file records: its secret cannot be read back, so it is set, once.
    lone = lab.volume_task("lone", size="8M", initiators=[CLIENT], chap={"username": "lone-in", "secret": SECRET_NEW})
    assert lab.play(lone)[0]["changed"] is True
    lab.config_file("lone").unlink()
    adopted = lab.play(lone, lone)
    assert adopted[0]["changed"] is True and adopted[1]["changed"] is False
    assert "CHAP secret of user lone-in set: the current one cannot be read back" in adopted[0]["actions"][0]
    assert lab.config_file("lone").exists() and lab.config_file("server0").exists()
    assert login(lab, "lone", chap=("lone-in", SECRET_NEW)).returncode == 0
    assert login(lab, "server0", chap=("shared-in", SECRET)).returncode == 0


def _without_sessions(show_output):
    """tgtadm's target list without I_T nexus lines, and with tids dropped (they depend on order)."""
    lines = [line for line in show_output.splitlines()
             if not re.match(r"^ {8}I_T nexus|^ {12}(Initiator|Connection)|^ {16}IP Address", line)]
    return [re.sub(r"^Target \d+:", "Target:", re.sub(r"(SCSI ID: IET +|SCSI SN: beaf)\w+", r"\1", line))
            for line in lines]


def _shared_extents(path):
    output = labkit.run(["filefrag", "-v", str(path)]).stdout
    return len(re.findall(r"\bshared\b", output))


def test_clones_are_copy_on_write_on_xfs_sparse_on_ext4_and_serve_the_same_bytes(lab, cleanup, workdir):
    # Filesystems first: the cleanup stack stops tgtd (which holds the files open) before unmounting.
    mounts = {}
    for kind, size, mkfs in (("xfs", "512M", ["mkfs.xfs", "-q", "-m", "reflink=1"]), ("ext4", "128M", ["mkfs.ext4", "-q"])):
        image = workdir / ("%s.fs" % kind)
        labkit.run(["truncate", "-s", size, str(image)])
        labkit.run(mkfs + [str(image)])
        device = labkit.attach_loop(cleanup, image)
        mounts[kind] = workdir / ("mnt-%s" % kind)
        labkit.mount(cleanup, device, mounts[kind])
    lab.start()
    data = os.urandom(2 * MIB)
    (workdir / "golden.bin").write_bytes(data)
    golden = lab.volume_task("golden", size="64M", allowed_addresses=["127.0.0.1"], storage_dir=str(mounts["xfs"]))
    assert lab.play(golden).returncode == 0
    tgt.qemu_write(workdir / "golden.bin", lab.portal, target("golden"), 1, "iqn.2026-11.test:imager")

    on_xfs = lab.volume_task("clone-xfs", clone_from="golden", initiators=[CLIENT], storage_dir=str(mounts["xfs"]))
    on_ext4 = lab.volume_task("clone-ext4", clone_from="golden", size="80M", initiators=[CLIENT],
                              path=str(mounts["ext4"] / "clone-ext4.img"))
    from_image = lab.volume_task("clone-image", clone_from=str(mounts["xfs"] / "golden.img"), initiators=[CLIENT],
                                 storage_dir=str(mounts["ext4"]))
    made = lab.play(on_xfs, on_ext4, from_image, on_xfs, on_ext4)
    assert made.returncode == 0, made.stdout[-3000:]
    assert (made[0]["clone_method"], made[1]["clone_method"], made[2]["clone_method"]) == \
        ("reflink", "sparse copy", "sparse copy")
    assert (made[3]["changed"], made[4]["changed"]) == (False, False)
    assert made[0]["volume"]["size_bytes"] == 64 * MIB and made[1]["volume"]["size_bytes"] == 80 * MIB

    # Copy-on-write: the XFS clone shares the golden image's extents.
    xfs_clone = mounts["xfs"] / "clone-xfs.img"
    assert _shared_extents(xfs_clone) > 0 and _shared_extents(mounts["xfs"] / "golden.img") > 0
    # The ext4 copy is sparse: only the written data takes blocks.
    ext4_clone = os.stat(mounts["ext4"] / "clone-ext4.img")
    assert ext4_clone.st_size == 80 * MIB and ext4_clone.st_blocks * 512 < 8 * MIB
    # Every clone serves the golden bytes through iSCSI.
    for name in ("clone-xfs", "clone-ext4", "clone-image"):
        read = tgt.qemu_read(workdir / ("%s.bin" % name), 2 * MIB, lab.portal, target(name), 1, CLIENT)
        assert read == data, name

    # A clone never overwrites: not an existing file, not an existing volume's data.
    (mounts["ext4"] / "taken.img").write_bytes(b"precious")
    state = lab.snapshot()
    refused = lab.play(lab.volume_task("taken", clone_from="golden", initiators=[CLIENT],
                                       path=str(mounts["ext4"] / "taken.img"), ignore_errors=True))[0]
    assert refused["failed"] is True and refused["msg"].startswith("path: %s already exists" % (mounts["ext4"] / "taken.img"))
    assert (mounts["ext4"] / "taken.img").read_bytes() == b"precious"
    assert lab.snapshot() == state


BAD_INPUT = [
    ({"initiators": ["iqn.2026-13.test:client1"]}, "initiators: 'iqn.2026-13.test:client1' is not a valid IQN: month 13"),
    ({"target_iqn": "winboot01"}, "target_iqn: 'winboot01' looks like a target alias"),
    ({"size": "G"}, "size: size 'G' is not a size"),
    ({"name": "base", "size": "32M"}, "size: 32MiB (33554432 bytes) is smaller than the current size of volume 'base'"),
    ({"lun": 0}, "lun: LUN 0 is out of range: it must be 1 to 16383"),
    ({"lun": 16384}, "lun: LUN 16384 is out of range: it must be 1 to 16383"),
    ({"chap": {"username": "u1", "secret": "Short12345a"}}, "chap.secret must be 12 to 16 characters long"),
    ({"chap": {"username": "u1", "secret": "Much2Long4Secret1"}}, "chap.secret must be 12 to 16 characters long"),
    ({"initiators": None}, "initiators or allowed_addresses is required"),
    ({"clone_from": "nosuch", "size": None}, "clone_from: there is no volume 'nosuch' to clone"),
    ({"target_iqn": target("base")}, "target_iqn: %s is already used by volume 'base'" % target("base")),
    ({"chap": {"username": "u1", "secret": "Dollar$ecret12"}}, "chap.secret may contain only"),
    ({"chap": CHAP, "mutual_chap": {"username": "other", "secret": SECRET}}, "mutual_chap.secret must differ from chap.secret"),
    ({"allowed_addresses": ["10.0.0.5/24"]}, "allowed_addresses: address '10.0.0.5/24' has host bits set"),
    ({"name": "bad name"}, "name: 'bad name' is not a volume name"),
    # tgtd would cut the account name at the comma and take the rest for a garbage secret.
    ({"chap": {"username": "new,vol", "secret": SECRET}},
     "chap.username 'new,vol' may contain only letters, digits and _ . : @ + = % / ^ - (no comma: tgtd splits"),
    ({"chap": CHAP, "remove_chap": True}, "parameters are mutually exclusive: chap|remove_chap"),
    ({"mutual_chap": MUTUAL, "chap": None}, "missing parameter(s) required by 'mutual_chap': chap"),
    ({"target_iqn": target("newvol"), "target_prefix": PREFIX}, "parameters are mutually exclusive: "
                                                                "target_iqn|target_prefix"),
    ({"backend": "purestorage"}, "value of backend must be one of: purefa, tgt, got: purestorage"),
]


def test_bad_input_fails_naming_the_option_and_the_rule_and_changes_nothing(lab):
    lab.start()
    base = lab.volume_task("base", size="64M", initiators=[CLIENT], chap=CHAP)
    assert lab.play(base).returncode == 0
    state = lab.snapshot()
    tasks = []
    for options, _message in BAD_INPUT:
        arguments = {"name": "newvol", "size": "16M", "initiators": [CLIENT]}
        arguments.update(options)
        arguments = {key: value for key, value in arguments.items() if value is not None}
        tasks.append(lab.volume_task(arguments.pop("name"), ignore_errors=True, **arguments))
    # A daemon that is not there is a clear failure too.
    tasks.append(lab.volume_task("newvol", size="16M", initiators=[CLIENT], ignore_errors=True,
                                 tgt_control_port=tgt.pick_control_port()))
    result = lab.play(*tasks)
    assert len(result) == len(BAD_INPUT) + 1
    for (options, message), task in zip(BAD_INPUT, result.tasks):
        assert task.get("failed") is True, (options, task)
        assert task["msg"].startswith(message), (options, task["msg"])
        assert "Traceback" not in str(task)
    assert result[-1]["failed"] is True and "tgtd is not running, or not on control port" in result[-1]["msg"]
    assert lab.snapshot() == state
    for secret in (SECRET, "Dollar$ecret12", "Short12345a", "Much2Long4Secret1"):
        assert secret not in result.stdout + result.stderr


def test_a_fault_midway_through_a_creation_leaves_nothing_behind_and_a_rerun_converges(lab, workdir):
    lab.start()
    # Fault injection: a control socket in front of tgtd's refuses to bind initiator names (tgtd's error
    # 17, "invalid request"); every other request reaches the real tgtd.
    proxy = tgt.ControlProxy(lab.cleanup, lab.tgtd)
    proxy.refuse = lambda mode, op, params: 17 if (mode, op) == (1, 3) and params.startswith("initiator-name=") else 0
    before = lab.snapshot()
    task = lab.volume_task("boot01", size="64M", initiators=[CLIENT], chap=CHAP, ignore_errors=True)
    failed = lab.play(task, defaults=dict(lab.defaults(), tgt_control_port=proxy.port))[0]
    assert failed["failed"] is True
    assert failed["msg"] == "tgtadm --op bind --mode target failed (exit 22): invalid request"
    # The target, the LUN and the backing file it had made are gone again; nothing was recorded.
    assert lab.snapshot() == before
    done = lab.play(task, task)
    assert (done[0]["changed"], done[1]["changed"]) == (True, False)
    assert login(lab, "boot01").returncode == 0


def test_no_secret_in_output_verbose_output_command_lines_or_readable_files(lab, workdir):
    lab.start()
    # The module's requests, through a control socket in front of tgtd's.
    proxy = tgt.ControlProxy(lab.cleanup, lab.tgtd)
    defaults = dict(lab.defaults(), tgt_control_port=proxy.port)
    # A tgtadm in front of the real one that records every command line it is given (none is expected:
    # the module sends tgtadm's requests itself; a secret would be readable by every local user there).
    spy = workdir / "bin"
    spy.mkdir()
    log = workdir / "tgtadm-argv.log"
    (spy / "tgtadm").write_text('#!/bin/sh\nprintf "%%s\\n" "$*" >> %s\nexec %s "$@"\n' % (log, tgt.TGTADM))
    (spy / "tgtadm").chmod(0o700)
    env = {"PATH": "%s:%s" % (spy, labkit.ansible_env()["PATH"])}
    tasks = [lab.volume_task("boot01", size="64M", initiators=[CLIENT], chap=CHAP, mutual_chap=MUTUAL),
             lab.volume_task("boot01", size="64M", initiators=[CLIENT], mutual_chap=MUTUAL,
                             chap={"username": "boot01-in", "secret": SECRET_NEW}),
             lab.volume_task("boot01", check_mode=True, size="64M", initiators=[CLIENT], mutual_chap=MUTUAL,
                             chap={"username": "boot01-in", "secret": SECRET}),
             lab.volume_task("boot01", size="64M", initiators=[CLIENT], ignore_errors=True,
                             chap={"username": "boot01-in", "secret": SECRET + "toolong"}),
             lab.info_task()]
    verbose = lab.play(*tasks, diff=True, verbose=True, env=env, defaults=defaults)
    assert verbose.returncode == 0, verbose.stdout[-3000:]
    output = verbose.stdout + verbose.stderr
    assert "changed: [localhost]" in output and "AnsiballZ_san_volume.py" in output and "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output
    for secret in (SECRET, SECRET_NEW, MUTUAL_SECRET, SECRET + "toolong"):
        assert secret not in output
    assert "chap.secret must be 12 to 16 characters long" in output
    # The accounts were made and bound over the control socket; no tgtadm command line held a secret.
    commands = log.read_text() if log.exists() else ""
    assert (7, 3, "user=boot01-in") in proxy.requests and (7, 0, "user=boot01-in,password=%s" % SECRET_NEW) in proxy.requests
    for secret in (SECRET, SECRET_NEW, MUTUAL_SECRET):
        assert secret not in commands
    # The secrets are on disk only in files no one but root can read.
    assert SECRET_NEW in lab.config_file("boot01").read_text()
    assert oct(lab.config_file("boot01").stat().st_mode & 0o777) == "0o600"
    assert private_files_only(workdir, (SECRET, SECRET_NEW, MUTUAL_SECRET)) == []
    assert private_files_only(tgt.RUN_DIR, (SECRET, SECRET_NEW, MUTUAL_SECRET)) == []
    # ... and the secret set is the one that works.
    assert login(lab, "boot01", chap=("boot01-in", SECRET_NEW), mutual=("boot01-out", MUTUAL_SECRET)).returncode == 0

    # An identical run compares and leaves the accounts alone: not one account request but the listing.
    del proxy.requests[:]
    again = lab.play(tasks[1], env=env, defaults=defaults)[0]
    assert again["changed"] is False
    assert (1, 2, "") in proxy.requests and [request for request in proxy.requests if request[0] == 7] == [(7, 2, "")]
