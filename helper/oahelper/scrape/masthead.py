"""The article's title block, read from the visible page: the last resort.

Only for pages described by nothing but ``<title>`` (old static journal
sites, preprint listings): everything here fills a field no tag gave, and
never runs on a page with Highwire, bepress, eprints, PRISM or scholarly Dublin
Core/JSON-LD tags (such a page that names no journal has none: a preprint, a
report), nor on one with a title tag of any family (Dublin Core, OpenGraph…:
its template says what it knows). Meta ``description``/``keywords`` are never
read: static sites copy them from page to page.

The rules, over the opening lines of the body (``lines.py``):

- Title line: the line equal to the title the page already gave (metadata or
  ``<title>``); else the largest line drawn bigger than bold body text.
- Subtitle: a line after the title in the same block (a ``<br>`` apart, not a
  new paragraph) that is not a byline or date joins it as "Title: Subtitle".
- Authors: the first line after the title that is a byline ("By A and B") or a
  list of personal names; a trailing affiliation ("A B, University of X") is
  left out.
- Year: the first line, from the top to a few lines past the title, that is
  only a date ("November 2025", "May/June 2017") or an issue line with a year
  ("Issue 58, Fall 2013"). Copyright lines are not read: templates leave them stale.
- Container: a heading just above the first issue line ("D-Lib Magazine" /
  "May/June 2017" / "Volume 23, Number 5/6"), when a line drawn at least as
  large (the article's title) follows closely: a periodical's masthead. That
  heading is never the title, even when a site-wide ``<title>`` names it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from oahelper.scrape.document import MemoKey, Page
from oahelper.scrape.fields import first_value, has_citation_meta, title_from_tag
from oahelper.scrape.line_kinds import (
    is_byline,
    is_date_line,
    is_issue_line,
    line_year,
    names_in,
)
from oahelper.scrape.lines import BODY_SIZE, Line, opening_lines

# Lines read: the masthead is at the top.
MASTHEAD_LINES = 40
# The year may sit this many lines below the title (after authors, a subtitle).
_YEAR_LINES_AFTER_TITLE = 4
# Authors and subtitle follow the title within this many lines.
_BYLINE_LINES_AFTER_TITLE = 3
# A drawn title is bigger than bold body text (h3, <font size=4> and up).
_TITLE_MIN_SIZE = BODY_SIZE + 0.5
_MAX_TITLE_CHARS = 300
_MAX_SHORT_LINE = 120

# A periodical's name is followed by its issue lines and, within this many
# lines, by the article's title.
_TITLE_AFTER_PERIODICAL = 3
# Headings of an article's sections, never its title.
_SECTION_HEADINGS = frozenset({
    "abstract", "summary", "introduction", "contents", "table of contents", "keywords",
    "references", "bibliography", "notes", "résumé", "zusammenfassung", "resumen",
})
_TITLE_END_PUNCTUATION = (":", "?", "!", ".", "–", "—", "-")


@dataclass(frozen=True)
class Masthead:
    """What the visible title block says. ``heading``: the title's own line
    (``title`` may add a subtitle); ``confirmed``: that line is the title the
    page already gave."""

    title: str | None = None
    heading: str | None = None
    confirmed: bool = False
    authors: tuple[str, ...] = ()
    year: int | None = None
    container: str | None = None


EMPTY = Masthead()


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _is_furniture(line: Line) -> bool:
    """Not a title: a date, an issue line or a byline."""
    return is_date_line(line.text) or is_issue_line(line.text) or is_byline(line.text)


def _could_be_title(line: Line) -> bool:
    """Drawn bigger than bold body text, and not furniture or a section heading."""
    return (line.size >= _TITLE_MIN_SIZE and len(line.text) <= _MAX_TITLE_CHARS
            and not _is_furniture(line) and _norm(line.text) not in _SECTION_HEADINGS)


def _is_dateish(line: Line) -> bool:
    return is_issue_line(line.text) or is_date_line(line.text)


def _periodical_index(lines: list[Line]) -> int | None:
    """The heading right above the first issue line (date lines between
    allowed), when a line drawn at least as large, the article's title,
    follows the issue lines closely."""
    issue = next((i for i, line in enumerate(lines) if is_issue_line(line.text)), None)
    if issue is None:
        return None
    above, below = issue - 1, issue + 1
    while above >= 0 and _is_dateish(lines[above]):
        above -= 1
    while below < len(lines) and _is_dateish(lines[below]):
        below += 1
    heading = lines[above] if above >= 0 else None
    if (heading is None or heading.size <= BODY_SIZE or len(heading.text) > _MAX_SHORT_LINE
            or _is_furniture(heading) or _norm(heading.text) in _SECTION_HEADINGS):
        return None
    after = lines[below:below + _TITLE_AFTER_PERIODICAL]
    return above if any(_could_be_title(line) and line.size >= heading.size
                        for line in after) else None


def _drawn_title_index(lines: list[Line], periodical: int | None) -> int | None:
    """The first of the largest lines that could be a title (not the periodical)."""
    best: int | None = None
    for index, line in enumerate(lines):
        if index == periodical or not _could_be_title(line):
            continue
        if best is None or line.size > lines[best].size:
            best = index
    return best


def _line_of(lines: list[Line], title: str | None, periodical: int | None) -> int | None:
    """The first line that is ``title`` (never the periodical's name)."""
    if not title:
        return None
    wanted = _norm(title)
    # NFKC and case folding hardly change a length: skip lines far off first.
    return next((i for i, line in enumerate(lines)
                 if i != periodical and abs(len(line.text) - len(title)) <= len(title) // 2
                 and _norm(line.text) == wanted), None)


def _with_subtitle(lines: list[Line], index: int) -> tuple[str, int]:
    """The title line, joined with a subtitle a ``<br>`` below it; and the last line used."""
    title = lines[index]
    following = lines[index + 1] if index + 1 < len(lines) else None
    if (following is None or following.block != title.block or _is_furniture(following)
            or names_in(following.text) or len(following.text) > _MAX_TITLE_CHARS):
        return title.text, index
    joiner = " " if title.text.endswith(_TITLE_END_PUNCTUATION) else ": "
    return title.text + joiner + following.text, index + 1


def _authors_after(lines: list[Line], last_title_line: int) -> tuple[str, ...]:
    """Names on the first line after the title that is not a date or issue
    line, and on the lines of the same block that start with a name (one
    author a line, e-mail lines between)."""
    following = lines[last_title_line + 1:]
    for index, line in enumerate(following[:_BYLINE_LINES_AFTER_TITLE]):
        if is_date_line(line.text) or is_issue_line(line.text):
            continue
        names = list(names_in(line.text))
        for more in following[index + 1:]:
            if not names or more.block != line.block:
                break
            names.extend(names_in(more.text))
        return tuple(names)
    return ()


def _year_until(lines: list[Line], end: int) -> int | None:
    return next((year for line in lines[:end] if (year := line_year(line.text))), None)


def _read(lines: list[Line], known_title: str | None) -> Masthead:
    # A site-wide <title> often is the periodical's name, also drawn above the
    # issue line: that heading is never the article's title.
    periodical = _periodical_index(lines)
    index = _line_of(lines, known_title, periodical)
    confirmed = index is not None
    if index is None:
        index = _drawn_title_index(lines, periodical)
    if index is None:
        return EMPTY
    title, last = (lines[index].text, index) if confirmed else _with_subtitle(lines, index)
    container = periodical if periodical is not None and periodical < index else None
    return Masthead(
        title=title,
        heading=lines[index].text,
        confirmed=confirmed,
        authors=_authors_after(lines, last),
        year=_year_until(lines, last + 1 + _YEAR_LINES_AFTER_TITLE),
        container=lines[container].text if container is not None else None,
    )


_MASTHEAD: MemoKey[Masthead] = MemoKey("masthead")


def read(page: Page) -> Masthead:
    """The page's visible title block, read once per page; empty unless the
    page is described by nothing but ``<title>``: no citation metadata and no
    title tag of any family (a page with tags has said what it has to say)."""
    def read_once() -> Masthead:
        bare = not has_citation_meta(page) and first_value(page, "title") is None
        return _read(opening_lines(page.text, MASTHEAD_LINES),
                     title_from_tag(page)) if bare else EMPTY

    return page.remembered(_MASTHEAD, read_once)


def choose_title(page: Page) -> str | None:
    """The title of a page without a metadata title: ``<title>`` (site name cut
    off) when the body shows it, else the body's drawn title, unless that is
    itself part of ``<title>`` (a site's name drawn large)."""
    tag_title = title_from_tag(page)
    head = read(page)
    if head.confirmed or not head.title:
        return tag_title
    if tag_title and _norm(head.heading or "") in _norm(page.title_tag or ""):
        return tag_title
    return head.title
