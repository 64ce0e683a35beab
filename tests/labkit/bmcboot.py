# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The boot shim: a lab machine whose iSCSI boot parameters come only from its BMC.

A real NIC with iSCSI boot firmware reads its boot settings (initiator name, target, LUN, CHAP) from its
own NVRAM, which the BMC writes when a change is applied. Here the BMC is the Redfish test double
(labkit/redfish.py); what it applied is in its root-only NVRAM file. At power-on the shim reads that,
writes an iPXE script doing what the firmware would (DHCP or a static address, `initiator-iqn`, CHAP
username/password, `sanboot` of the target), and starts QEMU with Debian's `ipxe.lkrn` as the kernel
and the script as its initrd (iPXE runs an initrd script; this works under TCG here). As from its NIC's
ROM, iPXE leaves an iBFT with those values, from which the golden OS (labkit.osimage) logs in again. The DHCP
reservation of such a machine carries no root path: the target comes from the BMC alone.

The script holds the CHAP secret, as the NIC's NVRAM does: it is root-only and only its path is on
QEMU's command line.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import labkit
from labkit import boot, osboot

IPXE_LKRN = Path("/usr/lib/ipxe/ipxe.lkrn")
NO_ISCSI = "SANBOOT-SHIM: iSCSI boot is not enabled on this NIC"

_COLLECTIONS = str(labkit.COLLECTIONS)
if _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)
from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import build_root_path  # noqa: E402  pylint: disable=wrong-import-position


def nic_settings(nvram_path: Path, mac: str) -> dict:
    """The applied settings of the function with this MAC, as the NIC's firmware holds them."""
    for function in json.loads(Path(nvram_path).read_text()):
        if function["mac"].lower() == mac.lower():
            return function
    raise labkit.LabError("the BMC's NVRAM %s has no function with MAC %s" % (nvram_path, mac))


def _quoted(value: str) -> str:
    # iPXE settings take the rest of the line; refuse anything that could end it or start another command.
    text = str(value)
    if any(character in text for character in "\r\n\"'$ "):
        raise labkit.LabError("a boot setting contains a character iPXE would interpret: %r" % text[:40])
    return text


def ipxe_script(settings: dict) -> str:
    """What the NIC's firmware does with its settings, as an iPXE script."""
    boot_settings = settings.get("iSCSIBoot") or {}
    if settings.get("BootMode") != "iSCSI":
        return "#!ipxe\necho %s (BootMode %s)\nexit 1\n" % (NO_ISCSI, settings.get("BootMode"))
    lines = ["#!ipxe", "echo sanboot BMC shim: boot parameters from the NIC's settings (its BMC)"]
    if boot_settings.get("IPMaskDNSViaDHCP", True):
        lines.append("dhcp net0 || goto failed")
    else:
        lines += ["ifopen net0", "set net0/ip %s" % _quoted(boot_settings["InitiatorIPAddress"]),
                  "set net0/netmask %s" % _quoted(boot_settings["InitiatorNetmask"])]
        if boot_settings.get("InitiatorDefaultGateway"):
            lines.append("set net0/gateway %s" % _quoted(boot_settings["InitiatorDefaultGateway"]))
    lines.append("set initiator-iqn %s" % _quoted(boot_settings["InitiatorName"]))
    if boot_settings.get("AuthenticationMethod") in ("CHAP", "MutualCHAP"):
        lines += ["set username %s" % _quoted(boot_settings["CHAPUsername"]),
                  "set password %s" % _quoted(boot_settings.get("CHAPSecret") or "")]
    if boot_settings.get("AuthenticationMethod") == "MutualCHAP":
        lines += ["set reverse-username %s" % _quoted(boot_settings["MutualCHAPUsername"]),
                  "set reverse-password %s" % _quoted(boot_settings.get("MutualCHAPSecret") or "")]
    root_path = build_root_path(boot_settings["PrimaryTargetIPAddress"], boot_settings["PrimaryTargetName"],
                                boot_settings.get("PrimaryTargetTCPPort"), boot_settings.get("PrimaryLUN"))
    lines += ["echo BMC root path: %s" % root_path, "sanboot %s || goto failed" % root_path,
              ":failed", "echo SANBOOT-SHIM: boot failed", "exit 1"]
    return "\n".join(lines) + "\n"


def write_script(workdir: Path, name: str, settings: dict) -> Path:
    path = Path(workdir) / ("%s-bmc-boot.ipxe" % name)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(ipxe_script(settings))
    return path


def start_vm(cleanup: labkit.Cleanup, netns: str, tap: str, mac: str, serial_log: Path, script: Path,
             memory_mb: int = 128, extra_args=()):
    """A QEMU machine that boots the way its NIC's firmware would with the BMC's settings (iPXE, TCG).
    extra_args: more QEMU options (a QMP socket, say)."""
    if not IPXE_LKRN.exists():
        raise labkit.LabError("%s is missing: install Debian's ipxe package (bindep.txt)" % IPXE_LKRN)
    serial_log.write_text("")
    argv = ["qemu-system-x86_64", "-accel", "tcg", "-m", str(memory_mb), "-nographic", "-display", "none",
            "-monitor", "none", "-serial", "file:%s" % serial_log, "-no-reboot",
            "-netdev", "tap,id=net0,ifname=%s,script=no,downscript=no" % tap,
            "-device", "e1000,netdev=net0,mac=%s,romfile=" % mac, "-kernel", str(IPXE_LKRN), "-initrd", str(script)]
    argv += [str(arg) for arg in extra_args]
    return labkit.start_daemon(cleanup, argv, serial_log.with_suffix(".qemu.log"), netns=netns)


def wait_for_os(serial_log: Path, name: str, timeout: float = osboot.BOOT_TIMEOUT, vm=None, pause_at=None,
                on_pause=None, qmp=None) -> tuple:
    """As osboot.wait_for_os, also recognising at once the shim's line for a NIC whose BMC left iSCSI boot off
    (its firmware then has nothing to boot from). Pausing is not offered for a machine booted through its BMC."""
    if pause_at or on_pause or qmp:
        raise labkit.LabError("pausing a machine that boots through its BMC is not supported")
    deadline = time.monotonic() + timeout
    while True:
        outcome, stage, detail = osboot.wait_for_os(serial_log, name, timeout=0, vm=vm)
        if outcome != "timeout":
            return outcome, stage, detail
        lines = boot.serial_text(serial_log)
        if NO_ISCSI in lines:
            return "failed", "firmware", NO_ISCSI
        if time.monotonic() > deadline:
            return outcome, stage, detail
        time.sleep(0.1)
