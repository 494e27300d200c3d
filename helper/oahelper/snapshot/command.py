"""``oahelper snapshot import|status``: the Unpaywall data feed on this machine.

Progress goes to standard error: a bar with records, records/s and time left on a
terminal, one line per committed batch otherwise (logs, scripts). Bad lines are listed
by number as they are found (the first ``SHOWN_BAD`` per file; the count is kept).
Ctrl-C stops at once; what was committed stays, and the same command finishes the job.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Column
from rich.text import Text

from oahelper.settings import Settings
from oahelper.snapshot.importer import BATCH_LINES, BadLine, Importer, ImportResult
from oahelper.snapshot.status import SnapshotStatus, human_bytes
from oahelper.snapshot.store import SnapshotReader

SHOWN_BAD = 20


class _Rate(ProgressColumn):
    """Records per second since the file started."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0
        rate = task.fields["records"] / elapsed if elapsed > 0 else 0
        return Text(f"{rate:,.0f} records/s", style="progress.data.speed")


class ImportProgress:
    """The import's progress on ``stream``: a rich bar on a terminal, lines otherwise."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        # On a narrow terminal the file's name gives way, never the figures.
        figure = Column(no_wrap=True)
        self._bar = Progress(
            TextColumn("{task.description}", table_column=Column(
                no_wrap=True, overflow="ellipsis", ratio=1, min_width=8)),
            BarColumn(bar_width=12, table_column=figure),
            TextColumn("{task.fields[records]:,} records", table_column=figure),
            _Rate(table_column=figure), TimeRemainingColumn(table_column=figure),
            TextColumn("left", table_column=figure),
            console=Console(file=stream), transient=False, disable=not self.tty)
        self._task: TaskID | None = None
        self._shown: dict[str, int] = {}
        self._started = time.monotonic()

    def __enter__(self) -> ImportProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def _say(self, text: str) -> None:
        if self.tty:
            self._bar.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)

    def start(self, feed: str, total_bytes: int | None, resumed_at_line: int) -> None:
        if resumed_at_line:
            self._say(f"{feed}: resuming after line {resumed_at_line:,}")
        self._started = time.monotonic()
        self._task = self._bar.add_task(Path(feed).name, total=total_bytes, records=0)

    def advance(self, feed: str, position: int, lines: int, records: int) -> None:
        if self._task is not None:
            self._bar.update(self._task, completed=position, records=records)
        if not self.tty:
            elapsed = max(time.monotonic() - self._started, 1e-9)
            self._say(f"{feed}: committed {lines:,} lines, {records:,} records "
                      f"({records / elapsed:,.0f} records/s)")

    def bad_line(self, bad: BadLine) -> None:
        shown = self._shown.get(bad.feed, 0)
        self._shown[bad.feed] = shown + 1
        if shown < SHOWN_BAD:
            self._say(f"{bad.feed}: line {bad.line}: {bad.reason}")
        elif shown == SHOWN_BAD:
            self._say(f"{bad.feed}: more bad lines; only their count is shown below")

    def note(self, text: str) -> None:
        self._say(text)


def summary(result: ImportResult) -> list[str]:
    lines = []
    for feed in result.feeds:
        if feed.skipped:
            lines.append(f"{feed.name}: {feed.skipped}")
            continue
        bad = f", {feed.bad:,} bad line(s) skipped" if feed.bad else ""
        resumed = f" (resumed after line {feed.resumed_at:,})" if feed.resumed_at else ""
        lines.append(f"{feed.name}: {feed.records:,} records from {feed.lines:,} lines{resumed}{bad}")
        if feed.problem:
            lines.append(f"  {feed.problem}")
    lines.append(f"merged {result.merged:,} new or newer record(s); the snapshot holds "
                 f"{result.total:,} DOIs")
    return lines


def run_import(settings: Settings, files: Sequence[str], *, again: bool = False,
               batch_lines: int | None = None, stdout: IO[str] = sys.stdout,
               stderr: IO[str] = sys.stderr) -> int:
    """Import ``files`` into the snapshot; 0 when done, 130 when interrupted."""
    progress = ImportProgress(stderr)
    importer = Importer(settings.snapshot_path, memory_limit=settings.snapshot_memory,
                        progress=progress, batch_lines=batch_lines or BATCH_LINES)
    try:
        with progress:
            result = importer.run(files, again=again)
    except KeyboardInterrupt:
        print("interrupted: every batch committed so far is kept; run the same command "
              "again to finish the import", file=stderr)
        return 130
    for line in summary(result):
        print(line, file=stdout)
    return 0


def status_lines(status: SnapshotStatus) -> list[str]:
    """``oahelper snapshot status`` in words."""
    if not status.present:
        return [f"no snapshot at {status.path}",
                "import the Unpaywall data feed: oahelper snapshot import FILE.jsonl.gz"]
    share = f" ({status.free / status.records:.0%})" if status.records else ""
    lines = [f"snapshot: {status.path}",
             f"records: {status.records:,} DOIs",
             f"free: {status.free:,}{share}; closed: {status.closed:,}",
             "by OA status: " + ", ".join(f"{k} {v:,}" for k, v in status.by_status.items()),
             f"newest record: {status.newest or 'none'}",
             f"size on disk: {human_bytes(status.disk_bytes)}"
             + (f" ({status.disk_bytes / status.records:,.0f} bytes per record)" if status.records else "")]
    if status.staged:
        lines.append(f"unfinished import: {status.staged:,} record(s) read but not merged; "
                     "run the import again to finish it")
    for f in status.files:
        when = f"imported {f['imported']}" if f["imported"] else "NOT finished"
        bad = f", {f['bad_lines']:,} bad" if f["bad_lines"] else ""
        lines.append(f"  {f['name']}: {f['lines']:,} lines, {f['records']:,} records{bad}; {when}")
    return lines


def run_status(settings: Settings, *, as_json: bool = False, stdout: IO[str] = sys.stdout) -> int:
    reader = SnapshotReader(settings.snapshot_path, memory_limit=settings.snapshot_memory)
    try:
        status = reader.status()
    finally:
        reader.close()
    if as_json:
        import json

        print(json.dumps(status.to_json(), indent=2), file=stdout)
    else:
        print("\n".join(status_lines(status)), file=stdout)
    return 0 if status.present else 1


def run_export(settings: Settings, folder: Path, *, stdout: IO[str] = sys.stdout) -> int:
    from oahelper.snapshot.export import export_parquet

    done = export_parquet(settings.snapshot_path, folder, memory_limit=settings.snapshot_memory)
    print(f"wrote {done.records:,} records (snapshot as of {done.as_of or 'unknown'}) as "
          f"{done.files} Parquet files, {human_bytes(done.bytes)}, under {done.folder}, "
          "partitioned by doi_bucket = substr(md5(doi_key), 1, 2); see docs/scale.md", file=stdout)
    return 0
