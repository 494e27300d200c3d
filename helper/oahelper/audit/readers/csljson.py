"""CSL-JSON: what Zotero, Mendeley, pandoc and citeproc export (an array of items).

Dates are ``{"date-parts": [[2013, 7, 31]]}`` (or a ``raw``/``literal`` string); names
are ``{"family", "given"}`` or ``{"literal"}``.

The file is read in chunks and cut into its items by a scanner that follows only
brackets and strings, and each item is parsed on its own with :mod:`json`: reading is
linear in the file's size and holds one item at a time (one over the record cap is
skipped unread; a 200 MB string is never one object). An item of the wrong shape is
an unreadable entry, and so is the last one of a file cut short (the items before it
are kept); JSON that is not valid (brackets that do not match, an item that does not
parse) is an error naming the line, as the file cannot be trusted past it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, TextIO

from oahelper.audit.entries import Entry, unreadable
from oahelper.audit.readers.limits import MAX_RECORD, capped_entry, too_big
from oahelper.errors import ReadingListError

_CHUNK = 64 * 1024
MAX_DEPTH = 500  # json itself gives up near 1,000
_OUTSIDE = re.compile(r'["\[\]{},]')  # what matters outside a string
_STRING_BODY = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*')  # up to a string's closing quote
_OPENS = {"]": "[", "}": "{"}


def _name(person: Any) -> str | None:
    if not isinstance(person, dict):
        return None
    if person.get("literal"):
        return str(person["literal"])
    parts = [str(person[k]) for k in ("family", "given") if person.get(k)]
    return ", ".join(parts) or None


def _year(issued: Any) -> object:
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            return parts[0][0]
        return issued.get("raw") or issued.get("literal") or issued.get("season")
    return issued


def _item(name: str, index: int, line: int, item: dict[str, Any]) -> Entry:
    def text(key: str) -> object:
        value = item.get(key) if key in item else item.get(key.lower())
        return value if isinstance(value, (str, int)) else None

    authors = item.get("author")
    if not isinstance(authors, list):
        authors = []
    return capped_entry(name, str(item.get("id") or f"item {index}"), line, {
        "doi": text("DOI"), "pmid": text("PMID"), "pmcid": text("PMCID"),
        "urls": (text("URL"),), "title": text("title"),
        "authors": tuple(_name(a) for a in authors), "year": _year(item.get("issued")),
        "journal": text("container-title")})


class _Scanner:
    """Cuts JSON text, fed in chunks, into the texts of its items: the elements of the
    top-level array, or of the ``items`` array of a top-level object (as some tools
    wrap it), else the top-level object itself. Yields each item's first
    line, its text (None when it was over the record cap, and skipped) and whether
    the file ended inside it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stack: list[str] = []  # the open brackets
        self.in_string = self.escaped = self.done = False
        self.key = ""  # the last string at the top object's depth: a wrapper's "items"?
        self.key_from: int | None = None
        self.level: int | None = None  # the stack's depth inside the items' array
        self.whole = False  # the top-level object is the one item
        self.pieces: list[str] | None = None  # the item being read, when one is
        self.begin = self.size = self.item_line = 0  # item_line: where its text begins
        self.line, self.counted = 1, 0

    def feed(self, buf: str) -> Iterator[tuple[int, str | None, bool]]:
        pos, self.counted = (1 if self.escaped else 0), 0
        self.escaped = False
        while pos < len(buf):
            if self.in_string:
                pos = self._string(buf, pos)
                continue
            found = _OUTSIDE.search(buf, pos)
            at = found.start() if found else len(buf)
            if (self.done or not self.stack) and buf[pos:at].strip():
                self._error(buf, pos, "text outside the array of items")
            if found is None:
                break
            yield from self._mark(buf, at, found.group())
            pos = at + 1
        self._count(buf, len(buf))
        if self.pieces is not None:
            self._keep(buf[self.begin:])
            self.begin = 0
        if self.key_from is not None:  # a key goes on in the next chunk
            self.key, self.key_from = (self.key + buf[self.key_from:])[:8], 0

    def finish(self) -> Iterator[tuple[int, str | None, bool]]:
        if not self.stack and not self.done:
            raise ReadingListError(f"{self.name}: empty, not CSL-JSON")
        if self.pieces is not None:  # cut short inside an item: what it has
            yield from self._item_text("", cut=True)

    def _string(self, buf: str, pos: int) -> int:
        end = _STRING_BODY.match(buf, pos).end()  # type: ignore[union-attr]
        if end < len(buf) and buf[end] == '"':
            self.in_string = False
            if self.key_from is not None:
                self.key = (self.key + buf[self.key_from:end])[:8]
                self.key_from = None
            return end + 1
        self.escaped = end < len(buf)  # a backslash ends the chunk: skip what it escapes
        return len(buf)

    def _mark(self, buf: str, at: int, char: str) -> Iterator[tuple[int, str | None, bool]]:
        stack = self.stack
        if char == '"':
            if not stack:
                self._error(buf, at, "a string where an array of items should be")
            self.in_string = True
            if stack == ["{"]:
                self.key, self.key_from = "", at + 1
        elif char in "[{":
            if self.done:
                self._error(buf, at, "text after the end of the items")
            if not stack:
                self.whole = char == "{"
                self._start(buf, at if self.whole else at + 1)
                self.level = None if self.whole else 1
            elif char == "[" and stack == ["{"] and self.key == "items":
                self.whole, self.pieces, self.level = False, None, 2
                self._start(buf, at + 1)
            stack.append(char)
            if len(stack) > MAX_DEPTH:
                raise ReadingListError(f"{self.name}: JSON nested too deeply to be a reading list")
        elif char in "]}":
            if not stack or stack[-1] != _OPENS[char]:
                self._error(buf, at, f"{char!r} closes nothing open")
            stack.pop()
            if self.level is not None and len(stack) == self.level - 1:
                yield from self._end(buf, at)
                self.level = None
            elif self.whole and not stack:
                yield from self._end(buf, at + 1)
            self.done = not stack
        elif char == "," and self.level is not None and len(stack) == self.level:
            yield from self._end(buf, at)
            self._start(buf, at + 1)

    def _start(self, buf: str, at: int) -> None:
        self.item_line = self._count(buf, at)
        self.pieces, self.begin, self.size = [], at, 0

    def _end(self, buf: str, at: int) -> Iterator[tuple[int, str | None, bool]]:
        self._count(buf, at)
        yield from self._item_text(buf[self.begin:at])

    def _keep(self, text: str) -> None:
        assert self.pieces is not None
        self.size += len(text)
        if self.size <= MAX_RECORD:
            self.pieces.append(text)
        else:
            self.pieces.clear()  # over the cap: only counted from here on

    def _item_text(self, last: str, cut: bool = False) -> Iterator[tuple[int, str | None, bool]]:
        self._keep(last)
        text = "".join(self.pieces or ())
        self.pieces = None
        if self.size > MAX_RECORD:
            yield self.item_line, None, cut
        elif text.strip():  # not the nothing of "[]"
            yield self.item_line, text, cut

    def _count(self, buf: str, at: int) -> int:
        """The line of ``buf[at]``; lines are counted once, as the scan goes."""
        self.line += buf.count("\n", self.counted, at)
        self.counted = at
        return self.line

    def _error(self, buf: str, at: int, what: str) -> None:
        raise ReadingListError(f"{self.name} line {self._count(buf, at)}: not valid JSON ({what})")


def json_items(fh: TextIO, name: str) -> Iterator[tuple[int, str | None, bool]]:
    """What :class:`_Scanner` yields, read from ``fh`` a chunk at a time."""
    scanner = _Scanner(name)
    while chunk := fh.read(_CHUNK):
        yield from scanner.feed(chunk)
    yield from scanner.finish()


def read_csljson(fh: TextIO, name: str) -> Iterator[Entry]:
    """Every item of a CSL-JSON array (or of a single item object), streamed."""
    for index, (begins, text, cut) in enumerate(json_items(fh, name), 1):
        key = f"item {index}"
        if text is None:
            yield too_big(name, key, begins, f"item {index}")
            continue
        line = begins + text[:len(text) - len(text.lstrip())].count("\n")
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            if cut:
                yield unreadable(name, key, line, f"the file ends inside item {index}")
                continue
            raise ReadingListError(f"{name} line {begins + exc.lineno - 1}: not valid JSON "
                                   f"({exc.msg})") from exc
        if isinstance(item, dict):
            yield _item(name, index, line, item)
        else:
            yield unreadable(name, key, line,
                             f"item {index} is a {type(item).__name__}, not a CSL-JSON object")
