"""What ``oahelper audit`` shows on a terminal: a progress bar while it runs (rich),
and, when no report file is asked for, one line per entry and a table of totals.

Nothing of the progress bar is drawn when standard error is not a terminal.
"""

from __future__ import annotations

from typing import IO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from oahelper.audit.rows import Row
from oahelper.audit.tally import Tally
from oahelper.logtext import printable

STATUS_WORDS = {"open": "FREE", "closed": "no free copy", "not_found": "NOT FOUND",
                "unknown": "UNKNOWN", "no_identifier": "no identifier", "unreadable": "UNREADABLE"}


class RateColumn(ProgressColumn):
    """Entries answered per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f}/s" if speed else "–/s", style="progress.data.speed")


class AuditProgress:
    """done/total, free so far, rate and time left; a no-op off a terminal."""

    def __init__(self, stream: IO[str], total: int | None) -> None:
        self.enabled = stream.isatty()
        self.free = 0
        self._progress = Progress(
            TextColumn("checking"), BarColumn(), MofNCompleteColumn(),
            TextColumn("free {task.fields[free]}"), RateColumn(),
            TextColumn("left"), TimeRemainingColumn(),
            console=Console(file=stream), transient=True, disable=not self.enabled)
        self._task = self._progress.add_task("audit", total=total, free=0)

    def __enter__(self) -> AuditProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def answered(self, row: Row) -> None:
        self.free += row.is_free
        if self.enabled:  # a million rows off a terminal: not a million redraw requests
            self._progress.update(self._task, advance=1, free=self.free)


def row_line(row: Row) -> str:
    """One entry in one line: key, verdict, where (or why not)."""
    verdict = STATUS_WORDS.get(row.status, row.status)
    if row.status == "open":
        detail = " · ".join(x for x in (row.oa_status, row.version, row.license, row.best_url) if x)
    else:
        detail = row.problem or row.doi or ""
    # The key comes from the reading list and the rest partly from upstreams: a
    # terminal escape or a tab in either must not reach the terminal as such.
    return f"{printable(row.key)}\t{verdict}\t{printable(detail)}"


def summary_table(tally: Tally) -> Table:
    """Totals by verdict and by kind of open access."""
    table = Table()
    table.add_column("what")
    table.add_column("entries", justify="right")
    for status, n in sorted(tally.status.items(), key=lambda kv: -kv[1]):
        table.add_row(STATUS_WORDS.get(status, status), str(n))
    for oa, n in sorted(tally.oa_status.items(), key=lambda kv: -kv[1]):
        table.add_row(f"  OA status: {printable(oa)}", str(n))
    if tally.cc_by_or_cc0["yes"]:
        table.add_row("  a copy under CC BY or CC0", str(tally.cc_by_or_cc0["yes"]))
    return table
