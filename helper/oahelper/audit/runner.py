"""The audit runner: entries in, rows out, through the daemon's lookup engine.

Entries without an identifier are looked up by their title (or, for a pasted
reference, by what ``work_query`` reads in it): the engine's resolver searches and
accepts only the same work. Entries stream through a bounded window: at most ``window`` rows are held (looked up
or waiting for an earlier one to be written), so a list of 100,000 costs what a list
of 100 does. Lookups go through ``LookupService.lookup_article``: its cache, single
flight and sources, so a DOI listed twice makes one upstream call, and a second run
answers from the cache. ``concurrency`` lookups run at once.

A *pre-pass* may answer a whole chunk of entries at once before the per-item lookups
(e.g. one join against a local copy of Unpaywall): it takes the chunk and returns, by
``Entry.lookup_key``, payloads or functions that make an entry's row (None: look this
entry up after all); entries it leaves out are looked up one by one. Rows known without
a lookup skip the lookup machinery (no task each), so a pre-pass that answers a
million entries costs little more than writing their rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol

from oahelper.audit.entries import Entry
from oahelper.audit.rows import Row, row_from_payload, row_without_lookup
from oahelper.models import Article, WorkQuery

log = logging.getLogger(__name__)


class Lookup(Protocol):
    """``LookupService.lookup_article``: an article (and, for a pasted reference, what
    to search for) → the lookup payload."""

    def __call__(self, article: Article, *, query: WorkQuery | None = None
                 ) -> Awaitable[dict[str, Any]]: ...


# What a pre-pass knows about an entry: its lookup payload, or how to make its row.
Answer = dict[str, Any] | Callable[[Entry], Row | None]
Known = Mapping[str, Answer]
Prepass = Callable[[Sequence[Entry]], Awaitable[Known]]
RowHook = Callable[[Row], None]

# Lookups at once. The upstreams' own limits are kept by the engine; this keeps one
# reading list from crowding out the pages the user opens meanwhile.
CONCURRENCY = 8
CHUNK = 500


@dataclass
class RunStats:
    """How a run went: entries written, and whether it was stopped early."""

    written: int = 0
    interrupted: bool = False


class AuditRunner:
    """Looks entries up, a few at a time, and hands back their rows."""

    def __init__(self, lookup: Lookup, *, concurrency: int = CONCURRENCY,
                 prepass: Prepass | None = None, chunk: int = CHUNK,
                 slots: asyncio.Semaphore | None = None) -> None:
        """``slots`` shares one limit on lookups at once between runners (the daemon's
        batch requests); without it the runner has ``concurrency`` of its own."""
        self.lookup = lookup
        self.prepass = prepass
        self.chunk = chunk
        self.concurrency = concurrency
        self.window = max(64, concurrency * 8)
        self._slots = slots or asyncio.Semaphore(concurrency)

    async def _chunks(self, entries: Iterable[Entry]) -> AsyncIterator[tuple[list[Entry], Known]]:
        """The entries in chunks, each with what the pre-pass already answered."""
        it = iter(entries)
        while chunk := list(islice(it, self.chunk)):
            known = await self.prepass(chunk) if self.prepass else {}
            yield chunk, known

    @staticmethod
    def ready_row(entry: Entry, known: Known | None = None) -> Row | None:
        """The entry's row when no lookup is needed (the entry alone, or the pre-pass
        answered it), else None."""
        if entry.unreadable:
            return row_without_lookup(entry)
        answer = known.get(entry.lookup_key or "") if known else None
        if callable(answer):
            row = answer(entry)
            if row is not None:
                return row
        elif answer is not None:
            return row_from_payload(entry, answer)
        # Only what the pre-pass left: reading a pasted reference costs a parse.
        return row_without_lookup(entry, entry.lookup_input()[2])

    async def row_for(self, entry: Entry, known: Known | None = None,
                      on_row: RowHook | None = None) -> Row:
        """One entry's row: from the pre-pass, a lookup, or the entry alone."""
        row, _pending = await self.answer_for(entry, known)
        if on_row is not None:
            on_row(row)
        return row

    async def answer_for(self, entry: Entry, known: Known | None = None
                         ) -> tuple[Row, list[str]]:
        """One entry's row, and what its lookup was still waiting for (``pending``:
        a busy source, asked in the background; look it up again shortly)."""
        row = self.ready_row(entry, known)
        if row is not None:
            return row, []
        article, query, _ = entry.lookup_input()
        async with self._slots:
            payload = await self._lookup(entry, article, query)
        return row_from_payload(entry, payload), list(payload.get("pending") or [])

    async def _lookup(self, entry: Entry, article: Article, query: WorkQuery | None
                      ) -> dict[str, Any]:
        try:
            return await self.lookup(article, query=query)
        except Exception:  # an engine bug costs one row, not the whole report
            log.exception("lookup of %s failed", entry.key)
            return {"status": "unknown", "badge": {"tooltip": "internal error; see the log"}}

    async def run(self, entries: Iterable[Entry], write: RowHook, *,
                  on_row: RowHook | None = None, stop: asyncio.Event | None = None) -> RunStats:
        """Write every entry's row in input order; ``on_row`` hears of each row as soon
        as it is answered. When ``stop`` is set, the rows already answered are written
        (in order, skipping those not done) and the run ends."""
        stop = stop or asyncio.Event()
        stats = RunStats()
        window: deque[asyncio.Future[Row]] = deque()
        stopped = asyncio.ensure_future(stop.wait())

        async def write_head() -> None:
            if not window[0].done():
                # A row and the stop signal: asyncio.wait reads only which one is done.
                either: list[asyncio.Future[Any]] = [window[0], stopped]
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if window[0].done():
                write(window.popleft().result())
                stats.written += 1

        try:
            async for chunk, known in self._chunks(entries):
                for entry in chunk:
                    while len(window) >= self.window and not stop.is_set():
                        await write_head()
                    if stop.is_set():
                        break
                    row = self.ready_row(entry, known)
                    if row is None:
                        window.append(asyncio.ensure_future(self.row_for(entry, known, on_row)))
                        continue
                    if on_row is not None:
                        on_row(row)
                    if window:  # rows before it are still being looked up: it waits its turn
                        window.append(_done(row))
                    else:
                        write(row)
                        stats.written += 1
                if stop.is_set():
                    break
            while window and not stop.is_set():
                await write_head()
        finally:
            stopped.cancel()
            for task in window:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*window, return_exceptions=True)
            for task in window:  # stopped: what was answered still gets written
                if not task.cancelled() and task.exception() is None:
                    write(task.result())
                    stats.written += 1
            stats.interrupted = stop.is_set()
        return stats

    async def as_answered(self, entries: Sequence[Entry]
                          ) -> AsyncIterator[tuple[int, Row, list[str]]]:
        """Each entry's (index, row, pending) in the order answers arrive (a short
        list: the daemon's batch endpoint). Leaving early cancels the lookups still
        running."""
        tasks: dict[asyncio.Task[tuple[Row, list[str]]], int] = {}
        try:
            start = 0
            async for chunk, known in self._chunks(entries):
                for offset, entry in enumerate(chunk):
                    tasks[asyncio.ensure_future(self.answer_for(entry, known))] = start + offset
                start += len(chunk)
            pending = set(tasks)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=tasks.__getitem__):
                    yield tasks[task], *task.result()
        finally:
            for task in tasks:
                task.cancel()


def _done(row: Row) -> asyncio.Future[Row]:
    """A row known at once, as a finished future (its place in the window)."""
    future: asyncio.Future[Row] = asyncio.get_running_loop().create_future()
    future.set_result(row)
    return future
