# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""labkit.osimage: the lab's golden image is a bootable disk (syslinux MBR, extlinux, Debian's kernel,
an initramfs with iscsistart and the iBFT modules), and its OS refuses to go on without an iBFT.

The boot here is QEMU's own disk, not iPXE: no firmware left an iBFT, so the initramfs must say so
and power off. The boot from SAN through iPXE, with the iBFT, is tests/integration/test_boot_lab.py.
"""

from __future__ import annotations

import subprocess

import pytest

import labkit
from labkit import boot, osimage

from ansible_collections.sanboot.iscsi.plugins.module_utils.san.image import describe_content

SERIAL_SAMPLE = """\
SYSLINUX 6.04 20210613 Copyright (C) 1994-2015 H. Peter Anvin et al
SANBOOT-OS initramfs started: 6.1.0-57-amd64
SANBOOT-OS kernel: [    0.000000] iBFT found at 0x000000000009e620.
SANBOOT-OS kernel: [    3.875064] iBFT detected.
SANBOOT-OS ibft initiator/initiator-name=iqn.2026-11.lab.sanboot:vm1
SANBOOT-OS ibft target0/target-name=iqn.2026-11.lab.sanboot.san:vm1
SANBOOT-OS ibft target0/lun=01000000
SANBOOT-OS ibft target0/chap-name=vm1-boot
SANBOOT-OS iscsistart -b: logged in with the firmware's values
SANBOOT-OS root file system: /dev/sda1 / ext4 rw,relatime 0 0
SANBOOT-OS dhcp ip=10.77.0.61 hostname=vm1
SANBOOT-OS files before: \nSANBOOT-OS files after: written-by-vm1 \nSANBOOT-OS DONE vm1
"""


def test_the_serial_report_is_read_back():
    report = osimage.parse_os_report(SERIAL_SAMPLE)
    assert report["ibft"]["initiator/initiator-name"] == "iqn.2026-11.lab.sanboot:vm1"
    assert osimage.ibft_lun(report["ibft"]["target0/lun"]) == 1
    assert report["kernel"] == ["[    0.000000] iBFT found at 0x000000000009e620.", "[    3.875064] iBFT detected."]
    assert report["login"] and report["dhcp"] == {"ip": "10.77.0.61", "hostname": "vm1"}
    assert (report["files_before"], report["files_after"], report["done"], report["failed"]) == (
        [], ["written-by-vm1"], "vm1", None)


@pytest.fixture(scope="module")
def image(root):
    return osimage.build()


def debugfs(image, command):
    return labkit.run(["debugfs", "-R", command, "%s?offset=%d" % (image.raw, osimage.PARTITION_START)]).stdout


def test_the_image_is_a_partitioned_disk_with_extlinux_the_kernel_and_the_initramfs(image, workdir):
    head = image.raw.read_bytes()[:1024 * 1024]
    assert head[:440] == osimage.MBR.read_bytes()[:440]
    # What san_image sees on a LUN that holds it: it refuses to overwrite this without force.
    assert describe_content(head) == "an MBR partition table (1 partition: type 0x83, bootable)"
    boot_dir = debugfs(image, "ls -l /boot")
    assert "vmlinuz" in boot_dir and "initrd.img" in boot_dir
    assert "ldlinux.sys" in debugfs(image, "ls -l /boot/extlinux")
    assert "sanboot-init" in debugfs(image, "ls -l /sbin")
    initrd = workdir / "initrd.img"
    debugfs(image, "dump /boot/initrd.img %s" % initrd)
    listing = subprocess.run("gzip -dc %s | cpio -t --quiet" % initrd, shell=True, capture_output=True, text=True,
                             check=True).stdout.split()
    assert {"init", "sbin/iscsistart", "bin/busybox", "lib/x86_64-linux-gnu/libcrypto.so.3"} <= set(listing)
    for module in ("e1000.ko", "iscsi_ibft.ko", "iscsi_tcp.ko", "sd_mod.ko", "ext4.ko"):
        assert any(path.endswith("/" + module) for path in listing), module
    info = labkit.run(["qemu-img", "info", "--output=json", image.qcow2]).stdout
    assert '"format": "qcow2"' in info and '"virtual-size": %d' % image.size_bytes in info
    # Cached: asking again builds nothing.
    assert osimage.build().directory == image.directory


def test_without_an_ibft_the_os_says_so_and_powers_off(image, cleanup, workdir):
    serial = workdir / "serial.log"
    serial.write_text("")
    # -snapshot: the cached image is never written.
    machine = labkit.start_daemon(cleanup, ["qemu-system-x86_64", "-accel", "tcg", "-m", "256", "-nographic",
                                            "-display", "none", "-monitor", "none", "-serial", "file:%s" % serial,
                                            "-no-reboot", "-nic", "none", "-snapshot", "-drive",
                                            "file=%s,format=raw,if=ide" % image.raw], workdir / "qemu.log")
    labkit.wait_for(lambda: not machine.alive(), 120, "the OS to power off")
    report = osimage.parse_os_report(boot.serial_text(serial))
    assert report["started"], boot.serial_text(serial)[-2000:]
    assert report["failed"] == "no iBFT: the firmware left no iSCSI Boot Firmware Table", report
    assert not report["login"] and report["done"] is None
