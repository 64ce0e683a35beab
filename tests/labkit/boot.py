# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Machines that boot from SAN LUNs: a boot sector that proves it ran, QEMU with iPXE on a tap,
radvd for a fast iPXE, and a watcher that tells a boot from iPXE's failure within seconds.

iPXE (the ROM QEMU loads for its e1000) does DHCP, reads the root path (option 17), its
initiator name (option 203) and CHAP (175/190/191), logs in to the target and boots the LUN's
first sector, which writes a marker to the serial port.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from labkit import Cleanup, LabError, run, start_daemon

MARKER = "ISCSI-SANBOOT-MARKER-OK"

_BOOT_SECTOR_ASM = """\
bits 16
org 0x7c00
    cli
    xor ax, ax
    mov ds, ax
    mov si, msg
.next: lodsb
    test al, al
    jz .done
    mov bl, al
    mov dx, 0x3fd           ; wait until the UART can take a byte, or the firmware's last one is lost
.wait: in al, dx
    test al, 0x20
    jz .wait
    mov al, bl
    mov dx, 0x3f8
    out dx, al
    jmp .next
.done: hlt
    jmp .done
msg: db 13,10,"{marker} {name}",13,10,0
times 510-($-$$) db 0
dw 0xaa55
"""

# What iPXE prints when a boot cannot go on; each ends the attempt (iPXE then gives up on the
# device), so the watcher can stop at once instead of waiting out a timeout.
IPXE_FAILURES = (
    re.compile(r"Could not open SAN device: .*"),
    re.compile(r"Could not boot from SAN device: .*"),
    re.compile(r"No configuration methods succeeded.*"),
    re.compile(r"Could not (?:start|configure|describe) .*"),
    re.compile(r"No more network devices.*"),
)


def build_boot_sector(workdir: Path, name: str) -> Path:
    """A 512-byte MBR that prints '<MARKER> <name>' on COM1 and halts."""
    if not re.match(r"^[A-Za-z0-9._-]{1,40}$", name):
        raise LabError("boot sector name %r: use 1 to 40 letters, digits, '.', '_' or '-'" % name)
    source = workdir / ("bootsect-%s.asm" % name)
    image = workdir / ("bootsect-%s.bin" % name)
    source.write_text(_BOOT_SECTOR_ASM.format(marker=MARKER, name=name))
    run(["nasm", "-f", "bin", "-o", image, source])
    if image.stat().st_size != 512:
        raise LabError("nasm produced %d bytes, not a 512-byte boot sector" % image.stat().st_size)
    return image


def add_tap(cleanup: Cleanup, netns: str, name: str, bridge: str) -> str:
    run(["ip", "-n", netns, "tuntap", "add", "dev", name, "mode", "tap"])
    cleanup.push("delete tap %s" % name, run, ["ip", "-n", netns, "link", "delete", name], False)
    run(["ip", "-n", netns, "link", "set", name, "master", bridge, "up"])
    return name


def start_radvd(cleanup: Cleanup, netns: str, interface: str, prefix: str, workdir: Path):
    """Router adverts make iPXE finish IPv6 autoconfiguration at once (~6 s boot instead of ~19 s)."""
    config = workdir / "radvd.conf"
    config.write_text(
        "interface %s { AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 10; AdvDefaultLifetime 0;\n"
        "  prefix %s { AdvOnLink on; AdvAutonomous on; }; };\n" % (interface, prefix))
    run(["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"], netns=netns)
    return start_daemon(cleanup, ["radvd", "-n", "-C", config, "-p", workdir / "radvd.pid", "-m", "stderr"],
                        workdir / "radvd.log", netns=netns)


def start_vm(cleanup: Cleanup, netns: str, tap: str, mac: str, serial_log: Path, memory_mb: int = 128,
             extra_args=()):
    """A QEMU machine whose only boot device is its NIC's iPXE ROM. TCG: the CPU here has no
    virtualisation extensions, and iPXE hangs under a /dev/kvm without them. extra_args: more QEMU
    options (a QMP socket, say)."""
    serial_log.write_text("")
    argv = ["qemu-system-x86_64", "-accel", "tcg", "-m", str(memory_mb), "-nographic", "-display", "none",
            "-monitor", "none", "-serial", "file:%s" % serial_log, "-no-reboot",
            "-netdev", "tap,id=net0,ifname=%s,script=no,downscript=no" % tap,
            "-device", "e1000,netdev=net0,mac=%s" % mac, "-boot", "n"] + [str(arg) for arg in extra_args]
    return start_daemon(cleanup, argv, serial_log.with_suffix(".qemu.log"), netns=netns)


def serial_text(serial_log: Path) -> str:
    """The serial output without ANSI colour codes and carriage returns."""
    try:
        raw = serial_log.read_text(errors="replace")
    except OSError:
        return ""
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", raw).replace("\r", "")


def wait_for_boot(serial_log: Path, name: str, timeout: float = 90.0, vm=None) -> tuple:
    """Return ("booted", text) when the marker for name appears, ("failed", iPXE's line) as soon as
    iPXE reports a failure, or ("timeout", text). Never waits out iPXE's own timeouts."""
    expected = "%s %s\n" % (MARKER, name)
    deadline = time.monotonic() + timeout
    while True:
        text = serial_text(serial_log)
        # Whole lines only: QEMU writes the serial port byte by byte, so a read can end inside a line, and a
        # verdict taken from half of iPXE's error line (or of another machine's marker) would be wrong.
        lines = text[:text.rfind("\n") + 1]
        if expected in lines:
            return "booted", text
        for pattern in IPXE_FAILURES:
            match = pattern.search(lines)
            if match:
                return "failed", match.group(0).strip()
        if vm is not None and not vm.alive():
            return "exited", text
        if time.monotonic() > deadline:
            return "timeout", text
        time.sleep(0.1)


def ipxe_lines(text: str) -> list:
    """The lines of the serial output worth showing: iPXE's own progress and the marker."""
    keep = ("net0:", "Root path:", "BMC root path:", "Registered SAN", "Booting from SAN", "Could not", "Configuring", MARKER, "iPXE")
    return [line.strip() for line in text.splitlines() if line.strip() and any(word in line for word in keep)]
