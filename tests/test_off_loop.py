"""SQLite never runs on the daemon's event loop (issue 15).

While another process holds the cache database's write lock (an ``oahelper audit``,
a second CLI command), a lookup that waited for SQLite on the loop stopped the whole
daemon: /v1/health took up to 9.7 s. These tests see every SQL statement the daemon
runs, by the thread that runs it, and hold the write lock from another connection the
way another process would. (The time it takes is measured in scripts/bench_storage.py.)
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from oahelper import files
from oahelper.daemon import clients
from oahelper.engine import cache as cache_module
from oahelper.engine.cache import Cache
from tests.support.daemon import start_daemon, upstream_server  # noqa: F401 (fixtures)

UNKNOWN = "10.5555/not-in-any-recording"
KEY = f"doi:{UNKNOWN}"  # how the Unpaywall source keys its cached answers


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """(thread id, SQL) of every statement run on a connection the daemon opens."""
    seen: list[tuple[int, str]] = []

    def traced(path: Path, schema: str, what: str, **kw: Any) -> sqlite3.Connection:
        db = files.open_db(path, schema, what, **kw)
        db.set_trace_callback(lambda sql: seen.append((threading.get_ident(), sql)))
        return db

    monkeypatch.setattr(cache_module, "open_db", traced)
    monkeypatch.setattr(clients, "open_db", traced)
    return seen


async def test_no_sql_runs_on_the_event_loop(start_daemon, statements) -> None:
    d = await start_daemon()
    loop_thread = threading.get_ident()  # the test's loop is the daemon's loop
    statements.clear()  # the test's own token, made before the daemon ran
    cold = await d.lookup_json({"doi": UNKNOWN})  # its answer is written to the cache
    assert cold["sources"]["unpaywall"]["state"] == "not_found"
    assert (await d.lookup_json({"doi": UNKNOWN}))["cached"] is True  # warm: reads
    resp = await d.client.get("/v1/status", headers=d.auth)
    assert resp.status == 200
    assert statements, "the trace saw no statement: the test would prove nothing"
    on_loop = [sql for thread, sql in statements if thread == loop_thread]
    assert on_loop == []


async def test_a_locked_cache_holds_up_neither_health_nor_lookups(start_daemon) -> None:
    d = await start_daemon()
    assert (await d.client.get("/v1/health")).status == 200  # the cache exists now
    other = sqlite3.connect(d.settings.cache_db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's write lock, held until we say
    try:
        first = await asyncio.wait_for(d.lookup_json({"doi": UNKNOWN}), 5)
        health = await asyncio.wait_for(d.client.get("/v1/health"), 5)
        second = await asyncio.wait_for(d.lookup_json({"doi": UNKNOWN}), 5)
        assert first["sources"]["unpaywall"]["state"] == "not_found" and health.status == 200
        # The answer waits in memory for the lock: the second lookup finds it.
        assert second["cached"] is True
        asked = [r for r in d.upstream.requests if r["service"] == "unpaywall"]
        assert len(asked) == 1
        assert Cache(d.settings.cache_db).get("unpaywall", KEY) is None
    finally:
        other.execute("COMMIT")
        other.close()
    # Once the lock is free the write lands, for the next process to read.
    for _ in range(100):
        if Cache(d.settings.cache_db).get("unpaywall", KEY) is not None:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the cached answer was never written after the lock was released")
