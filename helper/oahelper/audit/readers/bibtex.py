"""BibTeX and BibLaTeX files, read entry by entry with bibtexparser (v2).

The file is cut into blocks at the lines that start one (``@article{``), and each
block is parsed on its own, so reading is linear in the file's size and holds one
entry at a time. Before anything is decoded, an entry keeps only the fields read
here, each within its cap (``limits.py``; an author list is cut, another field
refused), and of a repeated field (Scopus repeats ``funding_details``) the first:
the row says so. ``@string`` macros are resolved here and LaTeX (``M{\\"u}ller``,
``{CRISPR}``) decoded by the library's middleware, in the text fields (title,
author, journal) only; a block it cannot parse, or a key
used twice, becomes an unreadable entry at its line, and the entries after it are
read as usual.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator

from bibtexparser.entrypoint import parse_string
from bibtexparser.library import Library
from bibtexparser.middlewares import LatexDecodingMiddleware, RemoveEnclosingMiddleware
from bibtexparser.middlewares.enclosing import REMOVED_ENCLOSING_KEY
from bibtexparser.middlewares.middleware import BlockMiddleware
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Field,
    ParsingFailedBlock,
    String,
)
from bibtexparser.model import Entry as BibEntry

from oahelper.audit.entries import Entry, unreadable
from oahelper.audit.readers.limits import (
    FIELD_CAPS,
    capped_entry,
    cut_authors,
    records,
    refused,
    too_big,
)
from oahelper.errors import ReadingListError

BLOCK_START = re.compile(r"\s*@\s*[A-Za-z]+\s*[{(]")
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_KEY = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s{}()]+)")
# The fields read, by lower-cased name -> the cap (limits.FIELD_CAPS) they are held to.
# Any other field is dropped before decoding: LaTeX decoding an abstract costs more
# than everything else about the entry.
READ_FIELDS = {
    "doi": "doi", "pmid": "pmid", "pmcid": "pmcid", "eprint": "arxiv",
    "archiveprefix": "arxiv", "eprinttype": "arxiv", "url": "url", "howpublished": "url",
    "title": "title", "author": "authors", "year": "year", "date": "year",
    "journaltitle": "journal", "journal": "journal", "booktitle": "journal",
}
# BibLaTeX's names first, then classic BibTeX's.
_JOURNAL_FIELDS = ("journaltitle", "journal", "booktitle")
_YEAR_FIELDS = ("year", "date")
_NOTES = "oahelper_notes"  # the block metadata key for what _Prepare did
_ASIDE = "oahelper_aside"  # and for the fields _AsWritten keeps from the decoder
# Taken as written, as biblatex's verbatim fields are: "%" and "_" in a DOI or a
# link are not LaTeX (decoding cut "https://x.org/a%20b" at its "%").
_VERBATIM = {"doi", "pmid", "pmcid", "arxiv", "url", "year"}
_LATEX = re.compile(r"[\\{}$%~^_&]|--|``|''")  # what the decoder would change
MAX_MACROS = 10_000  # @string macros remembered; a file of more is not a reading list


class _Prepare(BlockMiddleware):
    """Keeps an entry's read fields within their caps, the first of a repeated one."""

    def transform_failed_block(self, failed_block: ParsingFailedBlock,
                               library: Library) -> Block | Collection[Block] | None:
        inner = failed_block.ignore_error_block
        if isinstance(failed_block, DuplicateFieldKeyBlock) and isinstance(inner, BibEntry):
            return self.transform_entry(inner, library)
        return failed_block

    def transform_entry(self, entry: BibEntry, library: Library) -> Block:
        notes: list[str] = []
        counts: dict[str, int] = {}
        kept = []
        for f in entry.fields:
            name = f.key.lower()
            counts[name] = counts.get(name, 0) + 1
            kind = READ_FIELDS.get(name)
            if counts[name] > 1 or kind is None or not isinstance(f.value, str):
                continue
            if len(f.value) > FIELD_CAPS[kind] + 2:  # +2: its braces or quotes
                if kind != "authors":
                    notes.append(refused(kind))
                    continue
                f.value, count = _first_authors(f.value)
                notes.append(cut_authors(count))
            kept.append(f)
        notes += [f"field {name!r} appears {n} times; the first is read"
                  for name, n in counts.items() if n > 1]
        entry.fields = kept
        entry.parser_metadata[_NOTES] = notes
        return entry

    def transform_string(self, string: String, library: Library) -> Block:
        if len(str(string.value)) > FIELD_CAPS["title"]:
            string.value = "{}"  # a macro's value is a journal's name, at most
        return string


class _AsWritten(BlockMiddleware):
    """Sets aside, around the LaTeX decoder, the verbatim fields and those with no
    LaTeX in them (most: decoding costs ~0.1 ms per ten characters), then puts them
    back."""

    def __init__(self, *, put_back: bool) -> None:
        super().__init__()
        self.put_back = put_back

    def transform_entry(self, entry: BibEntry, library: Library) -> Block:
        if self.put_back:
            entry.fields = [*entry.fields, *entry.parser_metadata.pop(_ASIDE, [])]
            return entry
        decode: list[Field] = []
        aside: list[Field] = []
        for f in entry.fields:
            plain = READ_FIELDS.get(f.key.lower()) in _VERBATIM or not _LATEX.search(str(f.value))
            (aside if plain else decode).append(f)
        entry.fields, entry.parser_metadata[_ASIDE] = decode, aside
        return entry


