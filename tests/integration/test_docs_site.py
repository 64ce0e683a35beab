# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The documentation site's build (docs/site/conf.py) fails on a broken internal link: the same
configuration `make docs` uses, on a two-page site, once with good links and once with each kind
of broken one."""

from __future__ import annotations

import subprocess

import pytest

import labkit

INDEX = """Site
====

.. toctree::

   a
   b
"""
PAGE_B = """# Page b

## A heading

Text.

(a-label)=
## Labelled
"""


def build(tmp_path, page_a, pages=None):
    source = tmp_path / "src"
    source.mkdir()
    (source / "index.rst").write_text(INDEX)
    (source / "a.md").write_text(page_a)
    for name, text in (pages or {"b.md": PAGE_B}).items():
        (source / name).write_text(text)
    return subprocess.run([str(labkit.VENV_BIN / "sphinx-build"), "-b", "html", "-W", "--keep-going", "-n", "-q",
                           "-c", str(labkit.REPO / "docs" / "site"), str(source), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120, check=False)


def test_good_links_build(tmp_path):
    result = build(tmp_path, "# Page a\n\n[b](b.md), [its heading](b.md#a-heading), {ref}`the label <a-label>`\n")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("page_a, pages, what", [
    ("# Page a\n\n[b](b.md#no-such-heading)\n", None, "no-such-heading"),
    ("# Page a\n\n[c](c.md)\n", None, "c.md"),
    ("# Page a\n\n{ref}`missing <no-such-label>`\n", None, "no-such-label"),
    ("# Page a\n\n[b](b.md)\n", {"b.md": PAGE_B, "orphan.md": "# Orphan\n"}, "orphan"),
])
def test_a_broken_internal_link_or_a_page_outside_the_contents_fails_the_build(tmp_path, page_a, pages, what):
    result = build(tmp_path, page_a, pages)
    assert result.returncode != 0
    assert what in result.stderr, result.stderr
