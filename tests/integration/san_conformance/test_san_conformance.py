# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The conformance suite every SAN backend passes, through san_volume and san_volume_info as a user runs them.

Each test runs for every backend (the `san` fixture, conftest.py): tgt for real, purefa against the
FlashArray test double. The scenarios are plain functions (scenario_*) so that
test_san_conformance_broken.py can run them against a deliberately broken backend and see them fail.
Volume names differ per test: one tgtd or one array double serves a whole module.
"""

from __future__ import annotations

import pytest

from san_lab import SECRET, SECRET_NEW, MUTUAL_SECRET, private_files_only

INTRUDER = "iqn.2026-11.test:intruder"


def client(name):
    """Each volume's server has initiators of its own (on an array, an IQN belongs to one host)."""
    return "iqn.2026-11.test:%s" % name


def other(name):
    return "iqn.1991-05.com.microsoft:%s-b" % name


MIB = 1024 * 1024


def chap(name, secret=SECRET):
    return {"username": "%s-in" % name, "secret": secret}


def mutual(name, secret=MUTUAL_SECRET):
    return {"username": "%s-out" % name, "secret": secret}


def ok(result):
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result


# --- scenarios ------------------------------------------------------------------------------------

def scenario_create_rerun_and_who_logs_in(san, name="cf-create"):
    create = san.task(name, size="64M", initiators=[client(name).upper()], chap=chap(name), mutual_chap=mutual(name))
    first = ok(san.play(create, create, san.info(name)))
    created, again, info = first[0], first[1], first[2]
    assert created["changed"] is True
    volume = created["volume"]
    assert volume == info["volumes"][0] == again["volume"]
    assert volume["initiators"] == [client(name)] and volume["size_bytes"] == 64 * MIB and volume["lun"] == 1
    assert volume["target_iqn"] == san.target_iqn(name)
    server, port = volume["portal"].rsplit(":", 1)
    assert volume["root_path"] == "iscsi:%s:6:%s:1:%s" % (server, port, san.target_iqn(name))
    assert (volume["chap_username"], volume["mutual_chap_username"]) == ("%s-in" % name, "%s-out" % name)
    # The second identical run changes nothing, CHAP secrets included.
    assert again["changed"] is False and again["actions"] == []
    # The same IQNs in other cases: no change, no duplicate.
    respelled = san.task(name, size="64M", initiators=["IQN" + client(name)[3:].replace("test", "TEST")],
                         chap=chap(name), mutual_chap=mutual(name))
    assert ok(san.play(respelled))[0]["changed"] is False
    # Only the right initiator with the right CHAP reaches the volume.
    credentials = ("%s-in" % name, SECRET)
    assert san.logs_in(name, client(name), chap=credentials)
    assert san.logs_in(name, client(name), chap=credentials, mutual=("%s-out" % name, MUTUAL_SECRET))
    assert not san.logs_in(name, INTRUDER, chap=credentials)
    assert not san.logs_in(name, client(name), chap=("%s-in" % name, "WrongSecret99x"))
    assert not san.logs_in(name, client(name))
    assert not san.logs_in(name, client(name), chap=credentials, mutual=("%s-out" % name, "WrongMutual99x"))


def scenario_check_mode_and_diff(san, name="cf-check"):
    ok(san.play(san.task(name, size="64M", initiators=[client(name)], chap=chap(name), mutual_chap=mutual(name))))
    before = san.snapshot()
    wanted = san.task(name, check_mode=True, size="128M", initiators=[client(name), other(name).upper()],
                      chap=chap(name, SECRET_NEW), mutual_chap=mutual(name))
    checked = ok(san.play(wanted, diff=True))[0]
    assert checked["changed"] is True
    assert san.snapshot() == before
    diff = checked["diff"]
    assert (diff["before"]["size_bytes"], diff["after"]["size_bytes"]) == (64 * MIB, 128 * MIB)
    assert diff["after"]["initiators"] == sorted([client(name), other(name)])
    assert (diff["before"]["chap_secret"], diff["after"]["chap_secret"]) == ("(hidden)", "(hidden, changed)")
    assert diff["before"]["mutual_chap_secret"] == diff["after"]["mutual_chap_secret"] == "(hidden)"
    assert checked["volume"]["size_bytes"] == 128 * MIB
    assert any("CHAP secret of user %s-in changed" % name in action for action in checked["actions"])


