# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection as users meet it: from the checkout after `make setup`, and built and installed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

import labkit
from labkit import COLLECTIONS

PARSE_ROOT_PATH = "msg={{ 'iscsi:10.0.0.5::::iqn.2001-05.com.example:boot01' | sanboot.iscsi.parse_root_path }}"


def adhoc_msg(result):
    """The msg of an `ansible localhost -m debug` run: the default callback prints `localhost | SUCCESS => {json}`."""
    assert result.returncode == 0, result.stdout + result.stderr
    head, _arrow, body = result.stdout.partition("=>")
    assert head.strip() == "localhost | SUCCESS", result.stdout
    return json.loads(body)["msg"]


JSON_OUTPUT = {"ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}
# What `ansible-galaxy collection build` names the tarball: galaxy.yml's version, which the README gives too.
TARBALL = "sanboot-iscsi-%s.tar.gz" % yaml.safe_load((labkit.REPO / "galaxy.yml").read_text())["version"]


def test_ansible_doc_shows_the_filter_documentation(repo, run_tool):
    result = run_tool("ansible-doc", "-t", "filter", "sanboot.iscsi.root_path")
    assert result.returncode == 0, result.stderr
    assert "RFC 4173" in result.stdout
    assert "target_iqn" in result.stdout
    # It resolved through the checkout's collections path, to the code being edited.
    assert str(COLLECTIONS / "ansible_collections" / "sanboot" / "iscsi" / "plugins" / "filter" / "root_path.py") in result.stdout


@pytest.mark.parametrize("plugin_type, name", [("filter", "sanboot.iscsi.parse_root_path"), ("test", "sanboot.iscsi.iqn")])
def test_every_plugin_is_documented(repo, run_tool, plugin_type, name):
    result = run_tool("ansible-doc", "-t", plugin_type, name)
    assert result.returncode == 0, result.stderr
    assert "EXAMPLES" in result.stdout


def test_adhoc_parse_root_path_fills_the_rfc4173_defaults(repo, run_tool):
    msg = adhoc_msg(run_tool("ansible", "localhost", "-m", "debug", "-a", PARSE_ROOT_PATH, env=JSON_OUTPUT))
    assert msg == {"server": "10.0.0.5", "protocol": 6, "port": 3260, "lun": 0, "target_iqn": "iqn.2001-05.com.example:boot01"}


def test_bad_input_fails_with_the_rule_not_a_traceback(repo, run_tool):
    result = run_tool("ansible", "localhost", "-m", "debug", "-a",
                      "msg={{ {'server': '10.0.0.5', 'target_iqn': 'winboot01'} | sanboot.iscsi.root_path }}")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "'winboot01' looks like a target alias" in output
    assert "Traceback" not in output


def test_dependency_collections_resolve_from_the_checkout(repo, run_tool):
    for module in ("ansible.windows.win_service", "community.windows.win_firewall_rule", "ansible.netcommon.cli_config"):
        result = run_tool("ansible-doc", module)
        assert result.returncode == 0, "%s: %s" % (module, result.stderr)


def test_built_tarball_installs_offline_into_an_empty_path_and_works(repo, run_tool, tmp_path):
    build = run_tool("ansible-galaxy", "collection", "build", "--output-path", tmp_path / "dist", repo)
    assert build.returncode == 0, build.stderr
    tarball = tmp_path / "dist" / TARBALL
    assert tarball.exists()
    listing = subprocess.run(["tar", "tzf", str(tarball)], capture_output=True, text=True, check=True).stdout.split()
    assert "plugins/module_utils/naming.py" in listing
    assert not [name for name in listing if name.startswith((".venv", ".collections", ".cache", "tools/"))]

    # The dependencies, but not this collection, are already installed somewhere on the path.
    dependencies = tmp_path / "deps" / "ansible_collections"
    for manifest in (COLLECTIONS / "ansible_collections").glob("*/*/MANIFEST.json"):
        namespace, name = manifest.parent.parent.name, manifest.parent.name
        (dependencies / namespace).mkdir(parents=True, exist_ok=True)
        (dependencies / namespace / name).symlink_to(manifest.parent)
    empty = tmp_path / "empty"
    empty.mkdir()
    isolated = {"ANSIBLE_CONFIG": str(tmp_path / "none.cfg"), "ANSIBLE_COLLECTIONS_PATH": "%s:%s" % (empty, dependencies.parent)}
    install = run_tool("ansible-galaxy", "collection", "install", "--offline", tarball, "-p", empty, cwd=tmp_path, env=isolated)
    assert install.returncode == 0, install.stdout + install.stderr
    installed = empty / "ansible_collections" / "sanboot" / "iscsi"
    assert (installed / "MANIFEST.json").exists()

    doc = run_tool("ansible-doc", "-t", "filter", "sanboot.iscsi.root_path", cwd=tmp_path, env=isolated)
    assert str(installed / "plugins" / "filter" / "root_path.py") in doc.stdout, doc.stdout + doc.stderr
    msg = adhoc_msg(run_tool("ansible", "localhost", "-m", "debug", "-a", PARSE_ROOT_PATH, cwd=tmp_path,
                             env=dict(isolated, **JSON_OUTPUT)))
    assert msg["port"] == 3260 and msg["lun"] == 0


def test_second_setup_changes_nothing(repo):
    result = subprocess.run([sys.executable, str(repo / "tools" / "setup.py")], cwd=str(repo), capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ".venv is up to date" in result.stdout
    assert "Debian packages from bindep.txt are installed" in result.stdout
    assert "collections are installed" in result.stdout
    for action in ("installing", "apt-get", "downloading", "extracting", "linked", "wrote"):
        assert action not in result.stdout, result.stdout


def readme_block(after: str) -> str:
    """The first ```bash block of README.md after the line that contains `after`."""
    text = (labkit.REPO / "README.md").read_text()
    rest = text[text.index(after):]
    start = rest.index("```bash\n") + len("```bash\n")
    return rest[start:rest.index("```", start)]


def test_readme_install_from_a_built_tarball_works_as_written_from_the_checkout(repo, tmp_path):
    """The README's commands, run as a user would in the checkout (its ansible.cfg in force), with
    HOME in a temporary directory so that ~/.ansible/collections is the test's own."""
    commands = readme_block("From a built tarball")
    assert "make build" in commands and "ansible-galaxy collection install" in commands and TARBALL in commands
    tarball = repo / TARBALL
    existed = tarball.exists()
    home = tmp_path / "home"
    home.mkdir()
    environment = dict(labkit.ansible_env(), HOME=str(home))
    environment.pop("ANSIBLE_COLLECTIONS_PATH")  # the checkout's ansible.cfg is what a user there has
    try:
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=str(repo), env=environment,
                                capture_output=True, text=True, timeout=300, check=False)
    finally:
        if not existed and tarball.exists():
            tarball.unlink()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Nothing to do" not in result.stdout
    installed = home / ".ansible" / "collections" / "ansible_collections" / "sanboot" / "iscsi"
    assert (installed / "MANIFEST.json").exists(), result.stdout
    # Outside the checkout Ansible's default path finds it (the dependencies from wherever they are).
    outside = dict(environment, ANSIBLE_CONFIG=str(tmp_path / "none.cfg"),
                   ANSIBLE_COLLECTIONS_PATH="%s:%s" % (home / ".ansible" / "collections", COLLECTIONS))
    doc = subprocess.run([str(labkit.VENV_BIN / "ansible-doc"), "-t", "filter", "sanboot.iscsi.root_path"],
                         cwd=str(tmp_path), env=outside, capture_output=True, text=True, timeout=120, check=False)
    assert str(installed / "plugins" / "filter" / "root_path.py") in doc.stdout, doc.stdout + doc.stderr
