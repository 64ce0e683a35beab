# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fail closed: a fault at every step of a CHAP or ACL change never opens a boot LUN.

One real tgtd serves the module; each case gets fresh volumes. The core of san_volume runs in
process (san.core.run_volume with the real TgtBackend), with a fault plan in front of tgtd: it
counts every request on tgtd's control socket (the backend sends tgtadm's requests there itself),
any tgtadm call, and the config-file write of a run, and makes the Nth fail the way tgtd does
(connection refused, as when tgtd is gone, or tgtd's error 17 "invalid request"; a tgtadm call,
exit 22 or 107; the write, "No space left on device"). For N = 1, 2, ... until a run gets through, after the failed
run:

- real initiators (libiscsi's iscsi-inq) prove that the old or the new credentials log in, and
  that no CHAP, a wrong secret, a wrong mutual secret and every initiator outside the ACL of that
  state are refused;
- the target's accounts and ACL, tgtd's account list and the volume's config file are exactly
  those of the old state or of the new one (nothing half-applied, no stray account);
- a second run converges and reports changed, a third reports no change.
"""

from __future__ import annotations

import errno
import subprocess

import pytest

import labkit
from labkit import tgt

from ansible_collections.sanboot.iscsi.plugins.module_utils.san import core as san
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.tgt.backend import TgtBackend
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.tgt.parser import parse_show_target

PREFIX = "iqn.2026-11.test.faults"
GOOD = "iqn.2026-11.test:good1"
OTHER = "iqn.2026-11.test:good2"
INTRUDER = "iqn.2026-11.test:intruder"
INITIATORS = (GOOD, OTHER, INTRUDER)
S1, S2 = "SbtFaultAa123", "SbtFaultBb456"
MS1, MS2 = "SbtMutualCc78", "SbtMutualDd90"
WRONG = "WrongSecret99x"

TGTADM_FAILURES = {
    "refused": (22, "", "tgtadm: invalid request\n"),
    "gone": (107, "", "tgtadm: failed to send request hdr to tgt daemon, Transport endpoint is not connected\n"),
}


class FaultPlan:
    """Every tgtadm call, control-socket request and config-file write of one run, in order; the Nth
    fails as tgtd (or a full disk) would make it fail."""

    def __init__(self, fail_at=None, kind="refused"):
        self.fail_at = fail_at
        self.kind = kind
        self.calls = []
        self.injected = None

    def _hit(self, what):
        self.calls.append(what)
        if len(self.calls) == self.fail_at:
            self.injected = what
            return True
        return False

    def run_command(self, argv):
        if self._hit("tgtadm " + " ".join(argv[4:])):
            return TGTADM_FAILURES[self.kind]
        completed = subprocess.run(argv, capture_output=True, text=True, check=False,
                                   env={"LANG": "C", "LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        return completed.returncode, completed.stdout, completed.stderr

    def backends(self):
        plan = self

        def factory(params, run_command, warn):
            backend = TgtBackend(params, run_command, warn)
            real = backend.control.request

            def request(mode, op, params_text="", **fields):
                if plan._hit("control mode %d op %d" % (mode, op)):
                    if plan.kind == "gone":
                        raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
                    return 17, ""
                return real(mode, op, params_text, **fields)

            backend.control.request = request
            write_record = backend._write_record

            def write(desired):
                if plan._hit("write the config file"):
                    raise OSError(errno.ENOSPC, "No space left on device", backend.config_path(desired.name))
                return write_record(desired)

            backend._write_record = write
            return backend

        return {"tgt": factory}


@pytest.fixture(scope="module")
def lab(root, repo):
    stack = labkit.Cleanup()
    try:
        workdir = labkit.make_workdir(stack)
        daemon = tgt.start_tgtd(stack, workdir)
        yield Lab(daemon, workdir)
    finally:
        stack.close()


class Lab:
    def __init__(self, daemon, workdir):
        self.tgtd = daemon
        self.workdir = workdir

    def params(self, name, **values):
        params = {"name": name, "state": "present", "backend": "tgt", "target_prefix": PREFIX, "target_iqn": None,
                  "size": "4M", "lun": 1, "initiators": [GOOD], "allowed_addresses": None, "chap": None,
                  "mutual_chap": None, "remove_chap": False, "remove_mutual_chap": False, "clone_from": None,
                  "portal": None, "force": False, "remove_data": False, "path": None,
                  "storage_dir": str(self.workdir / "storage"), "config_dir": str(self.workdir / "conf.d"),
                  "tgt_control_port": self.tgtd.control_port}
        params.update(values)
        return params

    def run(self, params, plan=None):
        plan = plan or FaultPlan()
        warnings = []
        result = san.run_volume(plan.backends(), params, plan.run_command, warnings.append, False)
        return result

    def target(self, iqn):
        for live in parse_show_target(self.tgtd.show_targets()):
            if live.name == iqn:
                return live
        return None

    def snapshot(self, name):
        """What a run may change: the target's accounts and ACL, tgtd's accounts, the config file."""
        live = self.target("%s:%s" % (PREFIX, name))
        config = self.workdir / "conf.d" / ("sanboot-%s.conf" % name)
        return {"target": (sorted(live.accounts), live.outgoing_accounts, sorted(live.acl)) if live else None,
                "accounts": sorted(self.tgtd.accounts()),
                "config": config.read_text() if config.exists() else None}

    def login(self, name, initiator, chap=None, mutual=None):
        return tgt.iscsi_inq(self.tgtd.portal, "%s:%s" % (PREFIX, name), 1, initiator, chap=chap,
                             mutual_chap=mutual).returncode == 0

    def delete(self, name):
        self.run(self.params(name, state="absent", force=True, remove_data=True))


class State:
    """Who a state of the volume admits: its initiators (ACL) and credentials; absent for no volume."""

    def __init__(self, initiators=(), chap=None, mutual=None, absent=False):
        self.initiators = list(initiators)
        self.chap = chap
        self.mutual = mutual
        self.absent = absent

    def admits_its_own(self, lab, name):
        return not self.absent and self.initiators and lab.login(name, self.initiators[0], self.chap, self.mutual)

    def check_refusals(self, lab, name, where):
        """Everything this state must refuse is refused."""
        allowed = self.initiators[0] if self.initiators else GOOD
        for initiator in INITIATORS:
            if self.absent or initiator not in self.initiators:
                assert not lab.login(name, initiator, self.chap, self.mutual), "%s: %s logs in" % (where, initiator)
        if self.chap:
            assert not lab.login(name, allowed), "%s: a login without CHAP is admitted" % where
            assert not lab.login(name, allowed, (self.chap[0], WRONG), self.mutual), "%s: a wrong secret is admitted" % where
        if self.mutual:
            assert not lab.login(name, allowed, self.chap, (self.mutual[0], WRONG)), \
                "%s: a target with the wrong mutual secret is accepted" % where


def chap(user, secret):
    return {"username": user, "secret": secret}


# name: (volume before or None, change, state before, state after). Users are suffixed per run, so
# that each run's accounts are its own (tgt keeps one secret per account name).
CASES = {
    "new-secret": (
        lambda u: {"chap": chap(u, S1)}, lambda u: {"chap": chap(u, S2)},
        lambda u: State([GOOD], (u, S1)), lambda u: State([GOOD], (u, S2))),
    "new-user": (
        lambda u: {"chap": chap(u, S1)}, lambda u: {"chap": chap(u + "-b", S2)},
        lambda u: State([GOOD], (u, S1)), lambda u: State([GOOD], (u + "-b", S2))),
    "add-mutual": (
        lambda u: {"chap": chap(u, S1)}, lambda u: {"chap": chap(u, S1), "mutual_chap": chap(u + "-m", MS1)},
        lambda u: State([GOOD], (u, S1)), lambda u: State([GOOD], (u, S1), (u + "-m", MS1))),
    "new-mutual-secret": (
        lambda u: {"chap": chap(u, S1), "mutual_chap": chap(u + "-m", MS1)},
        lambda u: {"chap": chap(u, S1), "mutual_chap": chap(u + "-m", MS2)},
        lambda u: State([GOOD], (u, S1), (u + "-m", MS1)), lambda u: State([GOOD], (u, S1), (u + "-m", MS2))),
    "remove-chap": (
        lambda u: {"chap": chap(u, S1), "mutual_chap": chap(u + "-m", MS1)}, lambda u: {"remove_chap": True},
        lambda u: State([GOOD], (u, S1), (u + "-m", MS1)), lambda u: State([GOOD])),
    "add-chap-and-widen-access": (
        lambda u: {}, lambda u: {"chap": chap(u, S1), "initiators": [GOOD, OTHER]},
        lambda u: State([GOOD]), lambda u: State([GOOD, OTHER], (u, S1))),
    "acl": (
        lambda u: {"chap": chap(u, S1)},
        lambda u: {"chap": chap(u, S1), "initiators": [OTHER], "allowed_addresses": ["10.99.0.0/24"]},
        lambda u: State([GOOD], (u, S1)), lambda u: State([OTHER], (u, S1))),
    "create": (
        None, lambda u: {"chap": chap(u, S1), "mutual_chap": chap(u + "-m", MS1)},
        lambda u: State(absent=True), lambda u: State([GOOD], (u, S1), (u + "-m", MS1))),
}
KINDS = {"new-secret": "refused", "new-user": "gone", "add-mutual": "refused", "new-mutual-secret": "gone",
         "remove-chap": "refused", "add-chap-and-widen-access": "gone", "acl": "refused", "create": "gone"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_fault_at_every_step_leaves_the_old_or_the_new_protection_and_a_rerun_converges(lab, case):
    old_values, new_values, old_state, new_state = CASES[case]
    short = "".join(word[0] for word in case.split("-"))
    fail_at = 1
    while True:
        name = "%s-%02d" % (short, fail_at)
        user = "u%s%02d" % (short, fail_at)
        if old_values is not None:
            lab.run(lab.params(name, **old_values(user)))
        before = lab.snapshot(name)
        plan = FaultPlan(fail_at, KINDS[case])
        change = lab.params(name, **new_values(user))
        failed = None
        try:
            result = lab.run(change, plan)
        except san.SanError as exc:
            failed = str(exc)
        if failed is None:
            # No call N in this run: every step has had its fault.
            assert fail_at > 3, "the change made only %d calls: %s" % (fail_at - 1, plan.calls)
            assert result["changed"] is True
            lab.delete(name)
            break
        where = "%s, fault at call %d (%s): %s" % (case, fail_at, plan.injected, failed)
        assert plan.injected is not None, where
        for secret in (S1, S2, MS1, MS2):
            assert secret not in failed
        after_fault = lab.snapshot(name)
        states = [old_state(user), new_state(user)]
        admitted = [state for state in states if not state.absent and state.admits_its_own(lab, name)]
        if old_values is None and not admitted:
            admitted = [states[0]]  # a failed creation leaves no volume
        assert admitted, "%s: neither the old nor the new credentials log in" % where
        admitted[0].check_refusals(lab, name, where)

        again = lab.run(change)
        assert again["changed"] is True, where
        new_snapshot = lab.snapshot(name)
        new_state(user).check_refusals(lab, name, where + ", after the second run")
        assert new_state(user).admits_its_own(lab, name), where + ", after the second run"
        assert after_fault in (before, new_snapshot), "%s: half-applied:\n%s\nbefore: %s\nafter: %s" % (
            where, after_fault, before, new_snapshot)
        assert lab.run(change)["changed"] is False, where
        lab.delete(name)
        fail_at += 1
