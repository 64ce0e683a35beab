# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The changelog: CHANGELOG.md is what antsibull-changelog generates from changelogs/changelog.yaml, never
edited by hand, and the releases it lists are the collection's versions."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
ANTSIBULL_CHANGELOG = str(Path(sys.executable).parent / "antsibull-changelog")


def version(text):
    return tuple(int(part) for part in text.split("."))


def test_changelog_md_is_generated_from_changelog_yaml(tmp_path):
    (tmp_path / "changelogs").mkdir()
    for name in ("changelogs/config.yaml", "changelogs/changelog.yaml", "galaxy.yml", "CHANGELOG.md"):
        shutil.copy(REPO / name, tmp_path / name)
    result = subprocess.run([ANTSIBULL_CHANGELOG, "generate"], cwd=str(tmp_path), capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "CHANGELOG.md").read_text() == (REPO / "CHANGELOG.md").read_text(), \
        "CHANGELOG.md differs from what `antsibull-changelog generate` writes: run it (or `make changelog` to release)"


def test_changelog_yaml_is_valid_and_the_collection_is_at_or_after_its_last_release():
    result = subprocess.run([ANTSIBULL_CHANGELOG, "lint-changelog-yaml", str(REPO / "changelogs" / "changelog.yaml")],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
    config = yaml.safe_load((REPO / "changelogs" / "config.yaml").read_text())
    assert config["output"] == [{"file": "CHANGELOG.md", "format": "md"}]
    releases = yaml.safe_load((REPO / "changelogs" / "changelog.yaml").read_text())["releases"]
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    assert releases and version(galaxy) >= max(version(release) for release in releases)
