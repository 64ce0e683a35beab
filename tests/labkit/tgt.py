# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""labkit.tgt: a real tgtd for a test, and the real initiators that prove who can log in.

    tgtd = start_tgtd(cleanup, workdir)                # own control port, portal 127.0.0.1:<free port>
    tgtd.tgtadm("--op", "show", "--mode", "target")
    iscsi_inq(tgtd.portal, target_iqn, 1, initiator="iqn...", chap=("user", "secret"))
    read_capacity(...) -> bytes or None;  list_targets(...) -> [target IQNs]
    qemu_write(...), qemu_read(...)                    # data through QEMU's iscsi driver
    tgtd.kill(); tgtd = tgtd.start_again()             # a crash and a fresh daemon on the same ports
    tgtd.stop()                                        # also done by cleanup
    proxy = ControlProxy(cleanup, tgtd)                # a control socket in front of tgtd: requests, faults

Every tgtd gets a control port (`-C N`, socket /var/run/tgtd/socket.N) that no other daemon holds,
its command line carries labkit.RUN_MARKER (argv[0] is tgtd-<marker>) so that the leak check finds
it, and it is stopped by PID: targets deleted with --force, `--op delete --mode system`, then
SIGKILL if it is still there. Its socket and lock files are removed.
"""

from __future__ import annotations

import fcntl
import os
import random
import re
import shutil
import socket
import struct
import threading
from pathlib import Path

import labkit

TGTD = shutil.which("tgtd") or "/usr/sbin/tgtd"
TGTADM = shutil.which("tgtadm") or "/usr/sbin/tgtadm"
RUN_DIR = Path("/var/run/tgtd")


def _control_port_free(port: int) -> bool:
    """No tgtd holds socket.N.lock (tgtd keeps a lockf lock on it while it runs)."""
    lock = RUN_DIR / ("socket.%d.lock" % port)
    if not lock.exists():
        return True
    try:
        with open(lock, "r+") as stream:
            fcntl.lockf(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(stream, fcntl.LOCK_UN)
        return True
    except OSError:
        return False


def pick_control_port() -> int:
    generator = random.Random(os.getpid() * 7919 + int.from_bytes(os.urandom(4), "big"))
    for _attempt in range(200):
        port = generator.randint(10000, 32767)  # tgtd takes -C 0 to 32767
        if _control_port_free(port):
            return port
    raise labkit.LabError("no free tgtd control port found")


class Tgtd:
    """A tgtd this test started: control port, portal, and the means to drive and stop it."""

    def __init__(self, cleanup, workdir, host="127.0.0.1", port=None, control_port=None, netns=None):
        self.cleanup = cleanup
        self.workdir = Path(workdir)
        self.host = host
        self.netns = netns
        self.port = port
        self.control_port = control_port
        self.daemon = None

    @property
    def portal(self) -> str:
        return "[%s]:%d" % (self.host, self.port) if ":" in self.host else "%s:%d" % (self.host, self.port)

    def start(self):
        last_error = None
        for _attempt in range(5):
            port = self.port or labkit.free_tcp_port(self.host if not self.netns else "127.0.0.1")
            control_port = self.control_port or pick_control_port()
            log = self.workdir / ("tgtd-%d.log" % control_port)
            # argv[0] carries the run marker, so the leak check sees this daemon.
            argv = ["bash", "-c", 'exec -a "$0" "%s" "$@"' % TGTD, "tgtd-%s" % labkit.RUN_MARKER,
                    "-f", "-C", str(control_port), "--iscsi", "portal=%s:%d" % (self.host, port)]
            daemon = labkit.Daemon(argv, log, netns=self.netns)
            try:
                labkit.wait_for(lambda: not daemon.alive() or self._answers(control_port), 15,
                                "tgtd on control port %d" % control_port)
                if daemon.alive():
                    labkit.wait_for(lambda: labkit.tcp_open(self.host, port, self.netns), 10,
                                    "tgtd portal %s:%d" % (self.host, port))
            except labkit.LabError as exc:
                last_error = exc
            if daemon.alive() and last_error is None:
                self.port, self.control_port, self.daemon = port, control_port, daemon
                self.cleanup.push("stop tgtd (pid %d, -C %d)" % (daemon.pid, control_port), self._stop_daemon, daemon,
                                  control_port)
                return self
            daemon.stop(grace=1)
            if _control_port_free(control_port):  # the files are ours, not another daemon's
                self._remove_files(control_port)
            last_error = last_error or labkit.LabError("tgtd exited at start: %s" % daemon.log()[-500:])
            if self.port and self.control_port:
                break
        raise labkit.LabError("tgtd did not start: %s" % last_error)

    def _answers(self, control_port) -> bool:
        return labkit.run([TGTADM, "-C", str(control_port), "--op", "show", "--mode", "system"], check=False,
                          timeout=10).returncode == 0

    def tgtadm(self, *arguments, check=True):
        return labkit.run([TGTADM, "-C", str(self.control_port), "--lld", "iscsi"] + [str(a) for a in arguments],
                          check=check, timeout=30)

    def show_targets(self) -> str:
        return self.tgtadm("--op", "show", "--mode", "target").stdout

    def tids(self) -> list:
        return [int(tid) for tid in re.findall(r"^Target (\d+):", self.show_targets(), re.MULTILINE)]

    def accounts(self) -> list:
        return [line.strip() for line in self.tgtadm("--op", "show", "--mode", "account").stdout.splitlines()[1:]
                if line.strip()]

    def kill(self):
        """A crash: SIGKILL, nothing cleaned up (the socket files stay, as after a real crash)."""
        self.daemon.kill()

    def start_again(self):
        """A fresh tgtd on the same control port and portal, empty, as after a reboot without tgt-admin."""
        fresh = Tgtd(self.cleanup, self.workdir, self.host, self.port, self.control_port, self.netns)
        return fresh.start()

    def stop(self):
        self._stop_daemon(self.daemon, self.control_port)

    def _stop_daemon(self, daemon, control_port):
        if daemon.alive():
            for tid in re.findall(r"^Target (\d+):", self.tgtadm("--op", "show", "--mode", "target", check=False).stdout,
                                  re.MULTILINE):
                self.tgtadm("--op", "delete", "--force", "--mode", "target", "--tid", tid, check=False)
            labkit.run([TGTADM, "-C", str(control_port), "--op", "delete", "--mode", "system"], check=False, timeout=10)
            try:
                labkit.wait_for(lambda: not daemon.alive(), 5, "tgtd to exit")
            except labkit.LabError:
                pass
        daemon.stop(grace=1)
        self._remove_files(control_port)

    @staticmethod
    def _remove_files(control_port):
        for name in ("socket.%d" % control_port, "socket.%d.lock" % control_port,
                     "sanboot-iscsi.%d.lock" % control_port):
            try:
                (RUN_DIR / name).unlink()
            except FileNotFoundError:
                pass


def start_tgtd(cleanup, workdir, **kwargs) -> Tgtd:
    return Tgtd(cleanup, workdir, **kwargs).start()


# --- initiators (libiscsi) ---------------------------------------------------------------------

def iscsi_url(portal, target_iqn=None, lun=None, chap=None) -> str:
    credentials = "%s%%%s@" % chap if chap else ""
    url = "iscsi://%s%s/" % (credentials, portal)
    if target_iqn:
        url += target_iqn + ("/%d" % lun if lun is not None else "")
    return url


def _client_env(mutual_chap):
    env = dict(os.environ)
    if mutual_chap:
        env["LIBISCSI_CHAP_TARGET_USERNAME"], env["LIBISCSI_CHAP_TARGET_PASSWORD"] = mutual_chap
    return env


def iscsi_inq(portal, target_iqn, lun, initiator, chap=None, mutual_chap=None, netns=None):
    """iscsi-inq: the CompletedProcess (rc 0 when the login and INQUIRY worked)."""
    return labkit.run(["iscsi-inq", "-i", initiator, iscsi_url(portal, target_iqn, lun, chap)], check=False,
                      netns=netns, env=_client_env(mutual_chap), timeout=30)


def read_capacity(portal, target_iqn, lun, initiator, chap=None, mutual_chap=None, netns=None):
    """iscsi-readcapacity16: the capacity in bytes, or None when the login is refused."""
    result = labkit.run(["iscsi-readcapacity16", "-i", initiator, iscsi_url(portal, target_iqn, lun, chap)],
                        check=False, netns=netns, env=_client_env(mutual_chap), timeout=30)
    match = re.search(r"^Total size:(\d+)", result.stdout, re.MULTILINE)
    return int(match.group(1)) if result.returncode == 0 and match else None


def list_targets(portal, initiator, chap=None, netns=None) -> list:
    """iscsi-ls (discovery): the target IQNs this initiator is shown."""
    result = labkit.run(["iscsi-ls", "-i", initiator, iscsi_url(portal, chap=chap)], check=False, netns=netns,
                        timeout=30)
    return re.findall(r"^Target:(\S+)", result.stdout, re.MULTILINE)


# --- data through QEMU's iscsi driver ------------------------------------------------------------

def qemu_image_opts(portal, target_iqn, lun, initiator, chap=None) -> str:
    host, _sep, port = portal.rpartition(":")
    options = ["driver=iscsi", "transport=tcp", "portal=%s:%s" % (host, port), "target=%s" % target_iqn, "lun=%d" % lun,
               "initiator-name=%s" % initiator]
    if chap:
        options += ["user=%s" % chap[0], "password=%s" % chap[1]]
    return ",".join(options)


def qemu_write(source: Path, portal, target_iqn, lun, initiator, chap=None, netns=None):
    """Write the file source to the start of the LUN (qemu-img convert -n)."""
    labkit.run(["qemu-img", "convert", "-n", "-f", "raw", str(source), "--target-image-opts",
                qemu_image_opts(portal, target_iqn, lun, initiator, chap)], netns=netns, timeout=120)


def qemu_read(destination: Path, size, portal, target_iqn, lun, initiator, chap=None, netns=None) -> bytes:
    """Read the first size bytes of the LUN (a multiple of 64 KiB) into destination; return them."""
    block = 65536
    labkit.run(["qemu-img", "dd", "--image-opts", "-O", "raw", "bs=%d" % block, "count=%d" % (size // block),
                "if=%s" % qemu_image_opts(portal, target_iqn, lun, initiator, chap), "of=%s" % destination],
               netns=netns, timeout=120)
    return Path(destination).read_bytes()


class QemuSession:
    """A logged-in initiator that stays logged in (qemu-io reading commands from a pipe)."""

    def __init__(self, cleanup, workdir, portal, target_iqn, lun, initiator, chap=None, netns=None):
        import subprocess
        self.output = Path(workdir) / ("qemu-io-%s.log" % labkit.unique_name("q", 0)[-6:])
        argv = ["qemu-io", "--image-opts", qemu_image_opts(portal, target_iqn, lun, initiator, chap)]
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv
        self._log = open(self.output, "w")
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=self._log, stderr=subprocess.STDOUT,
                                        text=True, start_new_session=True)
        cleanup.push("stop qemu-io (pid %d)" % self.process.pid, self.close)

    def command(self, text, expect, timeout=30):
        """Send one qemu-io command and wait until its output contains expect (a regex); return the output."""
        start = self.output.stat().st_size if self.output.exists() else 0
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

        def answered():
            content = self.output.read_text(errors="replace")[start:]
            return content if re.search(expect, content) else None

        return labkit.wait_for(answered, timeout, "qemu-io to answer %r" % text)

    def close(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.write("quit\n")
                self.process.stdin.flush()
                self.process.wait(timeout=3)
            except Exception:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


# --- a proxy in front of tgtd's control socket: what the collection sends, and faults on demand ----------

class ControlProxy:
    """A control socket of its own (socket.<port>, with the lock file tgtd keeps, so no other daemon takes
    the port) that forwards every request to a real tgtd and records it as (mode, op, params) — test
    memory only, never a file, since account requests carry secrets. `refuse(mode, op, params)` returning
    an error code makes the proxy answer with it instead, as tgtd answers a request it refuses.

        proxy = ControlProxy(cleanup, tgtd)          # then tgt_control_port=proxy.port
        proxy.refuse = lambda mode, op, params: 17 if params.startswith("initiator-name=") else 0
    """

    HEADER = struct.Struct("<ii64sIiQQIIIIII")

    def __init__(self, cleanup, tgtd):
        self.tgtd = tgtd
        self.requests = []
        self.refuse = lambda mode, op, params: 0
        self.port = pick_control_port()
        self.path = RUN_DIR / ("socket.%d" % self.port)
        self._lock = open(RUN_DIR / ("socket.%d.lock" % self.port), "w")
        fcntl.lockf(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.path))
        os.chmod(self.path, 0o600)
        self._server.listen(16)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        cleanup.push("stop the control proxy on port %d" % self.port, self.close)

    @staticmethod
    def _read(connection, size):
        data = b""
        while len(data) < size:
            chunk = connection.recv(size - len(data))
            if not chunk:
                raise OSError("closed")
            data += chunk
        return data

    def _serve(self):
        while True:
            try:
                client, _address = self._server.accept()
            except OSError:
                return
            with client:
                try:
                    header = self._read(client, self.HEADER.size)
                    fields = self.HEADER.unpack(header)
                    payload = self._read(client, fields[3] - self.HEADER.size)
                    mode, op, params = fields[0], fields[1], payload.rstrip(b"\0").decode("utf-8", "replace")
                    self.requests.append((mode, op, params))
                    error = self.refuse(mode, op, params)
                    if error:
                        client.sendall(struct.pack("<II", error, 8))
                        continue
                    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
                        upstream.connect(str(RUN_DIR / ("socket.%d" % self.tgtd.control_port)))
                        upstream.sendall(header + payload)
                        answer = self._read(upstream, 8)
                        _error, length = struct.unpack("<II", answer)
                        client.sendall(answer + self._read(upstream, length - 8))
                except OSError:
                    continue

    def close(self):
        self._server.close()
        for path in (self.path, RUN_DIR / ("socket.%d.lock" % self.port), RUN_DIR / ("sanboot-iscsi.%d.lock" % self.port)):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        self._lock.close()
