# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The core of san_image: option rules, what a LUN holds, the write/skip/refuse decision, the
qemu-img options (never a secret), progress, and the tgt backend's image record line. qemu-img and
tgtd themselves run in tests/integration/test_san_image.py."""

from __future__ import annotations

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils.san import image as san_image
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.tgt import config as san_tgt
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import Credential, SanInputError

SECRET = "SbtSecretAa123"
DIGEST = "sha256:" + "ab" * 32
OTHER_DIGEST = "sha256:" + "cd" * 32


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "disk.qcow2"
    path.write_bytes(b"QFI\xfb" + bytes(60))
    return str(path)


def params(path, **changes):
    values = {"image": path, "image_format": None, "root_path": "iscsi:10.0.0.5:6:3260:1:iqn.2026-11.test:golden",
              "portal": None, "target_iqn": None, "lun": None, "initiator_iqn": "IQN.2026-11.test:Imaging",
              "chap": {"username": "imaging", "secret": SECRET}, "mutual_chap": None, "force": False}
    values.update(changes)
    return values


def test_the_lun_comes_from_the_root_path_or_from_portal_target_and_lun(image):
    by_root_path = san_image.request_from_params(params(image))
    assert (by_root_path.lun.portal, by_root_path.lun.target_iqn, by_root_path.lun.lun) == (
        "10.0.0.5:3260", "iqn.2026-11.test:golden", 1)
    assert by_root_path.initiator_iqn == "iqn.2026-11.test:imaging"
    by_parts = san_image.request_from_params(params(image, root_path=None, portal="[fd00::5]", target_iqn="iqn.2026-11.test:G"))
    assert (by_parts.lun.portal, by_parts.lun.target_iqn, by_parts.lun.lun) == ("[fd00::5]:3260", "iqn.2026-11.test:g", 1)
    assert SECRET not in repr(by_parts)


@pytest.mark.parametrize("changes, message", [
    ({"image": "/nonexistent/disk.img"}, r"^image: /nonexistent/disk.img is not a file"),
    ({"image_format": "iso"}, r"^image_format: 'iso' is not one of raw, qcow2"),
    ({"portal": "10.0.0.5"}, r"^root_path and portal are mutually exclusive"),
    ({"root_path": None}, r"^root_path, or portal and target_iqn, is required"),
    ({"root_path": "iscsi:10.0.0.5:6:3260:1:iqn.2026-11.test:golden", "lun": 2}, r"^lun: 2 differs from the LUN in root_path"),
    ({"root_path": "iscsi:10.0.0.5:6:3260:0:iqn.2026-11.test:golden"}, r"^lun: 0 is the target's controller"),
    ({"root_path": "nfs:10.0.0.5:/x"}, r"^root_path: "),
    ({"initiator_iqn": None}, r"^initiator_iqn: required"),
    ({"initiator_iqn": "iqn.bad"}, r"^initiator_iqn: "),
    ({"chap": {"username": "imaging", "secret": "short"}}, r"^chap.secret"),
    ({"mutual_chap": {"username": "target", "secret": SECRET}}, r"^mutual_chap.secret must differ"),
])
def test_bad_options_fail_naming_the_option_and_never_the_secret(image, changes, message):
    with pytest.raises(SanInputError, match=message) as raised:
        san_image.request_from_params(params(image, **changes))
    assert SECRET not in str(raised.value)


def test_vhd_is_qemu_imgs_vpc(image):
    assert san_image.request_from_params(params(image, image_format="VHD")).image_format == "vpc"


def mbr(*entries):
    head = bytearray(1024 * 1024)
    for index, (boot, kind) in enumerate(entries):
        head[446 + 16 * index] = boot
        head[446 + 16 * index + 4] = kind
    head[510:512] = b"\x55\xaa"
    return head


@pytest.mark.parametrize("head, expected", [
    (bytes(1024 * 1024), None),
    (mbr((0x80, 0x07)), "an MBR partition table (1 partition: type 0x07, bootable)"),
    (mbr((0x80, 0x83), (0, 0x82)), "an MBR partition table (2 partitions: type 0x83, bootable; type 0x82)"),
    (mbr(), "a boot sector (MBR signature, no partitions)"),
    (bytes(512) + b"EFI PART" + bytes(1024), "a GPT partition table"),
    (bytes(3) + b"NTFS    " + bytes(600), "an NTFS file system"),
    (bytes(1080) + b"\x53\xef" + bytes(100), "an ext2/3/4 file system"),
    (b"XFSB" + bytes(100), "an XFS file system"),
    (bytes(70000) + b"\x01", "data of no known format (first non-zero byte at offset 70000)"),
])
def test_what_a_lun_holds_is_named(head, expected):
    assert san_image.describe_content(bytes(head)) == expected


def request(image, force=False):
    return san_image.request_from_params(params(image, force=force))


IMAGE = {"digest": DIGEST, "format": "qcow2", "virtual_size": 40 * 1024 * 1024}


def test_decisions_write_skip_resume_refuse_and_force(image):
    written = {"digest": DIGEST, "format": "qcow2", "size_bytes": IMAGE["virtual_size"], "state": "written"}
    assert san_image.decide(request(image), IMAGE, 64 << 20, None, None).write is True
    assert san_image.decide(request(image), IMAGE, 64 << 20, written, "an MBR partition table").write is False
    resume = san_image.decide(request(image), IMAGE, 64 << 20, dict(written, state="writing"), "an MBR partition table")
    assert resume.write and "did not finish" in resume.reason
    with pytest.raises(SanInputError, match=r"^force: LUN 1 of iqn.2026-11.test:golden at 10.0.0.5:3260 already holds "
                                            r"image sha256:cdcd.* \(qcow2, written\) and an NTFS file system; set force"):
        san_image.decide(request(image), IMAGE, 64 << 20, dict(written, digest=OTHER_DIGEST), "an NTFS file system")
    with pytest.raises(SanInputError, match=r"already holds a GPT partition table"):
        san_image.decide(request(image), IMAGE, 64 << 20, None, "a GPT partition table")
    forced = san_image.decide(request(image, force=True), IMAGE, 64 << 20, None, "a GPT partition table")
    assert forced.write and "force" in forced.reason
    # Larger than the LUN: force does not help.
    with pytest.raises(SanInputError, match=r"^image: .* is 40MiB \(41943040 bytes\), larger than LUN 1 .* \(32MiB, "
                                            r"33554432 bytes\)"):
        san_image.decide(request(image, force=True), IMAGE, 32 << 20, None, None)


def test_records_are_checked_before_they_are_believed():
    good = {"digest": DIGEST, "format": "raw", "size_bytes": "512", "state": "written"}
    assert san_image.valid_record(good) == dict(good, size_bytes=512)
    for broken in (None, "x", dict(good, digest="md5:00"), dict(good, state="maybe"), dict(good, format="iso"),
                   dict(good, size_bytes="many")):
        assert san_image.valid_record(broken) is None


def test_qemu_image_options_name_the_secret_object_never_the_secret(image):
    options = san_image.iscsi_image_opts(request(image))
    assert options == ("driver=iscsi,transport=tcp,portal=10.0.0.5:3260,target=iqn.2026-11.test:golden,lun=1,"
                       "initiator-name=iqn.2026-11.test:imaging,user=imaging,password-secret=sanboot_chap")
    assert SECRET not in options


def test_a_secret_in_qemu_img_output_is_masked_and_the_failure_explained(image):
    text = san_image.explain_qemu_error("iSCSI: Failed to login: Authentication failure(513) %s" % SECRET, request(image))
    assert SECRET not in text and "refused the CHAP credentials" in text


def test_progress_is_kept_every_ten_percent_with_the_time():
    ticks = iter(range(100))
    progress = san_image.ProgressLog(clock=lambda: next(ticks))
    for percent in ("0.00", "1.00", "9.99", "10.01", "10.50", "55.00", "100.00"):
        progress("    (%s/100%%)" % percent)
    assert progress.lines == ["  0% after 1.0 s", " 10% after 2.0 s", " 55% after 3.0 s", "100% after 4.0 s"]


def test_the_tgt_config_file_keeps_the_image_record_and_reads_it_back():
    record = {"name": "golden", "size_bytes": 1 << 26, "target_iqn": "iqn.2026-11.test:golden", "lun": 1,
              "path": "/srv/iscsi/golden.img", "initiators": ["iqn.2026-11.test:imaging"], "allowed_addresses": [],
              "chap": Credential("imaging", SECRET), "mutual_chap": None,
              "image": {"digest": DIGEST, "format": "qcow2", "size_bytes": 41943040, "state": "written"}}
    text = san_tgt.render_config(record)
    assert text.splitlines()[3] == "# sanboot.iscsi image: digest=%s format=qcow2 size_bytes=41943040 state=written" % DIGEST
    assert san_tgt.parse_config(text)["image"] == dict(record["image"], size_bytes="41943040")
    assert "sanboot.iscsi image" not in san_tgt.render_config(dict(record, image=None))
    assert san_tgt.parse_config(san_tgt.render_config(dict(record, image=None))).get("image") is None
