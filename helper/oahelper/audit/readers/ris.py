"""RIS exports (Zotero, Mendeley, EndNote, publishers), read with rispy.

The file is cut into records (``TY  -`` … ``ER  -``) here so that each record is
parsed on its own: one broken record is an unreadable entry at its line, not a
lost file; one over the record cap is skipped unread, and fields over their caps are
refused (``limits.py``). PubMed ids are taken from ``AN`` when it says so and from notes
(``PMID: 123``, ``PMCID: PMC123``), as reference managers write them there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import rispy

from oahelper.audit.entries import Entry, unreadable
from oahelper.audit.readers.limits import capped_entry, records, too_big
from oahelper.errors import ReadingListError

_START = re.compile(r"^\s*TY  -")
_END = re.compile(r"^\s*ER  -")
_NOTE_ID = re.compile(r"\b(PMID|PMCID)\s*:\s*(PMC\d+|\d+)", re.IGNORECASE)
_TITLE_KEYS = ("title", "primary_title", "translated_title")
_JOURNAL_KEYS = ("secondary_title", "journal_name", "alternate_title3", "alternate_title1",
                 "alternate_title2")
_YEAR_KEYS = ("year", "publication_year", "date")


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> object:
    return next((record[k] for k in keys if record.get(k)), None)


def _note_ids(record: dict[str, Any]) -> dict[str, str]:
    notes = [record.get("accession_number") or "", record.get("note") or "",
             *(record.get("notes") or [])]
    found: dict[str, str] = {}
    for match in _NOTE_ID.finditer(" ".join(str(n) for n in notes)):
        found.setdefault(match.group(1).lower(), match.group(2))
    return found


def _entry(name: str, line: int, record: dict[str, Any]) -> Entry:
    ids = _note_ids(record)
    authors = record.get("authors") or record.get("first_authors") or []
    return capped_entry(name, str(record.get("id") or f"line {line}"), line, {
        "doi": record.get("doi"), "pmid": ids.get("pmid"), "pmcid": ids.get("pmcid"),
        "urls": tuple(record.get("urls") or ()), "title": _first(record, _TITLE_KEYS),
        "authors": tuple(authors), "year": _first(record, _YEAR_KEYS),
        "journal": _first(record, _JOURNAL_KEYS)})


def read_ris(lines: Iterable[tuple[str, int]], name: str) -> Iterator[Entry]:
    """Every record of a RIS file, in file order (``lines`` as ``bounded_lines`` gives)."""
    seen = False
    for line, text in records(lines, _START.match, _END.match):
        seen = True
        if text is None:
            yield too_big(name, f"line {line}", line, "a RIS record")
            continue
        try:
            parsed = rispy.loads(text)
        except (ValueError, LookupError, AttributeError, TypeError) as exc:  # rispy's, for a malformed record
            yield unreadable(name, f"line {line}", line, f"not a valid RIS record: {exc}")
            continue
        if not parsed:
            yield unreadable(name, f"line {line}", line, "not a valid RIS record")
            continue
        yield _entry(name, line, parsed[0])
    if not seen:
        raise ReadingListError(f"{name}: no RIS record in it (a record starts with a 'TY  - ' line)")
