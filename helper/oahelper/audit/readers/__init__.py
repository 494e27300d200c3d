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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

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

FORMATS = ("bibtex", "ris", "csljson", "wos", "medline", "endnote", "csv", "text")
EXTENSIONS = {".bib": "bibtex", ".bibtex": "bibtex", ".ris": "ris", ".json": "csljson",
              ".csljson": "csljson", ".ciw": "wos", ".isi": "wos", ".nbib": "medline",
              ".xml": "endnote",
              ".csv": "csv", ".tsv": "csv", ".txt": "text"}
FORMAT_NAMES = {"bibtex": "BibTeX", "ris": "RIS", "csljson": "CSL-JSON",
                "wos": "Web of Science", "medline": "PubMed MEDLINE", "endnote": "EndNote XML", "csv": "CSV",
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
        if self.format == "endnote":  # XML says its own encoding
            with self.path.open("rb") as raw:
                yield from read_endnote(raw, self.name)
            return
        with self.path.open(encoding=self.encoding, errors="replace", newline="") as fh:
            lines = bounded_lines(fh, MAX_RECORD)
            if self.format == "csljson":
                yield from read_csljson(fh, self.name)
            elif self.format == "bibtex":
                yield from read_bibtex(lines, self.name)
            elif self.format == "ris":
                yield from read_ris(lines, self.name)
            elif self.format in ("wos", "medline"):
                form = WEB_OF_SCIENCE if self.format == "wos" else MEDLINE
                yield from read_tagged(lines, self.name, form)
            elif self.format == "csv":
                yield from read_table(lines, self.name, self.notes)
            else:  # a plain list's line is a reference, far shorter than a record
                yield from read_lines(bounded_lines(fh, MAX_LINE + 2), self.name)

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