def _first_authors(value: str) -> tuple[str, int]:
    """An over-long author list cut after the last whole name within the cap, its
    enclosing brace or quote closed again, and how many names it keeps."""
    head = value[:FIELD_CAPS["authors"]]
    ands = list(_AND.finditer(head))
    if not ands:
        return "{}", 0
    closing = {"{": "}", '"': '"'}.get(value[0], "")
    return head[:ands[-1].start()] + closing, len(ands)


def _field(fields: dict[str, str], *names: str) -> str | None:
    return next((fields[n] for n in names if fields.get(n)), None)


def _split_concatenation(value: str) -> list[str]:
    """The parts of ``a # "b" # {c}``, split at the ``#`` outside braces and quotes."""
    parts, depth, quoted, begin = [], 0, False, 0
    for i, char in enumerate(value):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif char == "#" and depth == 0 and not quoted:
            parts.append(value[begin:i].strip())
            begin = i + 1
    return [*parts, value[begin:].strip()]


def _joined(value: str, strings: dict[str, str]) -> str:
    """A bare value resolved: a macro (``jtf``) or a concatenation (``jtf # " (Second
    Series)"``) joined up, each part a macro's value or the part as written."""
    out = []
    for part in _split_concatenation(value):
        if len(part) >= 2 and (part[0], part[-1]) in (("{", "}"), ('"', '"')):
            out.append(part[1:-1])
        else:
            out.append(strings.get(part.lower(), part))
    return "".join(out)


def _arxiv_id(fields: dict[str, str]) -> str | None:
    """``eprint`` when ``archiveprefix``/``eprinttype`` says arXiv (or says nothing
    and the eprint looks like an arXiv id: the normaliser decides)."""
    kind = (_field(fields, "archiveprefix", "eprinttype") or "arxiv").lower()
    return fields.get("eprint") if kind == "arxiv" else None


def _fields(block: BibEntry, strings: dict[str, str]) -> dict[str, str]:
    """Field values by lower-cased name (BibTeX names are case-insensitive)."""
    bare = block.parser_metadata.get(REMOVED_ENCLOSING_KEY, {})
    fields = {}
    for f in block.fields:
        value = str(f.value)
        if bare.get(f.key) == "no-enclosing":
            value = _joined(value, strings)
        fields[f.key.lower()] = value
    return fields


def _entry(name: str, block: BibEntry, line: int, strings: dict[str, str]) -> Entry:
    fields = _fields(block, strings)
    return capped_entry(name, block.key, line, {
        "doi": fields.get("doi"), "pmid": fields.get("pmid"), "pmcid": fields.get("pmcid"),
        "arxiv": _arxiv_id(fields), "urls": (fields.get("url"), fields.get("howpublished")),
        "title": fields.get("title"), "authors": tuple(_AND.split(fields.get("author", ""))),
        "year": _field(fields, *_YEAR_FIELDS), "journal": _field(fields, *_JOURNAL_FIELDS),
    }, block.parser_metadata.get(_NOTES, ()))


def _used_twice(name: str, key: str, line: int) -> Entry:
    return unreadable(name, key, line, f"the key {key!r} is used twice; only the first entry counts")


def _failed(name: str, block: ParsingFailedBlock, line: int) -> Entry:
    if isinstance(block, DuplicateBlockKeyBlock):  # two entries of one key on one line
        return _used_twice(name, block.key, line)
    reason = getattr(block.error, "abort_reason", None) or str(block.error) or "syntax error"
    if "end of file" in reason:  # the block was cut off at the next entry's line
        reason = "no closing brace or parenthesis before the next entry or the file's end"
    key = _KEY.match(block.raw or "")
    return unreadable(name, key.group(1) if key else f"line {line}", line,
                      f"not valid BibTeX: {reason.strip()}")


def read_bibtex(lines: Iterable[tuple[str, int]], name: str) -> Iterator[Entry]:
    """Every entry of a BibTeX file, in file order, broken ones included (``lines``
    as ``bounded_lines`` gives them)."""
    stack = [_Prepare(), RemoveEnclosingMiddleware(), _AsWritten(put_back=False),
             LatexDecodingMiddleware(), _AsWritten(put_back=True)]
    strings: dict[str, str] = {}
    keys: set[str] = set()
    for start, text in records(lines, BLOCK_START.match):
        if text is None:
            yield too_big(name, f"line {start}", start, "a BibTeX entry")
            continue
        try:
            library = parse_string(text, parse_stack=stack)
        except Exception as exc:  # the library's own bugs: say which file, not a traceback
            raise ReadingListError(f"{name} line {start}: cannot be read as BibTeX ({exc})") from exc
        for block in library.blocks:
            line = start + (block.start_line or 0)
            if isinstance(block, String) and len(strings) < MAX_MACROS:
                strings[block.key.lower()] = str(block.value)
            elif isinstance(block, BibEntry) and block.key in keys:
                yield _used_twice(name, block.key, line)
            elif isinstance(block, BibEntry):
                keys.add(block.key)
                yield _entry(name, block, line, strings)
            elif isinstance(block, ParsingFailedBlock):
                yield _failed(name, block, line)
