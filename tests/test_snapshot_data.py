"""The snapshot generator: records Unpaywall could have sent, varied from the recordings."""

from __future__ import annotations

import collections
import gzip
import json
from pathlib import Path

from oahelper.sources.unpaywall import parse_unpaywall
from tests.support.shared import require_shared
from tests.support.snapshot_data import STATUS_MIX, Generator, load_templates, write_snapshot


def read_lines(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_each_record_keeps_its_templates_shape_and_stays_consistent() -> None:
    gen = Generator()
    for i in range(400):
        rec, template = gen.record(i)
        assert list(rec) == list(template.record)  # same keys, same order
        assert rec["oa_status"] == template.record["oa_status"]
        assert rec["is_oa"] == bool(rec["oa_locations"])
        for loc, kind in ((loc, "oa_locations") for loc in rec["oa_locations"]):
            assert set(loc) == set(template.record[kind][0]), loc
        best = [loc for loc in rec["oa_locations"] if loc["is_best"]]
        assert rec["best_oa_location"] == (best[0] if best else None)
        status, locations, meta = parse_unpaywall(rec)
        assert status == rec["oa_status"] and len(locations) == len(rec["oa_locations"])
        assert meta["doi"] == rec["doi"] and meta["year"] == rec["year"]
        assert rec["updated"] >= rec["published_date"][:4]


def test_dois_are_unique_and_the_same_whatever_the_seed(tmp_path: Path) -> None:
    base = write_snapshot(tmp_path / "base.jsonl.gz", 3000)
    changes = write_snapshot(tmp_path / "changes.jsonl", 200, start=2900, seed=2,
                             updated_after=__import__("datetime").datetime(2025, 7, 1))
    first, second = read_lines(base), read_lines(changes)
    dois = [r["doi"].lower() for r in first]
    assert len(set(dois)) == len(dois) == 3000
    assert [r["doi"] for r in second[:100]] == [r["doi"] for r in first[2900:]]
    assert not {r["doi"] for r in second[100:]} & set(r["doi"] for r in first)
    assert all(r["updated"] > "2025-07-01" for r in second)
    assert any(a != b for a, b in zip(first[2900:], second[:100]))


def test_the_mix_of_statuses_is_realistic() -> None:
    require_shared("unpaywall")  # hybrid and bronze templates are in the recordings
    gen = Generator()
    counts = collections.Counter(gen.record(i)[0]["oa_status"] for i in range(5000))
    for status, share in STATUS_MIX.items():
        assert abs(counts[status] / 5000 - share) < 0.03, counts


def test_templates_come_from_the_recordings_and_our_own_fixtures() -> None:
    statuses = {t.record["oa_status"] for t in load_templates()}
    assert {"gold", "green", "closed"} <= statuses
