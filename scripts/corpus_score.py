"""How many fields scrape() gets right on the shared page corpus, for the release note.

    .venv/bin/python scripts/corpus_score.py [PAGES_DIR] [--misses]

Prints one row per field: right/given (given = pages whose expected.json has a
value for it; the DOI is scored on every page, "no DOI" included). Comparison
rules: tests/support/groundtruth.py. ``--misses`` also lists each wrong field.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from oahelper.scrape import scrape  # noqa: E402
from tests.support.groundtruth import CHECKS, is_right, load_truth, scored  # noqa: E402

DEFAULT_PAGES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "pages"


def score(pages_dir: Path) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Per field (right, given), and a line per miss."""
    tally = {check.field: [0, 0] for check in CHECKS}
    misses: list[str] = []
    for entry in load_truth(pages_dir):
        article = scrape(entry["url"], (pages_dir / entry["file"]).read_bytes())
        for check in CHECKS:
            if not scored(entry, check.field):
                continue
            tally[check.field][1] += 1
            if is_right(entry, check.field, article):
                tally[check.field][0] += 1
            else:
                misses.append(f"{entry['file']}: {check.field} expected "
                              f"{check.expected(entry)!r}")
    return {field: (right, given) for field, (right, given) in tally.items()}, misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages_dir", nargs="?", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--misses", action="store_true", help="list every wrong field")
    args = parser.parse_args(argv)
    if not (args.pages_dir / "expected.json").exists():
        print(f"no expected.json in {args.pages_dir}", file=sys.stderr)
        return 2
    table, misses = score(args.pages_dir)
    print(f"{'field':14} {'right/given':>12}")
    for field, (right, given) in table.items():
        print(f"{field:14} {f'{right}/{given}':>12}")
    total_right = sum(r for r, _ in table.values())
    total_given = sum(g for _, g in table.values())
    print(f"{'all':14} {f'{total_right}/{total_given}':>12}")
    if args.misses:
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
