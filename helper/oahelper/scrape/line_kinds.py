"""What a line of a page's masthead is: a date, an issue line, a byline, names.

Shape tests for ``masthead.py``, each on one line of visible text. English
month and season names; bylines and name lists in a few Western languages.
"""

from __future__ import annotations

import re

from oahelper.text import first_year

_MONTHS = frozenset(
    "january february march april may june july august september october november "
    "december jan feb mar apr jun jul aug sep sept oct nov dec".split())
_SEASONS = frozenset("spring summer fall autumn winter".split())
_ORDINAL_DAY = re.compile(r"^(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?$")
_TOKEN = re.compile(r"[^\W_]+")
_FOUR_DIGITS = re.compile(r"^\d{4}$")
# "Vol. 12", "Volume 23", "Issue 58", "No. 3", "Number 5/6".
_ISSUE = re.compile(r"\b(?:vol(?:ume)?|issue|no|nr|number|num)\b\.?\s*\d+", re.IGNORECASE)
_BYLINE = re.compile(r"^(?:by|von|par|por|door)\s+(.+)$", re.IGNORECASE)
# Between names in a list: commas, semicolons, "and" in a few languages, "&".
_NAME_SEPARATOR = re.compile(r"\s*(?:[,;&]|\band\b|\bund\b|\bet\b)\s*", re.IGNORECASE)
# Lower-case words that belong inside personal names ("Ludwig van Beethoven").
_NAME_PARTICLES = frozenset(
    "van von der den de del della da di du le la dos das ter ten bin ibn al y".split())
# Capitalised words that are never part of a personal name: they start an
# affiliation or a title ("The Adler Planetarium", "Table of Contents").
_NOT_NAME_WORDS = frozenset(
    "the a an of for in on at to university universität université universidad "
    "institute institut college school department dept laboratory centre center "
    "hospital museum library foundation academy society planetarium inc ltd".split())
_MIN_NAME_WORDS, _MAX_NAME_WORDS = 2, 5


def is_date_line(text: str) -> bool:
    """The line is only a date: day, month or season names and one year."""
    tokens = _TOKEN.findall(text.casefold())
    years = [t for t in tokens if _FOUR_DIGITS.match(t) and first_year(t)]
    return len(years) == 1 and len(tokens) <= 6 and all(
        t in _MONTHS or t in _SEASONS or t in years or _ORDINAL_DAY.match(t) for t in tokens)


def is_issue_line(text: str) -> bool:
    """A short line naming a volume, issue or number ("Volume 23, Number 5/6")."""
    return len(text) <= 80 and _ISSUE.search(text) is not None


def line_year(text: str) -> int | None:
    """The year of a date line or of an issue line (its numbers set aside)."""
    if is_date_line(text):
        return first_year(text)
    return first_year(_ISSUE.sub(" ", text)) if is_issue_line(text) else None


def is_name(text: str) -> bool:
    """Two to five words shaped like a personal name ("Victoria Van Hyning", "J. Doe")."""
    words = text.split()
    if not _MIN_NAME_WORDS <= len(words) <= _MAX_NAME_WORDS:
        return False
    capitalised = 0
    for word in words:
        if word.casefold() in _NOT_NAME_WORDS or any(c.isdigit() for c in word):
            return False
        if word[0].isupper():
            capitalised += 1
        elif word not in _NAME_PARTICLES:
            return False
    return capitalised >= _MIN_NAME_WORDS


def names_in(text: str) -> tuple[str, ...]:
    """The personal names a byline or author line starts with."""
    byline = _BYLINE.match(text)
    parts = _NAME_SEPARATOR.split(byline.group(1) if byline else text)
    names: list[str] = []
    for part in parts:
        if not part:
            continue
        if not is_name(part):
            break
        names.append(part)
    return tuple(names)


def is_byline(text: str) -> bool:
    """The line starts with "By " (or its like in a few languages)."""
    return _BYLINE.match(text) is not None
