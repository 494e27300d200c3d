"""The one orchestration path of a lookup, shared by the daemon and the CLI.

page (url + html) or identifier → Article → for each source: cache → single flight →
upstream under one deadline → cache → merge → payload. A failing source is data:
it shows in ``sources`` and, when an expired answer exists, that answer is served
marked stale.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from oahelper.cache import Cache
from oahelper.errors import FetchError, OAHelperError, ScrapeError
from oahelper.fetch import FetchedPage
from oahelper.merge import build_payload
from oahelper.models import Article, SourceAnswer
from oahelper.scrape import scrape
from oahelper.scrape.identifiers import normalise_doi, parse_query
from oahelper.settings import Settings
from oahelper.sources.base import Source

log = logging.getLogger(__name__)

PageFetcher = Callable[[str], Awaitable[FetchedPage]]


@dataclass(frozen=True)
class LookupRequest:
    """What a caller asks about: a page (url + html), a page URL alone, or a DOI."""

    url: str | None = None
    html: str | bytes | None = None
    doi: str | None = None


def _decoded(page: FetchedPage) -> str | bytes:
    """The body as text when the server named a charset Python knows, else bytes
    (the scraper then reads the page's own declaration)."""
    if page.charset:
        try:
            return page.body.decode(page.charset, errors="replace")
        except (LookupError, UnicodeError):  # not a text encoding (rot13), or one that
            pass                              # ignores errors="replace" (undefined, idna)
    return page.body


class LookupService:
    """Answers lookups; one per process, sharing the cache and HTTP session."""

    def __init__(self, *, sources: Sequence[Source], cache: Cache,
                 session: aiohttp.ClientSession, timeout: float,
                 openurl_base: str | None = None, fetch_page: PageFetcher | None = None,
                 daily_limits: Mapping[str, int] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sources = list(sources)
        self.cache = cache
        self.session = session
        self.timeout = timeout
        self.openurl_base = openurl_base
        self.fetch_page = fetch_page
        self.daily_limits = dict(daily_limits or {})
        self.clock = clock
        self._inflight: dict[tuple[str, str], asyncio.Task[SourceAnswer]] = {}

    async def aclose(self) -> None:
        """Cancel the upstream calls still running (shielded from their callers), so
        none outlives the cache and session it writes to."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def lookup(self, request: LookupRequest) -> dict[str, Any]:
        """The payload for one request (never raises for upstream trouble)."""
        started = self.clock()
        article, page_problem = await self.article_for(request)
        return await self.lookup_article(article, page_problem=page_problem, started=started)

    async def lookup_article(self, article: Article, *, page_problem: str | None = None,
                             started: float | None = None) -> dict[str, Any]:
        """The payload for an article already read: a page's, or a reading-list entry
        with several identifiers and its citation (never raises for upstream trouble)."""
        started = self.clock() if started is None else started
        answers = await self.ask_sources(article) if article.is_article else []
        elapsed = int((self.clock() - started) * 1000)
        payload = build_payload(article, answers, openurl_base=self.openurl_base,
                                elapsed_ms=elapsed, page_problem=page_problem)
        # The works the page cites, for "Check the N references" (never looked up here).
        payload["references"] = [ref.to_json() for ref in article.references]
        return payload

    async def article_for(self, request: LookupRequest) -> tuple[Article, str | None]:
        """The article from the sent page, the typed identifier, or the fetched URL,
        and why the page could not be fetched (None when it could, or needed not be)."""
        problem = None
        if request.html is not None:
            # In a thread: a hostile page can take seconds to read, and the event loop
            # must keep answering everyone else meanwhile.
            article = await asyncio.to_thread(self._scrape_or_url, request.url, request.html)
        elif request.doi:
            article = parse_query(request.doi) or Article(url=request.url)
        elif request.url:
            found = parse_query(request.url)
            article, problem = (found, None) if found else await self._fetch_and_scrape(request.url)
        else:
            article = Article()
        if request.doi and not article.doi:
            doi = normalise_doi(request.doi)
            if doi:
                article = dataclasses.replace(article, doi=doi, doi_tier="request")
        return article, problem

    async def _fetch_and_scrape(self, url: str) -> tuple[Article, str | None]:
        if self.fetch_page is None:
            return self._scrape_or_url(url, b""), None
        try:
            page = await self.fetch_page(url)
        except FetchError as exc:
            log.info("could not fetch the page (%s); using its URL only", exc.code)
            problem = (f"could not fetch the page ({exc.message}); save it from your browser "
                       "and run: oahelper lookup FILE.html --url URL")
            return self._scrape_or_url(url, b""), problem
        return await asyncio.to_thread(self._scrape_or_url, page.url, _decoded(page)), None

    @staticmethod
    def _scrape_or_url(url: str | None, html: str | bytes) -> Article:
        """The page's article; when the page cannot be read, what its URL says."""
        try:
            return scrape(url, html)
        except ScrapeError as exc:
            log.info("unreadable page (%s); using its URL only", exc.message)
            return (parse_query(url) if url else None) or Article(url=url)

    async def ask_sources(self, article: Article) -> list[SourceAnswer]:
        """Every source's answer, asked concurrently under one deadline."""
        deadline = self.clock() + self.timeout
        return list(await asyncio.gather(*(self._answer(s, article, deadline) for s in self.sources)))

    async def _answer(self, source: Source, article: Article, deadline: float) -> SourceAnswer:
        if not source.health().enabled:  # turned off: not even its old answers count
            return SourceAnswer(source=source.name, state="disabled")
        key = source.cache_key(article)
        if key is None:
            return SourceAnswer(source=source.name, state="skipped")
        cached = self.cache.get(source.name, key)
        if cached is not None and cached.fresh:
            return dataclasses.replace(cached.answer, cached=True)
        flight_key = (source.name, key)
        task = self._inflight.get(flight_key)
        if task is None:
            task = asyncio.ensure_future(self._ask_upstream(source, article, key, deadline))
            self._inflight[flight_key] = task
            task.add_done_callback(lambda _t: self._inflight.pop(flight_key, None))
        # shield: one caller giving up must not cancel the call others wait for
        answer = await asyncio.shield(task)
        if answer.state == "error" and cached is not None:
            return dataclasses.replace(cached.answer, cached=True, stale=True,
                                       error=answer.error, error_code=answer.error_code)
        return answer

    async def _ask_upstream(self, source: Source, article: Article, key: str,
                            deadline: float) -> SourceAnswer:
        limit = self.daily_limits.get(source.name)
        if limit is not None and self.cache.calls_today(source.name) >= limit:
            return SourceAnswer(source=source.name, state="error", error_code="source_quota",
                                error=f"the daily limit of {limit} {source.name} calls is used up; "
                                      "cached answers still work")
        remaining = max(0.05, deadline - self.clock())
        started = self.clock()
        try:
            # The adapter keeps to the deadline itself; this is the safety net.
            async with asyncio.timeout(remaining + 0.5):
                answer = await source.lookup(article, self.session, remaining)
        except TimeoutError:
            answer = SourceAnswer(source=source.name, state="error", error_code="source_timeout",
                                  error=f"no answer within {remaining:.1f} s",
                                  ms=int((self.clock() - started) * 1000))
        except OAHelperError as exc:
            answer = SourceAnswer(source=source.name, state="error", error_code=exc.code,
                                  error=exc.message)
        except Exception:  # an adapter bug must not sink the lookup or the other sources
            log.exception("%s adapter failed", source.name)
            answer = SourceAnswer(source=source.name, state="error", error_code="internal",
                                  error="internal error in this source's adapter")
        self.cache.count_calls(source.name, answer.calls)
        if self.cache.put(answer, key):
            log.debug("cached %s answer (%s)", source.name, answer.state)
        elif answer.state == "error":
            log.warning("%s: %s", source.name, answer.error)
        return answer


def service_for(settings: Settings, *, sources: Sequence[Source], cache: Cache,
                session: aiohttp.ClientSession, fetch_page: PageFetcher | None) -> LookupService:
    """The LookupService the settings describe (the daemon and the CLI share it)."""
    return LookupService(sources=sources, cache=cache, session=session,
                         timeout=settings.timeout, openurl_base=settings.openurl_base,
                         fetch_page=fetch_page,
                         daily_limits={"unpaywall": settings.unpaywall_daily_limit})
