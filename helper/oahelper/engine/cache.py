"""Source answers cached in SQLite (WAL), keyed by source and identifier.

An answer with a free copy lives 7 days; "no free copy" and "not found" live 1 day
(embargoes end, repositories catch up); errors are never stored. Expired rows stay
until overwritten so that a failing upstream can be covered by a stale answer.
Also counts upstream calls per source per day (Unpaywall allows 100,000), and keeps
each source's last error with its time, so that ``oahelper doctor`` (another process)
can say what the daemon or a CLI lookup last met. And the link checks' verdicts by
URL (table ``links``; ``get_link``/``put_link`` are the ``LinkStore`` of links/check.py,
which gives each verdict its lifetime: working 7 days, broken 1 day, error 1 hour; an
expired verdict is never answered).

A cache is disposable: when SQLite says the file is damaged it is moved aside
(``cache.sqlite3.damaged-<time>``) and a new one started, and when it cannot be
written (a full disk) lookups go on uncached and the log says so once.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from oahelper.errors import ConfigError
from oahelper.files import SQLITE_SIDE_FILES, OneThread, open_db
from oahelper.links.verdict import LinkVerdict
from oahelper.models import SourceAnswer

log = logging.getLogger(__name__)
T = TypeVar("T")
# SQLite's result codes for a damaged file.
_DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def _is_damage(exc: BaseException | None) -> bool:
    return isinstance(exc, sqlite3.DatabaseError) and \
        getattr(exc, "sqlite_errorcode", None) in _DAMAGE_CODES

# How far in the future a stored time may be before the clock is taken to have been
# set back (a few seconds of drift between processes are not a clock set back).
CLOCK_SLACK = 60.0
FOUND_TTL = 7 * 86400
NOT_FOUND_TTL = 86400

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    source TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    stored_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (source, key)
);
CREATE TABLE IF NOT EXISTS calls (
    source TEXT NOT NULL,
    day TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (source, day)
);
CREATE TABLE IF NOT EXISTS pauses (
    source TEXT PRIMARY KEY,
    until REAL NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS errors (
    source TEXT PRIMARY KEY,
    at REAL NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS links (
    url TEXT PRIMARY KEY,
    body TEXT,
    checked_at REAL,
    expires_at REAL
);
"""


@dataclass(frozen=True)
class Cached:
    """A cached answer and whether it is still within its lifetime."""

    answer: SourceAnswer
    stored_at: float
    fresh: bool


def ttl_for(answer: SourceAnswer) -> float | None:
    """Seconds to keep an answer, or None for answers that must not be cached."""
    if answer.state == "ok" and answer.locations:
        return FOUND_TTL
    if answer.state in ("ok", "not_found"):
        return NOT_FOUND_TTL
    return None


