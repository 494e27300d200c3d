"""One report row per reading-list entry: the entry, and what the lookup found.

The row's columns are the report's contract (README, ``oahelper audit``): CSV and JSON
write them in this order, the HTML report and ``/v1/batch`` show the same fields.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from oahelper.audit.entries import Entry

# Statuses beyond the lookup's own (open, closed, unknown).
NO_IDENTIFIER = "no_identifier"
UNREADABLE = "unreadable"
STATUSES = ("open", "closed", "not_found", "unknown", NO_IDENTIFIER, UNREADABLE)
# Licences that meet funder mandates such as Plan S for the copy itself.
CC_BY_OR_CC0 = frozenset({"cc-by", "cc0"})
# Source states that are an answer about the work (found or not).
ANSWERED = frozenset({"ok", "not_found"})
BROKEN_LINKS = frozenset({"login", "paywall", "gone", "wrong_article"})
NO_ID_PROBLEM = "no DOI, PMID, PMCID or arXiv id, and no title to search for"


class Row(NamedTuple):
    """What the report says about one entry: its cells, in column order (a tuple, so
    that a million rows cost what a million small tuples do)."""

    file: str
    key: str
    line: int | None
    identified_by: str | None
    doi: str | None
    pmid: str | None
    pmcid: str | None
    arxiv: str | None
    match_score: float | None
    title: str | None
    year: int | None
    journal: str | None
    reference: str | None
    status: str
    oa_status: str | None
    best_url: str | None
    link: str | None  # what opening the best copy's link gave (pdf, landing, …, unchecked)
    version: str | None
    license: str | None
    host_type: str | None
    free_copies: int
    cc_by_or_cc0: bool | None
    sources: str
    problem: str | None

    @property
    def is_free(self) -> bool:
        return self.status == "open"

    def to_json(self) -> dict[str, Any]:
        return dict(zip(COLUMNS, self, strict=True))

    def to_csv(self) -> list[Any]:
        """The cells as ``csv.writer`` writes them: booleans as yes/no; it writes None
        as an empty cell and anything else as ``str()`` does."""
        return ["yes" if v is True else "no" if v is False else v for v in self]

    def values(self) -> tuple[Any, ...]:
        """The cells in column order."""
        return tuple(self)


COLUMNS: tuple[str, ...] = Row._fields


def _join(*parts: str | None) -> str | None:
    text = "; ".join(p for p in parts if p)
    return text or None


def _base(entry: Entry) -> Row:
    """A row from the entry alone (nothing looked up); ``_replace`` fills in the rest."""
    return Row(file=entry.file, key=entry.key, line=entry.line,
               identified_by=entry.identified_by, doi=entry.doi, pmid=entry.pmid,
               pmcid=entry.pmcid, arxiv=entry.arxiv, match_score=None, title=entry.title,
               year=entry.year, journal=entry.journal, reference=entry.text, status=UNREADABLE,
               oa_status=None, best_url=None, link=None, version=None, license=None,
               host_type=None, free_copies=0, cc_by_or_cc0=None, sources="", problem=None)


def row_without_lookup(entry: Entry, why_not: str | None = None) -> Row | None:
    """The row of an entry that is not looked up (unreadable, or nothing to look it up
    by: ``why_not``), or None when it should be looked up."""
    if entry.unreadable:
        return _base(entry)._replace(status=UNREADABLE, problem=entry.unreadable)
    if why_not is not None:
        return _base(entry)._replace(status=NO_IDENTIFIER, problem=_join(entry.note, why_not))
    return None


def row_from_fields(entry: Entry, *, status: str, sources: str, oa_status: str | None = None,
                    title: str | None = None, year: int | None = None,
                    journal: str | None = None, best_url: str | None = None,
                    link: str | None = None,
                    version: str | None = None, license: str | None = None,
                    host_type: str | None = None, free_copies: int = 0,
                    cc_by_or_cc0: bool | None = None, problem: str | None = None) -> Row:
    """The row of an entry answered without a payload (the snapshot's bulk join): the
    entry's own fields (its title, year and journal first, these where it has none),
    these values, and the entry's note before any problem. Made in one call, with no
    dictionary in between: a large audit makes a million of them."""
    return Row(file=entry.file, key=entry.key, line=entry.line,
               identified_by=entry.identified_by, doi=entry.doi, pmid=entry.pmid,
               pmcid=entry.pmcid, arxiv=entry.arxiv, match_score=None,
               title=entry.title or title, year=entry.year or year,
               journal=entry.journal or journal, reference=entry.text, status=status,
               oa_status=oa_status, best_url=best_url, link=link, version=version, license=license,
               host_type=host_type, free_copies=free_copies, cc_by_or_cc0=cc_by_or_cc0,
               sources=sources, problem=_join(entry.note, problem))


def _works(location: dict[str, Any]) -> bool:
    """A copy whose link is not known to be broken (a broken one is no free copy)."""
    return (location.get("link") or {}).get("state") not in BROKEN_LINKS


def source_names(sources: dict[str, Any], answered: list[str]) -> str:
    """The report's ``sources`` cell: who answered, a local copy with its date."""
    return ";".join(f"{name} ({sources[name]['as_of']})" if sources[name].get("as_of") else name
                    for name in answered)


def row_from_payload(entry: Entry, payload: dict[str, Any]) -> Row:
    """The row of a looked-up entry, from the lookup payload (docs/api.md)."""
    article = payload.get("article") or {}
    match = article.get("match") or {}
    best = payload.get("best") or {}
    locations = payload.get("locations") or []
    status = payload["status"]
    states = {name: info.get("state") for name, info in (payload.get("sources") or {}).items()}
    answered = [name for name, state in states.items() if state in ANSWERED]
    identified = any(article.get(k) for k in ("doi", "pmid", "pmcid", "arxiv"))
    # A source that failed or was refused by the caller's budget: nothing says no match.
    failed = any(info.get("state") in ("error", "rate_limited")
                 for info in (payload.get("sources") or {}).values())
    problem = None
    if status == "unknown":
        problem = (payload.get("badge") or {}).get("tooltip")
        if not identified and not failed:  # searched by title, and nothing matched
            # The tooltip reads "Could not check…: <why>"; the row says only why.
            status, problem = NO_IDENTIFIER, (problem or "").split(": ", 1)[-1] or NO_ID_PROBLEM
    elif status == "not_article":  # nothing identified it after all
        status, problem = NO_IDENTIFIER, NO_ID_PROBLEM
    elif status == "not_found":  # no source knows the identifier, or no article matches
        problem = (payload.get("badge") or {}).get("tooltip")
    return _base(entry)._replace(
        identified_by=(match.get("query") or "title") if match else entry.identified_by,
        doi=entry.doi or article.get("doi"), pmid=entry.pmid or article.get("pmid"),
        pmcid=entry.pmcid or article.get("pmcid"), arxiv=entry.arxiv or article.get("arxiv"),
        match_score=match.get("score"),
        title=entry.title or article.get("title"), year=entry.year or article.get("year"),
        journal=entry.journal or article.get("journal"),
        status=status, oa_status=payload.get("oa_status"),
        # The best copy's link; with no working copy, the best broken one's.
        best_url=best.get("url"),
        link=((best or (locations[0] if locations else {})).get("link") or {}).get("state"),
        version=best.get("version"), license=best.get("license"),
        host_type=best.get("host_type"), free_copies=sum(1 for loc in locations if _works(loc)),
        cc_by_or_cc0=(any((loc.get("license") or "").lower() in CC_BY_OR_CC0 for loc in locations)
                      if status in ("open", "closed") else None),
        sources=source_names(payload.get("sources") or {}, answered),
        problem=_join(entry.note, problem))
