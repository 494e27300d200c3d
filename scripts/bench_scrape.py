"""How fast scrape() reads real pages, against lxml.html.fromstring on the same bytes.

    .venv/bin/python scripts/bench_scrape.py [PAGES_DIR] [--runs N]

For every page in the shared corpus (default ../shared/fixtures/pages) it times
scrape(url, bytes) and lxml.html.fromstring(bytes), median of N runs each, and
prints per-page milliseconds and their ratio, the median ratio (goal <= 1.5)
and the time for frontiers_1, the 1.2 MB page (goal < 30 ms). Figures only:
nothing here passes or fails. ``bench(pages_dir)`` returns the same figures for
scripts/bench.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lxml.html

from oahelper.scrape import scrape

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PAGES = REPO.parent / "shared" / "fixtures" / "pages"
BIG_PAGE = "frontiers_1.html"
GOAL_RATIO = 1.5
GOAL_BIG_MS = 30.0


def median_ms(work: Callable[[], object], runs: int) -> float:
    """Median wall time of ``runs`` calls, in milliseconds (after one warm-up)."""
    work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _page_urls(pages_dir: Path) -> dict[str, str | None]:
    """Each page's address from expected.json, when the corpus has one."""
    truth = pages_dir / "expected.json"
    if not truth.exists():
        return {}
    return {e["file"]: e.get("url") for e in json.loads(truth.read_text(encoding="utf-8"))}


def bench(pages_dir: Path, runs: int = 15) -> dict[str, Any]:
    """Per-page figures and the two goal figures: ``median_ratio``, ``frontiers_ms``."""
    urls = _page_urls(pages_dir)
    rows = []
    for path in sorted(pages_dir.glob("*.html")):
        data = path.read_bytes()
        url = urls.get(path.name)
        lxml_ms = median_ms(lambda: lxml.html.fromstring(data), runs)
        scrape_ms = median_ms(lambda: scrape(url, data), runs)
        rows.append({"page": path.name, "bytes": len(data), "lxml_ms": lxml_ms,
                     "scrape_ms": scrape_ms, "ratio": scrape_ms / lxml_ms})
    big = next((r["scrape_ms"] for r in rows if r["page"] == BIG_PAGE), float("nan"))
    return {
        "pages": rows,
        "median_ratio": statistics.median(r["ratio"] for r in rows) if rows else float("nan"),
        "frontiers_ms": big,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages_dir", nargs="?", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    if not args.pages_dir.is_dir():
        print(f"no pages at {args.pages_dir}", file=sys.stderr)
        return 2
    result = bench(args.pages_dir, args.runs)
    print(f"{'page':24} {'KiB':>6} {'lxml ms':>8} {'scrape ms':>10} {'ratio':>6}")
    for row in result["pages"]:
        print(f"{row['page']:24} {row['bytes'] // 1024:6} {row['lxml_ms']:8.2f} "
              f"{row['scrape_ms']:10.2f} {row['ratio']:6.2f}")
    print(f"median ratio scrape/lxml: {result['median_ratio']:.2f} (goal <= {GOAL_RATIO})")
    print(f"{BIG_PAGE}: {result['frontiers_ms']:.1f} ms (goal < {GOAL_BIG_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
