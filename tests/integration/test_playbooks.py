# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The playbooks with the example inventory a new site starts from (the lab runs them for real in
test_boot_lab.py)."""

from __future__ import annotations

import json
import re

import pytest

EXAMPLE = "playbooks/inventories/example"
EXAMPLE_VAULT_PASSWORD = "example-vault-password-change-me"  # stated in the example's README


@pytest.fixture
def vault_password_file(tmp_path):
    path = tmp_path / "vault-password"
    path.write_text(EXAMPLE_VAULT_PASSWORD + "\n")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("playbook", ["site.yml", "provision_san.yml", "configure_windows.yml", "verify_boot_chain.yml"])
def test_playbooks_parse_with_the_example_inventory(repo, run_tool, vault_password_file, playbook):
    result = run_tool("ansible-playbook", "--syntax-check", "-i", EXAMPLE, "--vault-password-file", vault_password_file,
                      "playbooks/" + playbook)
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_stage_of_site_has_its_tag(repo, run_tool, vault_password_file):
    result = run_tool("ansible-playbook", "--list-tags", "-i", EXAMPLE, "--vault-password-file", vault_password_file,
                      "playbooks/site.yml")
    assert result.returncode == 0, result.stderr
    tags = set()
    for line in result.stdout.splitlines():
        if "TASK TAGS:" in line:
            tags.update(tag.strip() for tag in line.split("[", 1)[1].rstrip("]").split(","))
    assert {"san", "switch", "bmc", "dhcp", "windows", "verify"} <= tags


def test_site_refuses_an_unknown_place_for_the_boot_parameters_before_touching_anything(
        repo, run_tool, vault_password_file):
    result = run_tool("ansible-playbook", "-i", EXAMPLE, "--vault-password-file", vault_password_file,
                      "playbooks/site.yml", "--tags", "bmc,dhcp", "-e", "sanboot_boot_parameters=bios")
    assert result.returncode != 0
    assert "sanboot_boot_parameters is 'bios': expected dhcp (the DHCP reservation carries the boot options) or bmc" \
        in result.stdout
    # Each host failed at that check: no role ran, no host was contacted.
    assert "TASK [sanboot.iscsi." not in result.stdout and "UNREACHABLE" not in result.stdout


def test_example_secrets_are_vaulted_and_valid(repo, run_tool, vault_password_file):
    vault = (repo / EXAMPLE / "group_vars" / "all" / "vault.yml").read_text()
    assert vault.startswith("$ANSIBLE_VAULT;")
    result = run_tool("ansible-inventory", "-i", EXAMPLE, "--vault-password-file", vault_password_file, "--host", "winboot01")
    assert result.returncode == 0, result.stderr
    variables = json.loads(result.stdout)
    checks = run_tool("ansible", "winboot01", "-i", EXAMPLE, "--vault-password-file", vault_password_file,
                      "-c", "local", "-m", "ansible.builtin.assert", "-a",
                      "that='sanboot_initiator_iqn is sanboot.iscsi.iqn and (sanboot_chap.secret | length) >= 12 "
                      "and (sanboot_chap.secret | length) <= 16'")
    assert checks.returncode == 0, checks.stdout + checks.stderr
    assert variables["sanboot_chap"]["username"] == "winboot01"
    # winboot02 takes its boot parameters from its BMC, with the BMC password from the vault.
    checks = run_tool("ansible", "winboot02", "-i", EXAMPLE, "--vault-password-file", vault_password_file,
                      "-c", "local", "-m", "ansible.builtin.assert", "-a",
                      "that='sanboot_boot_parameters == \"bmc\" and sanboot_bmc_password | length > 0 "
                      "and sanboot_bmc_address | length > 0'")
    assert checks.returncode == 0, checks.stdout + checks.stderr
    assert "vault_bmc_passwords" in (repo / EXAMPLE / "hosts.yml").read_text()


@pytest.mark.parametrize("host, secret", [("sw-access01", "ansible_password"), ("winboot01", "ansible_password"),
                                          ("winboot01", "sanboot_dhcp_api_password")])
def test_every_host_sees_the_vaulted_secrets_its_stage_needs(repo, run_tool, vault_password_file, host, secret):
    """A secret a host's variables name must come from a vault file that applies to that host: the switch is
    no boot server, so a vault under group_vars/boot_servers would leave its password undefined."""
    checks = run_tool("ansible", host, "-i", EXAMPLE, "--vault-password-file", vault_password_file,
                      "-c", "local", "-m", "ansible.builtin.assert", "-a", "that='%s | length > 0'" % secret)
    assert checks.returncode == 0, checks.stdout + checks.stderr


def test_a_server_without_sanboot_boot_parameters_passes_the_stages_check(repo, run_tool, vault_password_file):
    """sanboot_boot_parameters is optional (dhcp by default): winboot01 of the example does not set it. The
    check of the BMC stage must pass for it, and its message must not need the variable (ansible-core
    2.19 templates fail_msg also when the assertion holds). The stage does nothing else for a dhcp host."""
    result = run_tool("ansible-playbook", "-i", EXAMPLE, "--vault-password-file", vault_password_file, "-c", "local",
                      "playbooks/site.yml", "--tags", "bmc", "--limit", "winboot01")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"winboot01 +: ok=\d+ +changed=0 +unreachable=0 +failed=0", result.stdout), result.stdout
    assert "TASK [sanboot.iscsi.bmc_iscsi_boot" not in result.stdout
