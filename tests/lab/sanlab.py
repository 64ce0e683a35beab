# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The boot-from-SAN lab: real machines booting from LUNs the collection provisioned.

One network namespace holds the boot network: an Open vSwitch bridge (userspace datapath) whose
internal port carries 10.77.0.1, tgtd as the SAN with its portal there, kea-dhcp4 serving the
subnet, radvd, and one tap port per machine. kea-ctrl-agent listens on 127.0.0.1 in the root
namespace (Kea's control socket is a file, which crosses namespaces). The machines are QEMU VMs
whose only boot device is iPXE; each is a host in the lab inventory (`inventory/`), which the
collection's playbooks run against like any site's inventory. Each machine also has a BMC (a Redfish
test double, labkit/labbmc.py): vm1 takes its boot parameters from DHCP options, vm2 from its BMC. Storage is an XFS file system with
reflink on a loop file, so clones of the golden image are copy-on-write.

    python3 tests/lab/sanlab.py up [--vms 2] [--dir .cache/lab]
    python3 tests/lab/sanlab.py status | boot [vm ...] | down

`up` starts a supervisor process that owns everything and tears all of it down when `down`
signals it (or, if it died, `down` sweeps by PID, namespace, mount and loop device). The same
SanLab class runs in-process in the end-to-end test, with the test's cleanup stack.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import string
import subprocess
import sys
import threading
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

import labkit  # noqa: E402  pylint: disable=wrong-import-position
from labkit import boot, kea, labbmc, osboot, osimage, ovs, tgt  # noqa: E402  pylint: disable=wrong-import-position

SUBNET = "10.77.0.0/24"
SERVER_IP = "10.77.0.1"
POOL = "10.77.0.100 - 10.77.0.150"
IPV6_PREFIX = "fd77:77::/64"
BRIDGE = "br-boot"
ISCSI_PORT = 3260
TARGET_PREFIX = "iqn.2026-11.lab.sanboot.san"
INITIATOR_PREFIX = "iqn.2026-11.lab.sanboot"
VOLUME_SIZE = "64M"
# The golden volume holds labkit.osimage's OS, written through iSCSI by san_image from a host on the
# boot network with its own initiator name; each machine's volume is a reflink clone of it.
GOLDEN_VOLUME = "golden"
IMAGING_INITIATOR = "%s:imaging" % INITIATOR_PREFIX
VM_MEMORY_MB = 256  # Debian's kernel and the initramfs
DEFAULT_DIR = labkit.REPO / ".cache" / "lab"
# Extensions add parts to the lab without changing it. Each is a class taking the SanLab, with a `name` and any
# of the hooks: up(progress) after the lab's own parts, group_vars() and host_vars(vm) for the inventory, state()
# and restore(state) across the supervisor and the CLI, start_machine(cleanup, vm, memory_mb, extra_args) ->
# (machine, a watcher like osboot.wait_for_os) or None (the lab's default boot), describe(vm) -> lines for the demo.
EXTENSIONS = [labbmc.LabBmcs]   # each machine's BMC; one machine boots through it


def _secret(length: int = 14) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _position in range(length))


class LabVm:
    def __init__(self, number: int):
        self.number = number
        self.name = "vm%d" % number
        self.mac = "52:54:00:5b:00:%02x" % number
        self.ip = "10.77.0.%d" % (60 + number)
        self.initiator_iqn = "%s:%s" % (INITIATOR_PREFIX, self.name)
        self.target_iqn = "%s:%s" % (TARGET_PREFIX, self.name)
        self.tap = "tap-%s" % self.name
        self.chap = {"username": "%s-boot" % self.name, "secret": _secret()}
        self.serial_log = None
        self.machine = None