def scenario_grow_rounding_and_never_shrink(san, name="cf-grow"):
    first = ok(san.play(san.task(name, size="1000000", initiators=[client(name)])))[0]
    # Rounded up to the backend's granularity (512-byte sectors on both); asking again is no change.
    assert first["volume"]["size_bytes"] == 1000448
    same = ok(san.play(san.task(name, size="999999", initiators=[client(name)]),
                       san.task(name, size="1000448", initiators=[client(name)])))
    assert (same[0]["changed"], same[1]["changed"]) == (False, False)
    grow = san.task(name, size="16M", initiators=[client(name)])
    grown = ok(san.play(grow, grow))
    assert (grown[0]["changed"], grown[1]["changed"]) == (True, False)
    assert grown[0]["volume"]["size_bytes"] == 16 * MIB
    before = san.snapshot()
    refused = san.play(san.task(name, size="8M", initiators=[client(name)], ignore_errors=True))[0]
    assert refused["failed"] is True and refused["msg"].startswith("size: 8MiB (8388608 bytes) is smaller than the "
                                                                   "current size of volume '%s'" % name)
    assert san.snapshot() == before


def scenario_access_by_initiator(san, name="cf-acl"):
    ok(san.play(san.task(name, size="8M", initiators=[client(name)])))
    assert san.logs_in(name, client(name)) and not san.logs_in(name, other(name))
    moved = ok(san.play(san.task(name, size="8M", initiators=[other(name)]), san.task(name, size="8M", initiators=[other(name)])))
    assert (moved[0]["changed"], moved[1]["changed"]) == (True, False)
    assert moved[0]["volume"]["initiators"] == [other(name)]
    assert san.logs_in(name, other(name)) and not san.logs_in(name, client(name))


def scenario_chap_rotation(san, name="cf-chap"):
    """One-way and mutual CHAP, each rotated: changed once, then no change; only the new secret works."""
    base = dict(size="8M", initiators=[client(name)])
    ok(san.play(san.task(name, chap=chap(name), **base)))
    rotated = ok(san.play(san.task(name, chap=chap(name, SECRET_NEW), **base),
                          san.task(name, chap=chap(name, SECRET_NEW), **base)))
    assert (rotated[0]["changed"], rotated[1]["changed"]) == (True, False)
    assert san.logs_in(name, client(name), chap=("%s-in" % name, SECRET_NEW))
    assert not san.logs_in(name, client(name), chap=("%s-in" % name, SECRET))
    with_mutual = ok(san.play(san.task(name, chap=chap(name, SECRET_NEW), mutual_chap=mutual(name), **base),
                              san.task(name, chap=chap(name, SECRET_NEW), mutual_chap=mutual(name), **base)))
    assert (with_mutual[0]["changed"], with_mutual[1]["changed"]) == (True, False)
    new_mutual = mutual(name, "SbtMutualDd012")
    mutual_rotated = ok(san.play(san.task(name, chap=chap(name, SECRET_NEW), mutual_chap=new_mutual, **base),
                                 san.task(name, chap=chap(name, SECRET_NEW), mutual_chap=new_mutual, **base)))
    assert (mutual_rotated[0]["changed"], mutual_rotated[1]["changed"]) == (True, False)
    assert san.logs_in(name, client(name), chap=("%s-in" % name, SECRET_NEW), mutual=("%s-out" % name, "SbtMutualDd012"))
    assert not san.logs_in(name, client(name), chap=("%s-in" % name, SECRET_NEW), mutual=("%s-out" % name, MUTUAL_SECRET))


def scenario_chap_left_alone_unless_removed(san, name="cf-chapkeep"):
    """Issue 11: omitting chap leaves CHAP as it is (and says so); remove_mutual_chap and remove_chap remove it."""
    base = dict(size="8M", initiators=[client(name)])
    ok(san.play(san.task(name, chap=chap(name), mutual_chap=mutual(name), **base)))
    before = san.snapshot()
    omitted = ok(san.play(san.task(name, **base)))[0]
    assert omitted["changed"] is False and san.snapshot() == before
    assert (omitted["volume"]["chap_username"], omitted["volume"]["mutual_chap_username"]) == ("%s-in" % name,
                                                                                               "%s-out" % name)
    assert omitted.get("kept") == ["chap", "mutual_chap"], "the result says that CHAP was left as it is"
    assert not san.logs_in(name, client(name))
    no_mutual = ok(san.play(san.task(name, chap=chap(name), remove_mutual_chap=True, **base),
                            san.task(name, chap=chap(name), remove_mutual_chap=True, **base)))
    assert (no_mutual[0]["changed"], no_mutual[1]["changed"]) == (True, False)
    assert no_mutual[0]["volume"]["mutual_chap_username"] is None
    assert no_mutual[0]["volume"]["chap_username"] == "%s-in" % name
    removed = ok(san.play(san.task(name, remove_chap=True, **base), san.task(name, remove_chap=True, **base)))
    assert (removed[0]["changed"], removed[1]["changed"]) == (True, False)
    assert removed[0]["volume"]["chap_username"] is None
    assert san.logs_in(name, client(name))


def scenario_clone_from_golden(san, name="cf-clone"):
    golden = "%s-golden" % name
    ok(san.play(san.task(golden, size="16M", initiators=[client(golden)])))
    clone = san.task(name, clone_from=golden, size="32M", initiators=[client(name)])
    made = ok(san.play(clone, clone, san.task("%s-same" % name, clone_from=golden, initiators=[other(name)])))
    assert made[0]["changed"] is True and made[0]["clone_method"] in san.clone_methods
    assert made[0]["volume"]["size_bytes"] == 32 * MIB
    assert made[1]["changed"] is False and "clone_method" not in made[1]
    assert made[2]["volume"]["size_bytes"] == 16 * MIB
    assert san.logs_in(name, client(name)) and san.logs_in("%s-same" % name, other(name))
    before = san.snapshot()
    smaller = san.play(san.task("%s-small" % name, clone_from=golden, size="8M", initiators=[client(name + "-small")],
                                ignore_errors=True))[0]
    assert smaller["failed"] is True and smaller["msg"].startswith("size: 8MiB (8388608 bytes) is smaller than clone_from")
    assert san.snapshot() == before


def scenario_absent_respects_sessions(san, name="cf-absent"):
    credentials = ("%s-in" % name, SECRET)
    ok(san.play(san.task(name, size="8M", initiators=[client(name)], chap=chap(name))))
    san.stay_logged_in(name, client(name), chap=credentials)
    before = san.snapshot()
    refused = san.play(san.task(name, state="absent", ignore_errors=True))[0]
    assert refused["failed"] is True and refused["msg"].startswith("force: volume '%s' has live sessions from %s"
                                                                   % (name, client(name)))
    assert san.snapshot() == before
    removed = ok(san.play(san.task(name, state="absent", force=True), san.task(name, state="absent", force=True),
                          san.info(name)))
    assert (removed[0]["changed"], removed[1]["changed"]) == (True, False)
    assert removed[2]["volumes"] == []
    assert not san.logs_in(name, client(name), chap=credentials)


