"""The parsed page that every extractor reads.

Parsing a whole publisher page with BeautifulSoup costs ~17× what lxml alone
costs, and nearly everything we read lives in a few kinds of element: ``<meta>``,
``<link>``, ``<base>``, ``<title>``, JSON-LD scripts and COinS spans. So the page
is cut cheaply into just those elements: the head is walked tag by tag (skipping
comments, scripts and styles so their contents are not mistaken for markup), the
body is only searched for the three things that may sit there. Meta tags whose
names no extractor reads (abstracts, references, affiliations…) are dropped
before parsing. BeautifulSoup (lxml parser) then reads that small document once
and the same tree goes to every extractor. The few tiers that need the body
(``body.py``, ``sites.py``) find their part of it themselves, and only when
reached.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Generic, TypeVar, cast

from bs4 import BeautifulSoup

from oahelper.scrape.jsonld import JsonNode, parse_blocks, work_nodes
from oahelper.scrape.meta import MetaTable
from oahelper.text import MAX_PLAIN, absolute_url, clean

# The rest of a tag after its name, read as the HTML tokenizer reads it: a quote
# opens a value only after "=", and a value whose quote never closes runs to the end
# of the page (no match: the tag never ends). Possessive, so nothing is read twice.
_TAG_REST = re.compile(
    r"""(?:[^>"'=]++|=\s*+(?:"[^"]*+(?:"|\Z)|'[^']*+(?:'|\Z)|[^\s>]*+)|["'])*+>""")
_HEAD_END = re.compile(r"</head\s*>|<body[\s>]", re.IGNORECASE)
_HEAD_OPENER = re.compile(r"<(!--|script\b|style\b|meta\b|link\b|base\b|title\b)", re.IGNORECASE)
CLOSERS = {
    "script": re.compile(r"</script\s*>", re.IGNORECASE),
    "style": re.compile(r"</style\s*>", re.IGNORECASE),
    "title": re.compile(r"</title\s*>", re.IGNORECASE),
}
_JSONLD_ATTR = re.compile(r"ld\+json", re.IGNORECASE)
# In the body only three things are looked for, each with a cheap search:
# stray meta tags (microdata, or head tags a broken page let slip), JSON-LD
# scripts and COinS spans.
# Plain substring searches run far faster than a case-insensitive regular
# expression over a megabyte of body; the usual spellings are covered.
_BODY_MARKERS = (("<meta", "<meta"), ("<META", "<META"), ("ld+json", "<script"),
                 ("LD+JSON", "<script"), ("Z3988", "<span"))
# Only these links are read: the canonical address and alternates (PDF).
_WANTED_RELS = frozenset({"canonical", "alternate"})
_REL = re.compile(r"""\brel\s*+=\s*+(?:"([^"]*+)"|'([^']*+)'|([^\s>"']*+))""", re.IGNORECASE)
# The names a meta tag carries. Case-sensitive alternatives run several times
# faster than IGNORECASE here, and this runs once per meta tag.
_META_KEYS = re.compile(
    r"""(?:name|NAME|Name|property|PROPERTY|itemprop|ITEMPROP|id|ID|Id)\s*=\s*["']?\s*"""
    r"""([^"'\s>]+)""")

# The most elements the cut keeps: a real page has a few hundred (a bioRxiv page 762
# meta tags), and each costs BeautifulSoup tens of microseconds and a kilobyte, so a
# page of nothing but "<meta>" (or "<title>", or alternate links) kept whole would
# take seconds and hundreds of MiB at a few MB. Tags of one name are capped too
# (article.py's filter).
MAX_ELEMENTS = 5000

MetaFilter = Callable[[str], bool]


def head_end(text: str) -> int:
    """Where the document head ends (the whole text when it never does)."""
    match = _HEAD_END.search(text)
    return match.start() if match else len(text)


class NextMatch:
    """The next match of a pattern at or after a position, remembered: asked with
    positions that only grow, each part of the text is searched once (a page with
    thousands of unclosed titles costs one search, not one per title)."""

    def __init__(self, pattern: re.Pattern[str], text: str) -> None:
        self.pattern, self.text = pattern, text
        self._searched_from: int | None = None
        self._match: re.Match[str] | None = None

    def at_or_after(self, pos: int) -> re.Match[str] | None:
        if self._searched_from is not None and self._searched_from <= pos:
            if self._match is None or self._match.start() >= pos:
                return self._match
        self._searched_from, self._match = pos, self.pattern.search(self.text, pos)
        return self._match


