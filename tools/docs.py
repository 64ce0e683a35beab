# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make docs`: the documentation site, HTML in docs/_build/html.

1. Stage a source tree in .cache/docs/src that mirrors the checkout's documentation: README.md,
   docs/*.md, the guide (docs/guide/*.md), the roles' and the example inventory's README.md, at their paths in the checkout,
   so that the links between them work on the site as they do on GitHub.
2. Check every relative link of those pages. A link to another staged page (or a heading in it)
   is left for Sphinx to resolve; a link to any other file of the checkout (a playbook, a test)
   becomes a link to that file in the repository; a link to a file that does not exist fails the
   build here, naming the page and the link.
3. Render the collection reference (every module, filter, test and role) from the plugins' and
   roles' own documentation with antsibull-docs into .cache/docs/src/collection.
4. sphinx-build -W -n with docs/site/conf.py: any warning fails, so does a page that no table of
   contents includes, a reference to a missing label, or a link to a missing heading.

Runs offline. Exit status 0 only when the site was built without a warning.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "docs" / "site"
STAGE = REPO / ".cache" / "docs"
SOURCE = STAGE / "src"
OUTPUT = REPO / "docs" / "_build" / "html"
BIN = REPO / ".venv" / "bin"
# Markdown links: [text](target) and ![alt](target); reference-style links are not used here.
LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)(\))")
FENCE = re.compile(r"^(```|~~~)")


def pages() -> list:
    """The checkout's documentation pages, as paths relative to the checkout."""
    found = [Path("README.md"), Path("CHANGELOG.md")]
    found += sorted(path.relative_to(REPO) for path in (REPO / "docs").glob("*.md"))
    found += sorted(path.relative_to(REPO) for path in (REPO / "docs" / "guide").glob("*.md"))
    found += sorted(path.relative_to(REPO) for path in (REPO / "roles").glob("*/README.md"))
    found += sorted(path.relative_to(REPO) for path in (REPO / "playbooks").rglob("README.md"))
    return found


def repository_url() -> str:
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    return galaxy["repository"].rstrip("/") + "/blob/main/"


def rewrite_links(page: Path, text: str, staged: set, blob_url: str, errors: list) -> str:
    """The page's text with links to non-page files pointed at the repository; errors collected."""
    out, fenced = [], False
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        if FENCE.match(line.lstrip()):
            fenced = not fenced
        if fenced:
            out.append(line)
            continue

        def replace(match):
            target = match.group(2)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                return match.group(0)  # a URL, or a heading of this page (Sphinx checks those)
            path_part, _hash, anchor = target.partition("#")
            resolved = (REPO / page.parent / path_part).resolve()
            try:
                relative = resolved.relative_to(REPO)
            except ValueError:
                errors.append("%s:%d: link %s leaves the checkout" % (page, number, target))
                return match.group(0)
            if not resolved.exists():
                errors.append("%s:%d: link %s points to %s, which does not exist" % (page, number, target, relative))
                return match.group(0)
            if relative in staged:
                return match.group(0)
            if resolved.is_dir() and (resolved / "README.md").exists() and relative / "README.md" in staged:
                new = (path_part.rstrip("/") + "/README.md") + ("#" + anchor if anchor else "")
                return match.group(1) + new + match.group(3)
            return match.group(1) + blob_url + relative.as_posix() + match.group(3)

        out.append(LINK.sub(replace, line))
    return "".join(out)


def stage() -> list:
    """Fresh source tree; returns the link errors found."""
    if STAGE.exists():
        shutil.rmtree(STAGE)
    SOURCE.mkdir(parents=True)
    shutil.copy(SITE / "index.rst", SOURCE / "index.rst")
    staged = set(pages())
    # Images the pages show (docs/performance.png, which `make bench` draws) go with them.
    images = sorted(path.relative_to(REPO) for path in (REPO / "docs").glob("*.png"))
    for image in images:
        (SOURCE / image).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / image, SOURCE / image)
    errors, blob_url = [], repository_url()
    for page in sorted(staged):
        staged_and_images = staged | set(images)
        target = SOURCE / page
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rewrite_links(page, (REPO / page).read_text(), staged_and_images, blob_url, errors))
    return errors


def run(argv: list, **kwargs) -> None:
    print("+ " + " ".join(str(part) for part in argv), flush=True)
    result = subprocess.run([str(part) for part in argv], check=False, **kwargs)
    if result.returncode != 0:
        sys.exit("docs: %s failed (exit %d)" % (Path(str(argv[0])).name, result.returncode))


def main() -> int:
    errors = stage()
    if errors:
        print("docs: broken links in the guide:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    # antsibull-docs runs ansible-doc: the checkout's, on the checkout's collections.
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"), ANSIBLE_NOCOLOR="1",
                       PATH="%s:%s" % (BIN, os.environ.get("PATH", "")))
    environment.pop("ANSIBLE_CONFIG", None)
    collection = SOURCE / "collection"
    collection.mkdir(mode=0o700)  # antsibull-docs writes only into a directory no one else can write
    run([BIN / "antsibull-docs", "--config-file", SITE / "antsibull-docs.cfg", "collection", "--use-current",
         "--squash-hierarchy", "--fail-on-error", "--dest-dir", collection, "sanboot.iscsi"], env=environment,
        stdout=subprocess.DEVNULL)
    if OUTPUT.exists():
        shutil.rmtree(OUTPUT)
    run([BIN / "sphinx-build", "-b", "html", "-W", "--keep-going", "-n", "-q", "-c", SITE, SOURCE, OUTPUT],
        env=environment)
    print("docs: %s" % (OUTPUT / "index.html").relative_to(REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
