"""Small text helpers shared by the extractors."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

# A year a scholarly work could plausibly carry (1500–2099), not part of a longer number.
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")


def clean(value: object) -> str:
    """``value`` as text with runs of whitespace (NBSP, thin space…) collapsed."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())


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