def tag_end(text: str, after_name: int) -> int | None:
    """Where the tag whose name ends at ``after_name`` ends, or None when it never
    does (an unclosed quoted value or no ">": the rest of the page is inside it)."""
    rest = _TAG_REST.match(text, after_name)
    return rest.end() if rest else None


def tag_spans(text: str, opener: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """(start, end) of each tag ``opener`` finds (e.g. ``<a\\b``), in page order,
    never one inside another; stops at a tag that never ends."""
    pos = 0
    while (found := opener.search(text, pos)) is not None:
        end = tag_end(text, found.end())
        if end is None:
            return
        yield found.start(), end
        pos = end


def element_content(text: str, tag_stop: int, closers: NextMatch) -> tuple[str, int] | None:
    """The text from ``tag_stop`` to the closer ``closers`` finds, and where the
    closer ends; None when the element never closes."""
    closer = closers.at_or_after(tag_stop)
    return (text[tag_stop:closer.start()], closer.end()) if closer else None


def wanted_link(tag: str) -> bool:
    """The ``<link>`` is a canonical or alternate link."""
    for match in _REL.finditer(tag):
        value = next((group for group in match.groups() if group is not None), "")
        if _WANTED_RELS.intersection(value.lower().split()):
            return True
    return False


def _wanted_meta(tag: str, wanted: MetaFilter, seen: set[str]) -> bool:
    """Keep a meta tag when any of its names is one an extractor reads; note
    every name in ``seen`` either way."""
    keys = [key.lower() for key in _META_KEYS.findall(tag)]
    seen.update(keys)
    return not keys or any(wanted(key) for key in keys)


def _head_pieces(text: str, end: int, wanted: MetaFilter, seen: set[str]) -> list[str]:
    """The metadata elements of the head, in order. One pass: every position only
    moves forward, and closers are searched through ``NextMatch``."""
    kept: list[str] = []
    closers = {kind: NextMatch(pattern, text) for kind, pattern in CLOSERS.items()}
    pos = 0
    while len(kept) < MAX_ELEMENTS and (opener := _HEAD_OPENER.search(text, pos, end)) is not None:
        kind = opener.group(1).lower()
        if kind == "!--":
            close = text.find("-->", opener.end())
            pos = len(text) if close < 0 else close + 3
            continue
        tag_stop = tag_end(text, opener.end())
        if tag_stop is None:
            break  # the rest of the page is inside this tag, as in a browser
        tag = text[opener.start():tag_stop]
        pos = tag_stop
        if kind in closers:
            closer = closers[kind].at_or_after(pos)
            if closer is None:
                # An unclosed script or style runs to the end, as in a browser;
                # an unclosed title is just skipped.
                pos = pos if kind == "title" else len(text)
                continue
            if kind == "title" or (kind == "script" and _JSONLD_ATTR.search(tag)):
                kept.append(text[opener.start():closer.end()])
            pos = closer.end()
        elif kind == "meta":
            if _wanted_meta(tag, wanted, seen):
                kept.append(tag)
        elif kind == "base" or wanted_link(tag):
            kept.append(tag)
    return kept


def _body_pieces(text: str, start: int, wanted: MetaFilter, seen: set[str],
                 room: int = MAX_ELEMENTS) -> list[str]:
    """Meta tags, JSON-LD scripts and COinS spans found in the body, in page order
    (at most ``room`` of them).

    Linear in the body's size whatever it holds: for each marker, a hit inside the
    element the previous hit opened is skipped, the opener of a new hit is searched
    back only as far as the previous hit, and an element that never ends ends the
    search (in a browser the rest of the page is inside it)."""
    kept: dict[int, str] = {}
    for marker, element in _BODY_MARKERS:
        kind = element[1:].lower()
        closers = NextMatch(CLOSERS["script"], text)
        covered, previous = start, start  # end of the last element read; last hit
        hit = text.find(marker, start)
        while hit >= 0 and len(kept) < room:
            # The marker may sit in the element's attributes: step back to its "<".
            opening = text.rfind(element, max(previous, covered), hit + len(element))
            previous = hit
            if opening >= 0:
                stop = tag_end(text, opening + len(element))
                if stop is not None and kind == "script":
                    closer = closers.at_or_after(stop)
                    stop = closer.end() if closer else None
                if stop is None:
                    break
                covered = stop
                piece = text[opening:stop]
                if hit < stop and (kind != "meta" or _wanted_meta(piece, wanted, seen)):
                    kept[opening] = piece
            hit = text.find(marker, max(hit + len(marker), covered))
    return [kept[opening] for opening in sorted(kept)]


def compact_markup(text: str, wanted: MetaFilter = lambda key: True) -> tuple[str, set[str]]:
    """The page cut down to the elements the extractors read (see module doc),
    and the names of all its meta tags, kept or not."""
    end = head_end(text)
    seen: set[str] = set()
    head = _head_pieces(text, end, wanted, seen)
    pieces = head + _body_pieces(text, end, wanted, seen, MAX_ELEMENTS - len(head))
    return "\n".join(pieces), seen


_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


@dataclass(frozen=True)
class MemoKey(Generic[_T_co]):
    """A name in ``Page.memo`` and the type of what is kept under it. Each key is
    made once, by the module that reads it, so a name always holds the one type."""

    name: str


@dataclass
class Page:
    """One page: its URL, its decoded text, the small metadata tree and views of it."""

    url: str | None
    text: str
    wanted: MetaFilter = lambda key: True
    tree: BeautifulSoup = field(init=False)
    # Every meta name on the page, including those not parsed (nothing reads them).
    meta_names_seen: frozenset[str] = field(init=False)
    # Scratch space for site rules that decode an embedded blob once per page
    # (read and written through ``remembered``).
    memo: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        markup, seen = compact_markup(self.text, self.wanted)
        self.tree = BeautifulSoup(markup, "lxml")
        self.meta_names_seen = frozenset(seen)

    def remembered(self, key: MemoKey[_T], read: Callable[[], _T]) -> _T:
        """What ``read`` gives for this page, read the first time only."""
        if key.name not in self.memo:
            self.memo[key.name] = read()
        return cast(_T, self.memo[key.name])  # only ``key`` writes its name: a _T

    @cached_property
    def meta(self) -> MetaTable:
        """The meta tags by lower-cased name."""
        return MetaTable(self.tree)

    @cached_property
    def jsonld(self) -> list[JsonNode]:
        """The JSON-LD nodes that describe the work itself."""
        return work_nodes(parse_blocks(self.tree))

    @cached_property
    def title_tag(self) -> str | None:
        """The text of ``<title>``, whitespace collapsed, at most ``MAX_PLAIN``
        characters (it is split at separators and compared with headings)."""
        tag = self.tree.find("title")
        return clean(tag.get_text())[:MAX_PLAIN] or None if tag else None

    @cached_property
    def base_url(self) -> str | None:
        """What relative links resolve against: ``<base href>`` or the page URL."""
        base = self.tree.find("base", href=True)
        href = base.get("href") if base else None  # one value: href is not multi-valued
        resolved = absolute_url(href, self.url) if isinstance(href, str) else None
        return resolved or self.url

    def link_href(self, rel: str, mime_type: str | None = None) -> str | None:
        """The absolute href of the first ``<link rel=…>`` (of a type, if given)."""
        for link in self.tree.find_all("link", href=True):
            rels = link.get("rel") or ""
            if rel not in (r.lower() for r in (rels.split() if isinstance(rels, str) else rels)):
                continue
            if mime_type and str(link.get("type", "")).lower() != mime_type:
                continue
            value = link.get("href")
            href = absolute_url(value, self.base_url) if isinstance(value, str) else None
            if href:
                return href
        return None

    @cached_property
    def canonical(self) -> str | None:
        """The canonical link, absolute."""
        return self.link_href("canonical")

    @cached_property
    def og_url(self) -> str | None:
        """The OpenGraph URL, absolute."""
        return absolute_url(self.meta.first(("og:url",)), self.base_url)
