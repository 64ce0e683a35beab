# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each fake of the Windows state simulator accepts only what the real module accepts.

The real modules' documented options are read from the installed ansible.windows and
community.windows (their DOCUMENTATION); a fake that accepts an option the real module does not,
or gives one another type, other choices, another default, or drops a requirement, fails here.
And every ansible.windows / community.windows module the roles call has a fake."""

from __future__ import annotations

import re

import pytest
import yaml

from simulator_paths import REAL, ROLES, fakes, literal

FAKES = fakes()


def real_options(fqcn: str) -> dict:
    namespace, collection, name = fqcn.split(".")
    path = REAL / namespace / collection / "plugins" / "modules" / (name + ".py")
    if not path.exists():
        pytest.fail("%s has no real counterpart at %s: run make setup" % (fqcn, path))
    return yaml.safe_load(literal(path, "DOCUMENTATION"))["options"] or {}


def mismatches(fake_spec: dict, real: dict) -> list:
    """What the fake accepts that the real module does not, or accepts differently."""
    problems = []
    for name, spec in fake_spec.items():
        if name not in real:
            problems.append("%s: the real module has no such option" % name)
            continue
        documented = real[name]
        fake_type, real_type = spec.get("type", "str"), documented.get("type", "str")
        if fake_type != real_type:
            problems.append("%s: type %s, the real module's is %s" % (name, fake_type, real_type))
        if spec.get("elements") != documented.get("elements"):
            problems.append("%s: elements %s, the real module's are %s" % (name, spec.get("elements"), documented.get("elements")))
        if documented.get("choices") is not None:
            if spec.get("choices") is None:
                problems.append("%s: the real module allows only %s, the fake anything" % (name, documented["choices"]))
            elif not set(spec["choices"]) <= set(documented["choices"]):
                problems.append("%s: choices %s not in the real module's %s" % (name, spec["choices"], documented["choices"]))
        elif spec.get("choices") is not None:
            problems.append("%s: the fake has choices the real module does not" % name)
        if "default" in spec and spec["default"] != documented.get("default"):
            problems.append("%s: default %r, the real module's is %r" % (name, spec["default"], documented.get("default")))
        if documented.get("required") and not spec.get("required"):
            problems.append("%s: required in the real module" % name)
        if spec.get("required") and not documented.get("required"):
            problems.append("%s: required in the fake, optional in the real module" % name)
        extra_aliases = set(spec.get("aliases") or []) - set(documented.get("aliases") or [])
        if extra_aliases:
            problems.append("%s: aliases %s the real module does not have" % (name, sorted(extra_aliases)))
    return problems


@pytest.mark.parametrize("fqcn, path", FAKES, ids=[fqcn for fqcn, _path in FAKES])
def test_fake_accepts_only_the_real_modules_options(fqcn, path):
    assert mismatches(literal(path, "ARGUMENT_SPEC"), real_options(fqcn)) == []


def test_the_check_itself_catches_an_invented_option_and_wrong_types_and_choices():
    real = real_options("ansible.windows.win_regedit")
    assert mismatches({"path": {"type": "str", "required": True, "aliases": ["key"]}}, real) == []
    problems = mismatches({"path": {"type": "path", "required": True}, "colour": {"type": "str"},
                           "type": {"type": "str", "choices": ["string", "utf16"], "default": "string"},
                           "state": {"type": "str", "default": "absent"}, "name": {"type": "str", "aliases": ["label"]},
                           "data": {"type": "raw", "choices": ["x"]}}, real)
    assert problems == ["path: type path, the real module's is str",
                        "colour: the real module has no such option",
                        "type: choices ['string', 'utf16'] not in the real module's "
                        "['none', 'binary', 'dword', 'expandstring', 'multistring', 'string', 'qword']",
                        "state: the real module allows only ['absent', 'present'], the fake anything",
                        "state: default 'absent', the real module's is 'present'",
                        "name: aliases ['label'] the real module does not have",
                        "data: the fake has choices the real module does not"]
    assert mismatches({"path": {"type": "str"}}, real) == ["path: required in the real module"]


def modules_the_roles_call() -> set:
    called = set()
    for path in list(ROLES.glob("*/tasks/*.yml")) + list(ROLES.glob("*/handlers/*.yml")):
        called.update(re.findall(r"^\s*-?\s*((?:ansible|community)\.windows\.\w+):", path.read_text(), re.MULTILINE))
    return called


def test_every_windows_module_the_roles_call_has_a_fake():
    called = modules_the_roles_call()
    assert "ansible.windows.win_powershell" in called
    assert called - {fqcn for fqcn, _path in FAKES} == set()


def test_every_option_the_roles_pass_is_one_the_fake_accepts():
    specs = {fqcn: literal(path, "ARGUMENT_SPEC") for fqcn, path in FAKES}
    used = []
    for path in list(ROLES.glob("*/tasks/*.yml")) + list(ROLES.glob("*/handlers/*.yml")):
        for task in yaml.safe_load(path.read_text()) or []:
            for block_task in task.get("block", [task]):
                for key, arguments in block_task.items():
                    if key in specs and isinstance(arguments, dict):
                        used.extend((path.name, key, option) for option in arguments)
    assert used
    accepted = {fqcn: set(spec) | {alias for option in spec.values() for alias in option.get("aliases", [])}
                for fqcn, spec in specs.items()}
    assert [entry for entry in used if entry[2] not in accepted[entry[1]]] == []
