"""DOIs in the visible body: the last resort (DOI tier 8).

A body is full of other works' DOIs (references, related articles, the journal's
own badge), so the caller accepts the result only when exactly one distinct DOI
is left after removing what is not the article's own text: scripts, styles,
navigation, footers and reference lists.
"""

from __future__ import annotations

import re

from lxml import etree

from oahelper.identifiers import find_dois, normalise_doi
from oahelper.scrape.document import head_end

# Cheap test before parsing: no DOI-shaped text, nothing to do.
_ANY_DOI = re.compile(r"10\.\d{4,9}/")
_NOT_CONTENT_TAGS = frozenset({"script", "style", "noscript", "template", "nav", "footer", "iframe"})
_NOT_CONTENT_ROLES = frozenset({"navigation", "contentinfo", "doc-bibliography"})
# A class or id token naming a reference list ("references", "ref-list",
# "c-article-references", "bibliography"…), matched per token.
REFERENCE_TOKEN = re.compile(
    r"(?:^|[-_])(?:references?|ref-?list|refs|reflist|bibliography|bibliographie|"
    r"works-cited|literature-cited)(?:$|[-_])",
    re.IGNORECASE,
)
REFERENCE_HEADING = re.compile(
    r"^\s*(?:\d+\.?\s*)?(?:references?|bibliography|works cited|literature cited|"
    r"références|literatur)\s*:?\s*$",
    re.IGNORECASE,
)
_HEADING_LEVELS = {f"h{level}": level for level in range(1, 7)}
# A "References" heading is short: a longer heading's text is never joined to be read.
_HEADING_CHARS = 64


def _is_reference_list(attrib: dict[str, str]) -> bool:
    if attrib.get("role", "").lower() in _NOT_CONTENT_ROLES:
        return True
    tokens = [*attrib.get("class", "").split(), attrib.get("id", "")]
    return any(REFERENCE_TOKEN.search(token) for token in tokens if token)


class _Frame:
    """An open element: skipped or not, the siblings it drops after a "References"
    heading (up to a heading of ``dropping`` level or higher), and for a heading
    where its text starts."""

    __slots__ = ("chars_start", "dropping", "heading_start", "links_start", "skipped", "tag")

    def __init__(self, tag: str, skipped: bool, heading_start: int = -1, chars_start: int = 0,
                 links_start: int = 0) -> None:
        self.tag, self.skipped, self.dropping = tag, skipped, 0
        self.heading_start, self.chars_start, self.links_start = heading_start, chars_start, links_start


# The frame of every element inside a skipped one (shared: nothing in it changes).
_SKIPPED = _Frame("", skipped=True)


class _ContentText:
    """An lxml parser target collecting the body's own text and doi.org links, in one
    pass (no tree: a tree of hostile nesting is slow to build and to walk, and
    libxml2 cuts a tree off 256 levels deep). Left out: scripts, styles, navigation,
    footers, reference lists, and a "References" heading with what follows it up to
    the next heading of its level or higher. Elements nested deeper than MAX_DEPTH
    count as part of the one at that depth, as in a browser (Chromium flattens the
    DOM at 512 levels): the memory a page of a million nested tags takes stays small."""

    MAX_DEPTH = 512

    def __init__(self) -> None:
        self.parts: list[str] = []  # the text, in page order
        self.links: list[str] = []  # doi.org links, in page order
        self.chars = 0
        self.stack: list[_Frame] = [_Frame("", skipped=False)]
        self.deeper = 0  # elements open beyond MAX_DEPTH

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        # Called for every element of the body: kept short (libxml2 gives tag names
        # in lower case).
        stack = self.stack
        parent = stack[-1]
        if len(stack) > self.MAX_DEPTH:
            self.deeper += 1
            return
        if parent.skipped:  # the common case in hostile nesting
            stack.append(_SKIPPED)
            return
        level = _HEADING_LEVELS.get(tag, 0)
        if parent.dropping and level and level <= parent.dropping:
            parent.dropping = 0  # the next section starts
        if parent.dropping or tag in _NOT_CONTENT_TAGS or (attrib and _is_reference_list(attrib)):
            stack.append(_SKIPPED)
            return
        stack.append(_Frame(tag, False, len(self.parts), self.chars, len(self.links)) if level
                     else _Frame(tag, False))
        if tag == "a" and attrib:
            href = attrib.get("href", "")
            if "doi.org/" in href.lower():
                self.links.append(href)

    def data(self, text: str) -> None:
        top = self.stack[-1]
        if not (top.skipped or top.dropping):
            self.parts.append(text)
            self.chars += len(text)

    def end(self, tag: str) -> None:
        if self.deeper:
            self.deeper -= 1
            return
        stack = self.stack
        if len(stack) == 1:
            return
        frame = stack.pop()
        if frame.heading_start >= 0 and self._is_reference_heading(frame):
            del self.parts[frame.heading_start:]
            del self.links[frame.links_start:]
            self.chars = frame.chars_start
            stack[-1].dropping = _HEADING_LEVELS[frame.tag]

    def _is_reference_heading(self, frame: _Frame) -> bool:
        if self.chars - frame.chars_start > _HEADING_CHARS:
            return False
        text = " ".join(self.parts[frame.heading_start:])
        return REFERENCE_HEADING.match(text) is not None

    def close(self) -> None:
        pass


def body_dois(text: str) -> list[str]:
    """Every DOI left in the body's own text and doi.org links, in page order."""
    start = head_end(text)
    if not _ANY_DOI.search(text, start):
        return []
    target = _ContentText()
    # lxml-stubs' ParserTarget asks for every method (``comment`` too) taking str | bytes;
    # lxml calls only the methods a target has, with str for a str fed in.
    parser = etree.HTMLParser(target=target,  # type: ignore[arg-type]
                              recover=True, remove_comments=True, remove_pis=True)
    try:
        parser.feed(text[start:])
        parser.close()
    except etree.LxmlError:
        pass  # keep what was read
    found = list(find_dois(" ".join(target.parts)))
    for href in target.links:
        doi = normalise_doi(href)
        if doi:
            found.append(doi)
    return found
