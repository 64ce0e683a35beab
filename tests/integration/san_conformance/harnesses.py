# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the conformance suite needs of each backend, and nothing about the scenarios.

A harness runs san_volume and san_volume_info as a user does (ansible-playbook against the checkout's
collection, module_defaults for the connection options), tells who may log in, makes an initiator
stay logged in, takes a snapshot of everything a run could change, and declares what the backend
cannot do (`refusals`: options and the start of the message that must refuse them) and its own
input rules (`own_bad_input`).
"""

from __future__ import annotations

from labkit import purefa, tgt
from san_lab import PREFIX, SanLab


class Harness:
    name = None
    # (options, start of the refusal message) for what this backend cannot do, or its own input rules.
    refusals = []
    # What the volume's clone reports as clone_method.
    clone_methods = ()

    def __init__(self, cleanup, workdir):
        self.cleanup = cleanup
        self.workdir = workdir
        self.lab = SanLab(cleanup, workdir)
        self.env = {}  # extra environment for ansible-playbook (the broken-backend test points it elsewhere)

    def start(self):
        return self

    def before_test(self):
        pass

    def after_test(self):
        pass

    # -- plays

    def defaults(self) -> dict:
        raise NotImplementedError

    def volume_options(self, name) -> dict:
        return {}

    def task(self, name, check_mode=None, ignore_errors=False, **options):
        arguments = dict(self.volume_options(name), name=name)
        arguments.update(options)
        arguments = {key: value for key, value in arguments.items() if value is not None}
        task = {"name": "san_volume %s" % name, "sanboot.iscsi.san_volume": arguments}
        if check_mode is not None:
            task["check_mode"] = check_mode
        if ignore_errors:
            task["ignore_errors"] = True
        return task

    @staticmethod
    def info(name=None):
        return SanLab.info_task(name)

    def play(self, *tasks, diff=False, verbose=False, env=None):
        return self.lab.play(*tasks, diff=diff, verbose=verbose, env=dict(self.env, **(env or {})),
                             defaults=self.defaults())

    # -- what the tests look at

    def snapshot(self):
        raise NotImplementedError

    def target_iqn(self, name) -> str:
        raise NotImplementedError

    def logs_in(self, name, initiator, lun=1, chap=None, mutual=None) -> bool:
        """An initiator logging in to the volume's target with these credentials reaches the volume."""
        raise NotImplementedError

    def stay_logged_in(self, name, initiator, chap=None):
        raise NotImplementedError

    def secrets(self) -> list:
        """The backend's own secrets (API tokens) that must not appear anywhere either."""
        return []

    def secret_places(self) -> list:
        """Directories whose files may hold no secret readable by others."""
        return [self.workdir]


class TgtHarness(Harness):
    name = "tgt"
    clone_methods = ("reflink", "sparse copy")
    # tgt-admin splits `user=...,password=...` at the first comma and passes values to /bin/sh (issue 11).
    refusals = [({"chap": {"username": "boot,01", "secret": "SbtSecretZz999"}}, "chap.username"),
                ({"chap": {"username": "boot01", "secret": "Dollar$ecret12"}}, "chap.secret may contain only")]

    def start(self):
        self.lab.start()
        return self

    def defaults(self):
        return self.lab.defaults()

    def volume_options(self, name):
        return {"target_prefix": PREFIX, "storage_dir": str(self.lab.storage_dir)}

    def snapshot(self):
        return self.lab.snapshot()

    def target_iqn(self, name):
        return "%s:%s" % (PREFIX, name)

    def logs_in(self, name, initiator, lun=1, chap=None, mutual=None):
        return tgt.iscsi_inq(self.lab.portal, self.target_iqn(name), lun, initiator, chap=chap,
                             mutual_chap=mutual).returncode == 0

    def stay_logged_in(self, name, initiator, chap=None):
        session = tgt.QemuSession(self.cleanup, self.workdir, self.lab.portal, self.target_iqn(name), 1, initiator,
                                  chap=chap)
        session.command("length", r"\d+ [KMG]iB|failed")
        return session

    def secret_places(self):
        return [self.workdir, tgt.RUN_DIR]


class PureHarness(Harness):
    name = "purefa"
    clone_methods = ("array copy",)
    refusals = [({"allowed_addresses": ["10.0.0.0/24"]}, "allowed_addresses: a FlashArray admits hosts by initiator IQN"),
                ({"lun": 4096}, "lun: LUN 4096 is out of range for a FlashArray"),
                ({"name": "win.boot"}, "name: 'win.boot' is not a FlashArray volume name"),
                ({"target_prefix": PREFIX}, "target_prefix: the purefa backend does not name targets"),
                ({"clone_from": "/srv/golden.img"}, "clone_from: the purefa backend copies a volume or snapshot")]

    def start(self):
        self.array = purefa.start_array(self.cleanup, self.workdir)
        return self

    def before_test(self):
        self.array.violations.clear()

    def after_test(self):
        violations, self.array.violations[:] = list(self.array.violations), []
        assert violations == [], "requests or responses outside Pure's API description: %s" % violations
        assert self.array.tokens == {}, "a run did not log out"

    def defaults(self):
        return {"backend": "purefa", "api_url": self.array.url, "api_token": self.array.api_token,
                "ca_path": str(self.array.ca_path)}

    def snapshot(self):
        return self.array.snapshot()

    def target_iqn(self, name):
        return self.array.target_iqn

    def logs_in(self, name, initiator, lun=1, chap=None, mutual=None):
        return self.array.login(initiator, lun, chap=chap, mutual_chap=mutual) == name

    def stay_logged_in(self, name, initiator, chap=None):
        self.array.add_session(initiator)
        return None

    def secrets(self):
        return [self.array.api_token]


HARNESSES = {harness.name: harness for harness in (TgtHarness, PureHarness)}
