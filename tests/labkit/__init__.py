# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""labkit: the primitives every real-component test and the boot lab are built from.

Network namespaces, veth pairs and bridges, daemons started and stopped by PID, loop devices,
free ports and polling. Everything created goes on a Cleanup stack that undoes it in reverse
order, also when a test fails, so nothing is left behind.

Names created here start with NAME_PREFIX and carry the creating process id, so that a leak
check can find anything left over and parallel runs do not collide.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
COLLECTIONS = REPO / ".collections"
NAME_PREFIX = "sbt"
# In every name, path and command line this test run creates, so a leak check can find leftovers.
RUN_MARKER = "%s%d" % (NAME_PREFIX, os.getpid() % 100000)


class LabError(RuntimeError):
    pass


# Public vendor data (DMTF Redfish mockups and schemas, Pure FlashArray's OpenAPI spec) that test
# doubles serve and validate against. It is kept beside the checkout, not in it (../shared/reference,
# see its SOURCES.md); SANBOOT_REFERENCE_DIR points elsewhere, for a checkout that lives elsewhere.
REFERENCE_ENV = "SANBOOT_REFERENCE_DIR"


def reference_dir() -> Path:
    """The directory holding the public reference data, or LabError saying how to provide it."""
    candidates = [Path(os.environ[REFERENCE_ENV])] if os.environ.get(REFERENCE_ENV) else []
    candidates += [parent / "shared" / "reference" for parent in REPO.parents]
    for candidate in candidates:
        if (candidate / "SOURCES.md").is_file():
            return candidate
    raise LabError("the public reference data (shared/reference, with SOURCES.md) is not beside this checkout: set %s "
                   "to its directory; looked in %s" % (REFERENCE_ENV, ", ".join(str(c) for c in candidates)))


def reference_file(*parts: str) -> Path:
    """A file or directory of the reference data, e.g. reference_file("redfish", "schemas")."""
    path = reference_dir().joinpath(*parts)
    if not path.exists():
        raise LabError("reference data %s is missing from %s" % ("/".join(parts), reference_dir()))
    return path


def run(command, check=True, timeout=60, netns=None, env=None, input_text=None):
    """Run a command (list or string), optionally inside a network namespace. Returns CompletedProcess."""
    argv = shlex.split(command) if isinstance(command, str) else [str(part) for part in command]
    if netns:
        argv = ["ip", "netns", "exec", netns] + argv
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, input=input_text, check=False)
    if check and result.returncode != 0:
        raise LabError("%s failed (exit %d): %s" % (shlex.join(argv), result.returncode,
                                                    (result.stderr or result.stdout).strip()))
    return result


def is_root() -> bool:
    return os.geteuid() == 0


def unique_name(kind: str, index: int = 0) -> str:
    """Short name carrying RUN_MARKER: RUN_MARKER + kind (+ a letter for index > 0).
    Interface names are limited to 15 characters: keep kind to 5."""
    name = "%s%s%s" % (RUN_MARKER, kind, chr(ord("a") + index - 1) if index else "")
    if len(name) > 15:
        raise LabError("name %s is longer than the 15 characters an interface name may have" % name)
    return name


def make_workdir(cleanup: Cleanup, base: str | None = None) -> Path:
    """A private directory whose path carries RUN_MARKER (so daemons using it are found by leak checks)."""
    path = Path(tempfile.mkdtemp(prefix=RUN_MARKER + "-", dir=base))
    cleanup.push("remove %s" % path, shutil.rmtree, path, True)
    return path


def free_tcp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    """Poll until predicate() returns something truthy; return it, or raise naming what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise LabError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def tcp_open(host: str, port: int, netns: str | None = None) -> bool:
    if netns:
        return run(["bash", "-c", "exec 3<>/dev/tcp/%s/%d" % (host, port)], check=False, netns=netns, timeout=5).returncode == 0
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class Cleanup:
    """A stack of undo actions, run in reverse order; every action runs even if another fails."""

    def __init__(self):
        self._actions = []

    def push(self, description: str, action, *args):
        self._actions.append((description, action, args))

    def close(self):
        errors = []
        while self._actions:
            description, action, args = self._actions.pop()
            try:
                action(*args)
            except Exception as exc:  # keep undoing the rest
                errors.append("%s: %s" % (description, exc))
        if errors:
            raise LabError("cleanup incomplete: " + "; ".join(errors))

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class Daemon:
    """A foreground process we started, stopped by its PID (never by name)."""

    def __init__(self, argv, log_path, netns=None, env=None, cwd=None):
        self.argv = [str(part) for part in argv]
        if netns:
            self.argv = ["ip", "netns", "exec", netns] + self.argv
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "ab")
        # Own session: a signal to the daemon never reaches the test runner, and children can be found.
        self.process = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                        start_new_session=True)
        self.pid = self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, grace: float = 5.0, sig=signal.SIGTERM):
        """Signal the daemon's process group, wait, then SIGKILL what is left."""
        if self.process.poll() is None:
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.pid, signal.SIGKILL)  # stragglers in the group, if any
        except ProcessLookupError:
            pass
        if self.process.poll() is None:
            self.process.wait(timeout=10)
        self._log.close()

    def kill(self):
        """Hard kill, as a crash would (for fault tests)."""
        self.stop(grace=0, sig=signal.SIGKILL)