class SanLab:
    """The lab's components, created by up() and undone by the cleanup stack it was given."""

    def __init__(self, cleanup: labkit.Cleanup, directory: Path, vms: int = 2, marker: str | None = None):
        self.cleanup = cleanup
        self.directory = Path(directory)
        self.marker = marker or labkit.RUN_MARKER
        self.netns = "%s-sanlab" % self.marker
        self.vms = [LabVm(number) for number in range(1, vms + 1)]
        self.switch = None
        self.tgtd = None
        self.dhcp = None
        self.storage = self.directory / "storage"
        self.inventory = self.directory / "inventory"
        self.control_port = None
        self.kea_url = self.kea_user = self.kea_password = None
        self.os_image = None
        self.imaging_chap = {"username": "imaging", "secret": _secret()}
        self.extensions = [extension(self) for extension in EXTENSIONS]

    def extension(self, name: str):
        return next(extension for extension in self.extensions if extension.name == name)

    def hooks(self, name: str) -> list:
        """The extensions' methods of that name, in order."""
        return [getattr(extension, name) for extension in self.extensions if hasattr(extension, name)]

    @classmethod
    def from_state(cls, directory: Path, state: dict) -> "SanLab":
        """The lab a supervisor runs, as seen from another process (to write images and boot)."""
        lab = cls(None, directory, vms=0, marker=state["marker"])
        lab.netns = state["netns"]
        lab.control_port = state["tgtd"]["control_port"]
        lab.kea_url, lab.kea_user, lab.kea_password = state["kea"]["url"], state["kea"]["user"], state["kea"]["password"]
        for entry in state["vms"]:
            vm = LabVm(entry["number"])
            vm.chap = entry["chap"]
            lab.vms.append(vm)
        for extension in lab.extensions:
            if hasattr(extension, "restore"):
                extension.restore(state.get("extensions", {}).get(extension.name, {}))
        return lab

    def state(self) -> dict:
        """What another process needs to use the lab (secrets included: the file is root-only)."""
        return {"netns": self.netns, "storage": str(self.storage), "inventory": str(self.inventory / "hosts.yml"),
                "tgtd": {"pid": self.tgtd.daemon.pid, "control_port": self.control_port},
                "kea": {"url": self.kea_url, "user": self.kea_user, "password": self.kea_password,
                        "dhcp4_pid": self.dhcp.dhcp4.pid, "agent_pid": self.dhcp.agent.pid},
                "ovs_db": self.switch.db,
                "vms": [{"number": vm.number, "name": vm.name, "mac": vm.mac, "ip": vm.ip, "tap": vm.tap,
                         "initiator_iqn": vm.initiator_iqn, "target_iqn": vm.target_iqn, "chap": vm.chap}
                        for vm in self.vms],
                "extensions": {extension.name: extension.state() for extension in self.extensions
                               if hasattr(extension, "state")}}

    # -- building ---------------------------------------------------------------------------

    def up(self, progress=print):
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        progress("network namespace %s with an Open vSwitch bridge %s (%s)" % (self.netns, BRIDGE, SERVER_IP))
        labkit.add_netns(self.cleanup, self.netns)
        self.switch = ovs.OpenVSwitch(self.cleanup, self.directory, netns=self.netns)
        self.switch.add_bridge(BRIDGE)
        labkit.run(["ip", "-n", self.netns, "addr", "add", "%s/24" % SERVER_IP, "dev", BRIDGE])
        labkit.run(["ip", "-n", self.netns, "addr", "add", "fd77:77::1/64", "dev", BRIDGE, "nodad"])
        labkit.run(["ip", "-n", self.netns, "link", "set", BRIDGE, "up"])
        for vm in self.vms:
            # The machine's cable: a tap QEMU will open, plugged into a switch port of the same name.
            labkit.run(["ip", "-n", self.netns, "tuntap", "add", "dev", vm.tap, "mode", "tap"])
            labkit.run(["ip", "-n", self.netns, "link", "set", vm.tap, "up"])
            self.switch.vsctl("add-port", BRIDGE, vm.tap)

        progress("XFS (reflink) storage on a loop device for the LUNs and the golden image")
        image = self.directory / "storage.xfs"
        labkit.run(["truncate", "-s", "1G", image])
        labkit.run(["mkfs.xfs", "-q", "-m", "reflink=1", image])
        device = labkit.attach_loop(self.cleanup, image)
        labkit.mount(self.cleanup, device, self.storage)
        progress("the golden OS image (labkit.osimage: Debian's kernel, busybox, iscsistart; cached)")
        self.os_image = osimage.build(progress=progress)

        progress("tgtd (the SAN) with its portal on %s:%d" % (SERVER_IP, ISCSI_PORT))
        self.tgtd = tgt.start_tgtd(self.cleanup, self.directory, host=SERVER_IP, port=ISCSI_PORT, netns=self.netns)
        self.control_port = self.tgtd.control_port
        (self.directory / "tgt-conf").mkdir(mode=0o700, exist_ok=True)

        progress("kea-dhcp4 on %s and its control agent on 127.0.0.1" % BRIDGE)
        self.dhcp = kea.KeaLab.start(self.cleanup, self.directory, subnet=SUBNET, pool=POOL, netns=self.netns,
                                     interface=BRIDGE)
        self.kea_url, self.kea_user, self.kea_password = self.dhcp.url, self.dhcp.user, self.dhcp.password
        progress("radvd (router adverts spare iPXE its IPv6 autoconfiguration wait)")
        boot.start_radvd(self.cleanup, self.netns, BRIDGE, IPV6_PREFIX, self.directory)
        for hook in self.hooks("up"):
            hook(progress)
        self.write_inventory()
        progress("inventory: %s" % self.inventory)
        return self

    def write_inventory(self):
        import yaml  # from .venv

        python = sys.executable
        # A Python that runs inside the lab namespace: a host on the boot network for checks from there.
        bootnet_python = self.directory / "bootnet-python"
        bootnet_python.write_text('#!/bin/sh\nexec ip netns exec %s %s "$@"\n' % (self.netns, python))
        os.chmod(bootnet_python, 0o700)
        hosts = {}
        for vm in self.vms:
            hosts[vm.name] = {
                "sanboot_mac": vm.mac, "sanboot_ip": vm.ip, "sanboot_initiator_iqn": vm.initiator_iqn,
                "sanboot_switch_interface": vm.tap, "sanboot_chap": vm.chap,
            }
            for hook in self.hooks("host_vars"):
                hosts[vm.name].update(hook(vm))
        inventory = {
            "all": {"children": {
                "boot_servers": {"hosts": hosts, "vars": {
                    # The lab machines have no operating system to log in to: every task for them is
                    # delegated to the SAN, DHCP or switch host.
                    "ansible_connection": "local", "ansible_python_interpreter": python,
                    "sanboot_san_host": "lab-san", "sanboot_switch": "lab-switch", "sanboot_bootnet_probe": "lab-bootnet",
                    "sanboot_target_prefix": TARGET_PREFIX, "sanboot_volume_size": VOLUME_SIZE,
                    "sanboot_golden_volume": GOLDEN_VOLUME, "sanboot_golden_image": str(self.os_image.qcow2),
                    "sanboot_imaging_host": "lab-bootnet", "sanboot_imaging_initiator_iqn": IMAGING_INITIATOR,
                    "sanboot_imaging_chap": self.imaging_chap,
                    "sanboot_storage_dir": str(self.storage), "sanboot_tgt_control_port": self.control_port,
                    "sanboot_tgt_config_dir": str(self.directory / "tgt-conf"),
                    "sanboot_dhcp_backend": "kea", "sanboot_dhcp_api_url": self.kea_url,
                    "sanboot_dhcp_api_username": self.kea_user, "sanboot_dhcp_api_password": self.kea_password,
                    "sanboot_dhcp_subnet": SUBNET, "sanboot_dhcp_chap": True,
                    "sanboot_switch_platform": "ovs", "sanboot_switch_ovs_db": self.switch.db,
                    **{key: value for hook in self.hooks("group_vars") for key, value in hook().items()},
                }},
                "windows_boot_servers": {"hosts": {}},
                "sanboot_infrastructure": {"hosts": {
                    "lab-san": {"ansible_connection": "local", "ansible_python_interpreter": python},
                    "lab-switch": {"ansible_connection": "local", "ansible_python_interpreter": python},
                    # A host on the boot network: the lab namespace, entered for each module run.
                    "lab-bootnet": {"ansible_connection": "local", "ansible_python_interpreter": str(bootnet_python)},
                }},
            }},
        }
        self.inventory.mkdir(mode=0o700, exist_ok=True)
        path = self.inventory / "hosts.yml"
        # It holds the lab's API password and CHAP secrets: root only.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as stream:
            stream.write("# Generated by tests/lab/sanlab.py up: the boot lab's inventory.\n")
            yaml.safe_dump(inventory, stream, default_flow_style=False, sort_keys=False)
        return path

    # -- using ------------------------------------------------------------------------------

    def write_boot_images(self, vms=None):
        """Each machine's own boot sector, written to its LUN through iSCSI with its own initiator
        name and CHAP (QEMU's iscsi driver, password from a root-only file, not the command line)."""
        for vm in vms or self.vms:
            sector = boot.build_boot_sector(self.directory, vm.name)
            secret_file = self.directory / ("%s.chap" % vm.name)
            descriptor = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as stream:
                stream.write(vm.chap["secret"])
            target = ",".join(["driver=iscsi", "transport=tcp", "portal=%s:%d" % (SERVER_IP, ISCSI_PORT),
                               "target=%s" % vm.target_iqn, "lun=1", "initiator-name=%s" % vm.initiator_iqn,
                               "user=%s" % vm.chap["username"], "password-secret=chap0"])
            try:
                labkit.run(["qemu-img", "convert", "-n", "-f", "raw", sector, "--object",
                            "secret,id=chap0,file=%s" % secret_file, "--target-image-opts", target],
                           netns=self.netns, timeout=120)
            finally:
                secret_file.unlink()

    def boot(self, vms=None, timeout: float = osboot.BOOT_TIMEOUT, pause=None) -> dict:
        """Boot machines at once; return name -> {outcome, stage, detail, serial, sessions, report}.
        The outcome is "booted" (the golden OS, from the machine's own LUN, printed its identity and
        powered off) or "failed" at the stage "firmware" (iPXE's error line) or "os" (the OS's own
        reason), known as soon as it is printed. pause=(vm name, serial text, callback): stop that
        machine when the text appears, run the callback, then let it go on (to change the SAN under
        a running boot)."""
        vms = vms or self.vms
        results = {}
        with labkit.Cleanup() as machines:
            qmp, waits = {}, {}
            for vm in vms:
                vm.serial_log = self.directory / ("%s-serial.log" % vm.name)
                extra = []
                if pause and pause[0] == vm.name:
                    qmp[vm.name] = osboot.Qmp(self.directory / ("%s.qmp" % vm.name))
                    extra = osboot.Qmp.argv(qmp[vm.name].path)
                started = next(filter(None, (hook(machines, vm, memory_mb=VM_MEMORY_MB, extra_args=extra)
                                             for hook in self.hooks("start_machine"))), None)
                vm.machine, waits[vm.name] = started or (
                    boot.start_vm(machines, self.netns, vm.tap, vm.mac, vm.serial_log, memory_mb=VM_MEMORY_MB,
                                  extra_args=extra), osboot.wait_for_os)

            def watch(vm):
                pause_at = on_pause = None
                if vm.name in qmp:
                    pause_at, on_pause = pause[1], pause[2]
                outcome, stage, detail = waits[vm.name](vm.serial_log, vm.name, timeout=timeout, vm=vm.machine,
                                                        pause_at=pause_at, on_pause=on_pause, qmp=qmp.get(vm.name))
                results[vm.name] = {"outcome": outcome, "stage": stage, "detail": detail if outcome != "booted" else "",
                                    "seconds": round(time.monotonic() - started, 1)}

            started = time.monotonic()
            threads = [threading.Thread(target=watch, args=(vm,)) for vm in vms]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            # While the machines still run, the target still sees the sessions iPXE opened.
            show = self.show_targets()
            for vm in vms:
                results[vm.name]["serial"] = boot.serial_text(vm.serial_log)
                results[vm.name]["report"] = osimage.parse_os_report(results[vm.name]["serial"])
                results[vm.name]["sessions"] = sessions_of(show, vm.target_iqn)
        return results

    def show_targets(self) -> str:
        return labkit.run([tgt.TGTADM, "-C", str(self.control_port), "--lld", "iscsi", "--op", "show", "--mode",
                           "target"]).stdout

    def kea_command(self, name: str, arguments: dict) -> dict:
        import requests  # from .venv

        response = requests.post(self.kea_url, json={"command": name, "service": ["dhcp4"], "arguments": arguments},
                                 auth=(self.kea_user, self.kea_password), timeout=30)
        response.raise_for_status()
        return response.json()[0]

    def lease(self, vm) -> dict:
        return self.kea_command("lease4-get", {"ip-address": vm.ip}).get("arguments") or {}

    def reservation_option(self, vm, code: int, name: str) -> str | None:
        """One option of the machine's reservation, as Kea holds it (by code or name)."""
        config = self.kea_command("config-get", {}).get("arguments", {})
        for subnet in config.get("Dhcp4", {}).get("subnet4", []):
            for reservation in subnet.get("reservations", []):
                if reservation.get("hw-address", "").lower() == vm.mac:
                    for option in reservation.get("option-data", []):
                        if option.get("code") == code or option.get("name") == name:
                            return option.get("data")
        return None

    def reservation_root_path(self, vm) -> str | None:
        """Option 17 of the machine's reservation, as Kea holds it."""
        config = self.kea_command("config-get", {}).get("arguments", {})
        for subnet in config.get("Dhcp4", {}).get("subnet4", []):
            for reservation in subnet.get("reservations", []):
                if reservation.get("hw-address", "").lower() == vm.mac:
                    for option in reservation.get("option-data", []):
                        if option.get("code") == 17 or option.get("name") == "root-path":
                            return option.get("data")
        return None


