"""Opening the snapshot database, and what reading it answers: one record, the status.

DuckDB lets one process write a database file, or any number read it, never both at
once. So the importer holds the file only while it imports, and readers (the daemon,
an audit) open it read-only, reopen it when an import has changed it, and let go of it
when idle so that an import can start. DuckDB's errors are translated here, once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from oahelper.errors import SnapshotBusy, SnapshotError
from oahelper.snapshot.schema import DDL, JSON_FIELDS, LOOKUP_FIELDS, SCHEMA_VERSION
from oahelper.snapshot.status import SnapshotStatus, disk_bytes, file_stamp

# When nothing says otherwise, DuckDB may use a quarter of the machine's memory, at
# most this much: imports stream, and the daemon beside it needs little.
DEFAULT_MEMORY_CAP = 2 * 1024**3
LOCK_WAIT = 15.0  # seconds to wait for another process (an idle daemon) to let go
_T = TypeVar("_T")


def default_memory_limit() -> str:
    """A quarter of this machine's memory, at most 2 GiB, as DuckDB writes sizes."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a small machine
        total = 4 * 1024**3
    return f"{min(DEFAULT_MEMORY_CAP, total // 4) // 1024**2}MiB"


# DuckDB counts its own buffers against memory_limit, not what comes on top of them (the
# Parquet writers' pages, the Python process around it: 100-200 MiB measured). So it is
# given the setting less a fifth (at least this much), and the whole process stays within
# the setting: the export of 2,000,000 records peaked at 2.2 GiB when all of 2 GiB went
# to DuckDB, at 1.9 GiB with 256 MiB kept back.
PROCESS_ROOM = 256 * 1024**2
_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$", re.IGNORECASE)


def size_bytes(size: str) -> int:
    """A size as the setting writes it (``1GB``, ``512MiB``) in bytes, read as DuckDB reads it."""
    match = _SIZE.match(size)
    if match is None or match.group(2).lower() not in _UNITS:
        raise SnapshotError(f"expected a size such as 1GB or 512MiB, not {size!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def duckdb_memory(setting: str | None) -> str:
    """DuckDB's memory_limit for the setting ``snapshot_memory`` (None: the default):
    the setting less a fifth or ``PROCESS_ROOM``, whichever is more, and at least half."""
    total = size_bytes(setting or default_memory_limit())
    return f"{max(total // 2, total - max(total // 5, PROCESS_ROOM)) // 1024**2}MiB"


def one_row(con: duckdb.DuckDBPyConnection, sql: str, parameters: object = None) -> tuple[Any, ...]:
    """The row of a query that always gives exactly one (an aggregate: ``SELECT count(*) …``)."""
    row = con.execute(sql, parameters).fetchone()
    assert row is not None, "an aggregate without GROUP BY gives one row"
    return row


def count(con: duckdb.DuckDBPyConnection, sql: str, parameters: object = None) -> int:
    """The number a ``SELECT count(*) …`` (or another integer aggregate) gives."""
    number: int = one_row(con, sql, parameters)[0]
    return number


@contextmanager
def private_files() -> Iterator[None]:
    """Files created meanwhile (the database, its WAL, DuckDB's spill folder) are
    private to the user from their first byte."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _busy(path: Path, exc: duckdb.Error) -> SnapshotBusy:
    held = str(exc).split("Conflicting lock is held in", 1)[-1].split(".", 1)[0].strip()
    who = f" ({held})" if held and held != str(exc) else ""
    return SnapshotBusy(
        f"the snapshot {path} is in use by another process{who}: an import writes it alone. "
        "Wait for the import to finish, or stop the program holding it and run the command again")


def connect(path: Path, *, read_only: bool, memory_limit: str | None = None,
            wait: float = LOCK_WAIT, clock: Callable[[], float] = time.monotonic) -> duckdb.DuckDBPyConnection:
    """A connection to the snapshot at ``path``, waiting up to ``wait`` seconds while
    another process holds it. A writer creates the file and its tables."""
    deadline = clock() + wait
    while True:
        try:
            if read_only and not path.exists():
                raise SnapshotError(f"no snapshot at {path}: import one with "
                                    "`oahelper snapshot import FILE.jsonl.gz`", code="snapshot_missing")
            config: dict[str, str | bool | int | float | list[str]] = {
                "memory_limit": duckdb_memory(memory_limit), "preserve_insertion_order": False}
            if read_only:
                con = duckdb.connect(str(path), read_only=True, config=config)
            else:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                with private_files():
                    con = duckdb.connect(str(path), config=config)
                _prepare(con, path)
            con.execute("SET enable_progress_bar = false")  # oahelper draws its own
            return con
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise SnapshotError(f"cannot open the snapshot {path}: {exc}") from exc
            if clock() >= deadline:
                raise _busy(path, exc) from exc
            time.sleep(0.1)
        except duckdb.Error as exc:
            raise SnapshotError(f"cannot open the snapshot {path}: {exc}") from exc


def _prepare(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    con.execute(DDL)
    row = con.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
    if row is None:
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    elif row[0] != SCHEMA_VERSION:
        con.close()
        raise SnapshotError(f"{path} was written by another version of oahelper (schema "
                            f"{row[0]}, this one reads {SCHEMA_VERSION}): import the files again "
                            "into a new snapshot_db")


def read_status(con: duckdb.DuckDBPyConnection, path: Path) -> SnapshotStatus:
    """The snapshot's figures (a scan of two small columns)."""
    by_status = dict(con.execute(
        "SELECT coalesce(oa_status, 'unknown'), count(*) FROM records GROUP BY ALL ORDER BY 2 DESC"
    ).fetchall())
    free, newest = one_row(con, "SELECT count(*) FILTER (WHERE is_oa), max(updated) FROM records")
    staged = count(con, "SELECT count(*) FROM staging")
    files = tuple(
        {"name": name, "lines": lines, "records": records, "bad_lines": bad,
         "imported": merged.isoformat(timespec="seconds") if merged else None}
        for name, lines, records, bad, merged in con.execute(
            "SELECT name, lines_done, records, bad_lines, merged FROM files ORDER BY id").fetchall())
    total = sum(by_status.values())
    return SnapshotStatus(path=path, present=True, records=total, free=free or 0,
                          closed=total - (free or 0), by_status=by_status,
                          newest=newest.date().isoformat() if newest else None,
                          disk_bytes=disk_bytes(path), staged=staged, files=files)


def _plain(name: str, value: Any) -> Any:
    """A DuckDB value as the JSON record had it (timestamps back to ISO text, the
    location lists parsed from their JSON text)."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if name in JSON_FIELDS and isinstance(value, str):
        return json.loads(value)
    return value


class SnapshotReader:
    """Read-only access for a long-running process (the daemon): one connection,
    opened on first use, reopened when an import has changed the file, and closed once
    unused for ``idle`` seconds, so that an import (which needs the file alone) can
    start. Thread-safe: lookups run in worker threads, one at a time."""

    def __init__(self, path: Path, *, memory_limit: str | None = None, idle: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.memory_limit = memory_limit
        self.idle = idle
        self.clock = clock
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._opened_at: str | None = None
        self._used = 0.0
        self._as_of: str | None = None
        self._timer: threading.Timer | None = None

    def exists(self) -> bool:
        return self.path.exists()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        stamp = file_stamp(self.path)
        if self._con is not None and stamp != self._opened_at:
            self._close()
        if self._con is None:
            # No waiting: while an import holds the file, the snapshot answers "busy".
            self._con = connect(self.path, read_only=True, memory_limit=self.memory_limit, wait=0)
            self._opened_at = stamp
            newest = self._con.execute("SELECT value FROM meta WHERE name = 'as_of'").fetchone()
            self._as_of = newest[0] if newest else None
            self._arm()
        self._used = self.clock()
        return self._con

    def _arm(self) -> None:
        if self._timer is None:
            self._timer = threading.Timer(self.idle, self._release_if_idle)
            self._timer.daemon = True
            self._timer.start()

    def _release_if_idle(self) -> None:
        with self._lock:
            self._timer = None
            if self._con is None:
                return
            if self.clock() - self._used >= self.idle:
                self._close()
            else:
                self._arm()

    def _close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._close()

    def _read(self, run: Callable[[duckdb.DuckDBPyConnection], _T]) -> _T:
        with self._lock:
            con = self._connection()
            try:
                return run(con)
            except duckdb.Error as exc:
                self._close()
                raise SnapshotError(f"cannot read the snapshot {self.path}: {exc}") from exc

    def record(self, doi: str, fields: tuple[str, ...] = LOOKUP_FIELDS
               ) -> tuple[dict[str, Any] | None, str | None]:
        """(``fields`` of the record of ``doi`` as Unpaywall wrote them, or None; the
        snapshot's date). By default the fields a lookup reads, nothing more."""
        row = self._read(lambda con: con.execute(
            f"SELECT {', '.join(_quoted(fields))} FROM records WHERE key = lower($1)",
            [doi]).fetchone())
        if row is None:
            return None, self._as_of
        return {name: _plain(name, value) for name, value in zip(fields, row, strict=True)}, self._as_of

    def query(self, sql: str, params: dict[str, Any]) -> tuple[list[tuple[Any, ...]], str | None]:
        """Every row of one read-only query (the audit's join), and the snapshot's date."""
        rows = self._read(lambda con: con.execute(sql, params).fetchall())
        return rows, self._as_of

    def status(self) -> SnapshotStatus:
        if not self.exists():
            return SnapshotStatus(path=self.path, present=False)
        return self._read(lambda con: read_status(con, self.path))


def _quoted(names: tuple[str, ...]) -> list[str]:
    return [f'"{n}"' for n in names]
