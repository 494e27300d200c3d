"""Source answers cached in SQLite (WAL), keyed by source and identifier.

An answer with a free copy lives 7 days; "no free copy" and "not found" live 1 day
(embargoes end, repositories catch up); errors are never stored. Expired rows stay
until overwritten so that a failing upstream can be covered by a stale answer.
Also counts upstream calls per source per day (Unpaywall allows 100,000), and keeps
each source's last error with its time, so that ``oahelper doctor`` (another process)
can say what the daemon or a CLI lookup last met.

A cache is disposable: when SQLite says the file is damaged it is moved aside
(``cache.sqlite3.damaged-<time>``) and a new one started, and when it cannot be
written (a full disk) lookups go on uncached and the log says so once.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from oahelper.files import open_db
from oahelper.errors import ConfigError
from oahelper.files import SQLITE_SIDE_FILES
from oahelper.models import SourceAnswer

log = logging.getLogger(__name__)
T = TypeVar("T")
# SQLite's result codes for a damaged file.
_DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def _is_damage(exc: BaseException | None) -> bool:
    return isinstance(exc, sqlite3.DatabaseError) and \
        getattr(exc, "sqlite_errorcode", None) in _DAMAGE_CODES

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
CREATE TABLE IF NOT EXISTS errors (
    source TEXT PRIMARY KEY,
    at REAL NOT NULL,
    message TEXT NOT NULL
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

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self.hits = 0
        self.misses = 0
        self._write_failed = False
        try:
            self._db = open_db(path, _SCHEMA, "the cache")
        except ConfigError as exc:
            if not _is_damage(exc.__cause__):
                raise
            self._db = self._rebuild(exc.__cause__)

    def _rebuild(self, damage: BaseException | None) -> sqlite3.Connection:
        """Move the damaged files aside and start an empty cache."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for suffix in ("", *SQLITE_SIDE_FILES):
            part = self.path.with_name(self.path.name + suffix)
            if part.exists():
                part.replace(part.with_name(f"{part.name}.damaged-{stamp}"))
        log.warning("the cache at %s was damaged (%s): moved aside as *.damaged-%s and started "
                    "anew", self.path, damage, stamp)
        return open_db(self.path, _SCHEMA, "the cache")

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
        fresh = row[2] > self.clock()
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
