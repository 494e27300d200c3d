"""Report writers: CSV and JSON, streamed one row at a time, in input order.

Every writer has ``write(row)`` and ``close(summary)``; ``writer_for``
picks one by the output file's extension. The HTML report is in ``html.py``.
CSV goes through ``csvcell.SafeCsvWriter`` (no cell is read as a formula); JSON and
HTML keep every text exactly.
"""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import IO, Protocol

from oahelper.audit.csvcell import SafeCsvWriter
from oahelper.audit.rows import COLUMNS, Row
from oahelper.audit.tally import AuditSummary
from oahelper.errors import ConfigError

OUTPUT_KINDS = (".csv", ".json", ".html")
# One encoder for every row (json.dumps with options makes a new one per call); a row
# is flat, so there is no circular reference to look for.
_ROW_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False)


def _number_columns() -> frozenset[str]:
    """The columns the row's own schema types as numbers (int or float, maybe None)."""
    hints = typing.get_type_hints(Row)
    return frozenset(name for name in COLUMNS
                     if {t for t in typing.get_args(hints[name]) or (hints[name],)
                         if t is not type(None)} <= {int, float})


# line, match_score, year, free_copies: written as numbers; every other cell is text.
NUMBER_COLUMNS = _number_columns()


class ReportWriter(Protocol):
    path: Path

    def write(self, row: Row) -> None: ...

    def close(self, summary: AuditSummary) -> None: ...


class CsvWriter:
    """One header line, then one line per entry (UTF-8 with a BOM, so that
    spreadsheet programs read accents right), no cell a formula."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] = path.open("w", encoding="utf-8-sig", newline="")
        self._csv = SafeCsvWriter(self._fh, COLUMNS, NUMBER_COLUMNS)

    def write(self, row: Row) -> None:
        self._csv.write(row.to_csv())

    def close(self, summary: AuditSummary) -> None:
        self._fh.close()


class JsonWriter:
    """``{"rows": [...], "summary": {...}}``: the rows streamed, the totals last."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] = path.open("w", encoding="utf-8")
        self._fh.write('{"rows": [')
        self._first = True

    def write(self, row: Row) -> None:
        self._fh.write("\n  " if self._first else ",\n  ")
        self._fh.write(_ROW_JSON.encode(row.to_json()))
        self._first = False

    def close(self, summary: AuditSummary) -> None:
        totals = json.dumps(summary.to_json(), ensure_ascii=False)
        self._fh.write(f"\n],\n\"summary\": {totals}}}\n")
        self._fh.close()


def check_output(path: Path) -> None:
    """Refuse an output path whose extension names no report format (before any is written)."""
    if path.suffix.lower() not in OUTPUT_KINDS:
        raise ConfigError(f"--out {path}: the report's format follows its extension: "
                          f"{', '.join(OUTPUT_KINDS)}")


def writer_for(path: Path, title: str) -> ReportWriter:
    """The writer for ``path``'s extension."""
    check_output(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return CsvWriter(path)
    if suffix == ".html":
        # Imported here: the chart libraries load only when asked for.
        from oahelper.audit.html import HtmlWriter

        return HtmlWriter(path, title)
    return JsonWriter(path)
