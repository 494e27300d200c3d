"""The data that flows through one lookup: Article in, SourceAnswers, Location out.

Plain frozen dataclasses, no I/O. ``to_json`` gives the exact shapes of the HTTP API
(docs/api.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

SourceState = Literal["ok", "not_found", "error", "disabled", "retired", "skipped", "rate_limited",
                      "paused"]
Version = Literal["publishedVersion", "acceptedVersion", "submittedVersion"]

# The article fields the payload carries, in the API's order.
ARTICLE_PAYLOAD_FIELDS = (
    "doi", "pmid", "pmcid", "arxiv", "isbn", "title", "authors",
    "journal", "year", "publisher", "pdf_url", "url",
)


@dataclass(frozen=True)
class Reference:
    """One work a page cites, as the page gives it: identifiers, citation fields, or
    the formatted reference as free text (``text``)."""

    doi: str | None = None
    pmid: str | None = None
    arxiv: str | None = None
    title: str | None = None
    authors: tuple[str, ...] = ()
    year: int | None = None
    journal: str | None = None
    text: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The non-empty fields (a page may cite hundreds of works)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value:
                out[name] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True)
class Article:
    """What a page (or a typed identifier) says about the article it shows.

    ``doi`` is kept as found (case preserved); compare DOIs with ``doi_key``.
    ``year`` is an int. ``doi_tier`` names the scrape rule that found the DOI,
    for people debugging a page. ``references`` are the works the page cites
    (its ``citation_reference`` tags), never mixed into the article's own fields.
    ``challenge`` marks a bot-challenge page whose HTML was not trusted.
    ``citation_meta`` says the page had scholarly meta tags.
    """

    url: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    arxiv: str | None = None
    isbn: tuple[str, ...] = ()
    title: str | None = None
    authors: tuple[str, ...] = ()
    journal: str | None = None
    year: int | None = None
    publisher: str | None = None
    pdf_url: str | None = None
    author_email: str | None = None
    doi_tier: str | None = None
    citation_meta: bool = False
    challenge: bool = False
    references: tuple[Reference, ...] = ()

    @property
    def identifiers(self) -> dict[str, str]:
        """The identifiers present, in the order sources should prefer them."""
        ids = {"doi": self.doi, "pmid": self.pmid, "pmcid": self.pmcid, "arxiv": self.arxiv}
        out = {k: v for k, v in ids.items() if v}
        if self.isbn:
            out["isbn"] = self.isbn[0]
        return out

    @property
    def is_article(self) -> bool:
        """True when the page names an identifier or carries citation metadata."""
        return bool(self.identifiers) or self.citation_meta

    def merged_with(self, other: Article) -> Article:
        """This article with empty fields filled from ``other`` (never overwritten)."""
        filled: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            if not getattr(self, name) and getattr(other, name):
                filled[name] = getattr(other, name)
        return replace(self, **filled) if filled else self

    def to_payload(self) -> dict[str, Any]:
        """The ``article`` object of the lookup payload."""
        # Plain getattr, not dataclasses.asdict: asdict deep-copies, on every lookup.
        out: dict[str, Any] = {name: getattr(self, name) for name in ARTICLE_PAYLOAD_FIELDS}
        out["isbn"] = list(self.isbn)
        out["authors"] = list(self.authors)
        return out

    def to_json(self) -> dict[str, Any]:
        """Everything scraped, for ``oahelper scrape``: payload fields first."""
        out = self.to_payload()
        out.update(author_email=self.author_email, doi_tier=self.doi_tier,
                   citation_meta=self.citation_meta, challenge=self.challenge,
                   is_article=self.is_article,
                   references=[r.to_json() for r in self.references])
        return out


@dataclass(frozen=True)
class WorkQuery:
    """What the user has when there is no identifier: a title (typed, or from a page
    without identifiers) or a pasted reference. ``title``, ``first_author`` and
    ``year`` are all that is sent to the search sources; ``text`` (the reference as
    pasted) stays on this machine and is used to check the hits."""

    kind: Literal["title", "reference"]
    title: str
    first_author: str | None = None
    year: int | None = None
    text: str = ""


# What a copy's link gave when it was opened (links/, docs/api.md "Link states").
LinkState = Literal["pdf", "landing", "challenge", "consent", "login", "paywall", "gone",
                    "wrong_article", "error", "unchecked"]
# The ranking of link states, best first: working, passable by the reader's own
# browser (a bot check, a cookie wall), not known yet, broken (never the best copy).
LINK_TIER: dict[str, int] = {"pdf": 0, "landing": 0, "challenge": 1, "consent": 1,
                             "unchecked": 2, "error": 2,
                             "login": 3, "paywall": 3, "gone": 3, "wrong_article": 3}
BROKEN_TIER = 3


@dataclass(frozen=True)
class LinkCheck:
    """A copy's link as it was found when opened: its state, when (ISO 8601, UTC) and
    where it ended after redirects."""

    state: LinkState = "unchecked"
    checked_at: str | None = None
    final_url: str | None = None

    @property
    def broken(self) -> bool:
        return LINK_TIER[self.state] == BROKEN_TIER

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "checked_at": self.checked_at, "final_url": self.final_url}


UNCHECKED = LinkCheck()


@dataclass(frozen=True)
class Location:
    """One place a free copy lives. ``is_best`` is the source's own pick (ranking only).

    ``source`` is the source whose report of the copy is shown; ``found_by`` names every
    source that reported it (filled by the merge; empty means ``source`` alone).
    """

    url: str
    source: str
    pdf_url: str | None = None
    landing_url: str | None = None
    version: Version | None = None
    license: str | None = None
    host_type: Literal["publisher", "repository"] | None = None
    repository: str | None = None
    evidence: str | None = None
    oa_date: str | None = None
    is_best: bool = False
    found_by: tuple[str, ...] = ()
    link: LinkCheck = UNCHECKED  # what opening ``url`` gave (set by the engine)

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url, "pdf_url": self.pdf_url, "landing_url": self.landing_url,
            "version": self.version, "license": self.license, "host_type": self.host_type,
            "repository": self.repository, "evidence": self.evidence,
            "oa_date": self.oa_date, "source": self.source,
            "found_by": list(self.found_by or (self.source,)),
            "link": self.link.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Location:
        # A source's report, as cached: what its link gave is the engine's to say now.
        known: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__
                                 if k in data and k != "link"}
        known["found_by"] = tuple(known.get("found_by") or ())
        return cls(**known)


@dataclass(frozen=True)
class SourceAnswer:
    """What one source said about one article; failures are data, not exceptions.

    ``metadata`` holds Article fields the source knows (title, journal, …) so a bare
    DOI lookup can still show a citation; its identifiers (doi, pmid, pmcid, arxiv)
    let one source identify the article for the others. ``candidates`` are the works a
    title search returned, each with ``answer``: what the source would have said when
    asked by that work's identifier (so an accepted hit costs no second call).
    ``calls`` counts upstream HTTP requests made (retries included) for the daily quota.
    ``stale`` marks an expired cached answer served because the source failed just now.
    ``as_of`` is the date of the data a local copy answered from (the snapshot's newest
    record), so its age can be shown. ``pending``: the source was busy and its answer is
    being finished in the background (ask again shortly).
    """

    source: str
    state: SourceState
    locations: tuple[Location, ...] = ()
    oa_status: str | None = None
    error: str | None = None
    error_code: str | None = None
    ms: int = 0
    cached: bool = False
    stale: bool = False
    calls: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    candidates: tuple[Candidate, ...] = ()
    as_of: str | None = None
    pending: bool = False

    @property
    def answered(self) -> bool:
        """The source gave an answer about the article (found or not found)."""
        return self.state in ("ok", "not_found")

    def to_state_json(self) -> dict[str, Any]:
        """The per-source entry of the payload's ``sources`` object."""
        out: dict[str, Any] = {"state": self.state, "ms": self.ms, "cached": self.cached}
        if self.stale:
            out["stale"] = True
        if self.pending:
            out["pending"] = True
        if self.error:
            out["error"] = self.error
        if self.error_code:
            out["error_code"] = self.error_code
        if self.as_of:
            out["as_of"] = self.as_of
        return out

    def to_cache_json(self) -> dict[str, Any]:
        """What the cache stores: the answer without timing or cache flags."""
        return {
            "source": self.source, "state": self.state, "oa_status": self.oa_status,
            "locations": [{k: v for k, v in loc.to_json().items() if k != "link"}
                          | {"is_best": loc.is_best, "found_by": list(loc.found_by)}
                          for loc in self.locations],
            "metadata": {k: list(v) if isinstance(v, tuple) else v for k, v in self.metadata.items()},
            "candidates": [c.to_json() for c in self.candidates],
            "as_of": self.as_of,
        }

    @classmethod
    def from_cache_json(cls, data: dict[str, Any]) -> SourceAnswer:
        metadata = dict(data.get("metadata") or {})
        for name in ("authors", "isbn"):
            if isinstance(metadata.get(name), list):
                metadata[name] = tuple(metadata[name])
        return cls(
            source=data["source"], state=data["state"], oa_status=data.get("oa_status"),
            locations=tuple(Location.from_json(d) for d in data.get("locations", [])),
            metadata=metadata,
            candidates=tuple(Candidate.from_json(c) for c in data.get("candidates") or ()),
            as_of=data.get("as_of"),
        )


# The Article fields a search hit carries (what the matcher compares and the
# identifier round needs).
CANDIDATE_FIELDS = ("doi", "pmid", "pmcid", "arxiv", "title", "authors", "journal", "year")


@dataclass(frozen=True)
class Candidate:
    """One work a title search returned: who found it, its citation, the search
    engine's own rank, and the source's answer about it by identifier (or None)."""

    source: str
    work: Article
    rank: int = 0
    answer: SourceAnswer | None = None

    def to_json(self) -> dict[str, Any]:
        work = {name: getattr(self.work, name) for name in CANDIDATE_FIELDS}
        work["authors"] = list(self.work.authors)
        return {"source": self.source, "work": work, "rank": self.rank,
                "answer": self.answer.to_cache_json() if self.answer else None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Candidate:
        work = {k: v for k, v in (data.get("work") or {}).items() if k in CANDIDATE_FIELDS}
        work["authors"] = tuple(work.get("authors") or ())
        answer = data.get("answer")
        return cls(source=data["source"], work=Article(**work), rank=int(data.get("rank") or 0),
                   answer=SourceAnswer.from_cache_json(answer) if answer else None)
