"""The one place that wires the lookup engine from the settings.

The daemon, every CLI command, ``doctor`` and the tests' support all build their
engine here; nothing else constructs sources. Two lifetimes:

- ``Plant``: what one process opens once and shares, opened by ``open_plant``: the
  cache, the HTTP sessions (sources, pages), the politeness limits, the per-client
  budgets and the page-reading workers. A settings reload keeps all of it, so an
  upstream's limits and quotas hold across reloads.
- ``Engine``: the sources and the ``LookupService`` for one ``Settings``, made by
  ``Plant.engine``; the daemon makes a new one when the config file changes.

``open_engine`` does both for a command that looks things up once and exits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import aiohttp

from oahelper.engine.budget import CallBudgets
from oahelper.engine.cache import AsyncCache
from oahelper.engine.lookup import LookupService, PageFetcher, service_for
from oahelper.engine.pages import PageReader
from oahelper.engine.pauses import Pauses
from oahelper.engine.slots import FairSlots
from oahelper.keys import KeyStore
from oahelper.links.check import LinkChecker
from oahelper.net import fetch_page, make_fetch_session
from oahelper.net.policy import parse_host_ports
from oahelper.settings import SETTINGS, Settings
from oahelper.sources.base import Source
from oahelper.sources.http import upstream_session as make_upstream_session
from oahelper.sources.politeness import Politeness
from oahelper.sources.registry import build_sources


@dataclass
class Engine:
    """What lookups need that follows the settings."""

    settings: Settings
    sources: list[Source]
    service: LookupService
    stamp: int | None  # the config file's mtime when the settings were read


@dataclass
class Plant:
    """The resources one process shares between its engines (see the module doc)."""

    keystore: KeyStore
    cache: AsyncCache
    politeness: Politeness
    session: aiohttp.ClientSession  # the sources' (no cookies, explicit timeouts)
    fetch_session: aiohttp.ClientSession  # pages fetched on the user's behalf (net/)
    links: LinkChecker | None = None  # opens copies' links (links/); None: never opened
    budgets: CallBudgets | None = None  # per-client budgets; None: the user's own process
    pages: PageReader | None = None  # page workers; None: the scraper runs in a thread
    # Tests put their own sources or page fetcher in; the daemon and the CLI never do.
    sources: Sequence[Source] | None = None
    fetch_page: PageFetcher | None = None
    pauses: Pauses = field(default_factory=Pauses)  # sources that keep failing, process-wide
    slots: FairSlots = field(default_factory=FairSlots)  # batch lookups at once, fairly shared
    _engines: list[Engine] = field(default_factory=list)

    def __post_init__(self) -> None:
        # A pause is kept in the cache too, for doctor (another process) to show.
        self.pauses.on_pause = lambda source, p: self.cache.note_pause(source, p.until, p.reason)

    def engine(self, settings: Settings) -> Engine:
        """The sources and lookup service for ``settings``, on this plant's resources."""
        if self.budgets is not None:
            self.budgets.set_limits(lane_limits(settings))
        sources = (list(self.sources) if self.sources is not None
                   else build_sources(settings, self.keystore, self.politeness))
        service = service_for(
            settings, sources=sources, cache=self.cache, session=self.session,
            fetch_page=self.fetch_page or partial(fetch_page, session=self.fetch_session),
            read_page=self.pages.read if self.pages else None, budgets=self.budgets,
            pauses=self.pauses, slots=self.slots,
            links=self.links if settings.verify_links and not settings.offline else None)
        engine = Engine(settings, sources, service, config_stamp(settings.config_file))
        self._engines.append(engine)
        return engine

    async def aclose(self) -> None:
        """Stop every engine's upstream calls still running (they write to the cache)."""
        for engine in self._engines:
            await engine.service.aclose()
        self._engines.clear()


def lane_limits(settings: Settings) -> dict[str, int]:
    """Lookups per minute per client, for each budget lane (engine/budget.py)."""
    return {"interactive": settings.lookups_per_minute, "batch": settings.batch_lookups_per_minute}


def config_stamp(path: Path) -> int | None:
    """The config file's mtime, to notice it changed; None when there is none."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def upstream_session(settings: Settings) -> aiohttp.ClientSession:
    """The one session for talking to the sources (no cookies, explicit timeouts)."""
    timeout = aiohttp.ClientTimeout(total=settings.timeout + 2, connect=5)
    # The User-Agent is set per request, by sources/http.py; redirects are followed
    # under net/'s rule, the configured upstreams allowed to be private (sources/http.py).
    # Only the sources' base URLs: not a browser-settable one (ill_url) nor Zotero's local API.
    configured = [getattr(settings, s.name) for s in SETTINGS if s.upstream]
    return make_upstream_session(timeout, configured)


@asynccontextmanager
async def open_plant(settings: Settings, *, keystore: KeyStore | None = None,
                     budgets: CallBudgets | None = None, page_workers: bool = False,
                     sources: Sequence[Source] | None = None,
                     fetch_page: PageFetcher | None = None) -> AsyncIterator[Plant]:
    """Open the process's resources; everything is closed on the way out.

    ``budgets``: per-client budgets (the daemon's; CLI commands are the user's own).
    ``page_workers``: read pages in worker processes under the page budget (the
    daemon, where a stranger's page arrives; the CLI reads the user's own file).
    """
    async with AsyncExitStack() as stack:
        cache = await asyncio.to_thread(AsyncCache, settings.cache_db)  # opening is SQLite too
        stack.push_async_callback(cache.aclose)
        pages = None
        if page_workers:
            pages = PageReader(workers=settings.page_workers, seconds=settings.page_seconds,
                               memory_bytes=settings.page_memory_mb * 2**20)
            stack.push_async_callback(pages.close)
            await pages.warm_up(settings.page_workers)
        session = await stack.enter_async_context(upstream_session(settings))
        # Pages and links may reach the private host:port pairs the user listed, no others.
        private = parse_host_ports(settings.allow_private_hosts)
        fetch_session = await stack.enter_async_context(
            make_fetch_session(allow_private_hosts=private))
        links = LinkChecker.from_settings(settings, cache)
        stack.push_async_callback(links.aclose)  # before the cache closes: checks write to it
        if page_workers and links.pdf_readers is not None:  # the daemon: PDF readers ready now
            await links.pdf_readers.warm_up()
        plant = Plant(keystore=keystore or KeyStore(), cache=cache, politeness=Politeness(),
                      session=session, fetch_session=fetch_session, links=links, budgets=budgets,
                      pages=pages, sources=sources, fetch_page=fetch_page)
        try:
            yield plant
        finally:
            await plant.aclose()


@asynccontextmanager
async def open_engine(settings: Settings, *, keystore: KeyStore | None = None,
                      sources: Sequence[Source] | None = None,
                      fetch_page: PageFetcher | None = None) -> AsyncIterator[Engine]:
    """The daemon's lookup path for one CLI process (or a test): plant and engine."""
    async with open_plant(settings, keystore=keystore, sources=sources,
                          fetch_page=fetch_page) as plant:
        yield plant.engine(settings)
