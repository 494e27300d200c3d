"""``oahelper snapshot import``: data-feed files into the snapshot, streamed and resumable.

Two phases, each safe to interrupt:

1. **Stage.** A reader thread cuts each file into batches of lines, wrapping every line
   as ``{"n": <line number>, "r": <the line>, "m": <line number>}`` in a batch file;
   DuckDB parses the batch into the typed ``staging`` table (``read_json``, its own fast
   parser, while the thread prepares the next batch). Each batch is one transaction
   that also records how far the file has been read, so an interrupted import resumes
   at the first line not committed. A line that is not JSON, not an object, has no
   DOI, or was cut off is reported by its number and skipped: its wrapper does not
   parse, so its number is missing from the batch (a line cannot forge another
   number: ``n`` and ``m`` must agree).
2. **Merge**, one transaction: the newest version of each DOI among the staged rows
   (newer ``updated`` wins; a tie goes to the later file and line) replaces an older
   one in ``records``. Into an empty snapshot the staged table simply becomes
   ``records``: a full snapshot is written once.

``records`` has an ART index on the DOI key, so point lookups stay fast at any size.
"""

from __future__ import annotations

import datetime as dt
import queue
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import BinaryIO, Protocol

import duckdb

from oahelper.errors import SnapshotError
from oahelper.snapshot.feed import Feed, FeedError, FeedReader, Line
from oahelper.snapshot.schema import FIELD_LIST, INDEX, RECORD_TYPE
from oahelper.snapshot.store import connect, count, private_files

BATCH_LINES = 100_000
BATCH_BYTES = 256 * 1024 * 1024
# A DOI as docs/scraping.md defines it: 10. + 4-9 digit registrant + / + suffix.
DOI_SHAPE = r"10\.[0-9]{4,9}/\S+"
BAD_JSON = "not a JSON record (invalid JSON, or not UTF-8)"


class Interrupts:
    """Ctrl-C during an import, turned into a stop at a safe point.

    DuckDB turns a Ctrl-C that lands inside a query into an exception of its own and
    can leave the transaction half closed, so the first Ctrl-C only asks the import to
    stop after the batch being committed; a second one stops at once (the open
    transaction is rolled back; what was committed stays). Outside the main thread
    (tests driving the importer), or where Ctrl-C is ignored, signals are left alone.
    """

    def __init__(self, note: Callable[[str], None]) -> None:
        self.requested = False
        self.forced = False
        self._note = note
        # The handler signal.signal gave back, put back on the way out (None: none replaced).
        self._previous: Callable[[int, FrameType | None], object] | int | signal.Handlers | None = None

    def __enter__(self) -> Interrupts:
        # An inherited SIG_IGN (a job started with `&` by a script) is respected.
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN):
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            self.forced = True
            raise KeyboardInterrupt
        self.requested = True
        self._note("stopping after the batch being committed (Ctrl-C again to stop at once)")

    def check(self) -> None:
        """Stop here (a safe point) when a Ctrl-C asked for it."""
        if self.requested:
            raise KeyboardInterrupt


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # an interrupted query has already ended the transaction


@dataclass(frozen=True)
class BadLine:
    """A line that was skipped, and why."""

    feed: str
    line: int
    reason: str


class Progress(Protocol):
    """What the importer tells its user (a terminal bar, a log, or nothing)."""

    def start(self, feed: str, total_bytes: int | None, resumed_at_line: int) -> None: ...
    def advance(self, feed: str, position: int, lines: int, records: int) -> None: ...
    def bad_line(self, bad: BadLine) -> None: ...
    def note(self, text: str) -> None: ...


class Quiet:
    """Progress that says nothing (library use, tests)."""

    def start(self, feed: str, total_bytes: int | None, resumed_at_line: int) -> None: ...
    def advance(self, feed: str, position: int, lines: int, records: int) -> None: ...
    def bad_line(self, bad: BadLine) -> None: ...
    def note(self, text: str) -> None: ...


@dataclass
class FeedResult:
    """How one file went."""

    name: str
    records: int = 0          # staged from it in this run
    lines: int = 0            # read in this run
    bad: int = 0
    resumed_at: int = 0       # the first line read in this run was resumed_at + 1
    skipped: str | None = None  # why it was not read at all (already imported)
    problem: str | None = None  # why it could not be read to its end


