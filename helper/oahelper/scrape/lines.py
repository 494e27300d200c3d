"""The opening lines of a page's visible body, as a reader sees them.

For pages with no citation metadata the only description of the article is its
visible masthead (``masthead.py``). This module turns the top of the body into
lines: a new line at every block element and ``<br>``, as a browser breaks them.
Each line keeps how large it is drawn (``size``, in HTML font sizes: 3 is body
text, ``<h1>`` 6, bold adds half a step) and which block it sits in, so that a
title broken over two lines by ``<br>`` can be told from two separate blocks.
Invisible and navigational parts (scripts, ``<nav>``, ``<footer>``, forms'
controls…) are skipped. Parsing only the start of the body keeps this cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from oahelper.scrape.document import head_end
from oahelper.text import clean

# The masthead sits at the top: more body than this is never needed.
BODY_PREFIX_CHARS = 32 * 1024
# No rule reads more of a line than this (a long line is just body text).
MAX_LINE_CHARS = 1000
BODY_SIZE = 3.0
_BOLD_STEP = 0.5
# Sizes as browsers draw headings, in <font size> units (h4 is body size, bold).
_HEADING_SIZES = {"h1": 6.0, "h2": 5.0, "h3": 4.0, "h4": 3.0, "h5": 2.0, "h6": 1.0}
_BOLD_TAGS = frozenset({"b", "strong"} | set(_HEADING_SIZES))
_BLOCK_TAGS = frozenset({
    "address", "article", "blockquote", "body", "center", "dd", "div", "dl", "dt",
    "figure", "form", "header", "hr", "li", "main", "ol", "p", "pre", "section",
    "table", "tbody", "td", "th", "thead", "tr", "ul", *_HEADING_SIZES,
})
_SKIP_TAGS = frozenset({
    "script", "style", "noscript", "template", "nav", "footer", "aside", "select",
    "option", "button", "textarea", "iframe", "svg", "head", "title",
})
_FONT_SIZE = re.compile(r"^\s*([+-]?)([1-7])\s*$")
_HAS_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Line:
    """One visible line: its text, drawn size and the block it belongs to."""

    text: str
    size: float
    block: int


def _font_size(value: object, current: float) -> float:
    """``<font size>``: absolute 1–7, or relative (+n/-n) to body size."""
    match = _FONT_SIZE.match(value) if isinstance(value, str) else None
    if not match:
        return current
    sign, number = match.group(1), int(match.group(2))
    if sign:
        return BODY_SIZE + (number if sign == "+" else -number)
    return float(number)


class _LineBuilder:
    """Collects text fragments and closes a line at each break."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lines: list[Line] = []
        self.block = 0
        self._parts: list[str] = []
        # Characters drawn in each size, to tell the line's size.
        self._chars_by_size: dict[float, int] = {}

    def add(self, text: str | None, size: float) -> None:
        if text:
            self._parts.append(text)
            self._chars_by_size[size] = self._chars_by_size.get(size, 0) + len(text)

    def close(self, new_block: bool) -> None:
        if self._parts:
            text = clean("".join(self._parts)[:MAX_LINE_CHARS])
            if _HAS_WORD.search(text):
                # The size most of the line's characters are drawn in.
                size = max(self._chars_by_size.items(), key=lambda item: (item[1], item[0]))[0]
                self.lines.append(Line(text, size, self.block))
            self._parts, self._chars_by_size = [], {}
        if new_block:
            self.block += 1

    def walk(self, element: etree._Element, size: float, bold: bool) -> None:
        """Add the text inside ``element`` (drawn at ``size``), child by child."""
        drawn = size + _BOLD_STEP if bold else size
        self.add(element.text, drawn)
        for child in element:
            if len(self.lines) >= self.limit:
                return
            tag = child.tag
            if isinstance(tag, str) and tag not in _SKIP_TAGS:
                block = tag in _BLOCK_TAGS
                if block or tag == "br":
                    self.close(new_block=block)
                child_size = (_font_size(child.get("size"), size) if tag == "font"
                              else _HEADING_SIZES.get(tag, size))
                self.walk(child, child_size, bold or tag in _BOLD_TAGS)
                if block:
                    self.close(new_block=True)
            self.add(child.tail, drawn)


def _parse_body(text: str) -> etree._Element | None:
    start = head_end(text)
    fragment = text[start:start + BODY_PREFIX_CHARS]
    if not fragment.strip():
        return None
    parser = etree.HTMLParser(recover=True, remove_comments=True, remove_pis=True)
    return etree.fromstring(fragment, parser)


def opening_lines(text: str, limit: int = 40) -> list[Line]:
    """The first ``limit`` visible lines of the page's body."""
    root = _parse_body(text)
    if root is None:
        return []
    builder = _LineBuilder(limit)
    try:
        builder.walk(root, BODY_SIZE, bold=False)
    except RecursionError:  # absurdly deep nesting: keep the lines read so far
        pass
    builder.close(new_block=True)
    return builder.lines[:limit]