def acl_names(show_output: str, target_iqn: str) -> list:
    """The initiator names in one target's ACL, in `tgtadm --op show` output."""
    names, current, in_acl = [], None, False
    for line in show_output.splitlines():
        if line.startswith("Target "):
            current, in_acl = line.split(": ", 1)[1].strip(), False
        elif current == target_iqn and line.strip() == "ACL information:":
            in_acl = True
        elif current == target_iqn and in_acl and line.strip().lower().startswith(("iqn.", "eui.", "naa.")):
            names.append(line.strip())
    return names


def sessions_of(show_output: str, target_iqn: str) -> list:
    """The I_T nexus entries (initiator, address) of one target in `tgtadm --op show` output."""
    sessions, current, initiator = [], None, None
    for line in show_output.splitlines():
        if line.startswith("Target "):
            current = line.split(": ", 1)[1].strip()
        elif current == target_iqn and line.strip().startswith("Initiator:"):
            initiator = line.split(":", 1)[1].strip().split(" alias:")[0]
        elif current == target_iqn and line.strip().startswith("IP Address:") and initiator:
            sessions.append({"initiator": initiator, "address": line.split(":", 1)[1].strip()})
            initiator = None
    return sessions


# --- the command line: a supervisor process owns the lab between `up` and `down` -------------------

