"""EndNote XML exports (File › Export › XML): ``<xml><records><record>…``.

Read with lxml's parser and a target that keeps only the elements of the table
below, each within its field's cap, as the text arrives: no tree is built, so
memory is the caps' whatever the file (lxml's limits hold too: no entity
expansion, no network). A file cut short keeps the records before the cut. Text
may be wrapped in ``<style>`` elements (newer EndNote) or not (older). lxml's
target interface gives no line numbers: rows are named ``record N`` (EndNote's
record number).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree

from oahelper.audit.entries import Entry, unreadable
from oahelper.audit.readers.limits import FIELD_CAPS, capped_entry
from oahelper.errors import ReadingListError

# Element path inside <record> -> field. For a field several paths give, the first
# listed that a record has is read.
PATHS = {
    "rec-number": "key",
    "electronic-resource-num": "doi",
    "accession-num": "pmid",  # where EndNote's PubMed import puts the PMID
    "custom2": "pmcid",       # and the PMCID (make_entry drops what is not one)
    "titles/title": "title",
    "contributors/authors/author": "authors",
    "titles/secondary-title": "journal",
    "periodical/full-title": "journal",
    "dates/year": "year",
    "urls/related-urls/url": "urls",
}
_LISTS = ("authors", "urls")
_CHUNK = 64 * 1024


def _str(text: str | bytes) -> str:
    return text if isinstance(text, str) else text.decode()  # lxml gives str; its stubs allow bytes


class _Records:
    """lxml's parser target: the records' fields, as each record ends."""

    def __init__(self) -> None:
        self.path: list[str] = []  # the elements open inside the current <record>
        self.inside = False
        self.values: dict[str, list[str]] = {}
        self.done: list[dict[str, object]] = []

    def start(self, tag: str | bytes, attrib: object) -> None:
        tag = _str(tag)
        if tag == "record":
            self.inside, self.path, self.values = True, [], {}
        elif self.inside:
            self.path.append(tag)
            path = "/".join(self.path)
            if path in PATHS:
                self.values.setdefault(path, []).append("")

    def data(self, data: str | bytes) -> None:
        text = _str(data)
        path = "/".join(p for p in self.path if p != "style")  # text runs sit in <style>s
        values = self.values.get(path)
        if self.inside and values is not None:
            room = FIELD_CAPS.get(PATHS[path], 1_000) + 1 - sum(map(len, values))
            values[-1] += text[:max(room, 0)]  # one past the cap: enough for it to refuse

    def end(self, tag: str | bytes) -> None:
        if _str(tag) == "record" and self.inside:
            self.done.append(self._fields())
            self.inside = False
        elif self.inside and self.path:
            self.path.pop()

    def comment(self, text: str | bytes) -> None:
        """Comments are not read."""

    def close(self) -> None:
        if self.inside:  # the file ends inside a record: what it has
            self.done.append(self._fields())
            self.inside = False

    def _fields(self) -> dict[str, object]:
        found: dict[str, object] = {}
        for path, field in PATHS.items():
            values = [v.strip() for v in self.values.get(path, ()) if v.strip()]
            if values and field not in found:
                found[field] = tuple(values) if field in _LISTS else values[0]
        return found


def read_endnote(fh: BinaryIO, name: str) -> Iterator[Entry]:
    """Every record of an EndNote XML file, in file order, streamed."""
    target = _Records()
    parser = etree.XMLParser(target=target, resolve_entities=False, no_network=True,
                             huge_tree=False, recover=True)
    seen = 0

    def entries() -> Iterator[Entry]:
        nonlocal seen
        for fields in target.done:
            seen += 1
            yield capped_entry(name, f"record {fields.pop('key', None) or seen}", None, fields)
        target.done.clear()

    try:
        while chunk := fh.read(_CHUNK):
            parser.feed(chunk)
            yield from entries()
        parser.close()
    except etree.XMLSyntaxError as exc:  # even recovery gave up: keep what was read
        target.close()
        yield from entries()
        if not seen:
            raise ReadingListError(f"{name} line {exc.lineno}: not valid XML ({exc.msg})") from exc
        yield unreadable(name, f"line {exc.lineno}", exc.lineno,
                         f"not valid XML from here on ({exc.msg}); the records before are read")
        return
    yield from entries()
    if not seen:
        raise ReadingListError(f"{name}: no EndNote record in it (<xml><records><record>…)")
