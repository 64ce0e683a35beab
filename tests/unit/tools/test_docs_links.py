# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tools/docs.py: the link check of the guide pages before the site is built."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
_SPEC = importlib.util.spec_from_file_location("sanboot_docs_tool", REPO / "tools" / "docs.py")
docs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(docs)

BLOB = "https://example.invalid/blob/main/"
PAGE = Path("docs/san.md")
STAGED = {Path("README.md"), Path("docs/san.md"), Path("docs/lab.md"), Path("roles/san_boot_volume/README.md")}


def rewrite(text):
    errors = []
    return docs.rewrite_links(PAGE, text, STAGED, BLOB, errors), errors


def test_a_link_to_a_missing_file_is_an_error_naming_the_page_line_and_link():
    _text, errors = rewrite("intro\nsee [the lab](lab.md) and [gone](no-such-page.md)\n")
    assert errors == ["docs/san.md:2: link no-such-page.md points to docs/no-such-page.md, which does not exist"]


def test_links_between_pages_are_left_for_sphinx_and_other_files_point_at_the_repository():
    text, errors = rewrite("[lab](lab.md#what-the-lab-is) [role](../roles/san_boot_volume/README.md) "
                           "[playbook](../playbooks/site.yml) [tgt](../tests/labkit/tgt.py)\n")
    assert errors == []
    assert "[lab](lab.md#what-the-lab-is)" in text
    assert "[role](../roles/san_boot_volume/README.md)" in text
    assert "[playbook](%splaybooks/site.yml)" % BLOB in text
    assert "[tgt](%stests/labkit/tgt.py)" % BLOB in text


def test_a_directory_with_a_staged_readme_links_to_that_page():
    text, errors = rewrite("[role](../roles/san_boot_volume/)\n")
    assert errors == [] and "[role](../roles/san_boot_volume/README.md)" in text


def test_urls_anchors_and_code_blocks_are_not_links_to_check():
    text, errors = rewrite("[site](https://example.com/x.md) [here](#heading)\n```\n[not a link](missing.md)\n```\n")
    assert errors == []
    assert "[not a link](missing.md)" in text


def test_a_link_out_of_the_checkout_is_an_error():
    _text, errors = rewrite("[shared](../../shared/notes/x.md)\n")
    assert len(errors) == 1 and "leaves the checkout" in errors[0]


def test_every_page_of_the_checkout_is_in_the_site():
    pages = docs.pages()
    assert Path("README.md") in pages
    assert set(REPO.glob("docs/*.md")) == {REPO / page for page in pages if page.parent == Path("docs")}
    assert all((REPO / page).is_file() for page in pages)


def test_every_page_of_the_guide_is_in_the_site():
    pages = docs.pages()
    guide = {REPO / page for page in pages if page.parent == Path("docs/guide")}
    assert guide and set(REPO.glob("docs/guide/*.md")) == guide