def _state_path(directory: Path) -> Path:
    return directory / "state.json"


def _read_state(directory: Path) -> dict:
    try:
        return json.loads(_state_path(directory).read_text())
    except (OSError, ValueError):
        return {}


def _write_state(directory: Path, state: dict):
    # It holds the lab's API password and CHAP secrets: root only, replaced atomically.
    path = _state_path(directory)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(json.dumps(state, indent=2) + "\n")
    os.replace(temporary, path)


def serve(directory: Path, vms: int):
    """The supervisor: build the lab, report ready, wait for SIGTERM, tear everything down."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    cleanup = labkit.Cleanup()
    state = {"supervisor": os.getpid(), "marker": labkit.RUN_MARKER, "status": "starting"}
    _write_state(directory, state)
    try:
        lab = SanLab(cleanup, directory, vms=vms).up(progress=lambda text: print(text, flush=True))
        state.update(lab.state(), status="ready")
        _write_state(directory, state)
        while not stop.wait(1):
            pass
    except Exception as exc:  # report why, then undo whatever was built
        state.update(status="failed", error=str(exc))
        _write_state(directory, state)
    finally:
        cleanup.close()
        state["status"] = "down"
        _write_state(directory, state)


def command_up(directory: Path, vms: int) -> int:
    state = _read_state(directory)
    if state.get("status") in ("starting", "ready") and labkit.pid_alive(state.get("supervisor", 0)):
        print("the lab is already up (supervisor pid %d); `sanlab down` first" % state["supervisor"])
        return 1
    if state:
        sweep(state, directory)  # whatever a previous lab left
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    os.chmod(directory, 0o700)
    log = open(directory / "supervisor.log", "w")
    subprocess.Popen([sys.executable, __file__, "_serve", "--dir", str(directory), "--vms", str(vms)],
                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    # The first `up` also builds the OS image (downloads included): allow for it.
    deadline = time.monotonic() + 300
    shown = 0
    while time.monotonic() < deadline:
        lines = (directory / "supervisor.log").read_text().splitlines()
        for line in lines[shown:]:
            print("  " + line, flush=True)
        shown = len(lines)
        state = _read_state(directory)
        if state.get("status") == "ready":
            print("lab up: inventory %s" % state["inventory"])
            return 0
        if state.get("status") in ("failed", "down"):
            print("lab failed to come up: %s" % state.get("error", "see %s" % (directory / "supervisor.log")))
            return 1
        time.sleep(0.2)
    print("lab did not come up within 300 s; see %s" % (directory / "supervisor.log"))
    command_down(directory)
    return 1


def command_down(directory: Path) -> int:
    state = _read_state(directory)
    supervisor = state.get("supervisor")
    if supervisor and labkit.pid_alive(supervisor):
        os.kill(supervisor, signal.SIGTERM)
        try:
            labkit.wait_for(lambda: not labkit.pid_alive(supervisor), 60, "the lab supervisor to tear down")
        except labkit.LabError:
            os.kill(supervisor, signal.SIGKILL)
    swept = sweep(state, directory) if state else []
    remaining = labkit.leftovers(str(directory)) + (labkit.leftovers(state["marker"]) if state.get("marker") else [])
    storage = state.get("storage")
    if storage and os.path.ismount(storage):
        remaining.append("mount %s" % storage)

    def loops():
        return labkit.run(["losetup", "-j", str(directory / "storage.xfs")], check=False).stdout.splitlines()

    # A loop device whose file system was just unmounted may stay listed a moment after `losetup -d`
    # (the kernel detaches it once its last user lets go): wait for that before calling it left behind.
    try:
        labkit.wait_for(lambda: not loops(), 10, "the lab's loop device to be detached", interval=0.2)
    except labkit.LabError:
        pass
    remaining += ["loop " + line.split(":")[0] for line in loops()]
    if remaining:
        print("lab down, but these are still there: %s" % ", ".join(remaining))
        return 1
    print("lab down%s: no daemon, machine, namespace, tap, mount or loop device of the lab is left"
          % ("; swept after the supervisor: %s" % ", ".join(swept) if swept else ""))
    return 0


def sweep(state: dict, directory: Path) -> list:
    """After a supervisor that died: remove what carries the lab's marker or lives in its directory."""
    swept = []
    marker = state.get("marker")
    for pid in [state.get("tgtd", {}).get("pid"), state.get("kea", {}).get("dhcp4_pid"),
                state.get("kea", {}).get("agent_pid")]:
        if pid and labkit.pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            swept.append("pid %d" % pid)
    for found in (labkit.leftovers(str(directory)) + (labkit.leftovers(marker) if marker else [])):
        if found.startswith("pid "):
            pid = int(found.split()[1].rstrip(":"))
            try:
                os.kill(pid, signal.SIGKILL)
                swept.append("pid %d" % pid)
            except ProcessLookupError:
                pass
        elif found.startswith("netns "):
            labkit.delete_netns(found.split()[1])
            swept.append(found)
    storage = state.get("storage")
    if storage and os.path.ismount(storage):
        labkit.run(["umount", storage], check=False)
        swept.append("mount %s" % storage)
    for line in labkit.run(["losetup", "-j", str(directory / "storage.xfs")], check=False).stdout.splitlines():
        labkit.run(["losetup", "-d", line.split(":")[0]], check=False)
        swept.append("loop %s" % line.split(":")[0])
    return swept


