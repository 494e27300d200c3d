"""The issue's own date, when the page labels one in its text.

A citation's year is the year of the issue the article appeared in. Pages
without Highwire or bepress date tags often carry only the e-pub date in
their other tags (Atypon sets ``dc.Date`` to "Published online"), while their
publication history says "Published in issue 11 January 2016". A date under
such a label ("Published in issue", "Issue date", "Cover date", "Date of
issue", "Issue publication date") is the year of record; ``fields.year`` lets
it beat the Dublin Core, JSON-LD and OpenGraph dates, never Highwire's.

The label is found in the raw markup (tags may sit between its words, as in
``<b>Published</b> in <span>issue</span>``), and the date is the text that
follows it before the next tag.
"""

from __future__ import annotations

import re

from oahelper.scrape.document import head_end
from oahelper.text import first_year

_LABELS = (
    ("published", "in", "issue"),
    ("issue", "publication", "date"),
    ("date", "of", "issue"),
    ("issue", "date"),
    ("cover", "date"),
)
# Between a label's words: whitespace, &nbsp; or whole tags.
_GAP = r"(?:\s|&nbsp;|&#160;|<[^<>]*>)+"
_LABELLED_DATE = re.compile(
    r"\b(?:" + "|".join(_GAP.join(words) for words in _LABELS) + r")\b"
    r"(?:\s|&nbsp;|&#160;|:|<[^<>]*>)*([^<>]{1,40})",
    re.IGNORECASE)
# Every label holds "issue" or "cover date". A case-insensitive expression over
# a megabyte of markup is far too slow, so the text is searched for a piece of
# those words (plain, fast): (piece, where the word starts, its length). Each
# search costs a pass over the page, so all-capital spellings are left out:
# pages draw those with CSS, their markup says "Issue".
_ANCHORS = (("ssue", -1, 5), ("over d", -1, 10), ("over D", -1, 10))
# Only a word of running text counts (not "issue-1" in a URL or a class name):
# what may stand before and after it. The label is then matched in a window.
_BEFORE_WORD = frozenset(" \t\r\n\xa0>;")
_AFTER_WORD = frozenset(" \t\r\n\xa0<:&")
_BEFORE, _AFTER = 200, 240


def _word_hits(text: str, start: int) -> list[int]:
    """Where a label word stands as a word of running text, in page order."""
    hits: list[int] = []
    for piece, offset, length in _ANCHORS:
        hit = text.find(piece, start)
        while hit >= 0:
            begin, end = hit + offset, hit + offset + length
            if text[begin - 1:begin] in _BEFORE_WORD and text[end:end + 1] in _AFTER_WORD:
                hits.append(begin)
            hit = text.find(piece, hit + len(piece))
    return sorted(hits)


def labelled_issue_year(text: str) -> int | None:
    """The year of the first date the body labels as the issue's, if any."""
    start = head_end(text)
    for hit in _word_hits(text, start):
        match = _LABELLED_DATE.search(text, max(start, hit - _BEFORE), hit + _AFTER)
        year = first_year(match.group(1)) if match else None
        if year:
            return year
    return None
