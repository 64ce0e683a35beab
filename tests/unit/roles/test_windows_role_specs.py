# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each Windows role documents exactly the variables it has, with the defaults it has, and its
README shows every one of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[3] / "roles"
WINDOWS_ROLES = ["win_iscsi_initiator", "win_pagefile", "win_iscsi_boot_script", "win_dhcp_boot_reservation", "win_sysprep_image"]


def load(role, path):
    return yaml.safe_load((ROLES / role / path).read_text())


@pytest.mark.parametrize("role", WINDOWS_ROLES)
def test_argument_specs_and_defaults_agree(role):
    options = load(role, "meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load(role, "defaults/main.yml")
    assert set(options) == set(defaults)
    for name, spec in options.items():
        assert name.startswith(role + "_")
        assert spec.get("default") == defaults[name], name
        assert spec.get("description"), name


# Settings read from the inventory rather than from one role variable: the hosts of the inventory
# group a role variable names.
DERIVED = {("win_sysprep_image", "group_hosts"): "win_sysprep_image_servers_group"}


@pytest.mark.parametrize("role", WINDOWS_ROLES)
def test_the_settings_passed_to_the_plugins_are_role_variables(role):
    variables = load(role, "vars/main.yml")
    settings = variables["__%s_settings" % role]
    defaults = load(role, "defaults/main.yml")
    for key, template in settings.items():
        if (role, key) in DERIVED:
            assert DERIVED[(role, key)] in template and DERIVED[(role, key)] in defaults
            continue
        assert re.match(r"^\{\{ (%s_%s)( \| bool)? \}\}$" % (role, key), template), (key, template)
        assert "%s_%s" % (role, key) in defaults


@pytest.mark.parametrize("role", WINDOWS_ROLES)
def test_the_readme_names_every_variable_and_has_an_example(role):
    readme = (ROLES / role / "README.md").read_text()
    for name in load(role, "defaults/main.yml"):
        assert "`%s`" % name in readme, name
    assert "## Example" in readme and "sanboot.iscsi.%s" % role in readme


@pytest.mark.parametrize("role", WINDOWS_ROLES)
def test_galaxy_metadata_names_the_role(role):
    galaxy = load(role, "meta/main.yml")["galaxy_info"]
    assert (galaxy["namespace"], galaxy["role_name"]) == ("sanboot", role)
