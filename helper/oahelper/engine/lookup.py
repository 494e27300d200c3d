"""The one orchestration path of a lookup, shared by the daemon and the CLI.

page (url + html), identifier or typed title/reference → Article → the resolver
identifies it (at most one round: Europe PMC or arXiv for a PMID/PMCID/arXiv id, or
the search sources for a title) → for each source: cache → single flight → upstream
under one deadline → cache → merge → payload. Every upstream call of both rounds goes
through ``_cached_call``. A failing source is data: it shows in ``sources`` and, when
an expired answer exists, that answer is served marked stale.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from oahelper.engine.budget import CallBudgets, Caller, Ticket
from oahelper.engine.cache import AsyncCache, Cached
from oahelper.engine.merge import build_payload, rank_locations
from oahelper.engine.pauses import Pauses
from oahelper.engine.slots import FairSlots, SlotClaim
from oahelper.errors import FetchError, OAHelperError, PageOverBudget, ScrapeError, SourceThrottled
from oahelper.identifiers import normalise_doi, parse_query
from oahelper.links.check import CheckedLink, LinkChecker, iso_time
from oahelper.links.verdict import ArticleRef
from oahelper.models import BROKEN_TIER, LINK_TIER, Article, LinkCheck, SourceAnswer, WorkQuery
from oahelper.net import FetchedPage
from oahelper.resolve.query import work_query
from oahelper.resolve.resolver import Identified, Resolver
from oahelper.scrape import scrape
from oahelper.scrape.decode import decode_labelled
from oahelper.settings import Settings
from oahelper.sources.base import SearchSource, Source
from oahelper.sources.politeness import Gate, queueing

log = logging.getLogger(__name__)

PageFetcher = Callable[[str], Awaitable[FetchedPage]]
# The code of a source our own politeness limit left no slot in time (SourceThrottled).
THROTTLED = SourceThrottled.code
# How long a busy source's answer may take when it is finished in the background, and
# how many such answers may be under way at once (each one is a request, queued).
BACKGROUND_SECONDS = 120.0
MAX_BACKGROUND = 500
# Copies whose links one lookup opens, best first (a record lists a handful; a hostile
# one could list thousands).
MAX_LINKS_CHECKED = 10
# Reads (url, html) into an Article: the daemon's PageReader (under a budget, in worker
# processes); without one, the scraper runs in a thread.
PageReader = Callable[[str | None, str | bytes], Awaitable[Article]]
# The budget ticket of the lookup running in this task (engine/budget.py); None: no budget.
_TICKET: contextvars.ContextVar[Ticket | None] = contextvars.ContextVar("ticket", default=None)
# The batch slot of the lookup running in this task (engine/slots.py); None: no slot needed.
_SLOT: contextvars.ContextVar[SlotClaim | None] = contextvars.ContextVar("slot", default=None)


@dataclass(frozen=True)
class LookupRequest:
    """What a caller asks about: a page (url + html), a page URL alone, an identifier
    (``doi``: a DOI, PMID, PMCID or arXiv id), or ``query``: any text the user typed
    (an identifier, a title or a pasted reference)."""

    url: str | None = None
    html: str | bytes | None = None
    doi: str | None = None
    query: str | None = None


def _decoded(page: FetchedPage) -> str | bytes:
    """The body as text when the server named a charset a browser knows, else bytes
    (the scraper then reads the page's own declaration)."""
    return decode_labelled(page.body, page.charset)


class LookupService:
    """Answers lookups; one per process, sharing the cache and HTTP session."""

    def __init__(self, *, sources: Sequence[Source], cache: AsyncCache,
                 session: aiohttp.ClientSession, timeout: float,
                 openurl_base: str | None = None, fetch_page: PageFetcher | None = None,
                 read_page: PageReader | None = None, budgets: CallBudgets | None = None,
                 daily_limits: Mapping[str, int] | None = None, offline: bool = False,
                 pauses: Pauses | None = None, slots: FairSlots | None = None,
                 links: LinkChecker | None = None, link_seconds: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sources = list(sources)
        self.cache = cache
        self.session = session
        self.timeout = timeout
        self.openurl_base = openurl_base
        self.fetch_page = fetch_page
        self.read_page = read_page
        self.budgets = budgets
        self.daily_limits = dict(daily_limits or {})
        self.offline = offline  # ask only the sources that need no network
        self.clock = clock
        self.pauses = pauses or Pauses()
        self.slots = slots
        self.links = links  # None: copies' links are not opened (verify_links off, offline)
        self.link_seconds = link_seconds
        self._inflight: dict[tuple[str, str], asyncio.Task[SourceAnswer]] = {}
        # Busy sources being asked after the answer went out (see _finish_later).
        self._background: dict[tuple[str, str], asyncio.Task[None]] = {}

    async def aclose(self) -> None:
        """Cancel the upstream calls still running (shielded from their callers), so
        none outlives the cache and session it writes to."""
        tasks: list[asyncio.Future[Any]] = [*self._inflight.values(), *self._background.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def lookup(self, request: LookupRequest, *, caller: Caller | None = None) -> dict[str, Any]:
        """The payload for one request (never raises for upstream trouble). ``caller``:
        whose budget of upstream lookups it spends (engine/budget.py); None: the user's own."""
        started = self.clock()
        article, query, page_problem = await self.request_article(request)
        typed = request.html is None and bool(request.doi or request.query)
        return await self.lookup_article(article, query=query, page_problem=page_problem,
                                         started=started, caller=caller, typed=typed)

    async def lookup_article(self, article: Article, *, query: WorkQuery | None = None,
                             page_problem: str | None = None, started: float | None = None,
                             caller: Caller | None = None, typed: bool = True,
                             bulk: bool = False) -> dict[str, Any]:
        """The payload for an article already read: a page's, or a reading-list entry
        with several identifiers and its citation (never raises for upstream trouble).
        One without an identifier is searched for by ``query``, else by its own title,
        first author and year. ``typed``: the identifier came from a person (a typo is
        likely), not from a publisher's page (which may be too new to be indexed).
        ``bulk``: an audit's lookup, whose link checks keep to the hosts' bulk pace and
        are waited for (nobody is watching a badge)."""
        # Every upstream call this lookup makes, searches included, goes through
        # _cached_call, which asks the caller's ticket (one unit for the whole lookup).
        # A batch lookup takes one of the shared batch slots at its first cache miss.
        mark = _TICKET.set(self.budgets.ticket(caller) if caller and self.budgets else None)
        claim = SlotClaim(self.slots, caller.client) \
            if caller and caller.lane == "batch" and self.slots else None
        slot_mark = _SLOT.set(claim)
        try:
            return await self._lookup_article(article, query, page_problem, started, typed, bulk)
        finally:
            _TICKET.reset(mark)
            _SLOT.reset(slot_mark)
            if claim is not None:
                claim.give_back()

    async def check_links(self, article: Article, answers: Sequence[SourceAnswer], *,
                          bulk: bool = False) -> tuple[dict[str, LinkCheck], bool]:
        """What the copies' links gave when opened (links/), by URL, and whether some
        checks are still running. An audit waits for all of them. A lookup waits until
        the best copy is known (every copy ranked above the first working one checked,
        broken), or ``link_seconds`` at most: the badge then shows the copy a reader is
        sent to; the other checks finish in the background, into the cache, and the
        payload says ``pending: ["links"]`` so that the extension asks again."""
        if self.links is None or not article.is_article:
            return {}, False
        ranked = rank_locations(loc for answer in answers for loc in answer.locations)
        urls = list(dict.fromkeys(loc.url for loc in ranked[:MAX_LINKS_CHECKED]))
        if not urls:
            return {}, False
        wanted = ArticleRef(doi=article.doi, title=article.title)
        tasks = {url: asyncio.ensure_future(self.links.check(url, wanted, bulk=bulk)) for url in urls}
        deadline = None if bulk else self.clock() + self.link_seconds
        while not all(t.done() for t in tasks.values()) and not (
                not bulk and _best_is_known([tasks[u] for u in urls])):
            left = None if deadline is None else deadline - self.clock()
            if left is not None and left <= 0:
                break
            await asyncio.wait([t for t in tasks.values() if not t.done()], timeout=left,
                               return_when=asyncio.FIRST_COMPLETED)
        checks = {url: LinkCheck(state=c.state, checked_at=iso_time(c.checked_at),
                                 final_url=c.verdict.final_url)
                  for url, task in tasks.items() if task.done() and not task.cancelled()
                  for c in [task.result()]}
        return checks, len(checks) < len(tasks)

    async def settle(self, timeout: float = BACKGROUND_SECONDS) -> None:
        """Wait (at most ``timeout`` seconds) for the busy sources' answers under way."""
        tasks = list(self._background.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def lookup_article_settled(self, article: Article, **kw: Any) -> dict[str, Any]:
        """``lookup_article``, for work nobody watches (an audit): an answer still open
        while a busy source is asked in the background (unknown, not found) waits for
        that source and is looked up again. A decided answer (free, no free copy) is
        not held up by a source that could only add to it."""
        payload = await self.lookup_article(article, **kw)
        for _ in range(3):
            if not set(payload["pending"]) - {"links"} or payload["status"] not in ("unknown", "not_found"):
                break
            await self.settle()
            payload = await self.lookup_article(article, **kw)
        return payload

    async def _lookup_article(self, article: Article, query: WorkQuery | None,
                              page_problem: str | None, started: float | None,
                              typed: bool, bulk: bool) -> dict[str, Any]:
        started = self.clock() if started is None else started
        deadline = started + self.timeout
        query = query or title_query(article)
        answers: list[SourceAnswer] = []
        found = Identified(article)
        if article.is_article or query is not None:
            found = await self.identify(found.article, query, deadline)
            if found.article.is_article:
                answers = await self.ask_sources(found.article, deadline, known=found.known)
            if not found.article.identifiers:
                answers = _with_searches(answers, found.searched)
        links, checking = await self.check_links(found.article, answers, bulk=bulk)
        elapsed = int((self.clock() - started) * 1000)
        payload = build_payload(found.article, answers, openurl_base=self.openurl_base,
                                elapsed_ms=elapsed, page_problem=page_problem or found.problem,
                                match=found.match.to_json() if found.match else None,
                                no_match=found.no_match, typed=typed, links=links,
                                pending=("links",) if checking else ())
        # The works the page cites, for "Check the N references" (never looked up here).
        payload["references"] = [ref.to_json() for ref in article.references]
        payload["offline"] = self.offline
        return payload

    def resolver(self, deadline: float) -> Resolver:
        """The resolver, asking through this service's cache, single flight, quotas and
        politeness, under ``deadline`` (a ``clock()`` time)."""

        async def ask_lookup(source: Source, article: Article) -> tuple[str | None, SourceAnswer]:
            key = source.cache_key(article)
            return key, await self._answer(source, article, deadline, key)

        async def ask_search(source: SearchSource, query: WorkQuery) -> SourceAnswer:
            key = source.search_key(query)
            if key is None:
                return SourceAnswer(source=source.name, state="skipped")
            return await self._cached_call(
                source, key, deadline,
                lambda remaining: source.search(query, self.session, remaining))

        return Resolver(self.sources, ask_lookup, ask_search, busy=busy_for)

    async def identify(self, article: Article, query: WorkQuery | None,
                       deadline: float | None = None) -> Identified:
        """The article with what identifies it (for a reading list's entries too)."""
        deadline = deadline if deadline is not None else self.clock() + self.timeout
        return await self.resolver(deadline).identify(article, query)

    async def request_article(self, request: LookupRequest
                              ) -> tuple[Article, WorkQuery | None, str | None]:
        """The article a request names, the title/reference to search for when it names
        none, and why the page could not be read (None when it could, or needed not be)."""
        if request.query is not None and request.html is None and not request.doi:
            text = request.query.strip()
            if text.startswith(("http://", "https://")) and parse_query(text) is None:
                article, problem = await self.article_for(LookupRequest(url=text))
                return article, None, problem
            found = parse_query(text)
            if found is not None:
                return found, None, None
            return work_query(text)
        article, problem = await self.article_for(request)
        return article, None, problem

    async def article_for(self, request: LookupRequest) -> tuple[Article, str | None]:
        """The article from the sent page, the typed identifier, or the fetched URL,
        and why the page could not be fetched (None when it could, or needed not be)."""
        problem = None
        if request.html is not None:
            article, problem = await self._read(request.url, request.html)
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
        return await self._read(page.url, _decoded(page))

    async def _read(self, url: str | None, html: str | bytes) -> tuple[Article, str | None]:
        """The page's article, off the event loop; for a page over the reading budget,
        what its URL says and why the page was not read."""
        if self.read_page is None:
            return await asyncio.to_thread(self._scrape_or_url, url, html), None
        try:
            return await self.read_page(url, html), None
        except PageOverBudget as exc:
            log.warning("page not read: %s", exc.message)
            return self._scrape_or_url(url, b""), f"could not read the page: {exc.message}"
        except ScrapeError as exc:
            log.info("unreadable page (%s); using its URL only", exc.message)
            return self._scrape_or_url(url, b""), None

    @staticmethod
    def _scrape_or_url(url: str | None, html: str | bytes) -> Article:
        """The page's article; when the page cannot be read, what its URL says."""
        try:
            return scrape(url, html)
        except ScrapeError as exc:
            log.info("unreadable page (%s); using its URL only", exc.message)
            return (parse_query(url) if url else None) or Article(url=url)

    async def ask_sources(self, article: Article, deadline: float | None = None, *,
                          known: Mapping[str, tuple[str | None, SourceAnswer]] | None = None
                          ) -> list[SourceAnswer]:
        """Every source's answer, asked concurrently under one deadline. ``known``
        answers (from the resolver, about this very article) are used as they are: a
        source that found the article is not asked again under the identifier it gave;
        one that did not is asked again only with a new identifier, unless its answer
        came without a key (the resolver's final word for this lookup)."""
        deadline = deadline if deadline is not None else self.clock() + self.timeout
        known = known or {}

        async def one(source: Source) -> SourceAnswer:
            key = source.cache_key(article) if source.health().enabled else None
            had = known.get(source.name)
            if had is not None and (had[0] is None or key is None or key == had[0]
                                    or had[1].state == "ok"):
                if had[0] is not None and not had[1].cached:
                    self.cache.put(had[1], had[0])
                return had[1]
            return await self._answer(source, article, deadline, key)

        return list(await asyncio.gather(*(one(s) for s in self.sources)))

    def _may_ask(self, source: Source) -> bool:
        """Switched on, and (offline) needing no network. A source that may not be
        asked does not answer from the cache either."""
        return source.health().enabled and not (self.offline and source.needs_network)

    async def _answer(self, source: Source, article: Article, deadline: float,
                      key: str | None) -> SourceAnswer:
        if not self._may_ask(source):
            return SourceAnswer(source=source.name, state="disabled")
        if key is None:
            return SourceAnswer(source=source.name, state="skipped")
        return await self._cached_call(
            source, key, deadline, lambda remaining: source.lookup(article, self.session, remaining))

    async def _cached_call(self, source: Source, key: str, deadline: float,
                           call: Callable[[float], Awaitable[SourceAnswer]]) -> SourceAnswer:
        """Cache → single flight → upstream (``call`` with the seconds left) → cache.

        A paused source (engine/pauses.py) is not asked; a busy one (our politeness
        limit left it no slot in time) is asked in the background and said ``pending``.
        """
        if not self._may_ask(source):
            return SourceAnswer(source=source.name, state="disabled")
        cached = await self.cache.get(source.name, key)
        if cached is not None and cached.fresh:
            return dataclasses.replace(cached.answer, cached=True)
        flight_key = (source.name, key)
        task = self._inflight.get(flight_key)
        if task is None:
            waiting = self._not_asked_now(source, flight_key)
            if waiting is not None:
                return _stale_or(waiting, cached)
        # A source that needs no network (the local snapshot) costs no upstream call.
        ticket = _TICKET.get() if source.needs_network else None
        if task is None and ticket is not None and not ticket.spend():
            return _rate_limited(source.name, cached, ticket)
        claim = _SLOT.get() if source.needs_network else None
        if task is None and claim is not None:
            queued = self.clock()
            await claim.take()
            deadline += self.clock() - queued  # time in the queue is not the source's time
            task = self._inflight.get(flight_key)  # another lookup may have asked meanwhile
        if task is None:
            task = asyncio.ensure_future(self._ask_upstream(source, key, deadline, call))
            self._inflight[flight_key] = task
            task.add_done_callback(lambda _t: self._inflight.pop(flight_key, None))
        # shield: one caller giving up must not cancel the call others wait for
        answer = await asyncio.shield(task)
        if answer.state == "skipped" and answer.error_code == THROTTLED:
            answer = self._finish_later(source, key, call)
        return _stale_or(answer, cached)

    def _not_asked_now(self, source: Source, flight_key: tuple[str, str]) -> SourceAnswer | None:
        """Why ``source`` is not asked now (paused, or still being asked in the
        background), or None when it may be."""
        pause = self.pauses.paused(source.name)
        if pause is not None:
            return SourceAnswer(source=source.name, state="paused", error_code="source_paused",
                                error=pause.words(label(source)))
        if flight_key in self._background:
            return _busy(source)
        return None

    def _finish_later(self, source: Source, key: str,
                      call: Callable[[float], Awaitable[SourceAnswer]]) -> SourceAnswer:
        """Ask a busy source again in the background, waiting in its queue this time;
        its answer is cached for the next lookup, which the extension makes shortly."""
        flight_key = (source.name, key)
        if flight_key not in self._background and len(self._background) < MAX_BACKGROUND:

            async def later() -> None:
                with queueing():
                    await self._ask_upstream(source, key, self.clock() + BACKGROUND_SECONDS, call)

            task = asyncio.ensure_future(later())
            self._background[flight_key] = task
            task.add_done_callback(lambda _t: self._background.pop(flight_key, None))
        if flight_key not in self._background:  # too many already: the next lookup asks
            return SourceAnswer(source=source.name, state="skipped", error_code=THROTTLED,
                                error=f"{label(source)} was busy")
        return _busy(source)

    async def _ask_upstream(self, source: Source, key: str, deadline: float,
                            call: Callable[[float], Awaitable[SourceAnswer]]) -> SourceAnswer:
        limit = self.daily_limits.get(source.name)
        if limit is not None and await self.cache.calls_today(source.name) >= limit:
            return SourceAnswer(source=source.name, state="error", error_code="source_quota",
                                error=f"the daily limit of {limit} {source.name} calls is used up; "
                                      "cached answers still work")
        remaining = max(0.05, deadline - self.clock())
        started = self.clock()
        try:
            # The adapter keeps to the deadline itself; this is the safety net.
            async with asyncio.timeout(remaining + 0.5):
                answer = await call(remaining)
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
        self.pauses.note(answer)
        self.cache.count_calls(source.name, answer.calls)
        if self.cache.put(answer, key):
            log.debug("cached %s answer (%s)", source.name, answer.state)
        elif answer.state == "error":
            log.warning("%s: %s", source.name, answer.error)
            self.cache.note_error(source.name, answer.error or answer.error_code or "error")
        return answer


def _best_is_known(ranked: Sequence[asyncio.Future[CheckedLink]]) -> bool:
    """The copies' checks, best-ranked first: is the first working one (a PDF or the
    article's page) known, with every one ranked above it known to be broken?"""
    for task in ranked:
        if not task.done() or task.cancelled():
            return False
        state = task.result().state
        if LINK_TIER[state] == 0:
            return True
        if LINK_TIER[state] != BROKEN_TIER:
            return False  # passable or not known: a later working copy would outrank it
    return False


def label(source: Source) -> str:
    """The source's name as people read it ("Semantic Scholar")."""
    return str(getattr(source, "label", source.name))


def _busy(source: Source) -> SourceAnswer:
    """A busy source being asked in the background. What a person reads says so in
    plain words, never the limiter's own ("allows one request every 1 s")."""
    return SourceAnswer(source=source.name, state="skipped", error_code="source_busy",
                        error=f"{label(source)} was busy; asking again", pending=True)


def _stale_or(answer: SourceAnswer, cached: Cached | None) -> SourceAnswer:
    """A source that could not answer now: its expired cached answer, marked stale
    (with why), when there is one; else ``answer``."""
    if answer.state in ("error", "skipped", "paused") and answer.error and cached is not None:
        return dataclasses.replace(cached.answer, cached=True, stale=True, pending=answer.pending,
                                   error=answer.error, error_code=answer.error_code)
    return answer


def _rate_limited(source: str, cached: Cached | None, ticket: Ticket) -> SourceAnswer:
    """A source not asked because the caller's budget is spent: its expired cached
    answer, marked stale, or none."""
    if cached is not None:
        return dataclasses.replace(cached.answer, cached=True, stale=True, error=ticket.refusal,
                                   error_code="rate_limited")
    return SourceAnswer(source=source, state="rate_limited", error=ticket.refusal,
                        error_code="rate_limited")


def busy_for(source: Source) -> tuple[float, str]:
    """Seconds until ``source``'s politeness gate lets a request go, and its limit in words."""
    gate = getattr(source, "gate", None)  # HTTP sources have one (sources/http.py)
    return (gate.expected_wait(), gate.limit.words()) if isinstance(gate, Gate) else (0.0, "")


def title_query(article: Article) -> WorkQuery | None:
    """What to search for when an article with citation data has no identifier (a
    page, a reading-list entry): its title, first author and year; else None."""
    if not article.is_article or article.identifiers or not article.title:
        return None
    return WorkQuery(kind="title", title=article.title,
                     first_author=article.authors[0] if article.authors else None,
                     year=article.year)


def _with_searches(answers: list[SourceAnswer], searched: Sequence[SourceAnswer]
                   ) -> list[SourceAnswer]:
    """When nothing was identified, what each search source said stands in for its
    (skipped) lookup, so ``sources`` shows why nothing matched."""
    said = {a.source: a for a in searched}
    out = [said.pop(a.source, a) if a.state == "skipped" else a for a in answers]
    return out + list(said.values())


def service_for(settings: Settings, *, sources: Sequence[Source], cache: AsyncCache,
                session: aiohttp.ClientSession, fetch_page: PageFetcher | None,
                read_page: PageReader | None = None,
                budgets: CallBudgets | None = None,
                pauses: Pauses | None = None, slots: FairSlots | None = None,
                links: LinkChecker | None = None) -> LookupService:
    """The LookupService the settings describe (the daemon and the CLI share it).
    Offline, no page is fetched either."""
    return LookupService(sources=sources, cache=cache, session=session,
                         timeout=settings.timeout, openurl_base=settings.openurl_base,
                         fetch_page=refuse_offline if settings.offline else fetch_page,
                         read_page=read_page, budgets=budgets,
                         daily_limits={"unpaywall": settings.unpaywall_daily_limit},
                         offline=settings.offline, pauses=pauses, slots=slots,
                         links=None if settings.offline else links,
                         link_seconds=settings.link_check_seconds)


async def refuse_offline(url: str) -> FetchedPage:
    """The page fetcher of offline mode: nothing leaves the machine."""
    raise FetchError("offline mode: the helper does not fetch pages", code="offline")
