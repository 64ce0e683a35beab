# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""labkit.osboot: watching a lab machine boot the golden OS (labkit.osimage) from its LUN, and
pausing it at a chosen moment (QEMU's QMP) to change the SAN under a running boot.

    outcome, stage, detail = wait_for_os(serial_log, "vm1", vm=daemon)
    # ("booted", "os", ...)    the OS printed "DONE vm1": it logged in with the iBFT's values, mounted
    #                           its root file system from the LUN, and asked DHCP for its name
    # ("failed", "firmware", iPXE's line)   iPXE could not open or boot the SAN device
    # ("failed", "os", the OS's reason)     e.g. its own iSCSI login was refused
    # ("exited" | "timeout", ...)

A stage is named so that a test can tell the firmware refusing a login from the OS refusing it.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from labkit import LabError, boot, osimage

BOOT_TIMEOUT = 180.0


def wait_for_os(serial_log: Path, name: str, timeout: float = BOOT_TIMEOUT, vm=None, pause_at=None,
                on_pause=None, qmp=None) -> tuple:
    """Watch the serial log until the OS is done or something failed. With pause_at (a text on the
    serial port) and qmp: stop the machine when the text appears, call on_pause(), and let it go on."""
    deadline = time.monotonic() + timeout
    paused = False
    while True:
        text = boot.serial_text(serial_log)
        if pause_at and not paused and pause_at in text:
            qmp.command("stop")
            try:
                on_pause()
            finally:
                qmp.command("cont")
            paused = True
            continue
        report = osimage.parse_os_report(text)
        if report["done"] == name:
            return "booted", "os", text
        if report["failed"]:
            return "failed", "os", report["failed"]
        for pattern in boot.IPXE_FAILURES:
            match = pattern.search(text)
            if match and match.end() < len(text):  # the whole line, not the part written so far
                return "failed", "firmware", match.group(0).strip()
        if vm is not None and not vm.alive():
            return "exited", "os" if report["started"] else "firmware", text[-500:]
        if time.monotonic() > deadline:
            return "timeout", "os" if report["started"] else "firmware", text[-500:]
        time.sleep(0.1)


class Qmp:
    """A minimal QMP client on QEMU's -qmp unix socket: enough to stop and continue a machine."""

    def __init__(self, path: Path, timeout: float = 10.0):
        self.path = Path(path)
        self.timeout = timeout

    @staticmethod
    def argv(path: Path) -> list:
        return ["-qmp", "unix:%s,server=on,wait=off" % path]

    def command(self, name: str, arguments: dict | None = None) -> dict:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(self.timeout)
            deadline = time.monotonic() + self.timeout
            while True:
                try:
                    connection.connect(str(self.path))
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise LabError("QMP socket %s does not answer" % self.path)
                    time.sleep(0.05)
            stream = connection.makefile("rw")
            json.loads(stream.readline())  # the greeting
            for message in ({"execute": "qmp_capabilities"}, {"execute": name, "arguments": arguments or {}}):
                stream.write(json.dumps(message) + "\n")
                stream.flush()
                while True:
                    answer = json.loads(stream.readline())
                    if "event" in answer:
                        continue
                    if "error" in answer:
                        raise LabError("QMP %s: %s" % (message["execute"], answer["error"]))
                    break
            return answer.get("return", {})


def os_lines(text: str) -> list:
    """The lines worth showing of an OS boot: iPXE's progress, then everything the OS printed."""
    keep = ("net0: 10.", "Root path:", "BMC root path:", "Registered SAN", "Booting from SAN", "Could not")
    lines = [line for line in boot.ipxe_lines(text) if line.startswith(keep)]
    lines += [line.strip() for line in text.splitlines() if osimage.OS_MARKER in line and line.strip() not in lines]
    return [line[line.find(osimage.OS_MARKER):] if osimage.OS_MARKER in line else line for line in lines]
