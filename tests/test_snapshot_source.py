"""The snapshot as a source: lookups through the daemon answered from the local copy."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest

from oahelper.snapshot.importer import Importer
from oahelper.sources.unpaywall import parse_unpaywall
from tests.support.daemon import start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import GREEN_DOI
from tests.support.processes import PYTHON, fake_upstream, oahelper
from tests.support.snapshot_data import Generator, write_snapshot


def records_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def snapshot(tmp_path: Path, isolated_home: Path) -> tuple[Path, list[dict]]:
    """A snapshot of 120 generated records where the daemon looks for it by default."""
    feed = write_snapshot(tmp_path / "snap.jsonl", 120)
    db = isolated_home / "data" / "snapshot.duckdb"
    Importer(db).run([str(feed)])
    return db, records_of(feed)


def first(records: list[dict], status: str) -> dict:
    return next(r for r in records if r["oa_status"] == status)


async def test_a_doi_in_the_snapshot_is_answered_from_it_with_its_date(start_daemon, snapshot) -> None:
    _, records = snapshot
    as_of = max(r["updated"] for r in records)[:10]
    d = await start_daemon()
    for record in (first(records, "gold"), first(records, "green")):
        p = await d.lookup_json({"doi": record["doi"]})
        assert p["status"] == "open" and p["oa_status"] == record["oa_status"]
        assert p["sources"]["snapshot"] == {"state": "ok", "ms": p["sources"]["snapshot"]["ms"],
                                            "cached": False, "as_of": as_of}
        _, locations, meta = parse_unpaywall(record)
        assert p["best"]["url"] == next(loc.url for loc in locations if loc.is_best)
        assert p["best"]["source"] == "snapshot" and p["best"]["found_by"] == ["snapshot"]
        assert p["article"]["title"] == meta["title"] and p["article"]["year"] == record["year"]
    closed = await d.lookup_json({"doi": first(records, "closed")["doi"]})
    assert closed["status"] == "closed" and closed["sources"]["snapshot"]["state"] == "ok"


async def test_a_doi_not_in_the_snapshot_is_not_found_there_and_other_sources_still_answer(
        start_daemon, snapshot) -> None:
    d = await start_daemon()
    p = await d.lookup_json({"doi": GREEN_DOI})
    assert p["sources"]["snapshot"]["state"] == "not_found"
    assert p["sources"]["unpaywall"]["state"] == "ok" and p["status"] == "open"


async def test_without_a_snapshot_the_source_is_off(start_daemon) -> None:
    d = await start_daemon()
    p = await d.lookup_json({"doi": GREEN_DOI})
    assert p["sources"]["snapshot"] == {"state": "disabled", "ms": 0, "cached": False}
    status = await (await d.client.get("/v1/status", headers=d.auth)).json()
    assert status["snapshot"]["present"] is False
    assert status["sources"]["snapshot"]["enabled"] is False


async def test_status_shows_the_snapshots_figures(start_daemon, snapshot) -> None:
    db, records = snapshot
    d = await start_daemon()
    s = await (await d.client.get("/v1/status", headers=d.auth)).json()
    snap = s["snapshot"]
    assert snap["present"] is True and snap["records"] == 120 and snap["path"] == str(db)
    assert snap["free"] == sum(r["is_oa"] for r in records) and snap["closed"] == 120 - snap["free"]
    assert snap["newest_record"] == max(r["updated"] for r in records)[:10]
    assert snap["disk_bytes"] >= db.stat().st_size > 0


async def test_after_a_change_file_the_daemon_answers_the_new_version(start_daemon, snapshot,
                                                                      tmp_path) -> None:
    db, records = snapshot
    d = await start_daemon()
    before = await d.lookup_json({"doi": records[5]["doi"]})
    again = await d.lookup_json({"doi": records[5]["doi"]})
    assert again["sources"]["snapshot"]["cached"] is True
    newer = Generator(seed=9).record(5)[0] | {"updated": "2025-12-01T00:00:00", "title": "Retitled"}
    change = tmp_path / "change.jsonl"
    change.write_text(json.dumps(newer) + "\n")
    # Another process, as a user would run it: it waits for the daemon to let go.
    imported = await asyncio.to_thread(oahelper, ["snapshot", "import", str(change)], os.environ)
    assert imported.returncode == 0, imported.stderr
    after = await d.lookup_json({"doi": records[5]["doi"]})
    assert before["article"]["title"] != "Retitled" == after["article"]["title"]
    assert after["sources"]["snapshot"]["as_of"] == "2025-12-01"


async def test_while_an_import_holds_the_snapshot_lookups_say_so_and_others_answer(
        start_daemon, snapshot) -> None:
    db, records = snapshot
    d = await start_daemon()
    # Another process holds the file as an import does, until told to stop.
    holder = subprocess.Popen(
        [PYTHON, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " sys.stdin.read()", str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        p = await d.lookup_json({"doi": GREEN_DOI})
        assert p["sources"]["snapshot"]["state"] == "error"
        assert "in use by another process" in p["sources"]["snapshot"]["error"]
        assert p["status"] == "open" and p["sources"]["unpaywall"]["state"] == "ok"
    finally:
        holder.communicate("", timeout=10)
    p = await d.lookup_json({"doi": records[0]["doi"]})
    assert p["sources"]["snapshot"]["state"] == "ok"


def test_cli_lookup_and_doctor_use_the_snapshot(snapshot) -> None:
    db, records = snapshot
    env = dict(os.environ) | {"OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu"}
    with fake_upstream(env) as base:
        env["OAHELPER_UNPAYWALL_URL"] = base
        gold = first(records, "gold")
        proc = oahelper(["lookup", gold["doi"]], env)
        doctor = oahelper(["doctor"], env)
    assert proc.returncode == 0, proc.stderr
    as_of = max(r["updated"] for r in records)[:10]
    assert "FREE (gold)" in proc.stdout and f"snapshot ok as of {as_of}" in proc.stdout
    assert f"ok   snapshot: 120 DOIs" in doctor.stdout and f"newest record {as_of}" in doctor.stdout
    assert "ok   snapshot: answers" in doctor.stdout