class Cache:
    """The answer cache; one per process, on one SQLite file."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time, *,
                 busy_seconds: float = 5.0) -> None:
        self.path = path
        self.clock = clock
        self.hits = 0
        self.misses = 0
        self.busy_seconds = busy_seconds
        self._write_failed = False
        self._inode = _inode(path)  # the file this object opened (see _rebuild)
        try:
            self._db = self._open()
        except ConfigError as exc:
            if not _is_damage(exc.__cause__):
                raise
            self._db = self._rebuild(exc.__cause__)

    def _open(self) -> sqlite3.Connection:
        db = open_db(self.path, _SCHEMA, "the cache", busy_seconds=self.busy_seconds)
        self._inode = _inode(self.path)
        return db

    def _rebuild(self, damage: BaseException | None) -> sqlite3.Connection:
        """Move the damaged files aside and start an empty cache; when another
        connection did so already (the file at ``path`` is a new one), just reopen."""
        if _inode(self.path) not in (None, self._inode):
            return self._open()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for suffix in ("", *SQLITE_SIDE_FILES):
            part = self.path.with_name(self.path.name + suffix)
            if part.exists():
                part.replace(part.with_name(f"{part.name}.damaged-{stamp}"))
        log.warning("the cache at %s was damaged (%s): moved aside as *.damaged-%s and started "
                    "anew", self.path, damage, stamp)
        return self._open()

    def _run(self, work: Callable[[sqlite3.Connection], T], default: T) -> T:
        """``work`` on the database; ``default`` when SQLite fails (the cache is then
        rebuilt when damaged, or the failure logged once when it cannot write)."""
        try:
            return work(self._db)
        except sqlite3.DatabaseError as exc:
            if _is_damage(exc):
                self._db.close()
                self._db = self._rebuild(exc)
            elif not self._write_failed:
                self._write_failed = True
                log.warning("cannot use the cache at %s (%s): answers are not cached until it "
                            "can be written", self.path, exc)
            return default

    def close(self) -> None:
        self._db.close()

    def get(self, source: str, key: str) -> Cached | None:
        """The stored answer (fresh or expired), or None."""
        row = self._run(lambda db: db.execute(
            "SELECT body, stored_at, expires_at FROM answers WHERE source=? AND key=?",
            (source, key)).fetchone(), None)
        if row is None:
            self.misses += 1
            return None
        try:
            answer = SourceAnswer.from_cache_json(json.loads(row[0]))
        except (ValueError, KeyError, TypeError):
            self.misses += 1
            return None  # an unreadable row is as good as none; the next answer replaces it
        now = self.clock()
        # Stored "in the future": the clock was set back since. Such an answer is not
        # trusted as fresh (it could otherwise live for as long as the clock lost).
        fresh = row[2] > now and row[1] <= now + CLOCK_SLACK
        if fresh:
            self.hits += 1
        else:
            self.misses += 1
        return Cached(answer=answer, stored_at=row[1], fresh=fresh)

    def put(self, answer: SourceAnswer, key: str) -> bool:
        """Store an answer if it may be cached; True when stored."""
        ttl = ttl_for(answer)
        if ttl is None:
            return False
        now = self.clock()
        body = json.dumps(answer.to_cache_json())
        return self._run(lambda db: db.execute(
            "INSERT OR REPLACE INTO answers (source, key, body, stored_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)", (answer.source, key, body, now, now + ttl)) is not None, False)

    def get_link(self, url: str) -> tuple[LinkVerdict, float] | None:
        """The verdict of a link check of ``url`` and when it was made, while it lasts."""
        row = self._run(lambda db: db.execute(
            "SELECT body, checked_at, expires_at FROM links WHERE url=?", (url,)).fetchone(), None)
        if row is None or not isinstance(row[1], float | int) or not isinstance(row[2], float | int) \
                or row[2] <= self.clock():
            return None
        try:
            return LinkVerdict.from_store(json.loads(row[0])), float(row[1])
        except (ValueError, TypeError):
            return None  # an unreadable row is as good as none; the next check replaces it

    def put_link(self, url: str, verdict: LinkVerdict, checked_at: float, ttl: float) -> bool:
        """Keep a link check's verdict ``ttl`` seconds from ``checked_at``; True when stored."""
        body = json.dumps(verdict.to_store())
        return self._run(lambda db: db.execute(
            "INSERT OR REPLACE INTO links (url, body, checked_at, expires_at) VALUES (?, ?, ?, ?)",
            (url, body, checked_at, checked_at + ttl)) is not None, False)

    def count_calls(self, source: str, n: int) -> None:
        if n <= 0:
            return
        self._run(lambda db: db.execute(
            "INSERT INTO calls (source, day, n) VALUES (?, ?, ?) "
            "ON CONFLICT(source, day) DO UPDATE SET n = n + excluded.n",
            (source, self._today(), n)), None)

    def calls_today(self, source: str) -> int:
        row = self._run(lambda db: db.execute("SELECT n FROM calls WHERE source=? AND day=?",
                                              (source, self._today())).fetchone(), None)
        return int(row[0]) if row else 0

    def note_error(self, source: str, message: str) -> None:
        """Remember ``message`` as ``source``'s last error, with the time."""
        self._run(lambda db: db.execute(
            "INSERT OR REPLACE INTO errors (source, at, message) VALUES (?, ?, ?)",
            (source, self.clock(), message)), None)

    def last_error(self, source: str) -> tuple[float, str] | None:
        """(when, what) of ``source``'s last error, or None."""
        row = self._run(lambda db: db.execute("SELECT at, message FROM errors WHERE source=?",
                                              (source,)).fetchone(), None)
        return (float(row[0]), str(row[1])) if row else None

    def note_pause(self, source: str, until: float, reason: str) -> None:
        """Remember that a process paused ``source`` until ``until`` (engine/pauses.py),
        for ``oahelper doctor``, which runs in another process."""
        self._run(lambda db: db.execute(
            "INSERT OR REPLACE INTO pauses (source, until, reason) VALUES (?, ?, ?)",
            (source, until, reason)), None)

    def pause_of(self, source: str) -> tuple[float, str] | None:
        """(until, why) of ``source``'s pause while it lasts, or None."""
        row = self._run(lambda db: db.execute("SELECT until, reason FROM pauses WHERE source=?",
                                              (source,)).fetchone(), None)
        return (float(row[0]), str(row[1])) if row and row[0] > self.clock() else None

    def stats(self) -> dict[str, object]:
        """Figures for /v1/status and doctor."""
        entries, fresh = self._run(lambda db: db.execute(
            "SELECT COUNT(*), COALESCE(SUM(expires_at > ?), 0) FROM answers",
            (self.clock(),)).fetchone(), (0, 0))
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*")
                   if p.is_file())
        return {"path": str(self.path), "entries": entries, "fresh": fresh, "bytes": size,
                "hits": self.hits, "misses": self.misses}

    def check(self) -> None:
        """Raise ConfigError unless the database passes SQLite's integrity check."""
        (result,) = self._db.execute("PRAGMA quick_check").fetchone()
        if result != "ok":
            raise ConfigError(f"the cache at {self.path} is damaged: {result}")

    def _today(self) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(self.clock()))


