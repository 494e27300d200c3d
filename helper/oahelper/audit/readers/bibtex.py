"""BibTeX and BibLaTeX files, read with bibtexparser (v2).

``@string`` macros are resolved and LaTeX (``M{\\"u}ller``, ``{CRISPR}``) decoded by
the library's middlewares; a block it cannot parse, or a repeated key, becomes an
unreadable entry at its line, and the entries after it are read as usual.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import bibtexparser
from bibtexparser.middlewares import LatexDecodingMiddleware
from bibtexparser.middlewares.enclosing import REMOVED_ENCLOSING_KEY
from bibtexparser.model import DuplicateBlockKeyBlock, ParsingFailedBlock
from bibtexparser.model import Entry as BibEntry

from oahelper.audit.entries import Entry, make_entry, unreadable
from oahelper.errors import ReadingListError

_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_KEY = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s{}()]+)")
# BibLaTeX's names first, then classic BibTeX's.
_JOURNAL_FIELDS = ("journaltitle", "journal", "booktitle")
_YEAR_FIELDS = ("year", "date")


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
    """A concatenation (``jtf # " (Second Series)"``) joined up: the library resolves a
    lone macro but leaves a concatenation as written."""
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
        if bare.get(f.key) == "no-enclosing" and "#" in value:
            value = _joined(value, strings)
        fields[f.key.lower()] = value
    return fields


def _entry(name: str, block: BibEntry, strings: dict[str, str]) -> Entry:
    fields = _fields(block, strings)
    return make_entry(
        name, block.key, block.start_line + 1,
        doi=fields.get("doi"), pmid=fields.get("pmid"), pmcid=fields.get("pmcid"),
        arxiv=_arxiv_id(fields), urls=(fields.get("url"), fields.get("howpublished")),
        title=fields.get("title"), authors=tuple(_AND.split(fields.get("author", ""))),
        year=_field(fields, *_YEAR_FIELDS), journal=_field(fields, *_JOURNAL_FIELDS))


def _failed(name: str, block: ParsingFailedBlock) -> Entry:
    line = (block.start_line or 0) + 1
    if isinstance(block, DuplicateBlockKeyBlock):
        return unreadable(name, block.key, line,
                          f"the key {block.key!r} is used twice; only the first entry counts")
    reason = getattr(block.error, "abort_reason", None) or str(block.error) or "syntax error"
    key = _KEY.match(block.raw or "")
    return unreadable(name, key.group(1) if key else f"line {line}", line,
                      f"not valid BibTeX: {reason.strip()}")


def read_bibtex(text: str, name: str) -> Iterator[Entry]:
    """Every entry of a BibTeX file, in file order, broken ones included."""
    try:
        library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    except Exception as exc:  # the library's own bugs: say which file, not a traceback
        raise ReadingListError(f"{name}: cannot be read as BibTeX ({exc})") from exc
    strings = {s.key.lower(): str(s.value) for s in library.strings}
    blocks = [*library.entries, *library.failed_blocks]
    blocks.sort(key=lambda b: b.start_line or 0)
    for block in blocks:
        if isinstance(block, BibEntry):
            yield _entry(name, block, strings)
        elif isinstance(block, ParsingFailedBlock):
            yield _failed(name, block)