COMMON_BAD_INPUT = [
    ({"name": "bad name"}, "name: 'bad name' is not a volume name"),
    ({"initiators": ["iqn.2026-13.test:client1"]}, "initiators: 'iqn.2026-13.test:client1' is not a valid IQN: month 13"),
    ({"size": "G"}, "size: size 'G' is not a size"),
    ({"lun": 0}, "lun: LUN 0 is out of range"),
    ({"initiators": None}, "initiators or allowed_addresses is required"),
    ({"chap": {"username": "u1", "secret": "Short12345a"}}, "chap.secret must be 12 to 16 characters long"),
    ({"chap": {"username": "u1", "secret": SECRET}, "mutual_chap": {"username": "u2", "secret": SECRET}},
     "mutual_chap.secret must differ from chap.secret"),
    ({"clone_from": "nosuch", "size": None}, "clone_from: there is no volume 'nosuch'"),
    # Issue 11: declarative argument specs.
    ({"mutual_chap": {"username": "u2", "secret": MUTUAL_SECRET}}, "missing parameter(s) required by 'mutual_chap': chap"),
    ({"target_iqn": "iqn.2026-11.test:x", "target_prefix": "iqn.2026-11.test"},
     "parameters are mutually exclusive: target_iqn|target_prefix"),
    ({"backend": "nosuch"}, "value of backend must be one of:"),
]


def scenario_bad_input_refused_and_nothing_changes(san, name="cf-bad"):
    ok(san.play(san.task(name, size="64M", initiators=[client(name)])))
    cases = COMMON_BAD_INPUT + [({"name": name, "size": "32M"}, "size: 32MiB (33554432 bytes) is smaller than the "
                                                                "current size of volume '%s'" % name)] + list(san.refusals)
    before = san.snapshot()
    tasks = []
    for options, _message in cases:
        arguments = {"name": "%s-new" % name, "size": "16M", "initiators": [client("%s-new" % name)]}
        arguments.update(options)
        tasks.append(san.task(arguments.pop("name"), ignore_errors=True, **arguments))
    result = san.play(*tasks)
    failures = []
    for (options, message), task in zip(cases, result.tasks):
        if task.get("failed") is not True or message not in task.get("msg", "") or "Traceback" in str(task):
            failures.append((options, task.get("msg", task)))
    assert failures == [], "\n".join("%r: %s" % failure for failure in failures)
    # Every refusal names its option first (Ansible's own argument checks name it in their sentence).
    assert san.snapshot() == before
    for secret in (SECRET, MUTUAL_SECRET, "Short12345a"):
        assert secret not in result.stdout + result.stderr


def scenario_no_secret_anywhere(san, name="cf-secret"):
    log = san.workdir / ("ansible-%s.log" % name)
    tasks = [san.task(name, size="8M", initiators=[client(name)], chap=chap(name), mutual_chap=mutual(name)),
             san.task(name, size="8M", initiators=[client(name)], chap=chap(name, SECRET_NEW), mutual_chap=mutual(name)),
             san.task(name, check_mode=True, size="8M", initiators=[client(name)], chap=chap(name), mutual_chap=mutual(name)),
             san.task(name, size="8M", initiators=[client(name)], ignore_errors=True, chap=chap(name, SECRET + "toolong")),
             san.info()]
    result = san.play(*tasks, diff=True, verbose=True, env={"ANSIBLE_LOG_PATH": str(log)})
    ok(result)
    secrets = [SECRET, SECRET_NEW, MUTUAL_SECRET, SECRET + "toolong"] + list(san.secrets())
    output = result.stdout + result.stderr + log.read_text()
    assert "AnsiballZ_san_volume.py" in output and "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output
    leaked = [secret for secret in secrets if secret in output or secret in str(result.tasks)]
    assert leaked == []
    exposed = [path for place in san.secret_places() for path in private_files_only(place, secrets)]
    assert exposed == []
    assert san.logs_in(name, client(name), chap=("%s-in" % name, SECRET_NEW), mutual=("%s-out" % name, MUTUAL_SECRET))


