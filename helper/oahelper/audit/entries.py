"""One reference of a reading list, as read from its file, before any lookup.

Readers build entries with :func:`make_entry`, which normalises whatever the file
wrote (a DOI as a URL, an arXiv eprint, a PubMed link) with the scraper's own
identifier rules, so every format agrees on what counts as an identifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oahelper.identifiers import (
    arxiv_doi,
    find_dois,
    normalise_arxiv,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
)
from oahelper.models import Article, WorkQuery
from oahelper.resolve.query import work_query
from oahelper.scrape.urls import doi_from_url, ids_from_url

# What identifies an entry, strongest first (the row's ``identified_by``).
ID_FIELDS = ("doi", "pmcid", "arxiv", "pmid")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Entry:
    """One reference. ``key`` names it for the user (a BibTeX key, ``line 12``…).
    ``unreadable`` says why the reader could not make sense of it (nothing else is
    then set); ``note`` is a remark on a readable one (a DOI field that is no DOI)."""

    file: str
    key: str
    line: int | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    arxiv: str | None = None
    title: str | None = None
    authors: tuple[str, ...] = ()
    year: int | None = None
    journal: str | None = None
    text: str | None = None  # a free-text reference (a line, an unstructured tag)
    unreadable: str | None = None
    note: str | None = None

    @property
    def identified_by(self) -> str | None:
        """The strongest identifier the entry has, by name."""
        for name in ID_FIELDS:  # a loop, not next(generator): asked twice per entry of a list
            if getattr(self, name):
                return name
        return None

    @property
    def lookup_key(self) -> str | None:
        """What two entries share when they are the same work to look up."""
        name = self.identified_by
        if name is None:
            return None
        value = getattr(self, name)
        return f"{name}:{value.casefold()}"

    def article(self) -> Article:
        """The entry as the lookup engine's Article (identifiers and citation); one with
        a title but no identifier is searched for by its title, first author and year."""
        return Article(doi=self.doi, pmid=self.pmid, pmcid=self.pmcid, arxiv=self.arxiv,
                       title=self.title, authors=self.authors, year=self.year,
                       journal=self.journal, citation_meta=bool(self.title))

    def lookup_input(self) -> tuple[Article, WorkQuery | None, str | None]:
        """What to ask the engine: the article, the pasted reference to search for when
        the entry is only that, or why there is nothing to ask about (then no lookup)."""
        article = self.article()
        if article.identifiers or self.title:
            return article, None, None
        if self.text:
            found, query, problem = work_query(self.text)
            return (found if found.identifiers else article), query, problem
        return article, None, "no DOI, PMID, PMCID, arXiv id, title or reference text"


def clean_text(value: object) -> str | None:
    """A field's text with whitespace collapsed, or None when empty."""
    if value is None:
        return None
    text = _SPACES.sub(" ", str(value)).strip()
    return text or None


def year_of(value: object) -> int | None:
    """The first plausible four-digit year in a field (``2013``, ``2013/07/31``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 1500 <= value <= 2099 else None
    match = _YEAR.search(str(value)) if value is not None else None
    return int(match.group(1)) if match else None


def make_entry(file: str, key: str, line: int | None = None, *, doi: object = None,
               pmid: object = None, pmcid: object = None, arxiv: object = None,
               urls: tuple[object, ...] = (), title: object = None,
               authors: tuple[object, ...] = (), year: object = None, journal: object = None,
               text: object = None, note: str | None = None) -> Entry:
    """An entry from a record's raw fields; identifiers normalised, a DOI or id
    found in the URLs when no field names one, a DOI found in free text last.
    ``note`` is what the reader noticed (a field refused as too long)."""
    found = {
        "doi": normalise_doi(str(doi)) if doi else None,
        "pmid": normalise_pmid(str(pmid)) if pmid else None,
        "pmcid": normalise_pmcid(str(pmcid)) if pmcid else None,
        "arxiv": normalise_arxiv(str(arxiv)) if arxiv else None,
    }
    for url in urls:
        url = clean_text(url)
        if not url:
            continue
        found["doi"] = found["doi"] or doi_from_url(url) or normalise_doi(url)
        for name, value in ids_from_url(url).items():
            found[name] = found[name] or value
    reference = clean_text(text)
    if not found["doi"] and reference:
        found["doi"] = next(find_dois(reference), None)
    if found["arxiv"] and not found["doi"]:
        found["doi"] = arxiv_doi(found["arxiv"])
    if doi and not found["doi"]:
        bad_doi = f"the DOI field {clean_text(doi)!r} is not a DOI"
        note = f"{note}; {bad_doi}" if note else bad_doi
    return Entry(file=file, key=key, line=line, **found, title=clean_text(title),
                 authors=tuple(a for a in (clean_text(x) for x in authors) if a),
                 year=year_of(year), journal=clean_text(journal), text=reference,
                 note=note)


def unreadable(file: str, key: str, line: int | None, reason: str) -> Entry:
    """An entry the reader could not make sense of; it still gets its row."""
    return Entry(file=file, key=key, line=line, unreadable=reason)
