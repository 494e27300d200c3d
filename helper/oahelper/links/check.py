"""Opening a copy's link to see what it really gives: the network part of link checks
(docs/api.md, "Link states"; the decision itself is ``classify``'s).

One check of a URL:

- one GET through ``net.redirects.follow`` on a session from ``make_fetch_session``:
  the address policy on every hop (at most 5 redirects; a loop or a longer chain ends
  with the last redirect in hand, which ``classify`` calls an error), no cookies, one
  deadline (``FetchPolicy.timeout``). The GET asks for ``Range: bytes=0-N``, N the most
  this check would read, so a server that honours it never sends more; one that ignores
  it is read to the same caps, and a 416 is asked again without the header.
- read as far as the class needs: the first KiB tells a PDF from a page; a page is read
  whole within the page-fetch cap (``FetchPolicy.max_bytes``: paywall marks sit
  100-190 KB deep); a PDF of at most ``pdf_max_bytes`` is read whole and its first page
  checked (``read_first_page_async``, in a capped child process), a bigger one (by its
  declared size, or by reading past the cap) stays ``pdf``, unchecked, the reason says so.
- a ``landing`` page's PDF link (``verdict.pdf_url``) is opened one hop further and
  combined with ``after_pdf_hop``: a landing page whose PDF link fails stays ``landing``.
- timeouts, TLS errors, refused connections, 5xx: ``error``; an address the policy
  refuses (loopback, private: unless ``allow_private_hosts`` lists it) is ``error``
  with the reason, and nothing is sent.

Around it: one flight per URL (a hundred lookups asking the same URL make one request);
at most ``per_host`` (2) checks at once per host, and for bulk work (audits,
``bulk=True``) at most one a second per host; verdicts cached by URL in a ``LinkStore``
(working 7 days, broken 1 day, error 1 hour; ``unchecked`` never): a warm check opens
nothing. Checks run as tasks the checker owns, so a caller may stop waiting
(``check_all(..., wait=seconds)``) while they finish in the background and fill the
store; ``aclose`` cancels those still running.

The engine's use (engine/build.py makes one per process, ``LinkChecker.from_settings``)::

    report = await links.check_all(urls, ArticleRef(doi, title), wait=settings.link_check_seconds)
    for location in locations:
        location["link"] = report.link(location["url"])   # "unchecked" while pending
    if report.pending:
        payload["pending"].append("links")                # the extension asks again
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import aiohttp
from aiohttp import hdrs
from aiolimiter import AsyncLimiter
from yarl import URL

from oahelper.errors import FetchError, FetchRefused
from oahelper.links.classify import after_pdf_hop, classify, is_pdf, pdf_body
from oahelper.links.markers import PDF_MAGIC, PDF_MAGIC_WITHIN
from oahelper.links.pdf import PDF_IDENTITY_MAX_BYTES, PdfReaders, PdfReading, read_first_page_async
from oahelper.links.verdict import BROKEN_STATES, WORKING_STATES, ArticleRef, LinkResponse, LinkVerdict
from oahelper.logtext import printable
from oahelper.models import LinkState
from oahelper.net import (
    FetchPolicy,
    HostPort,
    fetch_session_policy,
    follow,
    make_fetch_session,
    parse_host_ports,
)
from oahelper.settings import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], float]
PdfReader = Callable[[bytes], Awaitable[PdfReading]]

# How long a verdict is believed (docs/api.md, "Link states").
WORKING_TTL = 7 * 86400.0
BROKEN_TTL = 86400.0
ERROR_TTL = 3600.0
# Enough of the body to tell a PDF from a page (``classify.is_pdf`` looks this far).
SNIFF_BYTES = PDF_MAGIC_WITHIN + len(PDF_MAGIC)
READ_CHUNK = 64 * 1024
# The share of the deadline a PDF may take to arrive whole; past it the check says
# "pdf, too slow to read whole" rather than losing a working link to the deadline.
PDF_READ_SHARE = 0.8
# Per-host gates kept at most (the least recently used idle ones are dropped).
MAX_HOSTS = 1024
ACCEPT = "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.8"
DEFAULT_POLICY = FetchPolicy()
UNCHECKED = LinkVerdict("unchecked", "not checked yet")


def lifetime(state: LinkState) -> float | None:
    """Seconds a verdict of ``state`` is kept; None: never stored (``unchecked``)."""
    if state in WORKING_STATES:
        return WORKING_TTL
    if state in BROKEN_STATES:
        return BROKEN_TTL
    return ERROR_TTL if state == "error" else None


def iso_time(at: float | None) -> str | None:
    """``2026-12-07T10:00:00Z``, as the API writes ``checked_at``."""
    return None if at is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


class LinkStore(Protocol):
    """Where verdicts are kept by URL (engine/cache.py's ``AsyncCache`` is one).

    ``get_link`` gives the verdict and when it was checked, or None (also once it has
    expired); ``put_link`` keeps it ``ttl`` seconds and returns at once.
    """

    async def get_link(self, url: str) -> tuple[LinkVerdict, float] | None: ...

    def put_link(self, url: str, verdict: LinkVerdict, checked_at: float, ttl: float) -> None: ...


class MemoryLinkStore:
    """A ``LinkStore`` in memory, at most ``max_entries`` (the oldest dropped): for
    tests and for a process without a cache."""

    def __init__(self, clock: Clock = time.time, max_entries: int = 10_000) -> None:
        self.clock = clock
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[LinkVerdict, float, float]] = OrderedDict()

    async def get_link(self, url: str) -> tuple[LinkVerdict, float] | None:
        entry = self._entries.get(url)
        if entry is None or entry[2] <= self.clock():
            return None
        return entry[0], entry[1]

    def put_link(self, url: str, verdict: LinkVerdict, checked_at: float, ttl: float) -> None:
        self._entries.pop(url, None)
        self._entries[url] = (verdict, checked_at, checked_at + ttl)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


@dataclass(frozen=True)
class CheckedLink:
    """What a check of ``url`` said, and when (None: not checked); ``cached``: the
    verdict came from the store, nothing was opened."""

    url: str
    verdict: LinkVerdict
    checked_at: float | None
    cached: bool = False

    @property
    def state(self) -> LinkState:
        return self.verdict.state

    def to_json(self) -> dict[str, Any]:
        """The Location's ``link`` object of the API (docs/api.md)."""
        return self.verdict.to_json(iso_time(self.checked_at))


@dataclass(frozen=True)
class LinkReport:
    """The checks of some URLs at one moment: ``links`` those done, ``pending`` those
    still running (they finish in the background and fill the store: ask again)."""

    links: dict[str, CheckedLink] = field(default_factory=dict)
    pending: tuple[str, ...] = ()

    def get(self, url: str) -> CheckedLink | None:
        return self.links.get(url)

    def link(self, url: str) -> dict[str, Any]:
        """The API's ``link`` object for ``url``: ``unchecked`` while pending (or unasked)."""
        done = self.links.get(url)
        return done.to_json() if done else UNCHECKED.to_json(None)


class _Host:
    """One host's gates: ``per_host`` checks at once; for bulk work a leaky bucket."""

    def __init__(self, per_host: int, per_second: float) -> None:
        self.slots = asyncio.Semaphore(per_host)
        self.limiter = AsyncLimiter(1, 1.0 / per_second)
        self.users = 0

    @property
    def idle(self) -> bool:
        """Nobody holds or waits for it and its bucket is empty: dropping it changes nothing."""
        return self.users == 0 and self.limiter.has_capacity()


def _host_key(url: URL) -> HostPort:
    return ((url.raw_host or "").lower(), url.port or 0)


def _declared_size(resp: aiohttp.ClientResponse) -> int | None:
    """The whole body's size as the server states it: a 206's Content-Range total, or
    Content-Length when the body is not encoded (then it counts the decoded bytes)."""
    if resp.status == 206:
        _, _, total = resp.headers.get(hdrs.CONTENT_RANGE, "").rpartition("/")
        return int(total) if total.strip().isdigit() else None
    if hdrs.CONTENT_ENCODING not in resp.headers:
        return resp.content_length
    return None


async def _read_upto(resp: aiohttp.ClientResponse, size: int, body: bytes = b"") -> bytes:
    """``body`` and what follows it, until ``size`` bytes or the end of the answer."""
    data = bytearray(body)
    while len(data) < size:
        chunk = await resp.content.read(min(READ_CHUNK, size - len(data)))
        if not chunk:
            break
        data += chunk
    return bytes(data)


@dataclass(frozen=True)
class _Read:
    body: bytes
    truncated: bool = False
    slow: bool = False  # a PDF that did not arrive whole within its share of the deadline


class LinkChecker:
    """Checks copies' URLs (see the module doc). One per process; ``aclose`` it.

    ``session`` must come from ``make_fetch_session(policy, allow_private_hosts=...)``
    (its resolver enforces the address policy; ValueError otherwise); it stays the
    caller's unless ``owns_session``. ``store`` keeps verdicts (None: nothing is
    kept); ``clock`` gives ``checked_at`` and the lifetimes; ``read_pdf`` reads a PDF's
    first page (by default in a capped child process), at most ``pdf_readers`` at once.
    """

    def __init__(self, session: aiohttp.ClientSession, store: LinkStore | None = None, *,
                 policy: FetchPolicy = DEFAULT_POLICY, pdf_max_bytes: int = PDF_IDENTITY_MAX_BYTES,
                 clock: Clock = time.time, per_host: int = 2, bulk_per_second: float = 1.0,
                 read_pdf: PdfReader = read_first_page_async, pdf_readers: int = 2,
                 max_hosts: int = MAX_HOSTS, owns_session: bool = False) -> None:
        self.session = session
        self.store = store
        self.policy = policy
        self.pdf_max_bytes = pdf_max_bytes
        self.clock = clock
        self.per_host = per_host
        self.bulk_per_second = bulk_per_second
        self.max_hosts = max_hosts
        self.requests = 0  # GETs started (redirect hops not counted), for status figures
        self._addresses = fetch_session_policy(session, policy)
        self._read_pdf = read_pdf
        # Warm PDF workers this checker owns (from_settings), closed with it.
        self.pdf_readers: PdfReaders | None = None
        self._pdf_slots = asyncio.Semaphore(pdf_readers)
        self._hosts: OrderedDict[HostPort, _Host] = OrderedDict()
        self._flights: dict[str, asyncio.Task[CheckedLink]] = {}
        self._waiting: dict[str, str] = {}  # flight -> the flight its PDF hop waits for
        self._owns_session = owns_session
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings, store: LinkStore | None, *,
                      clock: Clock = time.time) -> LinkChecker:
        """The composition root's checker: its own fetch session, reaching the private
        ``allow_private_hosts`` pairs and no other; PDFs up to ``pdf_max_mb`` checked.
        Call it with the event loop running; ``aclose`` closes the session."""
        session = make_fetch_session(DEFAULT_POLICY,
                                     allow_private_hosts=parse_host_ports(settings.allow_private_hosts))
        readers = PdfReaders()
        checker = cls(session, store, pdf_max_bytes=settings.pdf_max_mb * 2**20, clock=clock,
                      owns_session=True, read_pdf=readers.read)
        checker.pdf_readers = readers
        return checker

    # --- asking ---------------------------------------------------------------------

    async def check(self, url: str, article: ArticleRef, *, bulk: bool = False) -> CheckedLink:
        """What ``url`` gives, from the store when it knows, else opened now (joining a
        check of the same URL already running). Cancelling the caller leaves the check
        running: it still fills the store."""
        return await asyncio.shield(self._flight(url, article, bulk))

    async def check_all(self, urls: Iterable[str], article: ArticleRef, *, bulk: bool = False,
                        wait: float | None = None) -> LinkReport:
        """Check every URL (each once, "" skipped) at once; wait for all, or at most
        ``wait`` seconds: the report then lists what is known and which are pending,
        and those go on in the background."""
        tasks = {url: self._flight(url, article, bulk) for url in dict.fromkeys(urls) if url}
        if tasks:
            await asyncio.wait(tasks.values(), timeout=wait)  # never cancels them
        done = {url: task.result() for url, task in tasks.items() if task.done() and not task.cancelled()}
        return LinkReport(done, tuple(url for url in tasks if url not in done))

    def running(self) -> frozenset[str]:
        """The URLs being checked right now."""
        return frozenset(self._flights)

    async def aclose(self) -> None:
        """Cancel the checks still running and close an owned session."""
        self._closed = True
        tasks = list(self._flights.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.pdf_readers is not None:
            await self.pdf_readers.aclose()
        if self._owns_session:
            await self.session.close()

    # --- one flight per URL ---------------------------------------------------------

    def _flight(self, url: str, article: ArticleRef, bulk: bool, *, hop: bool = False,
                ) -> asyncio.Task[CheckedLink]:
        """The running check of ``url``, or a new one. A ``hop`` (a landing page's PDF
        link) does not hop further, and its ``landing`` is not stored."""
        if self._closed:
            raise RuntimeError("the link checker is closed")
        task = self._flights.get(url)
        if task is None:
            task = asyncio.create_task(self._run(url, article, bulk, hop), name="link check")
            self._flights[url] = task

            def landed(done: asyncio.Task[CheckedLink], url: str = url) -> None:
                if self._flights.get(url) is done:
                    del self._flights[url]

            task.add_done_callback(landed)
        return task

    async def _run(self, url: str, article: ArticleRef, bulk: bool, hop: bool) -> CheckedLink:
        try:
            cached = await self._cached(url)
            if cached is not None:
                return cached
            verdict = await self._open(url, article, bulk)
            if not hop:
                verdict = await self._pdf_hop(url, verdict, article, bulk)
        except Exception as exc:  # a bug must not end the lookup; never stored
            log.warning("a link check of %s failed: %s", printable(_host_text(url)), printable(repr(exc)))
            return CheckedLink(url, LinkVerdict("error", "the link check failed"), self.clock())
        checked_at = self.clock()
        if not (hop and verdict.state == "landing"):  # a hop's landing is not what a check of it says
            self._keep(url, verdict, checked_at)
        return CheckedLink(url, verdict, checked_at)

    async def _cached(self, url: str) -> CheckedLink | None:
        """The stored verdict while its state's lifetime lasts."""
        found = await self.store.get_link(url) if self.store is not None else None
        if found is None:
            return None
        verdict, checked_at = found
        ttl = lifetime(verdict.state)
        if ttl is None or checked_at + ttl <= self.clock():
            return None
        return CheckedLink(url, verdict, checked_at, cached=True)

    def _keep(self, url: str, verdict: LinkVerdict, checked_at: float) -> None:
        ttl = lifetime(verdict.state)
        if self.store is not None and ttl is not None:
            self.store.put_link(url, verdict, checked_at, ttl)

    # --- a landing page's PDF link --------------------------------------------------------

    async def _pdf_hop(self, url: str, first: LinkVerdict, article: ArticleRef, bulk: bool) -> LinkVerdict:
        """``first`` with what its PDF link gives, when it is a landing page with one.

        The PDF link is usually a location of the same lookup, checked beside it: the
        hop joins that flight (from the store when it is done) rather than download the
        PDF twice, unless that flight waits, through hops, for this one (two pages
        whose PDF links name each other): then it opens the link itself.
        """
        pdf_url = first.pdf_url
        if first.state != "landing" or not pdf_url or pdf_url in (url, first.final_url):
            return first
        if self._waits_for(pdf_url, url):
            return after_pdf_hop(first, await self._open(pdf_url, article, bulk))
        self._waiting[url] = pdf_url
        try:
            hop = await asyncio.shield(self._flight(pdf_url, article, bulk, hop=True))
        finally:
            del self._waiting[url]
        return after_pdf_hop(first, hop.verdict)

    def _waits_for(self, url: str, other: str) -> bool:
        """Does the flight of ``url`` wait, hop after hop, for the flight of ``other``?"""
        seen: set[str] = set()
        current: str | None = url
        while current is not None and current not in seen:
            if current == other:
                return True
            seen.add(current)
            current = self._waiting.get(current)
        return False

    async def _open(self, url: str, article: ArticleRef, bulk: bool) -> LinkVerdict:
        """One GET of ``url``, classified (with its first page, for a PDF)."""
        try:
            target = URL(url)
        except (ValueError, TypeError):
            return LinkVerdict("error", "not opened: not a valid URL")
        try:
            async with self._slot(_host_key(target), bulk):
                self.requests += 1
                response, slow = await self._fetch(target)
        except FetchRefused as exc:
            return LinkVerdict("error", f"not opened: {exc.message}")
        except FetchError as exc:
            return LinkVerdict("error", exc.message)
        # A page of up to 5 MiB is parsed: in a thread, so the loop goes on meanwhile.
        verdict = await asyncio.to_thread(classify, response, article)
        if verdict.state == "pdf":
            if slow:
                return replace(verdict, reason=f"a PDF that did not arrive whole within "
                                               f"{self.policy.timeout * PDF_READ_SHARE:g} s; "
                                               "which paper it is is not checked")
            data = pdf_body(response, self.pdf_max_bytes)
            if data is not None:
                async with self._pdf_slots:
                    reading = await self._read_pdf(data)
                verdict = classify(response, article, reading)
            elif response.truncated:
                verdict = replace(verdict, reason=f"a PDF over {self.pdf_max_bytes / 2**20:g} MB "
                                                  "(pdf_max_mb), too big to check which paper it is")
        return verdict

    @asynccontextmanager
    async def _slot(self, key: HostPort, bulk: bool) -> AsyncIterator[None]:
        """A check's turn at its host: ``per_host`` at once, bulk ones spaced."""
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(self.per_host, self.bulk_per_second)
            self._trim()
        else:
            self._hosts.move_to_end(key)
        host.users += 1
        try:
            async with host.slots:
                if bulk:
                    await host.limiter.acquire()
                yield
        finally:
            host.users -= 1

    def _trim(self) -> None:
        """Drop the least recently used idle hosts past ``max_hosts``."""
        while len(self._hosts) > self.max_hosts:
            idle = next((key for key, host in self._hosts.items() if host.idle), None)
            if idle is None:
                return
            del self._hosts[idle]

    # --- the GET and its reading --------------------------------------------------------

    @property
    def _read_limit(self) -> int:
        """The most bytes a check reads (one past a cap shows that the cap was passed)."""
        return max(self.policy.max_bytes, self.pdf_max_bytes) + 1

    async def _fetch(self, url: URL) -> tuple[LinkResponse, bool]:
        headers: dict[str, str] = {hdrs.USER_AGENT: self.policy.user_agent, hdrs.ACCEPT: ACCEPT,
                   hdrs.RANGE: f"bytes=0-{self._read_limit - 1}"}
        loop = asyncio.get_running_loop()
        for ranged in (True, False):
            sent = headers if ranged else {k: v for k, v in headers.items() if k != hdrs.RANGE}
            started = loop.time()
            async with follow(self.session, url, policy=self._addresses, headers=sent,
                              max_redirects=self.policy.max_redirects, timeout=self.policy.timeout,
                              stop_at_limit=True) as followed:
                resp = followed.response
                if resp.status == 416 and ranged:  # a server that mishandles Range: ask plainly
                    continue
                read = await self._read(resp, started + self.policy.timeout * PDF_READ_SHARE)
                return LinkResponse(str(followed.url), resp.status, resp.headers, read.body,
                                    read.truncated, tuple(str(hop) for hop in followed.hops[:-1])), read.slow
        raise AssertionError("unreachable: the plain GET returns")

    async def _read(self, resp: aiohttp.ClientResponse, pdf_deadline: float) -> _Read:
        """As much of the body as its class needs (see the module doc)."""
        if 300 <= resp.status < 400:  # the last redirect: its body says nothing
            return _Read(b"")
        head = await _read_upto(resp, SNIFF_BYTES)
        total = _declared_size(resp)
        if is_pdf(head):
            cap = self.pdf_max_bytes
            if total is not None and total > cap:
                resp.close()  # not worth the bytes
                return _Read(head, truncated=True)
            try:
                async with asyncio.timeout_at(pdf_deadline):
                    body = await _read_upto(resp, cap + 1, head)
            except TimeoutError:
                resp.close()
                return _Read(head, truncated=True, slow=True)
        else:
            cap = self.policy.max_bytes
            body = await _read_upto(resp, cap + 1, head)
        cut = len(body) > cap or (total is not None and len(body) < total)
        if len(body) > cap:
            resp.close()
        return _Read(body[:cap], truncated=cut)


def _host_text(url: str) -> str:
    """The host of ``url``, for a log line (never the whole URL: a query may carry a token)."""
    with suppress(ValueError, TypeError):
        return URL(url).host or "?"
    return "?"
