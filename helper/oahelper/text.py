"""Small text helpers shared by the extractors."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

# A year a scholarly work could plausibly carry (1500–2099), not part of a longer number.
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")


def clean(value: object) -> str:
    """``value`` as text with runs of whitespace (NBSP, thin space…) collapsed."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())


# Inline markup publishers and APIs leave inside titles, journal and author names
# (<i>Zea mays</i>, CO<sub>2</sub>, <scp>, JATS <italic>, MathML <mml:mi>). Only these
# names count as tags, so a title such as "p<0.05 in a<b and c>d" keeps its text.
INLINE_TAGS = (
    "a", "abbr", "b", "bold", "big", "br", "cite", "code", "em", "font", "i", "inline-formula",
    "italic", "math", "monospace", "roman", "sans-serif", "sc", "scp", "small", "small-caps",
    "smallcaps", "span", "strike", "strong", "styled-content", "sub", "sup", "tt", "u",
    "underline", "var", "wbr",
)
_INLINE_TAG = re.compile(
    r"</?(?:(?:mml|m|jats|tex):[a-z][a-z0-9-]*|(?:" + "|".join(map(re.escape, INLINE_TAGS))
    + r"))(?:\s+[a-z_:][-a-z0-9_:.]*\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s\"'<>=`]+))*\s*/?>",
    re.IGNORECASE)
# Longer than any title, journal or author name; a page's megabyte-long "title" is
# cut to this before its markup is looked for (each "<" costs a try of every name).
MAX_PLAIN = 4000
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});", re.IGNORECASE)


def plain(value: object) -> str:
    """``value`` as plain text: inline markup removed (also when it came escaped as
    ``&lt;em&gt;``), entities decoded, whitespace collapsed. For titles, journal and
    author names, which feed the title matcher and are shown as text; at most
    ``MAX_PLAIN`` characters of them are read."""
    text = clean(value)[:MAX_PLAIN]
    for _ in range(3):  # markup escaped once or twice ("&amp;lt;i&amp;gt;") is still markup
        if "<" in text:
            text = _INLINE_TAG.sub("", text)
        if "&" not in text or not _ENTITY.search(text):
            break
        text = html.unescape(text)
    return clean(_INLINE_TAG.sub("", text) if "<" in text else text)


def first_year(text: str) -> int | None:
    """The first plausible year written in ``text`` ("Apr 22, 2019" → 2019)."""
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


def absolute_url(href: str | None, base: str | None) -> str | None:
    """``href`` resolved against ``base``; None unless the result is http(s)."""
    href = clean(href)
    if not href:
        return None
    try:
        resolved = urljoin(base, href) if base else href
        scheme = urlsplit(resolved).scheme
    except ValueError:
        return None
    return resolved if scheme in ("http", "https") else None
