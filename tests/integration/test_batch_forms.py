# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The batch forms (san_volume volumes:, dhcp_reservation reservations:) against a real tgtd and a real Kea.

- Same inputs, same end state, same results: every round of changes is made once with the single form
  (one run per volume or reservation) and once with the batch form (one run for all), from the same
  starting state; each entry of the batch's result equals the single form's result for it, and the target
  (tgtd's targets and accounts, every config and backing file) or the DHCP server (running configuration
  and its file) ends the same.
- A fault at every step of a batch (every request on tgtd's control socket, every config-file write)
  leaves the SAN exactly as before the batch (the chosen semantics: a batch is one change, all of it or
  none; docs/san.md), an existing volume it was changing keeps its old protection (checked with a real
  initiator), and a re-run converges, then reports no change.
- Bad input or a refused request in any entry fails the batch naming the entry, and changes nothing.
- Through ansible-playbook (-vvv, --diff): the module plumbing, the per-entry results and diffs, and no
  secret in the output.

The core of san_volume and dhcp_reservation runs in process for the rounds (the modules are thin: their
result is the core's), against the real daemons.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

import labkit
from labkit import tgt
from labkit.kea import KeaLab
from test_san_faults import FaultPlan

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp import core as dhcp
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.registry import BACKENDS as DHCP_BACKENDS
from ansible_collections.sanboot.iscsi.plugins.module_utils.san import core as san
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.argspec import volume_argument_spec
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import SanError, SanInputError

PREFIX = "iqn.2026-11.test.batch"
CLIENT = "iqn.2026-11.test:batch-client"
OTHER = "iqn.2026-11.test:batch-other"
S1, S2, S3, MS1 = "SbtBatchAa123", "SbtBatchBb456", "SbtBatchCc789", "SbtBatchMm012"


def chap(user, secret):
    return {"username": user, "secret": secret}


# Rounds of entries, each applied to the state the round before left.
SAN_ROUNDS = [
    ("create", [
        {"name": "v1", "size": "8M", "initiators": [CLIENT], "chap": chap("v1", S1), "mutual_chap": chap("v1-out", MS1)},
        {"name": "v2", "size": "8M", "initiators": [OTHER], "allowed_addresses": ["127.0.0.1"], "chap": chap("v2", S2)},
        {"name": "v3", "size": "1000000", "lun": 3, "initiators": [CLIENT]},
        {"name": "v4", "clone_from": "golden", "initiators": [CLIENT.upper()], "chap": chap("shared", S3)},
    ], False),
    ("change", [
        {"name": "v1", "size": "12M", "initiators": [CLIENT], "chap": chap("v1", S2)},
        {"name": "v2", "initiators": [OTHER, CLIENT], "chap": chap("v2", S2)},
        {"name": "v3", "lun": 3, "initiators": [CLIENT], "chap": chap("v3", S1)},
        {"name": "v4", "initiators": [CLIENT]},
        {"name": "v5", "size": "4M", "initiators": [OTHER], "chap": chap("shared", S3)},
    ], False),
    ("check", [
        {"name": "v1", "initiators": [CLIENT], "remove_chap": True},
        {"name": "v2", "initiators": [OTHER], "chap": chap("v2", S3)},
        {"name": "v6", "size": "4M", "initiators": [OTHER]},
    ], True),
    ("unchanged", [
        {"name": "v1", "size": "12M", "initiators": [CLIENT], "chap": chap("v1", S2)},
        {"name": "v2", "initiators": [OTHER, CLIENT], "chap": chap("v2", S2)},
        {"name": "v4", "initiators": [CLIENT]},
    ], False),
    ("retire", [
        {"name": "v3", "state": "absent", "remove_data": True},
        {"name": "v5", "state": "absent"},
        {"name": "v9", "state": "absent"},
    ], False),
]


class Tgt:
    """One tgtd for the module, and what the module may change: targets, accounts, files."""

    def __init__(self, cleanup, workdir):
        self.workdir = workdir
        self.tgtd = tgt.start_tgtd(cleanup, workdir)

    def params(self, **values):
        spec = volume_argument_spec()
        params = {option: definition.get("default") for option, definition in spec.items()}
        params.update({"backend": "tgt", "tgt_control_port": self.tgtd.control_port, "target_prefix": PREFIX,
                       "config_dir": str(self.workdir / "conf.d"), "storage_dir": str(self.workdir / "storage"),
                       "portal": "10.0.0.5"})
        params.update(values)
        return params

    def single(self, entry, check_mode=False, plan=None):
        plan = plan or FaultPlan()
        params = self.params(**entry)
        return san.run_volume(plan.backends(), params, plan.run_command, lambda message: None, check_mode)

    def batch(self, entries, check_mode=False, plan=None):
        plan = plan or FaultPlan()
        params = self.params(volumes=entries)
        return san.run_volume(plan.backends(), params, plan.run_command, lambda message: None, check_mode)

    def snapshot(self):
        files = {}
        for base in ("conf.d", "storage"):
            for path in sorted((self.workdir / base).glob("*")) if (self.workdir / base).exists() else []:
                info = path.stat()
                files[path.name] = (oct(info.st_mode & 0o777), info.st_size,
                                    path.read_text() if base == "conf.d" else None)
        return {"targets": self.tgtd.show_targets(), "accounts": sorted(self.tgtd.accounts()), "files": files}

    def wipe(self):
        """Back to an empty target and no files (then the golden volume again)."""
        for tid in self.tgtd.tids():
            self.tgtd.tgtadm("--op", "delete", "--force", "--mode", "target", "--tid", tid)
        for account in self.tgtd.accounts():
            self.tgtd.tgtadm("--op", "delete", "--mode", "account", "--user", account)
        for base in ("conf.d", "storage"):
            shutil.rmtree(self.workdir / base, ignore_errors=True)
        self.single({"name": "golden", "size": "4M", "initiators": ["iqn.2026-11.test:imaging"]})

    def login(self, name, chap_pair=None, initiator=CLIENT):
        return tgt.iscsi_inq(self.tgtd.portal, "%s:%s" % (PREFIX, name), 1, initiator, chap=chap_pair).returncode == 0


@pytest.fixture
def san_lab(root, repo, cleanup, workdir):
    lab = Tgt(cleanup, workdir)
    lab.wipe()
    return lab


def test_san_batch_and_single_forms_give_identical_results_and_end_states(san_lab):
    single_results, single_states = [], []
    for _round, entries, check_mode in SAN_ROUNDS:
        single_results.append([san_lab.single(entry, check_mode) for entry in entries])
        single_states.append(san_lab.snapshot())
    san_lab.wipe()
    for (name, entries, check_mode), singles, state in zip(SAN_ROUNDS, single_results, single_states):
        batch = san_lab.batch(entries, check_mode)
        assert batch["volume_results"] == singles, name
        assert batch["changed"] is any(result["changed"] for result in singles), name
        assert batch["actions"] == ["%s: %s" % (entry["name"], action) for entry, result in zip(entries, singles)
                                    for action in result["actions"]]
        assert [diff["before_header"] for diff in batch["diff"]] == [
            "volumes[%d] (volume %s)" % (index, entry["name"]) for index, (entry, result) in enumerate(zip(entries, singles))
            if result["changed"]]
        assert san_lab.snapshot() == state, name
    # What the rounds did, as a user sees it: the clone, the rounding, the kept CHAP, an unchanged round.
    create, change, _check, unchanged, retire = single_results
    assert create[3]["clone_method"] in ("reflink", "sparse copy") and create[2]["volume"]["size_bytes"] == 1000448
    assert change[3]["kept"] == ["chap"] and not any(result["changed"] for result in unchanged)
    assert [result["changed"] for result in retire] == [True, True, False]
    assert san_lab.login("v1", ("v1", S2)) and not san_lab.login("v1", ("v1", S1)) and not san_lab.login("v1")


def test_a_fault_at_every_step_of_a_batch_leaves_the_san_as_it_was_and_a_rerun_converges(san_lab):
    san_lab.single({"name": "old", "size": "4M", "initiators": [CLIENT], "chap": chap("old", S1)})
    entries = [{"name": "old", "initiators": [CLIENT], "chap": chap("old", S2)},
               {"name": "new1", "size": "4M", "initiators": [CLIENT], "chap": chap("new1", S1)},
               {"name": "new2", "clone_from": "golden", "initiators": [OTHER], "chap": chap("new2", S3)}]
    before = san_lab.snapshot()
    fail_at = 1
    while True:
        plan = FaultPlan(fail_at, "refused" if fail_at % 2 else "gone")
        try:
            san_lab.batch(entries, plan=plan)
        except (SanError, OSError) as exc:
            where = "fault at step %d (%s): %s" % (fail_at, plan.injected, exc)
            if not plan.injected.endswith(" op 2"):  # a change failed (not a reading): the message names its entry
                assert str(exc).startswith("volumes["), where
            assert san_lab.snapshot() == before, where
            # The volume the batch was changing keeps its old protection.
            assert san_lab.login("old", ("old", S1)) and not san_lab.login("old"), where
            fail_at += 1
            continue
        break
    assert fail_at > 15 and plan.injected is None
    assert san_lab.login("old", ("old", S2)) and not san_lab.login("old", ("old", S1))
    assert san_lab.batch(entries)["changed"] is False


def test_bad_input_or_a_refusal_in_one_entry_fails_the_batch_naming_it_and_changes_nothing(san_lab):
    san_lab.single({"name": "big", "size": "8M", "initiators": [CLIENT]})
    good = {"name": "fresh", "size": "4M", "initiators": [CLIENT]}
    before = san_lab.snapshot()
    for entries, kind, message in (
            ([good, {"name": "bad", "size": "4M", "initiators": [CLIENT], "chap": chap("bad", "Short1")}],
             SanInputError, "volumes[1].chap.secret must be 12 to 16 characters long"),
            ([good, {"name": "big", "size": "4M", "initiators": [CLIENT]}], SanInputError, "volumes[1].size: 4MiB"),
            ([good, dict(good)], SanInputError, "volumes[1].name: fresh is also the name of volumes[0]"),
            ([good, {"name": "other", "size": "4M", "initiators": [CLIENT], "chap": chap("fresh-user", S1)},
              {"name": "third", "size": "4M", "initiators": [CLIENT], "chap": chap("fresh-user", S2)}],
             SanInputError, "volumes[2].chap.username 'fresh-user' is also the CHAP account of volume 'other' "
                            "(volumes[1]) in this batch"),
            ([good, {"name": "cloned", "clone_from": "nothing", "initiators": [CLIENT]}], SanInputError,
             "volumes[1].clone_from: there is no volume 'nothing'")):
        with pytest.raises(kind) as caught:
            san_lab.batch(entries)
        assert str(caught.value).startswith(message), str(caught.value)
        assert "Short1" not in str(caught.value)
        assert san_lab.snapshot() == before


# --- DHCP ---------------------------------------------------------------------------------------------

SUBNET = "10.76.0.0/24"


def reservation(number, **values):
    entry = {"mac": "52:54:00:76:00:%02x" % number, "ip": "10.76.0.%d" % (20 + number), "hostname": "b%02d" % number,
             "iscsi": {"server": "10.76.0.1", "target_iqn": "%s:b%02d" % (PREFIX, number),
                       "initiator_iqn": "iqn.2026-11.test:init%02d" % number}}
    entry.update(values)
    return entry


DHCP_ROUNDS = [
    ("create", [reservation(1), reservation(2, iscsi=dict(reservation(2)["iscsi"], chap=chap("b02", S1))),
                reservation(3, iscsi=dict(reservation(3)["iscsi"], lun=12))], False),
    ("change", [reservation(1, hostname="b01-renamed"), reservation(4, ip="10.76.0.23", replace=True),
                {"mac": reservation(2)["mac"], "state": "absent"}], False),
    ("check", [reservation(5), reservation(1)], True),
    ("unchanged", [reservation(1, hostname="b01-renamed"), reservation(4, ip="10.76.0.23")], False),
]


def test_dhcp_batch_and_single_forms_give_identical_results_and_end_states(root, repo, cleanup, workdir):
    lab = KeaLab.start(cleanup, workdir, subnet=SUBNET, pool="10.76.0.200 - 10.76.0.250")
    params = dict({"backend": "kea", "validate_certs": True, "ca_path": None, "timeout": 30, "service": "dhcp4",
                   "subnet": SUBNET, "subnet_id": None, "state": "present", "options": [], "replace": False,
                   "persist": True, "mac": None, "ip": None, "hostname": None, "iscsi": None}, **lab.api_params())
    initial = lab.config()
    singles, states = [], []
    for _round, entries, check_mode in DHCP_ROUNDS:
        results = []
        for entry in entries:
            result = dhcp.run_reservation(dict(params, **entry), DHCP_BACKENDS, check_mode)
            result.pop("warnings", None)
            results.append(result)
        singles.append(results)
        states.append((lab.config(), lab.persisted()))
    lab.command("config-set", initial)
    lab.command("config-write")
    for (name, entries, check_mode), results, state in zip(DHCP_ROUNDS, singles, states):
        batch = dhcp.run_reservation(dict(params, reservations=entries), DHCP_BACKENDS, check_mode)
        assert batch["reservation_results"] == results, name
        assert (lab.config(), lab.persisted()) == state, name
    assert batch["changed"] is False
    # The reservations are served as the single form left them.
    leases = lab.client(cleanup).leases([reservation(1)["mac"], reservation(4)["mac"]])
    assert leases[reservation(1)["mac"]].hostname == "b01-renamed"
    assert leases[reservation(4)["mac"]].ip == "10.76.0.23"


# --- through ansible-playbook ---------------------------------------------------------------------

def test_batches_through_ansible_playbook_diff_and_no_secret_in_verbose_output(root, repo, cleanup, workdir):
    target = Tgt(cleanup, workdir)
    kea = KeaLab.start(cleanup, workdir, subnet=SUBNET, pool="10.76.0.200 - 10.76.0.250")
    volumes = [{"name": "p1", "initiators": [CLIENT], "chap": chap("p1", S1)},
               {"name": "p2", "initiators": [OTHER], "chap": chap("p2", S2), "mutual_chap": chap("p2-out", MS1)}]
    reservations = [reservation(1, iscsi=dict(reservation(1)["iscsi"], chap=chap("p1", S1))), reservation(2)]
    san_arguments = {"target_prefix": PREFIX, "size": "4M", "portal": "10.76.0.1",
                     "tgt_control_port": target.tgtd.control_port, "config_dir": str(workdir / "conf.d"),
                     "storage_dir": str(workdir / "storage"), "volumes": volumes}
    dhcp_arguments = dict(kea.api_params(), subnet=SUBNET, reservations=reservations)
    tasks = [{"name": "volumes", "sanboot.iscsi.san_volume": san_arguments, "register": "san"},
             {"name": "reservations", "sanboot.iscsi.dhcp_reservation": dhcp_arguments, "register": "reservations"},
             {"name": "results", "ansible.builtin.copy": {
                 "content": "{{ {'san': san, 'dhcp': reservations} | to_json }}", "dest": str(workdir / "results.json"),
                 "mode": "0600"}}]
    playbook = workdir / "batch.yml"
    descriptor = os.open(playbook, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        json.dump([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                    "vars": {"ansible_python_interpreter": str(labkit.VENV_BIN / "python")}, "tasks": tasks}], stream)
    completed = subprocess.run([str(labkit.VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-vvv", "--diff",
                                str(playbook)], cwd=str(labkit.REPO), env=labkit.ansible_env(), capture_output=True,
                               text=True, timeout=300, check=False)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    results = json.loads((workdir / "results.json").read_text())
    assert [entry["volume"]["root_path"] for entry in results["san"]["volume_results"]] == [
        "iscsi:10.76.0.1:6:%d:1:%s:p%d" % (target.tgtd.port, PREFIX, number) for number in (1, 2)]
    assert [entry["diff"]["after"]["chap_secret"] for entry in results["san"]["volume_results"]] == ["(hidden)"] * 2
    assert [entry["reservation"]["mac"] for entry in results["dhcp"]["reservation_results"]] == [
        reservation(1)["mac"], reservation(2)["mac"]]
    assert "volumes[1] (volume p2)" in output and "reservations[0] (mac %s)" % reservation(1)["mac"] in output
    for secret in (S1, S2, MS1, kea.password):
        assert secret not in output
    assert target.login("p1", ("p1", S1))