def start_daemon(cleanup: Cleanup, argv, log_path, **kwargs) -> Daemon:
    daemon = Daemon(argv, log_path, **kwargs)
    cleanup.push("stop %s (pid %d)" % (Path(daemon.argv[0]).name, daemon.pid), daemon.stop)
    return daemon


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        return Path("/proc/%d/stat" % pid).read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def stop_pidfile_daemon(pidfile: Path, grace: float = 5.0):
    """Stop a daemon that detached itself and wrote a pid file (ovs-vswitchd, radvd, dhclient)."""
    try:
        pid = int(Path(pidfile).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        wait_for(lambda: not pid_alive(pid), grace, "pid %d to exit" % pid)
    except LabError:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# --- network namespaces -------------------------------------------------------------------

def add_netns(cleanup: Cleanup, name: str) -> str:
    run(["ip", "netns", "add", name])
    cleanup.push("delete netns %s" % name, delete_netns, name)
    run(["ip", "-n", name, "link", "set", "lo", "up"])
    return name


def delete_netns(name: str):
    # Anything still running inside would keep the namespace's interfaces alive: kill it first.
    pids = run(["ip", "netns", "pids", name], check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    run(["ip", "netns", "delete", name], check=False)


def add_bridge(netns: str, name: str, address_cidr: str | None = None) -> str:
    run(["ip", "-n", netns, "link", "add", name, "type", "bridge"])
    # No STP delay on the test bridge: ports forward as soon as they are up.
    run(["ip", "-n", netns, "link", "set", name, "type", "bridge", "stp_state", "0", "forward_delay", "0"])
    if address_cidr:
        run(["ip", "-n", netns, "addr", "add", address_cidr, "dev", name])
    run(["ip", "-n", netns, "link", "set", name, "up"])
    return name


def add_veth_to_bridge(bridge_netns: str, bridge: str, peer_netns: str, peer_name: str, bridge_side_name: str,
                       mac: str | None = None) -> str:
    """A veth pair: one end in peer_netns (with an optional MAC), the other enslaved to the bridge.
    Deleting either namespace deletes the pair."""
    argv = ["ip", "link", "add", peer_name, "netns", peer_netns]
    if mac:
        argv += ["address", mac]
    argv += ["type", "veth", "peer", "name", bridge_side_name, "netns", bridge_netns]
    run(argv)
    run(["ip", "-n", bridge_netns, "link", "set", bridge_side_name, "master", bridge, "up"])
    run(["ip", "-n", peer_netns, "link", "set", peer_name, "up"])
    return peer_name


def leftovers(marker: str) -> list:
    """Namespaces and processes whose name or command line contains marker: for leak checks.
    The marker must not go on with a digit: sbt2036 is not in what the run of pid 20368 made (sbt20368-...)."""
    contains = re.compile(re.escape(marker) + r"(?!\d)").search
    found = ["netns " + line.split()[0] for line in run(["ip", "netns", "list"], check=False).stdout.splitlines()
             if contains(line)]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if contains(cmdline) and pid_alive(int(proc.name)):
            found.append("pid %s: %s" % (proc.name, cmdline.strip()[:200]))
    return found


# --- loop devices -------------------------------------------------------------------------

def attach_loop(cleanup: Cleanup, image: Path) -> str:
    device = run(["losetup", "--find", "--show", str(image)]).stdout.strip()
    cleanup.push("detach %s" % device, run, ["losetup", "-d", device])
    return device


def mount(cleanup: Cleanup, source: str, target: Path, options: str | None = None):
    target.mkdir(parents=True, exist_ok=True)
    argv = ["mount"] + (["-o", options] if options else []) + [source, str(target)]
    run(argv)
    cleanup.push("unmount %s" % target, run, ["umount", str(target)])


def ansible_env(extra: dict | None = None) -> dict:
    """Environment for running the checkout's ansible tools: its ansible.cfg and collections."""
    environment = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                       ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), PATH="%s:%s" % (VENV_BIN, os.environ.get("PATH", "")))
    environment.pop("ANSIBLE_CONFIG", None)
    environment.update(extra or {})
    return environment
