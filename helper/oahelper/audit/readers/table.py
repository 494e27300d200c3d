"""CSV and tab-separated exports (Zotero, Scopus, Web of Science, spreadsheets).

Columns are found by their header, case- and punctuation-insensitively, from the
table below; which column was used for what is reported to the user. A table with
no such column is read row by row as plain references. A row over the record cap, or
with a cell over the csv module's field limit, is an unreadable row, and the rows
after it are read; cells over their field caps are refused (``limits.py``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from oahelper.audit.entries import Entry, unreadable
from oahelper.audit.readers.limits import MAX_RECORD, capped_entry, too_big
from oahelper.audit.readers.lines import entry_from_text
from oahelper.errors import ReadingListError

if TYPE_CHECKING:
    from _csv import Reader

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
    return capped_entry(name, columns.value(row, "key") or f"row {line}", line, {
        "doi": columns.value(row, "doi"), "pmid": columns.value(row, "pmid"),
        "pmcid": columns.value(row, "pmcid"), "arxiv": columns.value(row, "arxiv"),
        "urls": (columns.value(row, "url"),), "title": columns.value(row, "title"),
        "authors": tuple(_AUTHORS.split(authors)) if authors else (),
        "year": columns.value(row, "year"), "journal": columns.value(row, "journal")})


class _RowTooBig(Exception):
    """Raised through the csv reader when one row passes the record cap."""


class _Lines:
    """The physical lines the csv reader asks for, counted per row: past
    :data:`MAX_RECORD` characters since :meth:`row_done`, it raises :class:`_RowTooBig`
    (a class, not a generator, as it goes on after raising)."""

    def __init__(self, lines: Iterable[tuple[str, int]]) -> None:
        self._lines = iter(lines)
        self._size = 0
        self.first, length = next(self._lines, ("", 0))
        self._pending: tuple[str, int] | None = (self.first, length)

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line, length = self._pending or next(self._lines)
        self._pending = None
        self._size += length
        if self._size > MAX_RECORD:
            self._size = 0
            raise _RowTooBig
        return line

    def row_done(self) -> None:
        self._size = 0


def read_table(lines: Iterable[tuple[str, int]], name: str, notes: list[str]) -> Iterator[Entry]:
    """One entry per data row, streamed (``lines`` as ``bounded_lines`` gives them);
    what each column was used for goes to ``notes``."""
    source = _Lines(lines)
    reader = csv.reader(source, _dialect(source.first))
    try:
        headers = _next_row(reader, name) or []
    except (_RowTooBig, _CellTooBig) as exc:
        raise ReadingListError(f"{name}: its first row is too long for a table header") from exc
    columns = Columns.find(headers)
    if columns.identifying:
        notes.append(f"{name}: {columns.describe()}")
    else:
        notes.append(f"{name}: no header naming a doi, pmid or title column; "
                     "each row read as a reference")
        if any(cell.strip() for cell in headers):  # no header: the first row is data
            yield entry_from_text(name, "row 1", 1, " ".join(headers))
    while True:
        # The key is the spreadsheet's row number: the line the record starts on.
        start = reader.line_num + 1
        source.row_done()
        try:
            row = _next_row(reader, name)
        except _RowTooBig:
            yield too_big(name, f"row {start}", start, "a row")
            continue
        except _CellTooBig as exc:
            yield unreadable(name, f"row {start}", start, str(exc))
            continue
        if row is None:
            return
        if not any(cell.strip() for cell in row):
            continue
        if columns.identifying:
            yield _row_entry(name, columns, start, row)
        else:
            yield entry_from_text(name, f"row {start}", start, " ".join(row))


class _CellTooBig(Exception):
    """A cell over the csv module's own field limit: that row is lost, not the file."""


def _next_row(reader: Reader, name: str) -> list[str] | None:
    try:
        return next(reader, None)
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise _CellTooBig(f"a cell of more than {csv.field_size_limit():,} characters; "
                              "not read") from exc
        raise ReadingListError(f"{name} line {reader.line_num}: not valid CSV ({exc})") from exc