@dataclass
class ImportResult:
    """What an import did, for the summary line."""

    feeds: list[FeedResult] = field(default_factory=list)
    merged: int = 0           # records written into the snapshot by the merge
    total: int = 0            # records in the snapshot afterwards


@dataclass
class _Batch:
    path: Path
    first: int                # number of the first line in the batch
    last: int                 # number of the last line read (first - 1 if none)
    offset: int = 0           # text offset after the last line
    position: int = 0         # file bytes consumed
    blank: set[int] = field(default_factory=set)    # neither records nor problems
    overlong: set[int] = field(default_factory=set)
    unterminated: int | None = None  # the last line, when the file ends inside it
    eof: bool = False
    error: str | None = None


def _frame(line: Line) -> bytes:
    return b'{"n":%d,"r":%s,"m":%d}\n' % (line.number, line.text, line.number)


class _Cutter(threading.Thread):
    """Reads one feed and writes its batches (three files in turn), ahead of DuckDB."""

    def __init__(self, reader: FeedReader, first_line: int, workdir: Path,
                 batch_lines: int, batch_bytes: int) -> None:
        super().__init__(daemon=True, name="snapshot-reader")
        self.reader = reader
        self.first_line = first_line
        self.workdir = workdir
        self.batch_lines = batch_lines
        self.batch_bytes = batch_bytes
        self.batches: queue.Queue[_Batch] = queue.Queue(maxsize=1)
        self.stop = threading.Event()

    def _put(self, batch: _Batch) -> None:
        while not self.stop.is_set():
            try:
                self.batches.put(batch, timeout=0.2)
                return
            except queue.Full:
                continue

    def run(self) -> None:
        number, turn = self.first_line, 0
        lines = self.reader.lines(self.first_line)
        while not self.stop.is_set():
            batch = _Batch(self.workdir / f"batch-{turn % 3}.jsonl", number, number - 1)
            turn += 1
            count = size = 0
            try:
                with private_files(), batch.path.open("wb") as out:
                    for line in lines:
                        batch.last = line.number
                        if line.overlong:
                            batch.overlong.add(line.number)
                        elif not line.text.strip():
                            batch.blank.add(line.number)
                        else:
                            if line.unterminated:  # still a record if it parses
                                batch.unterminated = line.number
                            out.write(_frame(line))
                            size += len(line.text)
                        count += 1
                        if count >= self.batch_lines or size >= self.batch_bytes:
                            break
                    else:
                        batch.eof = True
            except FeedError as exc:
                batch.error, batch.eof = str(exc), True
            except OSError as exc:
                batch.error, batch.eof = f"cannot write {batch.path}: {exc}", True
            batch.offset, batch.position = self.reader.offset, self.reader.position()
            number = batch.last + 1
            self._put(batch)
            if batch.eof:
                return


class Importer:
    """Imports feeds into the snapshot at ``path`` (one writer at a time)."""

    def __init__(self, path: Path, *, memory_limit: str | None = None,
                 progress: Progress | None = None, batch_lines: int = BATCH_LINES,
                 batch_bytes: int = BATCH_BYTES, stdin: BinaryIO | None = None,
                 clock: type[dt.datetime] = dt.datetime) -> None:
        self.path = path
        self.memory_limit = memory_limit
        self.progress = progress or Quiet()
        self.batch_lines = batch_lines
        self.batch_bytes = batch_bytes
        self.stdin = stdin
        self.clock = clock
        self.workdir = Path(f"{path}.import")
        self._interrupts = Interrupts(self.progress.note)

    def run(self, names: Sequence[str], *, again: bool = False) -> ImportResult:
        """Stage every feed, then merge. Feeds already imported are skipped unless
        ``again``. Raises KeyboardInterrupt through, with everything committed kept."""
        result = ImportResult()
        con = connect(self.path, read_only=False, memory_limit=self.memory_limit)
        self._interrupts = interrupts = Interrupts(self.progress.note)
        try:
            with interrupts:
                self.workdir.mkdir(mode=0o700, exist_ok=True)
                for name in names:
                    result.feeds.append(self._stage(con, Feed(name), again))
                result.merged = self._merge(con)
                result.total = count(con, "SELECT count(*) FROM records")
                con.execute("CHECKPOINT")
        except Exception as exc:
            if interrupts.forced:  # the second Ctrl-C, surfacing from inside DuckDB
                raise KeyboardInterrupt from exc
            if isinstance(exc, duckdb.Error):
                raise SnapshotError(f"the import into {self.path} failed: {exc}") from exc
            raise
        finally:
            con.close()
            for leftover in self.workdir.glob("batch-*.jsonl"):
                leftover.unlink(missing_ok=True)
            try:
                self.workdir.rmdir()
            except OSError:
                pass
        return result

    # staging

    def _file_row(self, con: duckdb.DuckDBPyConnection, feed: Feed, fingerprint: str | None,
                  again: bool) -> tuple[int, int, int, str | None]:
        """(file id, lines done, text offset done, why to skip it or None)."""
        if fingerprint is not None:
            row = con.execute("SELECT id, lines_done, offset_done, staged, merged FROM files "
                              "WHERE fingerprint = ? ORDER BY id DESC LIMIT 1", [fingerprint]).fetchone()
            if row is not None:
                file_id, lines, offset, staged, merged = row
                if merged is not None and not again:
                    return file_id, lines, offset, (
                        f"already imported on {merged:%Y-%m-%d %H:%M} (use --again to read it again)")
                if merged is None and staged is not None:
                    return file_id, lines, offset, "already read; merging"
                if merged is None:
                    return file_id, lines, offset, None
        file_id = count(con, "SELECT coalesce(max(id), 0) + 1 FROM files")
        con.execute("INSERT INTO files VALUES (?, ?, ?, 0, 0, 0, 0, ?, NULL, NULL)",
                    [file_id, feed.name, fingerprint, self.clock.now()])
        return file_id, 0, 0, None

    def _stage(self, con: duckdb.DuckDBPyConnection, feed: Feed, again: bool) -> FeedResult:
        result = FeedResult(feed.name)
        try:
            fingerprint = feed.fingerprint()
        except OSError as exc:
            raise SnapshotError(f"cannot read {feed.name}: {exc.strerror or exc}") from exc
        file_id, lines_done, offset, skip = self._file_row(con, feed, fingerprint, again)
        if skip:
            result.skipped = skip
            self.progress.note(f"{feed.name}: {skip}")
            return result
        result.resumed_at = lines_done
        try:
            reader = FeedReader(feed, offset=offset, stdin=self.stdin)
        except FeedError as exc:
            result.problem = str(exc)
            self.progress.note(str(exc))
            return result
        self.progress.start(feed.name, feed.size(), lines_done)
        cutter = _Cutter(reader, lines_done + 1, self.workdir, self.batch_lines, self.batch_bytes)
        cutter.start()
        try:
            while True:
                batch = cutter.batches.get()
                self._commit_batch(con, file_id, batch, result)
                if batch.error:
                    result.problem = batch.error
                    self.progress.note(batch.error)
                if batch.eof:
                    return result
                self._interrupts.check()
        finally:
            cutter.stop.set()
            cutter.join(timeout=5)
            reader.close()

    def _commit_batch(self, con: duckdb.DuckDBPyConnection, file_id: int, batch: _Batch,
                      result: FeedResult) -> None:
        """Parse one batch into ``staging`` and note the progress, in one transaction."""
        span = {"file_id": file_id, "first": batch.first, "last": batch.last}
        in_batch = "FROM staging WHERE file_id = $file_id AND line BETWEEN $first AND $last"
        bad: list[BadLine] = []
        con.execute("BEGIN")
        try:
            con.execute(f"""
                INSERT INTO staging
                SELECT CASE WHEN regexp_full_match(r.doi, '{DOI_SHAPE}') THEN lower(r.doi) END,
                       r.*, $file_id, n
                FROM read_json($path, format = 'newline_delimited', ignore_errors = true,
                               maximum_object_size = 67108864,
                               columns = {{n: 'BIGINT', r: '{RECORD_TYPE}', m: 'BIGINT'}})
                WHERE n = m AND n BETWEEN $first AND $last""", span | {"path": str(batch.path)})
            for (n,) in con.execute(f"SELECT range FROM range($first, $last + 1) "
                                    f"EXCEPT SELECT line {in_batch}", span).fetchall():
                if n in batch.overlong:
                    bad.append(BadLine(result.name, n, "longer than 16 MiB: not a record"))
                elif n == batch.unterminated:
                    bad.append(BadLine(result.name, n, "cut off: the file ends inside this line"))
                elif n not in batch.blank:
                    bad.append(BadLine(result.name, n, BAD_JSON))
            for line, doi in con.execute(f"SELECT line, doi {in_batch} AND key IS NULL",
                                         span).fetchall():
                reason = f"{doi!r} is not a DOI" if doi else "no DOI: not an Unpaywall record"
                bad.append(BadLine(result.name, line, reason))
            con.execute(f"DELETE {in_batch} AND key IS NULL", span)
            records = count(con, f"SELECT count(*) {in_batch}", span)
            con.execute("""UPDATE files SET lines_done = $last, offset_done = $offset,
                               records = records + $records, bad_lines = bad_lines + $bad,
                               staged = CASE WHEN $eof THEN $now END
                           WHERE id = $file_id""",
                        {"file_id": file_id, "last": batch.last, "offset": batch.offset,
                         "records": records, "bad": len(bad), "eof": batch.eof,
                         "now": self.clock.now()})
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        finally:
            batch.path.unlink(missing_ok=True)
        result.records += records
        result.lines = batch.last - result.resumed_at
        result.bad += len(bad)
        for item in sorted(bad, key=lambda b: b.line):
            self.progress.bad_line(item)
        self.progress.advance(result.name, batch.position, result.lines, result.records)

    # merging

    def _merge(self, con: duckdb.DuckDBPyConnection) -> int:
        """Move the staged rows into ``records``, newest version of each DOI winning."""
        staged = count(con, "SELECT count(*) FROM staging")
        pending = count(con, "SELECT count(*) FROM files WHERE staged IS NOT NULL "
                        "AND merged IS NULL")
        if not staged and not pending:
            return 0
        self.progress.note(f"merging {staged:,} staged record(s) into the snapshot")
        con.execute("BEGIN")
        try:
            # Older duplicates within the staged rows go first (newer updated, then the
            # later file and line, wins)...
            con.execute("""
                DELETE FROM staging WHERE rowid IN (
                    SELECT rowid FROM staging WHERE key IN (
                        SELECT key FROM staging GROUP BY key HAVING count(*) > 1)
                    QUALIFY row_number() OVER (PARTITION BY key ORDER BY updated DESC NULLS LAST,
                                               file_id DESC, line DESC) > 1)""")
            existing = count(con, "SELECT count(*) FROM records")
            if existing == 0:
                # ...into an empty snapshot the staged table becomes the records as it is.
                con.execute("DROP TABLE records")
                con.execute("ALTER TABLE staging RENAME TO records")
                con.execute("CREATE TABLE staging AS SELECT * FROM records LIMIT 0")
                merged = count(con, "SELECT count(*) FROM records")
            else:
                # ...then staged rows older than the snapshot's own, then the rows replaced.
                con.execute("""DELETE FROM staging USING records
                               WHERE staging.key = records.key
                               AND coalesce(records.updated, '-infinity'::TIMESTAMP)
                                   > coalesce(staging.updated, '-infinity'::TIMESTAMP)""")
                con.execute("""DELETE FROM records USING staging
                               WHERE records.key = staging.key""")
                merged = count(con, "SELECT count(*) FROM staging")
                con.execute(f"INSERT INTO records SELECT key, {FIELD_LIST}, file_id, line FROM staging")
                con.execute("DELETE FROM staging")
            con.execute(INDEX)
            con.execute("""INSERT OR REPLACE INTO meta
                           SELECT 'as_of', strftime(max(updated), '%Y-%m-%d') FROM records""")
            con.execute("""UPDATE files SET merged = $now
                           WHERE staged IS NOT NULL AND merged IS NULL""", {"now": self.clock.now()})
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        return merged
