"""Semantic Scholar: a title → the paper (``/paper/search/match``); a DOI, arXiv id or
PMID → its open-access PDF and its other identifiers.

``GET {base}/graph/v1/paper/DOI:{doi}?fields=…`` (or ``ARXIV:``, ``PMID:``, ``PMCID:``)
and ``GET {base}/graph/v1/paper/search/match?query=…&fields=…``. ``openAccessPdf.url``
may be the empty string (recorded): that is no copy. An arXiv or PubMed Central id in
``externalIds`` proves a free copy by itself (as ``free_by_id`` says), so those are
reported too. A paper it does not know is a JSON 404, and no title match is a 404
``{"error":"Title match not found"}``. An API key (optional) goes in ``x-api-key``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
import yarl

from oahelper.errors import SourceConfigProblem
from oahelper.identifiers import (
    doi_key,
    normalise_arxiv,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
)
from oahelper.models import Article, Location, SourceAnswer, WorkQuery
from oahelper.sources import free_by_id
from oahelper.sources.base import SourceHealth
from oahelper.sources.http import Clock, Each, HttpSource, Reply, Shape, hits_answer, listed, mapping, require
from oahelper.sources.match import fold
from oahelper.sources.politeness import Gate
from oahelper.text import plain

NAME = "semanticscholar"
LABEL = "Semantic Scholar"
DEFAULT_BASE_URL = "https://api.semanticscholar.org"
FIELDS = "externalIds,title,year,authors,venue,journal,isOpenAccess,openAccessPdf,publicationDate"
SET_KEY = "oahelper keys set semanticscholar"
# openAccessPdf.status → where the copy is.
AT_PUBLISHER = frozenset({"GOLD", "HYBRID", "BRONZE"})
# Which identifier asks for the paper, in order, and S2's prefix for it.
ASKED_BY = (("doi", "DOI"), ("arxiv", "ARXIV"), ("pmid", "PMID"))
# What every paper in ../shared/fixtures/semanticscholar has (the four paper_DOI_ files,
# the papers of both title matches): paperId, which S2 sends whatever ``fields`` asks,
# and the two fields a verdict rests on, which an answer that ignored ``fields`` would
# lack (S2's default is paperId and title alone): externalIds, an object, and
# openAccessPdf, an object whose url is "" when there is no copy
# (paper_DOI_10.1023_a-1007154515475.json). The rest is optional.
PAPER = Shape("a paper", {"paperId": str, "externalIds": dict, "openAccessPdf": {"url": str}})
# A title match is {"data": [paper, …]} (paper-search-match_augmenting-llms-…, _paperqa).
MATCH = Shape("a title match", {"data": Each(PAPER.fields)})
# S2's own 404 is a JSON error (both recorded: paper_DOI_10.1101_2024.04.01.587366_404.json
# and paper-search-match_abs12032jsdafn_404.json); another 404 is not S2 saying it does
# not know the paper.
NOT_KNOWN = Shape("Semantic Scholar's error answer", {"error": str})


def _text(value: Any) -> str | None:
    return plain(value) or None if isinstance(value, str) else None


def _licence(value: Any) -> str | None:
    """"CCBY" → "cc-by", "CCBYNCND" → "cc-by-nc-nd" (Unpaywall's form)."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if not text.startswith("CC"):
        return text.lower() or None
    parts = [text[i:i + 2] for i in range(2, len(text), 2)]
    return "-".join(["cc", *[p.lower() for p in parts]]) if parts else "cc"


def metadata_of(paper: Mapping[str, Any]) -> dict[str, Any]:
    """The Article fields a paper record gives, identifiers included."""
    ids = mapping(paper.get("externalIds"))
    pmc = ids.get("PubMedCentral")
    journal = _text(mapping(paper.get("journal")).get("name"))
    authors = tuple(name for a in listed(paper.get("authors"))
                    if isinstance(a, Mapping) if (name := _text(a.get("name"))))
    fields: dict[str, Any] = {
        "doi": normalise_doi(str(ids.get("DOI") or "")),
        "arxiv": normalise_arxiv(str(ids.get("ArXiv") or "")),
        "pmid": normalise_pmid(str(ids.get("PubMed") or "")),
        "pmcid": normalise_pmcid(str(pmc)) if pmc else None,
        "title": _text(paper.get("title")),
        "year": paper.get("year") if isinstance(paper.get("year"), int) else None,
        # "ArXiv" as a journal name is the preprint server, not a journal.
        "journal": journal if journal and journal.lower() != "arxiv" else None,
        "authors": authors,
    }
    return {k: v for k, v in fields.items() if v}


def free_locations(paper: Mapping[str, Any]) -> tuple[Location, ...]:
    """The open-access PDF (when its URL is not empty), and the arXiv and PubMed
    Central copies the paper's own identifiers prove."""
    out: list[Location] = []
    pdf = mapping(paper.get("openAccessPdf"))
    url = pdf.get("url")
    url = url if isinstance(url, str) else ""
    if url.strip().startswith("http"):
        status = str(pdf.get("status") or "").upper()
        publisher = status in AT_PUBLISHER
        out.append(Location(url=url.strip(), source=NAME, pdf_url=url.strip(),
                            version="publishedVersion" if publisher else None,
                            license=_licence(pdf.get("license")),
                            host_type="publisher" if publisher else ("repository" if status == "GREEN" else None),
                            evidence=f"Semantic Scholar: open access ({status.lower() or 'status not stated'})"))
    meta = metadata_of(paper)
    proved = free_by_id.free_locations(Article(arxiv=meta.get("arxiv"), pmcid=meta.get("pmcid")))
    out.extend(dataclasses.replace(loc, source=NAME) for loc in proved)
    return tuple(out)


def record_answer(paper: Mapping[str, Any]) -> SourceAnswer:
    return SourceAnswer(source=NAME, state="ok", locations=free_locations(paper),
                        metadata=metadata_of(paper))


def paper_answer(body: Any) -> SourceAnswer:
    """The answer for the JSON of a paper lookup's 200."""
    return record_answer(require(body, PAPER, LABEL))


def match_answer(body: Any) -> SourceAnswer:
    """The answer for the JSON of a title match's 200: its papers as candidates."""
    return hits_answer(NAME, map(record_answer, require(body, MATCH, LABEL)["data"]))


def asked_id(article: Article) -> tuple[str, str] | None:
    """(S2's prefix, value) of the identifier the paper is asked by, or None."""
    for field, prefix in ASKED_BY:
        value = free_by_id.arxiv_id(article) if field == "arxiv" else getattr(article, field)
        if value:
            return prefix, value
    if article.pmcid:
        return "PMCID", article.pmcid.upper().removeprefix("PMC")
    return None


class SemanticScholar(HttpSource):
    """The Semantic Scholar Graph API adapter (Source and SearchSource protocols)."""

    name = NAME
    label = LABEL

    def __init__(self, base_url: str | None = None, api_key: str | None = None, *,
                 enabled: bool = True, gate: Gate | None = None,
                 clock: Clock = time.monotonic) -> None:
        super().__init__(base_url or DEFAULT_BASE_URL, gate=gate, enabled=enabled, clock=clock)
        self._api_key = api_key or None
        self._refused: str | None = None

    def cache_key(self, article: Article) -> str | None:
        asked = asked_id(article)
        if asked is None:
            return None
        prefix, value = asked
        return f"doi:{doi_key(value)}" if prefix == "DOI" else f"{prefix.lower()}:{value.casefold()}"

    def search_key(self, query: WorkQuery) -> str | None:
        return f"search:{fold(query.title)}"

    def health(self) -> SourceHealth:
        return SourceHealth(enabled=self.enabled, configured=self._refused is None,
                            last_error=self._last_error, problems=[self._refused] if self._refused else [],
                            key="set" if self._api_key else "not set")

    def _headers(self) -> dict[str, str]:
        return {"x-api-key": self._api_key} if self._api_key else {}

    def paper_url(self, prefix: str, value: str) -> yarl.URL:
        ident = quote(f"{prefix}:{value}", safe="/():;")
        return yarl.URL(f"{self.base_url}/graph/v1/paper/{ident}?fields={quote(FIELDS, safe=',')}",
                        encoded=True)

    def match_url(self, query: WorkQuery) -> yarl.URL:
        return yarl.URL(f"{self.base_url}/graph/v1/paper/search/match").with_query(
            query=query.title, fields=FIELDS)

    def _check(self, reply: Reply) -> bool:
        """True for S2's own 404 (it does not know the paper or finds no match); raises
        for any other status than 200."""
        if reply.status == 404:
            require(self.json_body(reply), NOT_KNOWN, LABEL)
            return True
        if reply.status in (401, 403):
            self._refused = (f"Semantic Scholar refused the {'API key' if self._api_key else 'request'} "
                             f"(HTTP {reply.status}); set a valid key with `{SET_KEY}`")
            raise SourceConfigProblem(self._refused)
        if reply.status != 200:
            raise self.unexpected(reply)
        self._refused = None
        return False

    async def lookup(self, article: Article, session: aiohttp.ClientSession,
                     timeout: float) -> SourceAnswer:
        if not self.enabled:
            return SourceAnswer(source=NAME, state="disabled")
        asked = asked_id(article)
        if asked is None:
            return SourceAnswer(source=NAME, state="skipped")

        def read(reply: Reply) -> SourceAnswer:
            if self._check(reply):  # {"error": "Paper with id … not found"}
                return SourceAnswer(source=NAME, state="not_found")
            return paper_answer(self.json_body(reply))

        return await self.ask(session, self.paper_url(*asked), timeout, read, headers=self._headers())

    async def search(self, query: WorkQuery, session: aiohttp.ClientSession,
                     timeout: float) -> SourceAnswer:
        if not self.enabled:
            return SourceAnswer(source=NAME, state="disabled")

        def read(reply: Reply) -> SourceAnswer:
            if self._check(reply):  # {"error": "Title match not found"}
                return SourceAnswer(source=NAME, state="not_found")
            return match_answer(self.json_body(reply))

        return await self.ask(session, self.match_url(query), timeout, read, headers=self._headers())
