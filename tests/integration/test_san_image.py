# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""san_image against a real tgtd: images written through iSCSI with CHAP (QEMU's iscsi driver), read
back with a real initiator, the digest recorded in the volume's config file, and the refusals.

Each play is a real ansible-playbook run with the module run locally, as when it is delegated to
the storage host. While the module runs, a thread reads every process's /proc/<pid>/cmdline (what
any local user can read) and the test asserts the CHAP secret was never in one.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from labkit import tgt
from san_lab import CLIENT, PREFIX, SECRET, SanLab, private_files_only

MIB = 1024 * 1024
CHAP = {"username": "golden-in", "secret": SECRET}


@pytest.fixture
def lab(root, repo, cleanup, workdir):
    return SanLab(cleanup, workdir).start()


def disk_image(path: Path, size: int, fill: bytes, partition_type: int = 0x83) -> Path:
    """A raw disk: an MBR with one partition, then fill repeated over the first half (so it is not sparse)."""
    data = bytearray(size)
    data[446:462] = bytes([0x80, 0, 0, 0, partition_type, 0, 0, 0]) + (2048).to_bytes(4, "little") + \
        ((size // 512) - 2048).to_bytes(4, "little")
    data[510:512] = b"\x55\xaa"
    body = (fill * (size // 2 // len(fill) + 1))[:size // 2 - MIB]
    data[MIB:MIB + len(body)] = body
    path.write_bytes(bytes(data))
    return path


def qcow2(raw: Path) -> Path:
    target = raw.with_suffix(".qcow2")
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(target)], check=True)
    return target


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def parent_pid(pid: str):
    try:
        with open("/proc/%s/stat" % pid) as stream:
            return stream.read().rsplit(")", 1)[1].split()[1]
    except (OSError, IndexError):
        return None


def descends_from_this_test(pid: str) -> bool:
    """The process is ours (the ansible-playbook run, its module, qemu-img): other test runs on the
    same machine, which may use the same test secrets, are not what this test watches."""
    ancestor, seen = str(os.getpid()), 0
    while pid and pid not in ("0", "1") and seen < 64:
        if pid == ancestor:
            return True
        pid, seen = parent_pid(pid), seen + 1
    return False


class CmdlineWatch:
    """Reads the command line of every process this test started, as any local user can, until stopped."""

    def __init__(self, secrets):
        self.secrets = [secret.encode() for secret in secrets]
        self.leaks, self.qemu_seen = [], 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit() or not descends_from_this_test(entry.name):
                    continue
                try:
                    with open("/proc/%s/cmdline" % entry.name, "rb") as stream:
                        line = stream.read()
                except OSError:
                    continue
                if b"qemu-img" in line and b"driver=iscsi" in line:
                    self.qemu_seen += 1
                if any(secret in line for secret in self.secrets):
                    self.leaks.append(line.replace(b"\0", b" ").decode(errors="replace"))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()


def image_task(lab, image, name="golden", check_mode=None, ignore_errors=False, **options):
    arguments = {"image": str(image), "portal": lab.portal, "target_iqn": "%s:%s" % (PREFIX, name),
                 "initiator_iqn": CLIENT, "chap": CHAP, "tgt_control_port": lab.tgtd.control_port,
                 "config_dir": str(lab.config_dir)}
    arguments.update(options)
    task = {"name": "san_image %s" % name, "sanboot.iscsi.san_image": arguments}
    if check_mode is not None:
        task["check_mode"] = check_mode
    if ignore_errors:
        task["ignore_errors"] = True
    return task


def read_lun(lab, workdir, size, name="golden"):
    return tgt.qemu_read(workdir / ("%s.back" % name), size, lab.portal, "%s:%s" % (PREFIX, name), 1, CLIENT,
                         chap=(CHAP["username"], SECRET))


def image_line(lab, name="golden"):
    lines = [line for line in lab.config_file(name).read_text().splitlines() if line.startswith("# sanboot.iscsi image:")]
    return lines[0] if lines else None


def test_writes_through_iscsi_with_chap_once_and_refuses_what_would_destroy_data(lab, workdir):
    volume = lab.volume_task("golden", size="24M", initiators=[CLIENT], chap=CHAP)
    raw = disk_image(workdir / "image-a.raw", 16 * MIB, b"sanboot-image-a ")
    image = qcow2(raw)

    # Check mode: says what it would write, writes nothing.
    checked = lab.play(volume, image_task(lab, image, check_mode=True))
    assert checked.returncode == 0, checked.stdout[-3000:]
    would = checked[1]
    assert would["changed"] is True and would["bytes_written"] == 0
    assert would["msg"].startswith("would write %s (qcow2" % image) and "is empty" in would["msg"]
    assert not any(read_lun(lab, workdir, MIB)) and image_line(lab) is None

    # The write, at -vvv, with every command line on the machine watched.
    with CmdlineWatch([SECRET]) as watch:
        written = lab.play(image_task(lab, image), verbose=True)
    assert written.returncode == 0, written.stdout[-3000:]
    result = written[0]
    assert result["changed"] is True
    assert (result["format"], result["digest"], result["bytes_written"]) == ("qcow2", sha256(image), 16 * MIB)
    assert result["lun_size_bytes"] == 24 * MIB and result["volume"] == "golden"
    assert result["progress"] and result["progress"][-1].startswith("100%")
    assert watch.qemu_seen, "the watcher never saw qemu-img run"
    assert not watch.leaks, watch.leaks
    assert SECRET not in written.stdout + written.stderr
    assert not private_files_only(workdir, [SECRET])
    # The bytes a server reads through iSCSI are the image's.
    assert read_lun(lab, workdir, 16 * MIB) == raw.read_bytes()
    assert image_line(lab) == "# sanboot.iscsi image: digest=%s format=qcow2 size_bytes=%d state=written" % (
        sha256(image), 16 * MIB)
    assert stat.S_IMODE(lab.config_file("golden").stat().st_mode) == 0o600

    # A second run writes nothing; san_volume's own run keeps the record.
    again = lab.play(image_task(lab, image), volume, image_task(lab, image, check_mode=True))
    assert again.returncode == 0, again.stdout[-3000:]
    assert again[0]["changed"] is False and again[0]["bytes_written"] == 0 and "already holds" in again[0]["msg"]
    assert again[1]["changed"] is False and again[2]["changed"] is False
    assert image_line(lab) is not None

    # Another image is refused while the LUN holds this one, naming both; an image larger than the
    # LUN is refused even with force; nothing is written. Then force overwrites.
    other = disk_image(workdir / "image-b.raw", 8 * MIB, b"sanboot-image-b ", partition_type=0x07)
    big = workdir / "big.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(big), "32M"], check=True)
    refused = lab.play(image_task(lab, other, ignore_errors=True), image_task(lab, big, force=True, ignore_errors=True))
    message = refused[0]["msg"]
    assert refused[0].get("failed") and message.startswith("force: ")
    assert sha256(image) in message and "an MBR partition table (1 partition: type 0x83, bootable)" in message
    assert refused[1].get("failed") and "larger than LUN 1" in refused[1]["msg"], refused[1]
    assert read_lun(lab, workdir, 16 * MIB) == raw.read_bytes()
    forced = lab.play(image_task(lab, other, force=True, image_format="raw"))
    assert forced.returncode == 0 and forced[0]["changed"] and forced[0]["format"] == "raw"
    assert read_lun(lab, workdir, 8 * MIB) == other.read_bytes()

    # A write that died half-way (recorded "writing") is finished by the next run without force.
    # A wrong CHAP secret: a clear failure without the secret.
    config = lab.config_file("golden")
    config.write_text(config.read_text().replace("state=written", "state=writing"))
    resumed = lab.play(image_task(lab, other, image_format="raw"),
                       image_task(lab, other, chap={"username": "golden-in", "secret": "NotTheSecret1"},
                                  ignore_errors=True))
    assert resumed[0]["changed"] is True and "did not finish" in resumed[0]["msg"]
    assert image_line(lab).endswith("state=written")
    assert resumed[1].get("failed") and "refused the CHAP credentials" in resumed[1]["msg"], resumed[1]["msg"]
    assert "NotTheSecret1" not in resumed.stdout


def test_a_lun_with_a_file_system_and_no_record_is_refused_and_bad_input_changes_nothing(lab, workdir):
    created = lab.play(lab.volume_task("data01", size="8M", initiators=[CLIENT], chap=CHAP))
    assert created.returncode == 0, created.stdout[-3000:]
    # Someone's ext4 file system on the LUN, made behind the collection's back.
    backing = lab.storage_dir / "data01.img"
    subprocess.run(["mkfs.ext4", "-q", "-F", str(backing)], check=True)
    before = lab.snapshot()
    image = disk_image(workdir / "image.raw", 4 * MIB, b"x")
    cases = [
        (image_task(lab, image, name="data01"), r"^force: LUN 1 of \S+:data01 at \S+ already holds an ext2/3/4 file system"),
        (image_task(lab, image, name="data01", root_path="iscsi:%s:6:%s:1:%s:data01" % (
            lab.portal.split(":")[0], lab.portal.split(":")[1], PREFIX)), r"^root_path and portal and target_iqn are mutually"),
        (image_task(lab, image, name="data01", image_format="vhdx"), r"^image_format: \S+image.raw cannot be read as vhdx"),
        (image_task(lab, image, name="data01", image_format="iso"), r"^image_format: 'iso' is not one of"),
        (image_task(lab, workdir / "missing.raw", name="data01"), r"^image: \S+missing.raw is not a file"),
        (image_task(lab, image, name="nosuch"), r"^target_iqn: the tgt backend has no volume with target"),
        (image_task(lab, image, name="data01", initiator_iqn="not-an-iqn"), r"^initiator_iqn: "),
        (image_task(lab, image, name="data01", chap={"username": "u", "secret": "short"}), r"^chap.secret"),
    ]
    result = lab.play(*[dict(task, ignore_errors=True) for task, _pattern in cases])
    for (task, pattern), outcome in zip(cases, result.tasks):
        assert outcome.get("failed"), (task, outcome)
        assert re.search(pattern, outcome["msg"]), (pattern, outcome["msg"])
    assert lab.snapshot() == before
