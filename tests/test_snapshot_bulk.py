"""The audit in bulk: DOIs answered from the snapshot by one join, with the very rows the
per-item lookup would write, and the network asked only for the rest."""

from __future__ import annotations

import copy
import csv
import json
import os
from pathlib import Path

import aiohttp
import pytest

from oahelper.audit.entries import Entry
from oahelper.audit.rows import row_from_payload
from oahelper.engine.cache import AsyncCache
from oahelper.engine.lookup import LookupService
from oahelper.audit.snapshot_join import SnapshotPrepass
from oahelper.snapshot.importer import Importer
from oahelper.sources.snapshot import Snapshot
from tests.support.fake_upstream import GREEN_DOI
from tests.support.processes import fake_upstream, oahelper
from tests.support.snapshot_data import Generator


def awkward(records: list[dict]) -> list[dict]:
    """Records that test the merge's rules: a javascript: link, the same copy twice
    (another case of host, a trailing slash), blank and odd fields."""
    out = []
    for n, base in enumerate(r for r in records if r["oa_locations"]):
        rec = copy.deepcopy(base)
        rec["doi"] = f"10.5555/awkward.{n}"
        first = rec["oa_locations"][0]
        twin = dict(first, url=first["url"].replace("https://", "https://WWW.") + "/",
                    url_for_pdf=None, is_best=False, license="CC-BY")
        evil = dict(first, url="javascript:alert(1)", url_for_pdf=None, is_best=False)
        blank = dict(first, url="  ", url_for_pdf="", license=" ", version="draft",
                     host_type="preprint server", is_best=False)
        rec["oa_locations"] = [evil, blank, *rec["oa_locations"], twin][: 3 + n % 4]
        out.append(rec)
        if len(out) == 25:
            break
    return out


@pytest.fixture
def snapshot(tmp_path: Path, isolated_home: Path) -> tuple[Path, list[dict]]:
    gen = Generator()
    records = [gen.record(i)[0] for i in range(400)]
    records += awkward(records)
    feed = tmp_path / "snap.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    db = isolated_home / "data" / "snapshot.duckdb"
    Importer(db).run([str(feed)])
    return db, records


async def test_bulk_rows_are_the_rows_the_per_item_lookup_writes(snapshot, tmp_path) -> None:
    db, records = snapshot
    source = Snapshot(db)
    entries = [Entry(file="list.txt", key=f"line {n}", line=n, doi=r["doi"].upper() if n % 3 else r["doi"])
               for n, r in enumerate(records, 1)]
    entries.append(Entry(file="list.txt", key="absent", line=0, doi="10.5555/not.in.it"))
    known = await SnapshotPrepass(source.reader, offline=True)(entries)
    cache = AsyncCache(tmp_path / "cache.sqlite3")
    async with aiohttp.ClientSession() as session:
        service = LookupService(sources=[source], cache=cache, session=session, timeout=5,
                                offline=True)
        for entry in entries:
            bulk = known[entry.lookup_key](entry)
            single = row_from_payload(entry, await service.lookup_article(entry.article()))
            assert bulk == single, entry.doi
    await cache.aclose()
    source.close()


async def test_entries_with_other_identifiers_are_left_to_the_lookup(snapshot) -> None:
    db, records = snapshot
    source = Snapshot(db)
    with_pmc = Entry(file="l", key="k", doi=records[0]["doi"], pmcid="PMC123")
    known = await SnapshotPrepass(source.reader, offline=True)([with_pmc])
    assert known[with_pmc.lookup_key](with_pmc) is None  # the identifier rules add a copy
    source.close()


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("offline", [False, True])
def test_audit_answers_from_the_snapshot_in_bulk_and_asks_upstream_only_for_the_rest(
        snapshot, tmp_path, offline) -> None:
    db, records = snapshot
    as_of = max(r["updated"] for r in records)[:10]
    present = [r["doi"] for r in records[:30]]
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join([*present, GREEN_DOI, "arXiv:1706.03762", "just words"]) + "\n")
    log = tmp_path / "upstream.jsonl"
    env = dict(os.environ) | {"OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu",
                              "OAHELPER_OFFLINE": "true" if offline else "false"}
    with fake_upstream(env, log=log) as base:
        env["OAHELPER_UNPAYWALL_URL"] = base
        out = tmp_path / "report.csv"
        proc = oahelper(["audit", str(listing), "--out", str(out)], env)
    assert proc.returncode == 0, proc.stderr
    rows = read_rows(out)
    assert len(rows) == 33
    by_doi = {r["doi"]: r for r in records[:30]}
    for row in rows[:30]:
        record = by_doi[row["doi"]]
        assert row["sources"] == f"snapshot ({as_of})"
        assert row["status"] == ("open" if record["is_oa"] else "closed")
        assert row["oa_status"] == record["oa_status"]
    green, arxiv = rows[30], rows[31]
    assert arxiv["status"] == "open" and "free_by_id" in arxiv["sources"]
    asked = [json.loads(line)["doi"] for line in log.read_text().splitlines()] if log.exists() else []
    if offline:
        assert asked == []
        assert green["status"] == "not_found" and green["problem"].startswith("No source knows DOI")
    else:
        assert set(asked) <= {GREEN_DOI, "10.48550/arXiv.1706.03762"} and GREEN_DOI in asked
        assert green["status"] == "open" and "unpaywall" in green["sources"]
    assert f"30 entries answered from the Unpaywall snapshot of {as_of} in bulk" in proc.stderr