# A read waits this long at most while another process writes (in WAL mode reads
# rarely wait at all); a write, which nobody waits for, waits longer before it is lost.
READ_BUSY_SECONDS = 1.0
WRITE_BUSY_SECONDS = 10.0


class AsyncCache:
    """The cache as the event loop uses it: SQLite never runs on the loop.

    Reads run in a thread of their own, writes in another, each on its own connection,
    so a write waiting for another process's lock (an ``oahelper audit`` beside the
    daemon) holds up neither the loop nor the reads. Writes are not waited for: until
    one is committed, what it wrote is answered from memory (``_pending``), so a
    second lookup right after the first still finds the answer. ``put``,
    ``count_calls`` and ``note_error`` return at once; the rest are awaited.
    """

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._reads = Cache(path, clock, busy_seconds=READ_BUSY_SECONDS)
        self._writes = Cache(path, clock, busy_seconds=WRITE_BUSY_SECONDS)
        self._read_thread, self._write_thread = OneThread("cache-read"), OneThread("cache-write")
        self._lock = threading.Lock()  # _pending* are changed by the write thread too
        self._pending: dict[tuple[str, str], tuple[Cached, float]] = {}
        self._pending_calls: collections.Counter[str] = collections.Counter()
        self._pending_errors: dict[str, tuple[float, str]] = {}
        self._pending_links: dict[str, tuple[LinkVerdict, float, float]] = {}
        self._commits = 0  # writes of answers done so far (see get)
        self._link_commits = 0  # the same for link verdicts (see get_link)
        self.hits = self.misses = 0

    async def get(self, source: str, key: str) -> Cached | None:
        """The stored answer (fresh or expired), or None."""
        found = self._pending_entry(source, key)
        for _ in range(3):
            if found is not None:
                break
            commits = self._commits
            found = await self._read_thread.run(self._reads.get, source, key)
            # The answer may have come meanwhile: waiting in memory, or written after
            # this read looked (then look again), so a lookup never asks twice.
            found = found or self._pending_entry(source, key)
            if found is not None or self._commits == commits:
                break
        if found is not None and found.fresh:
            self.hits += 1
        else:
            self.misses += 1
        return found

    def _pending_entry(self, source: str, key: str) -> Cached | None:
        with self._lock:
            pending = self._pending.get((source, key))
        if pending is None:
            return None
        entry, expires_at = pending
        return dataclasses.replace(entry, fresh=expires_at > self.clock())

    def put(self, answer: SourceAnswer, key: str) -> bool:
        """Store an answer if it may be cached (in the background); True when it will be."""
        ttl = ttl_for(answer)
        if ttl is None:
            return False
        now = self.clock()
        slot = (answer.source, key)
        pending = (Cached(answer=answer, stored_at=now, fresh=True), now + ttl)
        with self._lock:
            self._pending[slot] = pending

        def written(_done: object) -> None:
            with self._lock:
                self._commits += 1
                if self._pending.get(slot) is pending:  # not replaced by a newer answer
                    del self._pending[slot]

        self._write_thread.submit(self._writes.put, answer, key).add_done_callback(written)
        return True

    async def get_link(self, url: str) -> tuple[LinkVerdict, float] | None:
        """A link check's verdict of ``url`` and its time, while it lasts (as ``get``:
        the write not yet committed is answered from memory)."""
        found = self._pending_link(url)
        for _ in range(3):
            if found is not None:
                break
            commits = self._link_commits
            found = await self._read_thread.run(self._reads.get_link, url) or self._pending_link(url)
            if found is not None or self._link_commits == commits:
                break
        return found

    def _pending_link(self, url: str) -> tuple[LinkVerdict, float] | None:
        with self._lock:
            pending = self._pending_links.get(url)
        if pending is None or pending[2] <= self.clock():
            return None
        return pending[0], pending[1]

    def put_link(self, url: str, verdict: LinkVerdict, checked_at: float, ttl: float) -> None:
        """Keep a link check's verdict (in the background: returns at once)."""
        pending = (verdict, checked_at, checked_at + ttl)
        with self._lock:
            self._pending_links[url] = pending

        def written(_done: object) -> None:
            with self._lock:
                self._link_commits += 1
                if self._pending_links.get(url) is pending:  # not replaced by a newer verdict
                    del self._pending_links[url]

        self._write_thread.submit(self._writes.put_link, url, verdict, checked_at, ttl
                                  ).add_done_callback(written)

    def count_calls(self, source: str, n: int) -> None:
        if n <= 0:
            return
        with self._lock:
            self._pending_calls[source] += n

        def written(_done: object) -> None:
            with self._lock:
                self._pending_calls[source] -= n

        self._write_thread.submit(self._writes.count_calls, source, n).add_done_callback(written)

    async def calls_today(self, source: str) -> int:
        stored = await self._read_thread.run(self._reads.calls_today, source)
        with self._lock:
            return stored + self._pending_calls[source]

    def note_error(self, source: str, message: str) -> None:
        """Remember ``message`` as ``source``'s last error, with the time."""
        noted = (self.clock(), message)
        with self._lock:
            self._pending_errors[source] = noted

        def written(_done: object) -> None:
            with self._lock:
                if self._pending_errors.get(source) is noted:
                    del self._pending_errors[source]

        self._write_thread.submit(self._writes.note_error, source, message
                                  ).add_done_callback(written)

    def note_pause(self, source: str, until: float, reason: str) -> None:
        self._write_thread.submit(self._writes.note_pause, source, until, reason)

    async def pause_of(self, source: str) -> tuple[float, str] | None:
        return await self._read_thread.run(self._reads.pause_of, source)

    async def last_error(self, source: str) -> tuple[float, str] | None:
        with self._lock:
            pending = self._pending_errors.get(source)
        return pending or await self._read_thread.run(self._reads.last_error, source)

    async def stats(self) -> dict[str, object]:
        """Figures for /v1/status and doctor."""
        stats = await self._read_thread.run(self._reads.stats)
        with self._lock:
            waiting = len(self._pending)  # answers not written yet (another process may hold the lock)
        return stats | {"hits": self.hits, "misses": self.misses, "pending_writes": waiting}

    async def check(self) -> None:
        """Raise ConfigError unless the database passes SQLite's integrity check."""
        await self._read_thread.run(self._reads.check)

    async def aclose(self) -> None:
        """Let the writes already given finish (off the loop), then close."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._write_thread.close)
        await loop.run_in_executor(None, self._read_thread.close)
        self._writes.close()
        self._reads.close()
