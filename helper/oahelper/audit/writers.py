"""Report writers: CSV and JSON, streamed one row at a time, in input order.

Every writer has ``write(row)`` and ``close(summary)``; ``writer_for``
picks one by the output file's extension. The HTML report is in ``html.py``. 
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO, Protocol

from oahelper.audit.rows import COLUMNS, Row
from oahelper.audit.tally import AuditSummary
from oahelper.errors import ConfigError

OUTPUT_KINDS = (".csv", ".json", ".html")
# One encoder for every row (json.dumps with options makes a new one per call); a row
# is flat, so there is no circular reference to look for.
_ROW_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False)


class ReportWriter(Protocol):
    path: Path

    def write(self, row: Row) -> None: ...

    def close(self, summary: AuditSummary) -> None: ...


class CsvWriter:
    """One header line, then one line per entry (UTF-8 with a BOM, so that
    spreadsheet programs read accents right)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] = path.open("w", encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._fh)
        self._csv.writerow(COLUMNS)

    def write(self, row: Row) -> None:
        self._csv.writerow(row.to_csv())

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
        from oahelper.audit.html import HtmlWriter  # the chart libraries load only when asked for

        return HtmlWriter(path, title)
    return JsonWriter(path)
