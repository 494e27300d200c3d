"""Tagged exports: Web of Science (``.txt``/``.ciw``/``.isi``) and PubMed MEDLINE (``.nbib``).

Both write one field per line behind a short tag, with continuation lines indented,
and records one after another. Each format is a table (tag → field) below; the
reader keeps only the tags in its table, each within its field's cap, so a record
citing thousands of works (Web of Science's ``CR``) costs nothing to hold. A file
cut short (no ``ER``/``EF``) keeps the records it has.

Web of Science: ``PT J`` starts a record, ``ER`` ends it, ``EF`` ends the file;
continuation lines start with three spaces and are one value each (one author a
line). MEDLINE: ``PMID-`` starts a record and a blank line ends it; the tag is four
characters wide, then ``- ``; continuation lines start with six spaces and go on
the value above; the same tag on several lines is several values (one ``AU`` each).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from oahelper.audit.entries import Entry
from oahelper.audit.readers.limits import FIELD_CAPS, capped_entry
from oahelper.errors import ReadingListError


@dataclass(frozen=True)
class Tag:
    """What a tag's value is: make_entry's field, and for a tag shared by several
    kinds of value, the marker a value of this kind ends with (MEDLINE's ``[doi]``)."""

    field: str
    marker: str = ""


@dataclass(frozen=True)
class TaggedFormat:
    """How one tagged format writes its records."""

    name: str
    line: re.Pattern[str]  # a tagged line: the tag, then the value
    continuation: str      # what a continuation line starts with
    start: str             # the tag that starts a record
    end: str | None        # the tag that ends one; None: a blank line does
    file_end: str | None   # the tag after the last record
    continued_as_new_value: bool  # WoS: each continuation line is one more value
    # Tag -> field. For a field several tags give, the first tag listed that a
    # record has is the one read (Web of Science's AF full names before AU).
    tags: dict[str, Tag] = field(default_factory=dict)


WEB_OF_SCIENCE = TaggedFormat(
    name="Web of Science", line=re.compile(r"([A-Z][A-Z0-9])(?: (.*))?"), continuation="   ",
    start="PT", end="ER", file_end="EF", continued_as_new_value=True,
    tags={
        "UT": Tag("key"),       # accession number, WOS:000…
        "DI": Tag("doi"), "D2": Tag("doi"),  # D2: the book's DOI
        "PM": Tag("pmid"),
        "TI": Tag("title"),
        "AF": Tag("authors"), "AU": Tag("authors"), "CA": Tag("authors"),  # CA: group author
        "PY": Tag("year"), "EA": Tag("year"),  # EA: early access date
        "SO": Tag("journal"), "JI": Tag("journal"), "J9": Tag("journal"),
    })

MEDLINE = TaggedFormat(
    name="MEDLINE", line=re.compile(r"([A-Z][A-Z0-9]{1,3}) *- ?(.*)"), continuation="      ",
    start="PMID", end=None, file_end=None, continued_as_new_value=False,
    tags={
        "PMID": Tag("pmid"),
        "PMC": Tag("pmcid"),
        "AID": Tag("doi", "[doi]"), "LID": Tag("doi", "[doi]"),  # also [pii], [pmc]…
        "TI": Tag("title"), "BTI": Tag("title"),  # BTI: a book's title
        "FAU": Tag("authors"), "AU": Tag("authors"), "CN": Tag("authors"),  # CN: a group
        "DP": Tag("year"), "DEP": Tag("year"),
        "JT": Tag("journal"), "TA": Tag("journal"),
    })


class _Record:
    """One record's values by tag, only the tags of the format's table, each tag
    kept to one character past its field's cap (enough for the cap to refuse it)."""

    def __init__(self, form: TaggedFormat, line: int) -> None:
        self.form, self.line = form, line
        self.values: dict[str, list[str]] = {}
        self._room: dict[str, int] = {}
        self.tag: str | None = None  # the tag continuation lines go on

    def add(self, tag: str, text: str, *, new_value: bool = True) -> None:
        known = self.form.tags.get(tag)
        self.tag = tag if known else None
        if known is None:
            return  # a tag not read (cited references, abstracts…): not held
        room = self._room.get(tag, FIELD_CAPS.get(known.field, 1_000) + 1)
        if room <= 0:
            return  # past its cap: the cap refuses it already
        text = text.strip()
        if known.field != "authors":  # a name is kept whole, or not at all, by the cap
            text = text[:room]
        self._room[tag] = room - len(text)
        values = self.values.setdefault(tag, [])
        if new_value or not values:
            values.append(text)
        else:
            values[-1] = f"{values[-1]} {text}"

    def fields(self) -> dict[str, object]:
        found: dict[str, object] = {}
        for tag, kind in self.form.tags.items():
            values = [v[:-len(kind.marker)].strip() if kind.marker else v
                      for v in self.values.get(tag, ()) if v.endswith(kind.marker)]
            if kind.field in found or not any(values):
                continue
            found[kind.field] = (tuple(values) if kind.field == "authors"
                                 else values[0] if kind.marker else " ".join(values))
        return found


def read_tagged(lines: Iterable[tuple[str, int]], name: str, form: TaggedFormat) -> Iterator[Entry]:
    """Every record of a tagged file, in file order (``lines`` as ``bounded_lines`` gives)."""
    record: _Record | None = None
    seen = False
    for number, (raw, _length) in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            if form.end is None and record is not None:  # MEDLINE: a blank line ends it
                yield _entry(name, record)
                record = None
            continue
        if record is not None and line.startswith(form.continuation):
            if record.tag is not None:
                record.add(record.tag, line, new_value=form.continued_as_new_value)
            continue
        tagged = form.line.fullmatch(line)
        if tagged is None:
            continue  # not a field: a line of the file's header, or noise
        tag, value = tagged.group(1), tagged.group(2) or ""
        if tag == form.start:
            if record is not None:  # the last one had no end marker: keep what it has
                yield _entry(name, record)
            record, seen = _Record(form, number), True
        if tag in (form.end, form.file_end):
            if record is not None:
                yield _entry(name, record)
            record = None
            if tag == form.file_end:
                break
        elif record is not None:
            record.add(tag, value)
    if record is not None:
        yield _entry(name, record)
    if not seen:
        raise ReadingListError(f"{name}: no {form.name} record in it "
                               f"(a record starts with a '{form.start}' line)")


def _entry(name: str, record: _Record) -> Entry:
    fields = record.fields()
    key = fields.pop("key", None)
    return capped_entry(name, str(key or f"line {record.line}"), record.line, fields)
