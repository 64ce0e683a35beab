# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/performance.md is what `make bench` wrote, not a hand-edited page (issue 16).

tools/bench.py renders the page from the run's record (results per N, the clones, the machine, the
command) and keeps that record in the page; rendering it again must give the page byte for byte. So an
edit by hand shows up here, and so does a page whose reproduce section or plot went missing.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", REPO / "tools" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_performance_page_is_rendered_by_make_bench_from_the_record_it_carries():
    bench = load_bench()
    page = (REPO / "docs" / "performance.md").read_text()
    record = bench.record_of(page)
    assert record is not None, "docs/performance.md carries no `make bench` record: run make bench"
    assert bench.render_markdown(record) == page, "docs/performance.md was edited by hand: run make bench again"
    # What the page must say: how to reproduce it, every N with the four series, and one ratio line per N.
    assert "## Reproduce" in page and "make bench" in page and "BENCH_N" in page
    for result in record["results"]:
        assert "ratio_vs_baseline N=%d: %.2f" % (result["hosts"], result["ratio"]) in page
        assert set(result) >= {"provision", "rerun", "verify", "baseline"}
    assert (REPO / "docs" / "performance.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_page_edited_by_hand_is_told_apart():
    bench = load_bench()
    page = (REPO / "docs" / "performance.md").read_text()
    edited = page.replace("ratio_vs_baseline N=", "ratio_vs_baseline  N=", 1)
    assert bench.render_markdown(bench.record_of(edited)) != edited
