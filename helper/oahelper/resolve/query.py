"""What the user typed, when it is not an identifier: a title, or a pasted reference.

Pure. A reference that carries an identifier (a DOI, arXiv id, PMID or PMCID) is looked
up by that identifier. Otherwise its title, first author and year are picked out: only
those are sent to the search sources, and the whole text stays here to check the hits.
"""

from __future__ import annotations

import re

from oahelper.identifiers import (
    arxiv_doi,
    find_dois,
    normalise_arxiv,
    normalise_pmcid,
    normalise_pmid,
)
from oahelper.models import Article, WorkQuery
from oahelper.text import clean, plain

# Longest text searched for (a reference is rarely over 600 characters; a title 300).
MAX_QUERY = 2000
_YEAR = re.compile(r"(?<![\d/.-])(1[6-9]\d\d|20\d\d)(?![\d/])")
_PAREN_YEAR = re.compile(r"\((1[6-9]\d\d|20\d\d)[a-z]?\)\.?")
_QUOTED = re.compile(r"[\"“”‘’«]([^\"“”«»]{12,}?)[,.]?[\"“”’»]")
# A sentence end: a full stop after a lower-case letter, digit or bracket, not after an
# initial ("A. Vaswani" keeps its "A.").
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]?!])[.?!]\s+(?=[A-Z0-9(\"“])")
_ARXIV_IN_TEXT = re.compile(r"arxiv\s*[:.]?\s*(?:abs/)?([0-9]{4}\.[0-9]{4,5}|[a-z-]+(?:\.[A-Z]{2})?/[0-9]{7})",
                            re.IGNORECASE)
_PMID_IN_TEXT = re.compile(r"\bpmid\s*[:=]?\s*([0-9]{1,9})\b", re.IGNORECASE)
_PMCID_IN_TEXT = re.compile(r"\b(pmc[0-9]{3,10})\b", re.IGNORECASE)
_ET_AL = re.compile(r"\bet al\b\.?", re.IGNORECASE)
_PAGES = re.compile(r"\d+\s*\(\d+\)\s*[:,]|\b\d+\s*[:,]\s*\d+\s*[-–]\s*\d+|\bpp?\.\s*\d+|\bvol\.", re.IGNORECASE)
MIN_TITLE_CHARS = 8


def identifiers_in(text: str) -> Article | None:
    """The identifier a pasted reference carries (DOI first), or None."""
    doi = next(find_dois(text), None)
    if doi:
        return Article(doi=doi)
    match = _ARXIV_IN_TEXT.search(text)
    arxiv = normalise_arxiv(match.group(1)) if match else None
    if arxiv:
        return Article(arxiv=arxiv, doi=arxiv_doi(arxiv))
    match = _PMCID_IN_TEXT.search(text)
    pmcid = normalise_pmcid(match.group(1)) if match else None
    if pmcid:
        return Article(pmcid=pmcid)
    match = _PMID_IN_TEXT.search(text)
    pmid = normalise_pmid(match.group(1)) if match else None
    return Article(pmid=pmid) if pmid else None


def looks_like_reference(text: str) -> bool:
    """A citation rather than a bare title: a year with authors, pages or several parts."""
    if not _YEAR.search(text):
        return False
    signs = sum([bool(_ET_AL.search(text)), bool(_PAGES.search(text)),
                 bool(_PAREN_YEAR.search(text)), text.count(",") >= 2,
                 len(_SENTENCE_END.split(text)) >= 3])
    return signs >= 2 or len(text) > 250


def _reference_title(text: str) -> str | None:
    """The title inside a reference: quoted (IEEE, MLA), after "(2017)." (APA), else
    the first long part after the authors (Vancouver, Harvard)."""
    quoted = _QUOTED.search(text)
    if quoted:
        return clean(quoted.group(1))
    after_year = _PAREN_YEAR.search(text)
    rest = text[after_year.end():] if after_year else text
    parts = [clean(p) for p in _SENTENCE_END.split(rest) if clean(p)]
    if not after_year:
        parts = parts[1:]  # the authors come first
    for part in parts:
        words = part.split()
        if len(words) >= 3 and not _YEAR.fullmatch(part.strip(". ")):
            return part.rstrip(".")
    return None


def _first_author(text: str) -> str | None:
    """The first author as written at the start of a reference ("Vaswani, A." → "Vaswani")."""
    head = re.split(r",|;|\band\b|&|\(|\bet al\b", text, maxsplit=1)[0]
    head = clean(head).rstrip(".")
    words = head.split()
    if not words or len(words) > 4 or not words[0][:1].isupper():
        return None
    return head


def work_query(text: str) -> tuple[Article, WorkQuery | None, str | None]:
    """(identified article, None, None) when the text carries an identifier; else an
    empty article, the query to search for, or the reason there is nothing to search."""
    text = plain(text[:MAX_QUERY])
    found = identifiers_in(text)
    if found is not None:
        return found, None, None
    if looks_like_reference(text):
        title = _reference_title(text)
        if not title:
            return Article(), None, ("could not tell the title in this reference; "
                                     "type the title alone, or the DOI")
        years = [int(y) for y in _YEAR.findall(text)]
        paren = _PAREN_YEAR.search(text)
        year = int(paren.group(1)) if paren else (years[0] if years else None)
        return Article(), WorkQuery(kind="reference", title=title, first_author=_first_author(text),
                                    year=year, text=text), None
    if len(text) < MIN_TITLE_CHARS and len(text.split()) < 2:
        return Article(), None, f"{text!r} is too short to look up as a title"
    return Article(), WorkQuery(kind="title", title=text, text=text), None