def scenario_batch_form_equals_single_form(san, name="cfb"):
    """Issue 16: san_volume with volumes gives each entry exactly the single form's result, and leaves the
    backend as the single form does. The same two rounds (create; grow, rotate CHAP, widen access) run with
    the single form (volumes cfbs-*) and as a batch (cfbb-*); results, and the volumes read back with
    san_volume_info's volumes, compare equal once the names are swapped. A bad entry fails a batch naming it."""
    import json

    single, batch = "%ss" % name, "%sb" % name

    def entries(prefix, round_number):
        first, second = "%s-1" % prefix, "%s-2" % prefix
        if round_number == 1:
            return [dict(name=first, size="8M", initiators=[client(first)], chap=chap(first)),
                    dict(name=second, size="1000000", initiators=[client(second)], chap=chap(second),
                         mutual_chap=mutual(second))]
        return [dict(name=first, size="16M", initiators=[client(first)], chap=chap(first, SECRET_NEW)),
                dict(name=second, initiators=[client(second), other(second)])]

    def swapped(value):
        return json.loads(json.dumps(value).replace(single, batch))

    def batch_task(volumes, **extra):
        arguments = dict(san.volume_options(batch), volumes=volumes)
        arguments.pop("name", None)
        return dict({"name": "san_volume batch", "sanboot.iscsi.san_volume": arguments}, **extra)

    names = ["%s-%d" % (prefix, number) for prefix in (single, batch) for number in (1, 2)]
    for round_number in (1, 2):
        tasks = [san.task(entry.pop("name"), **entry) for entry in entries(single, round_number)]
        tasks.append(batch_task(entries(batch, round_number)))
        if round_number == 2:
            tasks.append(batch_task(entries(batch, round_number)))
            tasks.append({"name": "all four, one read", "sanboot.iscsi.san_volume_info": {
                "volumes": [{"name": volume} for volume in names]}})
            tasks.append(batch_task([dict(name="%s-4" % batch, size="8M", initiators=[client("%s-4" % batch)]),
                                     dict(name="%s-5" % batch, size="8M", initiators=[client("%s-5" % batch)],
                                          chap={"username": "u5", "secret": "Short12345a"})], ignore_errors=True))
        results = ok(san.play(*tasks, diff=True)).tasks
        keys = ("changed", "actions", "volume", "kept", "clone_method", "diff")
        expected = [{key: value for key, value in one.items() if key in keys} for one in results[:2]]
        assert results[2]["volume_results"] == swapped(expected), "round %d" % round_number
        assert results[2]["changed"] is any(one["changed"] for one in results[:2])
    again, info, refused = results[3], results[4], results[5]
    assert again["changed"] is False and not any(one["changed"] for one in again["volume_results"])
    assert [volume["name"] for volume in info["volumes"]] == names
    assert info["volumes"][2:] == swapped(info["volumes"][:2])
    assert refused["failed"] is True and refused["msg"].startswith("volumes[1].chap.secret must be 12 to 16 characters")
    assert san.logs_in("%s-1" % batch, client("%s-1" % batch), chap=("%s-1-in" % batch, SECRET_NEW))
    assert not san.logs_in("%s-1" % batch, client("%s-1" % batch), chap=("%s-1-in" % batch, SECRET))
    assert san.logs_in("%s-2" % batch, other("%s-2" % batch), chap=("%s-2-in" % batch, SECRET))


SCENARIOS = [scenario_create_rerun_and_who_logs_in, scenario_check_mode_and_diff, scenario_grow_rounding_and_never_shrink,
             scenario_access_by_initiator, scenario_chap_rotation, scenario_chap_left_alone_unless_removed,
             scenario_clone_from_golden, scenario_absent_respects_sessions, scenario_bad_input_refused_and_nothing_changes,
             scenario_no_secret_anywhere, scenario_batch_form_equals_single_form]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.__name__[len("scenario_"):] for scenario in SCENARIOS])
def test_san_backend_conforms(san, scenario):
    scenario(san)
