"""Reading lists in, entries out: which format a file is, and its reader.

A file's format is recognised by its content first (a JSON array, EndNote's
``<xml><records>``, a RIS ``TY  -`` line, a Web of Science ``PT J`` or ``FN … Web of Science`` line, a MEDLINE ``PMID-``
line, a BibTeX ``@type{``, a CSV header naming a doi/pmid/title column), then by its
extension (a ``.bib`` without any ``@`` is a plain list), else it is a plain list.
Every format is streamed record by record, within the caps of ``limits.py``.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from oahelper.audit.entries import Entry
from oahelper.audit.readers.bibtex import BLOCK_START, read_bibtex
from oahelper.audit.readers.csljson import read_csljson
from oahelper.audit.readers.endnote import read_endnote
from oahelper.audit.readers.limits import MAX_RECORD, bounded_lines
from oahelper.audit.readers.lines import MAX_LINE, read_lines
from oahelper.audit.readers.ris import read_ris
from oahelper.audit.readers.table import looks_like_header, read_table
from oahelper.audit.readers.tagged import MEDLINE, WEB_OF_SCIENCE, read_tagged
from oahelper.errors import ReadingListError

EXTENSIONS = {".bib": "bibtex", ".bibtex": "bibtex", ".ris": "ris", ".json": "csljson",
              ".csljson": "csljson", ".ciw": "wos", ".isi": "wos", ".nbib": "medline",
              ".xml": "endnote", ".csv": "csv", ".tsv": "csv", ".txt": "text"}
FORMAT_NAMES = {"bibtex": "BibTeX", "ris": "RIS", "csljson": "CSL-JSON", "wos": "Web of Science",
                "medline": "PubMed MEDLINE", "endnote": "EndNote XML", "csv": "CSV",
                "text": "a plain list"}
SNIFF_BYTES = 64 * 1024
# What each format's first kilobytes show, tried in this order.
_SIGNS = (
    ("endnote", re.compile(r"\A\s*(?:<\?xml[^>]*\?>\s*)?<xml>\s*<records>")),
    ("ris", re.compile(r"^\s*TY  - ", re.MULTILINE)),
    ("wos", re.compile(r"\AFN (?:Clarivate Analytics |Thomson Reuters |Clarivate )?Web of Science"
                       r"|^VR 1\.0\s*$|^PT [A-Z]\s*$", re.MULTILINE)),
    ("medline", re.compile(r"^PMID- ?\d", re.MULTILINE)),
    ("bibtex", re.compile("^" + BLOCK_START.pattern, re.MULTILINE)),
)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


# Format -> its reader, given the open file, the file's name and the notes for the user.
# Lines come bounded (limits.py): no line is held longer than a record, or, in a plain
# list, than a reference (+2: its line end).
READERS: dict[str, Callable[[TextIO, str, list[str]], Iterator[Entry]]] = {
    "bibtex": lambda fh, name, notes: read_bibtex(bounded_lines(fh, MAX_RECORD), name),
    "ris": lambda fh, name, notes: read_ris(bounded_lines(fh, MAX_RECORD), name),
    "csljson": lambda fh, name, notes: read_csljson(fh, name),
    "wos": lambda fh, name, notes: read_tagged(bounded_lines(fh, MAX_RECORD), name, WEB_OF_SCIENCE),
    "medline": lambda fh, name, notes: read_tagged(bounded_lines(fh, MAX_RECORD), name, MEDLINE),
    "endnote": lambda fh, name, notes: read_endnote(fh.buffer, name),  # XML names its encoding
    "csv": lambda fh, name, notes: read_table(bounded_lines(fh, MAX_RECORD), name, notes),
    "text": lambda fh, name, notes: read_lines(bounded_lines(fh, MAX_LINE + 2), name),
}
FORMATS = tuple(READERS)


def guess_encoding(head: bytes) -> str:
    """UTF-8 (or the BOM's encoding); Windows-1252 when the start is not UTF-8."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def sniff(sample: str) -> str | None:
    """The format a file's first kilobytes show unmistakably, or None."""
    if sample.lstrip().startswith(("[", "{")):
        return "csljson"
    for format, sign in _SIGNS:
        if sign.search(sample):
            return format
    first = next((line for line in sample.splitlines() if line.strip()), "")
    return "csv" if looks_like_header(first) else None


@dataclass
class ReadingList:
    """One input file: its format, and its entries (read each time they are asked for)."""

    path: Path
    name: str
    format: str
    encoding: str
    notes: list[str] = field(default_factory=list)  # what the reader chose, for the user

    def entries(self) -> Iterator[Entry]:
        """Every entry, in file order; broken ones included, as unreadable entries."""
        self.notes.clear()
        if self.encoding == "cp1252":
            self.notes.append(f"{self.name}: not UTF-8; read as Windows-1252")
        with self.path.open(encoding=self.encoding, errors="replace", newline="") as fh:
            yield from READERS[self.format](fh, self.name, self.notes)

    def count(self) -> int:
        """How many entries there are (one more pass over the file)."""
        return sum(1 for _ in self.entries())


def open_reading_list(path: str | Path, format: str | None = None) -> ReadingList:
    """The reading list at ``path``, its format recognised (or as given)."""
    path = Path(path)
    name = str(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except IsADirectoryError as exc:
        raise ReadingListError(f"{name}: a folder, not a reading list") from exc
    encoding = guess_encoding(head)
    if b"\0" in head and encoding != "utf-16":
        raise ReadingListError(f"{name}: a binary file, not a reading list (BibTeX, RIS, "
                               "CSL-JSON, Web of Science, MEDLINE, EndNote XML, CSV or one reference "
                               "per line)")
    if format is None:
        sample = head.decode(encoding, errors="replace")
        format = sniff(sample) or EXTENSIONS.get(path.suffix.lower(), "text")
        if format == "bibtex" and "@" not in sample:  # named .bib, but a plain list
            format = "text"
    return ReadingList(path, name, format, encoding)


__all__ = ["FORMATS", "FORMAT_NAMES", "ReadingList", "open_reading_list", "sniff"]
