"""``oahelper audit INPUT… [--out PATH]…``: a reading list through the lookup engine.

Reports stream to every ``--out`` file (format by extension) in input order; without
one, each entry is a line on standard output and a table of totals ends the run.
Ctrl-C stops at once: what was answered is written, and the same command run again
finishes the job from the cache without asking any source twice.
"""

from __future__ import annotations

import asyncio
import errno
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import IO

from rich.console import Console

from oahelper.audit.entries import Entry
from oahelper.audit.readers import FORMAT_NAMES, ReadingList, open_reading_list
from oahelper.audit.rows import Row
from oahelper.audit.runner import AuditRunner, RunStats
from oahelper.audit.snapshot_join import CHUNK as BULK_CHUNK
from oahelper.audit.snapshot_join import SnapshotPrepass
from oahelper.audit.tally import AuditSummary, Tally
from oahelper.audit.terminal import AuditProgress, row_line, summary_table
from oahelper.audit.writers import ReportWriter, check_output, writer_for
from oahelper.engine.build import open_engine
from oahelper.engine.lookup import LookupService
from oahelper.errors import ConfigError
from oahelper.settings import Settings
from oahelper.sources.snapshot import Snapshot


def _entries(lists: Sequence[ReadingList]) -> Iterator[Entry]:
    for reading in lists:
        yield from reading.entries()


def _title(lists: Sequence[ReadingList]) -> str:
    names = ", ".join(Path(r.name).name for r in lists)
    return f"Open access audit of {names}"


def refuse_without_unpaywall(service: LookupService) -> None:
    """Stop before a long run that could only answer "could not check" (not when
    offline, or when a snapshot can answer)."""
    if service.offline or _snapshot(service) is not None:
        return
    problems = [f"{s.name}: {m}" for s in service.sources if s.name == "unpaywall"
                for m in s.health().problems]
    if problems:
        raise ConfigError("; ".join(problems) + ". Without it the audit could check almost "
                          "nothing; see: oahelper doctor")


def _snapshot(service: LookupService) -> Snapshot | None:
    """The snapshot source, when one has been imported."""
    return next((s for s in service.sources if isinstance(s, Snapshot) and s.health().enabled),
                None)


def snapshot_note(prepass: SnapshotPrepass) -> str:
    """What the report says about the answers that came from the snapshot."""
    rest = "looked up one by one" + (" (offline: in the snapshot)" if prepass.offline else "")
    return (f"{prepass.answered} entries answered from the Unpaywall snapshot of "
            f"{prepass.as_of or 'unknown date'} in bulk (sources: snapshot); the rest {rest}")


async def _run(settings: Settings, lists: Sequence[ReadingList],
               write: Callable[[Row], None], progress: AuditProgress,
               notes: list[str] | None = None) -> RunStats:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        async with open_engine(settings) as engine:
            service = engine.service
            refuse_without_unpaywall(service)
            snapshot = _snapshot(service)
            prepass = SnapshotPrepass(snapshot.reader, offline=service.offline) if snapshot else None
            # A busy source is waited for, not skipped; links are checked at the bulk pace.
            lookup = partial(service.lookup_article_settled, bulk=True)
            runner = (AuditRunner(lookup, prepass=prepass, chunk=BULK_CHUNK)
                      if prepass else AuditRunner(lookup))
            with progress:
                stats = await runner.run(_entries(lists), write, on_row=progress.answered,
                                         stop=stop)
            if prepass is not None and notes is not None:
                notes.append(snapshot_note(prepass))
            return stats
    finally:
        loop.remove_signal_handler(signal.SIGINT)


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """A report that cannot be written (a full disk, no permission) is an error that
    says which file, that it is incomplete, and that nothing found is lost."""
    try:
        yield
    except OSError as exc:
        why = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise ConfigError(f"cannot write the report {path}: {why}. It is incomplete; the "
                          "answers found so far are cached, so running the same command "
                          "again once that is fixed asks no source twice") from exc


def run_audit(settings: Settings, inputs: Sequence[str], outs: Sequence[str],
              *, stdout: IO[str] = sys.stdout,
              stderr: IO[str] = sys.stderr) -> int:
    """The audit command; its exit code (130 when interrupted)."""
    sources = {Path(path).resolve() for path in inputs}
    for out in outs:
        check_output(Path(out))
        if Path(out).resolve() in sources:  # writing it would empty it before it is read
            raise ConfigError(f"--out {out} is also an input; write the report under another name")
    lists = [open_reading_list(path) for path in inputs]
    total = sum(r.count() for r in lists) if stderr.isatty() else None
    summary = AuditSummary(Tally(), inputs=[f"{Path(r.name).name} ({FORMAT_NAMES[r.format]})"
                                            for r in lists])
    run_notes: list[str] = []
    with ExitStack() as closing:
        writers: list[ReportWriter] = []
        for out in outs:
            with _writing(Path(out)):
                writers.append(writer_for(Path(out), _title(lists)))

        def write(row: Row) -> None:
            summary.tally.add(row)
            for writer in writers:
                with _writing(writer.path):
                    writer.write(row)
            if not writers:
                print(row_line(row), file=stdout, flush=True)

        def close() -> None:
            summary.notes = [note for r in lists for note in r.notes] + run_notes
            for writer in writers:
                with _writing(writer.path):
                    writer.close(summary)

        closing.callback(close)
        stats = asyncio.run(_run(settings, lists, write, AuditProgress(stderr, total),
                                 notes=run_notes))
        summary.interrupted = stats.interrupted
    for note in summary.notes:
        print(f"oahelper: {note}", file=stderr)
    if writers:
        print(f"{summary.tally.headline()}. Report: {', '.join(str(w.path) for w in writers)}",
              file=stdout)
    else:
        print(summary.tally.headline(), file=stdout)
        Console(file=stdout).print(summary_table(summary.tally))
    if stats.interrupted:
        of = f" of {total}" if total is not None else ""
        print(f"oahelper: interrupted after {stats.written}{of} entries; the report holds those. "
              "Run the same command again to finish: answers already found come from the "
              "cache, without asking any source again.", file=stderr)
        return 130
    return 0
