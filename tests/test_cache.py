"""The SQLite answer cache: lifetimes, staleness, call counts, surviving SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oahelper.engine.cache import FOUND_TTL, NOT_FOUND_TTL, AsyncCache, Cache
from oahelper.links.verdict import LinkVerdict
from oahelper.models import Location, SourceAnswer

GREEN = SourceAnswer(source="unpaywall", state="ok", oa_status="green",
                     locations=(Location(url="https://repo.example/1.pdf", source="unpaywall",
                                         version="acceptedVersion", is_best=True),),
                     metadata={"title": "T"})
CLOSED = SourceAnswer(source="unpaywall", state="ok", oa_status="closed")
MISSING = SourceAnswer(source="unpaywall", state="not_found")
FAILED = SourceAnswer(source="unpaywall", state="error", error="boom")


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_found_answer_lives_seven_days_and_round_trips(tmp_path: Path) -> None:
    clock = Clock()
    cache = Cache(tmp_path / "c.sqlite3", clock)
    assert cache.put(GREEN, "doi:10.1/a")
    got = cache.get("unpaywall", "doi:10.1/a")
    assert got is not None and got.fresh and got.answer.locations == GREEN.locations
    assert got.answer.locations[0].is_best and got.answer.metadata == {"title": "T"}
    clock.now += FOUND_TTL - 1
    assert cache.get("unpaywall", "doi:10.1/a").fresh
    clock.now += 2
    stale = cache.get("unpaywall", "doi:10.1/a")
    assert stale is not None and not stale.fresh  # kept, to cover a failing upstream


def test_no_free_copy_and_not_found_live_one_day(tmp_path: Path) -> None:
    clock = Clock()
    cache = Cache(tmp_path / "c.sqlite3", clock)
    cache.put(CLOSED, "doi:10.1/closed")
    cache.put(MISSING, "doi:10.1/missing")
    clock.now += NOT_FOUND_TTL + 1
    assert not cache.get("unpaywall", "doi:10.1/closed").fresh
    assert not cache.get("unpaywall", "doi:10.1/missing").fresh


def test_errors_are_never_cached(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c.sqlite3")
    assert not cache.put(FAILED, "doi:10.1/x")
    assert cache.get("unpaywall", "doi:10.1/x") is None


def test_call_counter_counts_per_day(tmp_path: Path) -> None:
    clock = Clock()
    cache = Cache(tmp_path / "c.sqlite3", clock)
    cache.count_calls("unpaywall", 2)
    cache.count_calls("unpaywall", 1)
    assert cache.calls_today("unpaywall") == 3
    clock.now += 86400
    assert cache.calls_today("unpaywall") == 0


def test_uses_wal_and_reports_figures(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c.sqlite3")
    cache.put(GREEN, "doi:10.1/a")
    (mode,) = cache._db.execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"
    stats = cache.stats()
    assert stats["entries"] == 1 and stats["fresh"] == 1 and stats["bytes"] > 0


WRITER = """
import sys
from oahelper.engine.cache import Cache
from oahelper.models import Location, SourceAnswer
cache = Cache(__import__('pathlib').Path(sys.argv[1]))
i = 0
while True:
    loc = Location(url=f"https://repo.example/{i}.pdf", source="unpaywall")
    cache.put(SourceAnswer(source="unpaywall", state="ok", oa_status="green",
                           locations=(loc,) * 20), f"doi:10.1/{i}")
    if i == 50:
        print("writing", flush=True)
    i += 1
"""


def test_cache_survives_a_writer_killed_mid_write(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        time.sleep(0.3)  # let it be in the middle of thousands of writes
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
    assert writer.returncode == -signal.SIGKILL
    cache = Cache(db)
    cache.check()  # SQLite's own integrity check passes
    entries = cache.stats()["entries"]
    assert entries > 50
    first = cache.get("unpaywall", "doi:10.1/0")
    assert first is not None and first.fresh and len(first.answer.locations) == 20
    assert cache.put(GREEN, "doi:10.1/after-crash")
    assert cache.get("unpaywall", "doi:10.1/after-crash").fresh


# --- Link check verdicts (the LinkStore of links/check.py) ----------------------------

LANDING = LinkVerdict("landing", "the article's page", "https://x.example/a", "https://x.example/a.pdf")


def test_link_verdicts_round_trip_expire_and_damage_reads_as_none(tmp_path: Path) -> None:
    clock = Clock()
    cache = Cache(tmp_path / "c.sqlite3", clock)
    assert cache.put_link("https://x.example/a", LANDING, clock.now, 60)
    assert cache.get_link("https://x.example/a") == (LANDING, clock.now)
    clock.now += 61
    assert cache.get_link("https://x.example/a") is None  # expired: never answered
    cache._db.execute("INSERT INTO links VALUES ('u', '{\"state\": \"nonsense\"}', 1e12, 2e12)")
    cache._db.execute("INSERT INTO links VALUES ('v', 'not json', 1e12, 2e12)")
    assert cache.get_link("u") is None and cache.get_link("v") is None
    with pytest.raises(ValueError):
        LinkVerdict.from_store({"state": "pdf", "reason": 3})


async def test_async_cache_answers_a_link_verdict_before_and_after_its_write(tmp_path: Path) -> None:
    clock = Clock()
    cache = AsyncCache(tmp_path / "c.sqlite3", clock)
    try:
        cache.put_link("https://x.example/a", LANDING, clock.now, 3600)  # returns at once
        assert await cache.get_link("https://x.example/a") == (LANDING, clock.now)
        assert await cache.get_link("https://x.example/other") is None
    finally:
        await cache.aclose()
    assert Cache(tmp_path / "c.sqlite3", clock).get_link("https://x.example/a") == (LANDING, clock.now)
    cache = AsyncCache(tmp_path / "c.sqlite3", clock)
    try:
        clock.now += 3601
        cache.put_link("https://x.example/b", LANDING, clock.now - 7200, 3600)  # already expired
        assert await cache.get_link("https://x.example/a") is None
        assert await cache.get_link("https://x.example/b") is None
    finally:
        await cache.aclose()
