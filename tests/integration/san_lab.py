# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the san_volume integration tests share: a real tgtd, plays of the real modules, snapshots.

SanLab runs san_volume and san_volume_info in real ansible-playbook runs (connection local, as
when they are delegated to the storage host) against a tgtd of its own, and takes snapshots of
everything they could change (tgtd's targets and accounts, the config and storage directories,
file modes and contents) to prove that check mode and refused input change nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
from pathlib import Path

import labkit
from labkit import tgt

PREFIX = "iqn.2026-11.test.sanboot"
CLIENT = "iqn.2026-11.test:client1"
# Test-only CHAP secrets: 12 to 16 characters, distinct, easy to grep for.
SECRET = "SbtSecretAa123"
SECRET_NEW = "SbtSecretBb456"
MUTUAL_SECRET = "SbtMutualCc789"


class PlayResult:
    """The results of one ansible-playbook run: task results in order, plus the raw output."""

    def __init__(self, completed, parsed):
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.tasks = list(parsed)

    def __getitem__(self, index):
        return self.tasks[index]

    def __len__(self):
        return len(self.tasks)


class SanLab:
    def __init__(self, cleanup, workdir):
        self.cleanup = cleanup
        self.workdir = Path(workdir)
        self.config_dir = self.workdir / "conf.d"
        self.storage_dir = self.workdir / "storage"
        self.tgtd = None
        self.runs = 0

    def start(self):
        self.tgtd = tgt.start_tgtd(self.cleanup, self.workdir)
        return self

    @property
    def portal(self):
        return self.tgtd.portal

    def defaults(self):
        return {"tgt_control_port": self.tgtd.control_port, "config_dir": str(self.config_dir)}

    def volume_task(self, name, check_mode=None, ignore_errors=False, **options):
        arguments = {"name": name, "storage_dir": str(self.storage_dir)}
        if "target_iqn" not in options:
            arguments["target_prefix"] = PREFIX
        arguments.update(options)
        task = {"name": "san_volume %s" % name, "sanboot.iscsi.san_volume": arguments}
        if check_mode is not None:
            task["check_mode"] = check_mode
        if ignore_errors:
            task["ignore_errors"] = True
        return task

    @staticmethod
    def info_task(name=None):
        return {"name": "san_volume_info", "sanboot.iscsi.san_volume_info": {"name": name} if name else {}}

    def play(self, *tasks, diff=False, verbose=False, env=None, defaults=None):
        """Run the tasks in one play (-vvv when verbose); return their registered results in order.

        Each task registers its result; a last task writes them all to a private JSON file.
        """
        self.runs += 1
        playbook = self.workdir / ("play-%02d.yml" % self.runs)
        results_file = self.workdir / ("play-%02d.results.json" % self.runs)
        registered = []
        for index, task in enumerate(tasks):
            task = dict(task, register="sbt_result_%d" % index)
            registered.append(task)
        names = ", ".join("sbt_result_%d" % index for index in range(len(tasks)))
        registered.append({"name": "write the results", "check_mode": False, "no_log": False,
                           "ansible.builtin.copy": {"dest": str(results_file), "mode": "0600",
                                                    "content": "{{ [%s] | to_json }}" % names}})
        play = {"hosts": "localhost", "connection": "local", "gather_facts": False,
                "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                "module_defaults": {"group/sanboot.iscsi.san": defaults if defaults is not None else self.defaults()},
                "tasks": registered}
        # The play holds test secrets: keep it as private as the module keeps its files.
        descriptor = os.open(playbook, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as stream:
            json.dump([play], stream, indent=1)
        argv = [str(labkit.VENV_BIN / "ansible-playbook"), "-i", "localhost,", str(playbook)]
        if diff:
            argv.append("--diff")
        if verbose:
            argv.append("-vvv")
        completed = subprocess.run(argv, cwd=str(labkit.REPO), env=labkit.ansible_env(env), capture_output=True,
                                   text=True, timeout=300, check=False)
        if not results_file.exists():
            raise AssertionError("the play stopped before its end (exit %d): %s %s"
                                 % (completed.returncode, completed.stdout[-4000:], completed.stderr[-2000:]))
        return PlayResult(completed, json.loads(results_file.read_text()))

    # -- what the tests look at

    def snapshot(self):
        """Everything a run could change: tgtd's targets and accounts, and every file under the workdir
        that the module owns (config and storage directories), with modes and content hashes."""
        files = {}
        for base in (self.config_dir, self.storage_dir):
            if not base.exists():
                continue
            for path in sorted(base.rglob("*")):
                info = path.lstat()
                entry = {"mode": oct(stat.S_IMODE(info.st_mode)), "size": info.st_size}
                if stat.S_ISREG(info.st_mode):
                    entry["sha256"] = _sha256(path)
                files[str(path)] = entry
        return {"targets": self.tgtd.show_targets(), "accounts": self.tgtd.accounts(), "files": files}

    def acl(self, target_iqn):
        """The ACL lines tgtd shows for a target."""
        text = self.tgtd.show_targets()
        block = text.split("Target ")
        for part in block:
            if part.split("\n", 1)[0].split(": ", 1)[-1] == target_iqn:
                return [line.strip() for line in part.split("ACL information:")[1].splitlines() if line.strip()]
        return None

    def config_file(self, name):
        return self.config_dir / ("sanboot-%s.conf" % name)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def private_files_only(root: Path, secrets) -> list:
    """Files under root that contain any of the secrets and that someone other than root may read."""
    exposed = []
    for path in Path(root).rglob("*"):
        try:
            info = path.lstat()
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        content = path.read_bytes()
        if any(secret.encode() in content for secret in secrets):
            if info.st_uid != 0 or info.st_mode & 0o077:
                exposed.append("%s (mode %o, uid %d)" % (path, stat.S_IMODE(info.st_mode), info.st_uid))
    return exposed
