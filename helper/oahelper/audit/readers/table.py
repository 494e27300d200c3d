"""CSV and tab-separated exports (Zotero, Scopus, Web of Science, spreadsheets).

Columns are found by their header, case- and punctuation-insensitively, from the
table below; which column was used for what is reported to the user. A table with
no such column is read row by row as plain references.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from oahelper.audit.entries import Entry, make_entry
from oahelper.audit.readers.lines import entry_from_text
from oahelper.errors import ReadingListError

# Entry field -> header names that mean it, best first. Zotero's "Publication Title"
# is the journal; Web of Science's tab export uses two-letter tags (DI, TI, PY, SO, PM).
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "doi": ("doi", "di", "article doi", "doi url", "doi link", "digital object identifier"),
    "pmid": ("pmid", "pubmed id", "pubmed", "pm"),
    "pmcid": ("pmcid", "pmc id", "pmc"),
    "arxiv": ("arxiv", "arxiv id", "eprint"),
    "url": ("url", "link", "ur"),
    "title": ("title", "article title", "document title", "ti"),
    "authors": ("author", "authors", "au"),
    "year": ("year", "publication year", "pubyear", "py", "date"),
    "journal": ("journal", "source title", "publication title", "container title", "so"),
    "key": ("key", "citation key", "id"),
}
# The columns that make a table worth reading by column (and are reported).
IDENTIFYING = ("doi", "pmid", "pmcid", "arxiv", "url", "title")
DELIMITERS = (",", ";", "\t", "|")
_PUNCT = re.compile(r"[^0-9a-z]+")
_AUTHORS = re.compile(r"\s*;\s*")


def _norm(header: str) -> str:
    return _PUNCT.sub(" ", header.lower()).strip()


@dataclass(frozen=True)
class Columns:
    """Which column index holds each field (only fields found)."""

    index: dict[str, int]
    headers: list[str]

    @classmethod
    def find(cls, headers: list[str]) -> Columns:
        normed = [_norm(h) for h in headers]
        index: dict[str, int] = {}
        for field, names in COLUMN_NAMES.items():
            for wanted in names:
                if wanted in normed and normed.index(wanted) not in index.values():
                    index[field] = normed.index(wanted)
                    break
        return cls(index, headers)

    @property
    def identifying(self) -> bool:
        return any(f in self.index for f in IDENTIFYING)

    def describe(self) -> str:
        used = [f"{field} from column {self.headers[i]!r}" for field, i in self.index.items()
                if field in IDENTIFYING]
        return ", ".join(used)

    def value(self, row: list[str], field: str) -> str | None:
        i = self.index.get(field)
        return row[i] if i is not None and i < len(row) else None


def looks_like_header(first_line: str) -> bool:
    """True when a line is a table header naming a column we can read."""
    dialect = _dialect(first_line)
    cells = next(csv.reader([first_line], dialect), [])
    return len(cells) > 1 and Columns.find(cells).identifying


class _Excel(csv.excel):
    """Spreadsheet CSV with the delimiter the header line uses."""


def _dialect(header_line: str) -> type[csv.Dialect]:
    # csv.Sniffer guesses quoting too, and guesses it wrong on ordinary exports;
    # only the delimiter varies in practice (comma; semicolon in some locales; tab).
    delimiter = max(DELIMITERS, key=header_line.count)
    return type("Dialect", (_Excel,), {"delimiter": delimiter if header_line.count(delimiter) else ","})


def _row_entry(name: str, columns: Columns, line: int, row: list[str]) -> Entry:
    authors = columns.value(row, "authors") or ""
    return make_entry(
        name, columns.value(row, "key") or f"row {line}", line,
        doi=columns.value(row, "doi"), pmid=columns.value(row, "pmid"),
        pmcid=columns.value(row, "pmcid"), arxiv=columns.value(row, "arxiv"),
        urls=(columns.value(row, "url"),), title=columns.value(row, "title"),
        authors=tuple(_AUTHORS.split(authors)) if authors else (),
        year=columns.value(row, "year"), journal=columns.value(row, "journal"))


def read_table(lines: Iterable[str], name: str, notes: list[str]) -> Iterator[Entry]:
    """One entry per data row, streamed; what each column was used for goes to ``notes``."""
    lines = iter(lines)
    header_line = next(lines, "")
    dialect = _dialect(header_line)
    reader = csv.reader(_chain(header_line, lines), dialect)
    try:
        headers = next(reader, [])
        columns = Columns.find(headers)
        if columns.identifying:
            notes.append(f"{name}: {columns.describe()}")
        else:
            notes.append(f"{name}: no header naming a doi, pmid or title column; "
                         "each row read as a reference")
            if any(cell.strip() for cell in headers):  # no header: the first row is data
                yield entry_from_text(name, "row 1", 1, " ".join(headers))
        start = reader.line_num + 1
        for row in reader:
            # The key is the spreadsheet's row number: the line the record starts on.
            if any(cell.strip() for cell in row):
                if columns.identifying:
                    yield _row_entry(name, columns, start, row)
                else:
                    yield entry_from_text(name, f"row {start}", start, " ".join(row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ReadingListError(f"{name} line {reader.line_num}: not valid CSV ({exc})") from exc


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest
