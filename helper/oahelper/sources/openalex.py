"""OpenAlex: a DOI → every location of the work; a title → works.

``GET {base}/works/https://doi.org/{doi}`` and ``GET {base}/works?filter=title.search:…``,
with the API key (``oahelper keys set openalex``) as ``api_key=`` and the configured
e-mail as ``mailto=``. Keyless calls are charged against a small daily allowance that
OpenAlex reports in ``X-RateLimit-*`` headers (``politeness.py`` stops asking when it
is used up); when OpenAlex refuses keyless calls (401/403), the source says it needs a
key. An unknown DOI gets an HTML 404 page (recorded), not JSON: the status is what
counts. OpenAlex's own ``oa_status`` is not used: ``oa_status`` stays Unpaywall's.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any, get_args
from urllib.parse import quote

import aiohttp
import yarl

from oahelper.errors import SourceConfigProblem
from oahelper.identifiers import doi_key, normalise_doi, normalise_pmcid, normalise_pmid
from oahelper.models import Article, Location, SourceAnswer, Version, WorkQuery
from oahelper.sources.base import SourceHealth
from oahelper.sources.http import Clock, Each, HttpSource, Reply, Shape, hits_answer, listed, mapping, one_of, require
from oahelper.sources.match import fold
from oahelper.sources.politeness import Gate
from oahelper.text import plain

NAME = "openalex"
LABEL = "OpenAlex"
DEFAULT_BASE_URL = "https://api.openalex.org"
SET_KEY = "oahelper keys set openalex"
SEARCH_RESULTS = 5
VERSIONS = frozenset(get_args(Version))
# Characters that separate filters or values in OpenAlex's filter syntax.
_FILTER_UNSAFE = re.compile(r"[,:|!<>]+")
_ID_TAIL = re.compile(r"[^/]+$")
# What every whole work in ../shared/fixtures/openalex has (the three works_doi-url_
# lookups and both hits of the title search; the fifth file asked select= for two
# fields, which this adapter never does): its id, and locations, a list whose every
# entry (18 recorded) says is_oa. The rest is optional.
WORK = Shape("a work", {"id": str, "locations": Each({"is_oa": bool})})
# A search is {"meta": …, "results": [work, …]} (works-search_filter-title.search-…).
SEARCH = Shape("a list of works", {"results": Each(WORK.fields)})


def _text(value: Any) -> str | None:
    return plain(value) or None if isinstance(value, str) else None


def _tail(url: Any) -> str:
    """The last path part of an OpenAlex id URL ("https://pubmed…/17183658" → "17183658")."""
    match = _ID_TAIL.search(url) if isinstance(url, str) else None
    return match.group(0) if match else ""


def metadata_of(work: Mapping[str, Any]) -> dict[str, Any]:
    ids = mapping(work.get("ids"))
    source = mapping(mapping(work.get("primary_location")).get("source"))
    authors = tuple(name for a in listed(work.get("authorships")) if isinstance(a, Mapping)
                    if (name := _text(mapping(a.get("author")).get("display_name"))))
    pmcid = _tail(ids.get("pmcid"))
    fields: dict[str, Any] = {
        "doi": normalise_doi(str(work.get("doi") or "")),
        "pmid": normalise_pmid(_tail(ids.get("pmid"))),
        "pmcid": normalise_pmcid(pmcid) if pmcid else None,
        "title": _text(work.get("title") or work.get("display_name")),
        "year": work.get("publication_year") if isinstance(work.get("publication_year"), int) else None,
        "journal": _text(source.get("display_name")) if source.get("type") == "journal" else None,
        "authors": authors,
    }
    return {k: v for k, v in fields.items() if v}


def _location(raw: Any) -> Location | None:
    """One OpenAlex location that is open access (is_oa), else None."""
    if not isinstance(raw, Mapping) or raw.get("is_oa") is not True:
        return None
    pdf = _text(raw.get("pdf_url"))
    landing = _text(raw.get("landing_page_url"))
    url = pdf or landing
    if not url:
        return None
    source = mapping(raw.get("source"))
    kind = source.get("type")
    return Location(url=url, source=NAME, pdf_url=pdf, landing_url=landing,
                    version=one_of(raw.get("version"), VERSIONS),
                    license=_text(raw.get("license")),
                    host_type="repository" if kind == "repository" else ("publisher" if kind else None),
                    repository=_text(source.get("display_name")) if kind == "repository" else None,
                    evidence="OpenAlex: open access location")


def record_answer(work: Mapping[str, Any]) -> SourceAnswer:
    locations = tuple(loc for r in listed(work.get("locations")) if (loc := _location(r)))
    return SourceAnswer(source=NAME, state="ok", locations=locations, metadata=metadata_of(work))


def work_answer(body: Any) -> SourceAnswer:
    """The answer for the JSON of a work lookup's 200."""
    return record_answer(require(body, WORK, LABEL))


def search_answer(body: Any) -> SourceAnswer:
    """The answer for the JSON of a title search's 200: its works as candidates."""
    return hits_answer(NAME, map(record_answer, require(body, SEARCH, LABEL)["results"]))


class OpenAlex(HttpSource):
    """The OpenAlex adapter (Source and SearchSource protocols)."""

    name = NAME
    label = LABEL

    def __init__(self, base_url: str | None = None, api_key: str | None = None,
                 email: str | None = None, *, enabled: bool = True, gate: Gate | None = None,
                 clock: Clock = time.monotonic) -> None:
        super().__init__(base_url or DEFAULT_BASE_URL, gate=gate, enabled=enabled, clock=clock)
        self._api_key = api_key or None
        self.email = email or None
        self._refused: str | None = None

    def cache_key(self, article: Article) -> str | None:
        return f"doi:{doi_key(article.doi)}" if article.doi else None

    def search_key(self, query: WorkQuery) -> str | None:
        return f"search:{fold(query.title)}"

    def health(self) -> SourceHealth:
        key = "set" if self._api_key else ("needed" if self._refused else "not set")
        return SourceHealth(enabled=self.enabled, configured=self._refused is None,
                            last_error=self._last_error,
                            problems=[self._refused] if self._refused else [], key=key)

    def _params(self) -> dict[str, str]:
        params = {"api_key": self._api_key} if self._api_key else {}
        return params | ({"mailto": self.email} if self.email else {})

    def work_url(self, doi: str) -> yarl.URL:
        query = "&".join(f"{k}={quote(v, safe='@')}" for k, v in self._params().items())
        path = f"{self.base_url}/works/https://doi.org/{quote(doi, safe='/():;')}"
        return yarl.URL(path + (f"?{query}" if query else ""), encoded=True)

    def search_url(self, query: WorkQuery) -> yarl.URL:
        title = " ".join(_FILTER_UNSAFE.sub(" ", query.title).split())
        return yarl.URL(f"{self.base_url}/works").with_query(
            {"filter": f"title.search:{title}", "per-page": str(SEARCH_RESULTS), **self._params()})

    def _check(self, reply: Reply) -> None:
        if reply.status in (401, 403):
            self._refused = (f"OpenAlex refused the {'API key' if self._api_key else 'call without an API key'} "
                             f"(HTTP {reply.status}): get a free key at openalex.org and run `{SET_KEY}`")
            raise SourceConfigProblem(self._refused)
        if reply.status != 200:
            raise self.unexpected(reply)
        self._refused = None

    async def lookup(self, article: Article, session: aiohttp.ClientSession,
                     timeout: float) -> SourceAnswer:
        if not self.enabled:
            return SourceAnswer(source=NAME, state="disabled")
        if not article.doi:
            return SourceAnswer(source=NAME, state="skipped")

        def read(reply: Reply) -> SourceAnswer:
            if reply.status == 404:  # an HTML page, not JSON
                return SourceAnswer(source=NAME, state="not_found")
            self._check(reply)
            return work_answer(self.json_body(reply))

        return await self.ask(session, self.work_url(article.doi), timeout, read)

    async def search(self, query: WorkQuery, session: aiohttp.ClientSession,
                     timeout: float) -> SourceAnswer:
        if not self.enabled:
            return SourceAnswer(source=NAME, state="disabled")

        def read(reply: Reply) -> SourceAnswer:
            self._check(reply)
            return search_answer(self.json_body(reply))

        return await self.ask(session, self.search_url(query), timeout, read)
