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
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from bs4 import BeautifulSoup

from oahelper.scrape.jsonld import JsonNode, parse_blocks, work_nodes
from oahelper.scrape.meta import MetaTable
from oahelper.scrape.text import absolute_url, clean

# One attribute list, quote-aware so that a ">" inside a value does not end the tag.
_ATTRS = r"""(?:[^>"']|"[^"]*"|'[^']*')*"""
_HEAD_END = re.compile(r"</head\s*>|<body[\s>]", re.IGNORECASE)
_HEAD_OPENER = re.compile(r"<(!--|script\b|style\b|meta\b|link\b|base\b|title\b)", re.IGNORECASE)
_TAG_REST = re.compile(rf"{_ATTRS}>|[^>]*>")
_CLOSERS = {
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
_WANTED_LINK = re.compile(r"""\brel\s*=\s*["']?[^"'>]*\b(?:canonical|alternate)\b""",
                          re.IGNORECASE)
# The names a meta tag carries. Case-sensitive alternatives run several times
# faster than IGNORECASE here, and this runs once per meta tag.
_META_KEYS = re.compile(
    r"""(?:name|NAME|Name|property|PROPERTY|itemprop|ITEMPROP|id|ID|Id)\s*=\s*["']?\s*"""
    r"""([^"'\s>]+)""")

MetaFilter = Callable[[str], bool]


def head_end(text: str) -> int:
    """Where the document head ends (the whole text when it never does)."""
    match = _HEAD_END.search(text)
    return match.start() if match else len(text)


def _wanted_meta(tag: str, wanted: MetaFilter, seen: set[str]) -> bool:
    """Keep a meta tag when any of its names is one an extractor reads; note
    every name in ``seen`` either way."""
    keys = [key.lower() for key in _META_KEYS.findall(tag)]
    seen.update(keys)
    return not keys or any(wanted(key) for key in keys)


def _head_pieces(text: str, end: int, wanted: MetaFilter, seen: set[str]) -> list[str]:
    """The metadata elements of the head, in order."""
    kept: list[str] = []
    pos = 0
    while (opener := _HEAD_OPENER.search(text, pos, end)) is not None:
        kind = opener.group(1).lower()
        if kind == "!--":
            close = text.find("-->", opener.end())
            pos = len(text) if close < 0 else close + 3
            continue
        rest = _TAG_REST.match(text, opener.end())
        if rest is None:
            pos = opener.end()
            continue
        tag = text[opener.start():rest.end()]
        pos = rest.end()
        if kind in _CLOSERS:
            closer = _CLOSERS[kind].search(text, pos)
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
        elif kind == "base" or _WANTED_LINK.search(tag):
            kept.append(tag)
    return kept


def _element_at(text: str, start: int, kind: str) -> str | None:
    """The element opening at ``start``: a tag, or a whole script with contents."""
    rest = _TAG_REST.match(text, start + len(kind) + 1)
    if rest is None:
        return None
    if kind != "script":
        return text[start:rest.end()]
    closer = _CLOSERS["script"].search(text, rest.end())
    return text[start:closer.end()] if closer else None


def _body_pieces(text: str, start: int, wanted: MetaFilter, seen: set[str]) -> list[str]:
    """Meta tags, JSON-LD scripts and COinS spans found in the body."""
    kept: list[tuple[int, str]] = []
    for marker, element in _BODY_MARKERS:
        hit = text.find(marker, start)
        while hit >= 0:
            # The marker may sit in the element's attributes: step back to its "<".
            opening = text.rfind(element, start, hit + len(element))
            piece = _element_at(text, opening, element[1:].lower()) if opening >= 0 else None
            if piece and hit < opening + len(piece) and (
                    element[1:].lower() != "meta" or _wanted_meta(piece, wanted, seen)):
                kept.append((opening, piece))
            hit = text.find(marker, hit + len(marker))
    return [piece for _, piece in sorted(kept)]


def compact_markup(text: str, wanted: MetaFilter = lambda key: True) -> tuple[str, set[str]]:
    """The page cut down to the elements the extractors read (see module doc),
    and the names of all its meta tags, kept or not."""
    end = head_end(text)
    seen: set[str] = set()
    pieces = _head_pieces(text, end, wanted, seen) + _body_pieces(text, end, wanted, seen)
    return "\n".join(pieces), seen


@dataclass
class Page:
    """One page: its URL, its decoded text, the small metadata tree and views of it."""

    url: str | None
    text: str
    wanted: MetaFilter = lambda key: True
    tree: BeautifulSoup = field(init=False)
    # Every meta name on the page, including those not parsed (nothing reads them).
    meta_names_seen: frozenset[str] = field(init=False)
    # Scratch space for site rules that decode an embedded blob once per page.
    memo: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        markup, seen = compact_markup(self.text, self.wanted)
        self.tree = BeautifulSoup(markup, "lxml")
        self.meta_names_seen = frozenset(seen)

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
        """The text of ``<title>``, whitespace collapsed."""
        tag = self.tree.find("title")
        return clean(tag.get_text()) or None if tag else None

    @cached_property
    def base_url(self) -> str | None:
        """What relative links resolve against: ``<base href>`` or the page URL."""
        base = self.tree.find("base", href=True)
        href = absolute_url(base["href"], self.url) if base else None
        return href or self.url

    def link_href(self, rel: str, mime_type: str | None = None) -> str | None:
        """The absolute href of the first ``<link rel=…>`` (of a type, if given)."""
        for link in self.tree.find_all("link", href=True):
            rels = link.get("rel") or []
            rels = rels.split() if isinstance(rels, str) else rels
            if rel not in (r.lower() for r in rels):
                continue
            if mime_type and str(link.get("type", "")).lower() != mime_type:
                continue
            href = absolute_url(link["href"], self.base_url)
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
