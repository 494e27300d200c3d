"""Crossref: a title or reference → DOI (``query.bibliographic``), a DOI → its metadata.

``GET {base}/works/{doi}?mailto=…`` and ``GET {base}/works?query.bibliographic=…``,
with ``mailto=`` the configured e-mail so the requests go to the polite pool (its
limits, stated in the ``x-rate-limit-*`` and ``x-concurrency-limit`` headers of every
answer, are followed by ``politeness.py``). A Creative Commons licence on the version
of record (or on every version) that applies from publication, with no delay, makes
the publisher's copy a free one; other licences, text-mining links and
similarity-checking links do not. Crossref's 404 is the plain text
``Resource not found.`` (labelled JSON in 2022): the status is what counts. Its search
always returns a best guess: the hits go to the resolver unchecked, as candidates.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp
import yarl

from oahelper.errors import SourceBadResponse, SourceError
from oahelper.identifiers import doi_key, normalise_doi
from oahelper.models import Article, Candidate, Location, SourceAnswer, WorkQuery
from oahelper.sources.base import SourceHealth
from oahelper.sources.free_by_id import has_publisher_doi
from oahelper.sources.http import Clock, Each, HttpSource, Reply, Shape, json_or_none, listed, mapping, one_of, require
from oahelper.sources.match import fold
from oahelper.sources.politeness import Gate
from oahelper.text import plain

NAME = "crossref"
LABEL = "Crossref"
DEFAULT_BASE_URL = "https://api.crossref.org"
# Characters a DOI keeps raw in the path; the rest is percent-encoded (as for Unpaywall).
DOI_PATH_SAFE = "/():;"
SEARCH_ROWS = 5
# The fields a search hit needs: who it is, and whether the publisher's copy is free.
SEARCH_FIELDS = ("DOI,title,subtitle,author,issued,published,published-print,published-online,"
                 "container-title,publisher,type,license,link,resource")
FREE_VERSIONS = frozenset({"vor", "unspecified"})
# Every 200 recorded in ../shared/fixtures/crossref is {"status": "ok", "message": {…}}.
# A work (all four works_10.*.json) has its DOI; a search (all six works-search_*.json
# with status 200, zero hits included) has message.items, a list whose every item (25
# recorded, those cut down by select= too) has a DOI. The rest is optional.
WORK = Shape("a work", {"message": {"DOI": str}})
SEARCH = Shape("a search answer", {"message": {"items": Each({"DOI": str})}})
_CC = re.compile(r"creativecommons\.org/(?:licenses/([a-z-]+)|publicdomain/(zero|mark))", re.I)


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    return plain(value) or None if isinstance(value, str) else None


def cc_licence(url: Any) -> str | None:
    """"https://creativecommons.org/licenses/by-nc/4.0" → "cc-by-nc" (Unpaywall's form)."""
    match = _CC.search(url) if isinstance(url, str) else None
    if not match:
        return None
    return f"cc-{match.group(1).lower()}" if match.group(1) else (
        "cc0" if match.group(2).lower() == "zero" else "public-domain")


def _year(work: Mapping[str, Any]) -> int | None:
    for field in ("issued", "published", "published-print", "published-online"):
        parts = mapping(work.get(field)).get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            year = parts[0][0]
            if isinstance(year, int) and not isinstance(year, bool):
                return year
    return None


def _authors(work: Mapping[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    for person in listed(work.get("author")):
        if not isinstance(person, Mapping):
            continue
        given, family = _text(person.get("given")), _text(person.get("family"))
        name = " ".join(p for p in (given, family) if p) or _text(person.get("name"))
        if name:
            out.append(name)
    return tuple(out)


def metadata_of(work: Mapping[str, Any]) -> dict[str, Any]:
    """The Article fields a Crossref work record gives."""
    title = _text(work.get("title"))
    subtitle = _text(work.get("subtitle"))
    if title and subtitle and subtitle.casefold() not in title.casefold():
        title = f"{title}: {subtitle}"
    fields: dict[str, Any] = {
        "doi": _doi(work), "title": title,
        "journal": _text(work.get("container-title")), "year": _year(work),
        "publisher": _text(work.get("publisher")), "authors": _authors(work),
    }
    return {k: v for k, v in fields.items() if v}


def _doi(work: Mapping[str, Any]) -> str | None:
    doi = work.get("DOI")
    return normalise_doi(doi) if isinstance(doi, str) else None


def _started(licence: Mapping[str, Any], now: datetime) -> bool:
    stamp = mapping(licence.get("start")).get("timestamp")
    return not isinstance(stamp, int) or stamp / 1000 <= now.timestamp()


def free_at_publisher(work: Mapping[str, Any], now: datetime | None = None) -> Location | None:
    """The publisher's copy when an open licence covers the version of record from the
    day it was published (no delay), else None."""
    now = now or datetime.now(UTC)
    licence = None
    for entry in listed(work.get("license")):
        if (isinstance(entry, Mapping) and one_of(entry.get("content-version"), FREE_VERSIONS) is not None
                and entry.get("delay-in-days") in (0, None) and _started(entry, now)):
            licence = cc_licence(entry.get("URL"))
            if licence:
                break
    if licence is None:
        return None
    doi = _doi(work)
    landing = mapping(mapping(work.get("resource")).get("primary")).get("URL")
    landing = landing if isinstance(landing, str) and landing.startswith("http") else (
        f"https://doi.org/{doi}" if doi else None)
    pdf = next((link["URL"] for link in listed(work.get("link"))
                if isinstance(link, Mapping) and link.get("content-type") == "application/pdf"
                and one_of(link.get("content-version"), FREE_VERSIONS) is not None
                and isinstance(link.get("URL"), str) and link["URL"].startswith("http")), None)
    url = pdf or landing
    if url is None:
        return None
    return Location(url=url, source=NAME, pdf_url=pdf, landing_url=landing,
                    version="publishedVersion", license=licence, host_type="publisher",
                    evidence="Crossref: open licence on the version of record")


def record_answer(work: Mapping[str, Any]) -> SourceAnswer:
    """The source's answer for one work record."""
    found = free_at_publisher(work)
    return SourceAnswer(source=NAME, state="ok", locations=(found,) if found else (),
                        metadata=metadata_of(work))


def candidates_of(message: Mapping[str, Any]) -> tuple[Candidate, ...]:
    """A search answer's hits, in Crossref's order, each with its answer by DOI."""
    out: list[Candidate] = []
    for rank, work in enumerate(listed(message.get("items"))):
        if not isinstance(work, Mapping):
            continue
        answer = record_answer(work)
        out.append(Candidate(source=NAME, work=Article(**answer.metadata), rank=rank,
                             answer=answer if answer.metadata.get("doi") else None))
    return tuple(out)


def work_answer(body: Any, wanted: str) -> SourceAnswer:
    """The answer for the JSON of a work lookup's 200; ``wanted``: the DOI's key."""
    work = require(body, WORK, LABEL)["message"]
    if doi_key(work["DOI"]) != wanted:
        raise SourceBadResponse("Crossref answered about another DOI")
    return record_answer(work)


def search_answer(body: Any) -> SourceAnswer:
    """The answer for the JSON of a search's 200: its hits as candidates."""
    found = candidates_of(require(body, SEARCH, LABEL)["message"])
    return SourceAnswer(source=NAME, state="ok" if found else "not_found", candidates=found)


def _refusal(reply: Reply) -> str:
    """Crossref's own words from a validation-failure body, when it sent them."""
    messages = listed(mapping(json_or_none(reply.body)).get("message"))
    said = "; ".join(m["message"].strip() for m in messages
                     if isinstance(m, Mapping) and isinstance(m.get("message"), str))
    return f"Crossref refused the request (HTTP 400){': ' + said if said else ''}"


class Crossref(HttpSource):
    """The Crossref adapter (Source and SearchSource protocols)."""

    name = NAME
    label = LABEL

    def __init__(self, base_url: str | None = None, email: str | None = None, *,
                 enabled: bool = True, gate: Gate | None = None,
                 clock: Clock = time.monotonic) -> None:
        super().__init__(base_url or DEFAULT_BASE_URL, gate=gate, enabled=enabled, clock=clock)
        self.email = (email or "").strip() or None

    def cache_key(self, article: Article) -> str | None:
        """Asked by DOI, except arXiv's own DOIs: DataCite registers them, and Crossref
        answers 404 for every one (recorded), so asking would only spend a call."""
        if not article.doi or not has_publisher_doi(article):
            return None
        return f"doi:{doi_key(article.doi)}"

    def search_key(self, query: WorkQuery) -> str | None:
        return f"search:{fold(query.title)}|{fold(query.first_author)}|{query.year or ''}"

    def health(self) -> SourceHealth:
        return SourceHealth(enabled=self.enabled, configured=True, last_error=self._last_error)

    def _polite(self) -> dict[str, str]:
        return {"mailto": self.email} if self.email else {}

    def work_url(self, doi: str) -> yarl.URL:
        path = f"{self.base_url}/works/{quote(doi, safe=DOI_PATH_SAFE)}"
        query = f"?mailto={quote(self.email, safe='@')}" if self.email else ""
        return yarl.URL(path + query, encoded=True)

    def search_url(self, query: WorkQuery) -> yarl.URL:
        bibliographic = " ".join(p for p in (query.title, str(query.year or "")) if p)
        params = {"query.bibliographic": bibliographic, "rows": str(SEARCH_ROWS),
                  "select": SEARCH_FIELDS, **self._polite()}
        if query.first_author:
            params["query.author"] = query.first_author
        return yarl.URL(f"{self.base_url}/works").with_query(params)

    async def lookup(self, article: Article, session: aiohttp.ClientSession,
                     timeout: float) -> SourceAnswer:
        if not self.enabled:
            return SourceAnswer(source=NAME, state="disabled")
        if not article.doi or self.cache_key(article) is None:
            return SourceAnswer(source=NAME, state="skipped")
        wanted = doi_key(article.doi)

        def read(reply: Reply) -> SourceAnswer:
            if reply.status == 404:  # "Resource not found." whatever its content type says
                return SourceAnswer(source=NAME, state="not_found")
            self._check(reply)
            return work_answer(self.json_body(reply), wanted)

        return await self.ask(session, self.work_url(article.doi), timeout, read)

    async def search(self, query: WorkQuery, session: aiohttp.ClientSession,
                     timeout: float) -> SourceAnswer:
        if not self.enabled:
            return SourceAnswer(source=NAME, state="disabled")

        def read(reply: Reply) -> SourceAnswer:
            self._check(reply)
            return search_answer(self.json_body(reply))

        return await self.ask(session, self.search_url(query), timeout, read)

    def _check(self, reply: Reply) -> None:
        if reply.status == 400:
            raise SourceError(_refusal(reply))
        if reply.status != 200:
            raise self.unexpected(reply)