def describe_boot(lab: SanLab, vm: LabVm, result: dict) -> str:
    """What a reader needs to see of one machine's boot: lease, root path, the identity the OS found in
    the iBFT against DHCP option 203 and the SAN's ACL, and the serial output (iPXE, then the OS)."""
    lease = lab.lease(vm)
    if result["outcome"] == "booted":
        headline = "BOOTED from its SAN LUN in %.1f s" % result.get("seconds", 0)
    else:
        headline = "did NOT boot (%s at the %s stage) %s" % (result["outcome"], result.get("stage"), result["detail"])
    lines = ["%s: %s" % (vm.name, headline)]
    lines.append("  DHCP lease     %s for %s%s" % (lease.get("ip-address", "none"), lease.get("hw-address", vm.mac),
                                                   " (host name %s)" % lease["hostname"] if lease.get("hostname") else ""))
    lines.append("  root path      %s" % (lab.reservation_root_path(vm) or "(none in the reservation)"))
    for hook in lab.hooks("describe"):
        lines += hook(vm)
    ibft = result.get("report", {}).get("ibft", {})
    if ibft:
        lines.append("  iBFT (the OS)  initiator %s, target %s, LUN %s, CHAP user %s" % (
            ibft.get("initiator/initiator-name"), ibft.get("target0/target-name"),
            osimage.ibft_lun(ibft.get("target0/lun", "")), ibft.get("target0/chap-name")))
    lines.append("  option 203     %s" % lab.reservation_option(vm, 203, "iscsi-initiator-iqn"))
    lines.append("  SAN ACL        %s" % ", ".join(acl_names(lab.show_targets(), vm.target_iqn)))
    lines.append("  serial port (iPXE, then the OS from the LUN):")
    lines += ["    | " + line for line in osboot.os_lines(result["serial"])]
    return "\n".join(lines)


