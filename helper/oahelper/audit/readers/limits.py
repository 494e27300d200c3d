"""What any reader may hold: one record at a time, each field within its cap.

Every reader streams its file record by record (a BibTeX entry, a CSL-JSON item, a
RIS, Web of Science or MEDLINE record, a CSV row, a line), so reading is linear in the
file's size and its memory is one record's, whatever the size of the file. A record
larger than :data:`MAX_RECORD` is not held: it becomes an unreadable row. A field
longer than its cap in :data:`FIELD_CAPS` is refused (authors: cut) before anything
costly is done with it, and the row says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TextIO

from oahelper.audit.entries import Entry, make_entry, unreadable

# Far more than any real record (a Web of Science record citing 2,000 works is
# ~250 KB); a bigger one is a broken file or a hostile one.
MAX_RECORD = 1 << 20
# The most characters an entry's field may hold. A title of more than a few thousand
# characters is not a title, and LaTeX decoding costs grow faster than its length.
FIELD_CAPS: dict[str, int] = {
    "doi": 1_000, "pmid": 100, "pmcid": 100, "arxiv": 100,
    "url": 4_000,  # each link
    "title": 4_000, "journal": 1_000, "year": 200,
    "authors": 20_000,  # all names together: a few hundred; the lookup uses the first
    "text": 10_000,  # a pasted reference
}
MAX_KEY = 200  # a key only names the row: cut, never refused
_READ = 64 * 1024  # how much of an over-long line is skipped at a time


def refused(name: str) -> str:
    """The row's words for a field over its cap."""
    return f"{name} refused: more than {FIELD_CAPS[name]:,} characters"


def cut_authors(count: int) -> str:
    """The row's words for an author list cut at its cap."""
    return (f"authors cut to the first {count:,}: more than "
            f"{FIELD_CAPS['authors']:,} characters")


def capped(fields: Mapping[str, object]) -> tuple[dict[str, object], list[str]]:
    """``fields`` (make_entry's names) within their caps, and what was refused or cut."""
    kept: dict[str, object] = {}
    notes: list[str] = []
    for name, value in fields.items():
        if name in ("authors", "urls") and isinstance(value, tuple):
            kept[name], note = (_names_within_cap(value) if name == "authors"
                                else _urls_within_cap(value))
            notes += [note] if note else []
        elif isinstance(value, str) and len(value) > FIELD_CAPS.get(name, len(value)):
            notes.append(refused(name))
        else:
            kept[name] = value
    return kept, notes


def _urls_within_cap(urls: tuple[object, ...]) -> tuple[tuple[object, ...], str | None]:
    kept = tuple(u for u in urls if len(str(u or "")) <= FIELD_CAPS["url"])
    return kept, refused("url") if len(kept) < len(urls) else None


def _names_within_cap(names: tuple[object, ...]) -> tuple[tuple[object, ...], str | None]:
    total = 0
    for count, person in enumerate(names):
        total += len(str(person or ""))
        if total > FIELD_CAPS["authors"]:
            return names[:count], cut_authors(count)
    return names, None


def join_notes(*notes: str | None) -> str | None:
    """Several remarks on one row as one text, or None."""
    return "; ".join(n for n in notes if n) or None


def capped_entry(file: str, key: str, line: int | None, fields: Mapping[str, object],
                 notes: Sequence[str] = ()) -> Entry:
    """The entry of one record's raw fields, each within its cap; ``notes`` are the
    reader's own remarks (a repeated field), joined with what the caps did."""
    kept, cap_notes = capped(fields)
    return make_entry(file, key[:MAX_KEY], line, **kept,  # type: ignore[arg-type]
                      note=join_notes(*notes, *cap_notes))


def too_big(file: str, key: str, line: int | None, what: str) -> Entry:
    """The row of a record over :data:`MAX_RECORD`, which was skipped unread."""
    return unreadable(file, key[:MAX_KEY], line,
                      f"{what} of more than {MAX_RECORD >> 20} MiB; not read")


def bounded_lines(fh: TextIO, limit: int = MAX_RECORD) -> Iterator[tuple[str, int]]:
    """Each line of ``fh`` (at most ``limit`` characters of it) and its full length:
    a longer line is skipped past, never held whole."""
    while line := fh.readline(limit):
        length = len(line)
        if length == limit and line[-1] not in "\r\n":
            while rest := fh.readline(_READ):
                length += len(rest)
                if rest[-1] in "\r\n":
                    break
        yield line, length


def records(lines: Iterable[tuple[str, int]], is_start: Callable[[str], object],
            is_end: Callable[[str], object] = lambda line: False,
            ) -> Iterator[tuple[int, str | None]]:
    """Each record's first line number (1-based) and text, cut from ``lines`` (as
    :func:`bounded_lines` gives them) at the lines that start or end one. The text is
    None for a record over :data:`MAX_RECORD`: it was skipped, not held. Lines outside
    any record are left out; a record without its end is kept as far as it goes."""
    current: list[str] = []
    start, size, inside = 0, 0, False
    for number, (line, length) in enumerate(lines, 1):
        if is_start(line):
            if inside:
                yield start, "".join(current) if size <= MAX_RECORD else None
            current, start, size, inside = [], number, 0, True
        if not inside:
            continue
        size += length
        if size <= MAX_RECORD:
            current.append(line)
        else:
            current.clear()  # over the cap: only counted from here on
        if is_end(line):
            yield start, "".join(current) if size <= MAX_RECORD else None
            current, inside = [], False
    if inside:
        yield start, "".join(current) if size <= MAX_RECORD else None