def command_boot(directory: Path, names: list) -> int:
    state = _read_state(directory)
    if state.get("status") != "ready":
        print("the lab is not up: `sanlab up` first")
        return 1
    lab = SanLab.from_state(directory, state)
    vms = [vm for vm in lab.vms if not names or vm.name in names]
    print("booting %s under QEMU: iPXE attaches each machine's LUN and leaves an iBFT; the golden OS loads from the "
          "LUN and logs in again with the iBFT's values" % ", ".join(vm.name for vm in vms), flush=True)
    results = lab.boot(vms)
    for vm in vms:
        print(describe_boot(lab, vm, results[vm.name]), flush=True)
    return 0 if all(result["outcome"] == "booted" for result in results.values()) else 1


def command_status(directory: Path) -> int:
    state = _read_state(directory)
    if not state:
        print("no lab in %s" % directory)
        return 1
    alive = state.get("supervisor") and labkit.pid_alive(state["supervisor"])
    print("lab %s (supervisor pid %s %s)" % (state.get("status"), state.get("supervisor"), "running" if alive else "gone"))
    for name, pid in (("tgtd", state.get("tgtd", {}).get("pid")), ("kea-dhcp4", state.get("kea", {}).get("dhcp4_pid")),
                      ("kea-ctrl-agent", state.get("kea", {}).get("agent_pid"))):
        if pid:
            print("  %-15s pid %-7d %s" % (name, pid, "running" if labkit.pid_alive(pid) else "NOT running"))
    for vm in state.get("vms", []):
        print("  %-4s mac %s ip %s initiator %s target %s"
              % (vm["name"], vm["mac"], vm["ip"], vm["initiator_iqn"], vm["target_iqn"]))
    if state.get("inventory"):
        print("  inventory: %s" % state["inventory"])
    return 0 if alive and state.get("status") == "ready" else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="sanlab", description="the boot-from-SAN lab")
    parser.add_argument("command", choices=["up", "down", "status", "boot", "_serve"])
    parser.add_argument("machines", nargs="*", help="with boot: the machines to boot (default all)")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="lab directory (default %(default)s)")
    parser.add_argument("--vms", type=int, default=2, help="number of lab machines (default %(default)s)")
    arguments = parser.parse_args(argv)
    if not labkit.is_root():
        print("the lab needs root (network namespaces, tgtd, loop devices)")
        return 2
    directory = arguments.dir.resolve()
    if arguments.command == "_serve":
        serve(directory, arguments.vms)
        return 0
    if arguments.command == "up":
        return command_up(directory, arguments.vms)
    if arguments.command == "boot":
        return command_boot(directory, arguments.machines)
    return {"down": command_down, "status": command_status}[arguments.command](directory)


if __name__ == "__main__":
    sys.exit(main())
