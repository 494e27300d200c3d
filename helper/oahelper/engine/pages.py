"""Reading a page under a budget of time and memory, in worker processes.

The scraper is linear in the page's size, but the page is written by a stranger and
one page must never hold the helper. A thread can neither be stopped nor capped in
memory (and a regular expression holds the GIL, starving the event loop), so the
daemon reads pages in a few worker processes (``page_worker.py``):

- each read may take ``seconds``; a worker still reading then is killed;
- each worker may grow by ``memory_bytes`` past its start-up size (RLIMIT_AS); a page
  that needs more makes it answer so and exit;
- either way a new worker takes its place, and the page is unreadable:
  ``PageOverBudget`` says why, and the lookup goes on with what the URL says;
- at most ``workers`` pages are read at once; a read waits for its turn at most
  ``seconds``. The smallest waiting page goes first, and the last free worker only
  takes a page of at most ``SMALL_PAGE`` (``Turns``): other tabs' huge pages, hostile
  or not, never keep a tab's ordinary page waiting for more than one small page's
  read. The daemon starts every worker up front (``warm_up``; starting Python
  takes longer than reading a page) and one that is ended is replaced in the
  background, so a tab's page is read at once while the pages of other tabs keep
  workers busy.

Pages travel over pipes and only JSON comes back (see page_worker.py).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import logging
import sys
from contextlib import suppress

from oahelper.engine.page_worker import article_from_json
from oahelper.errors import PageOverBudget, ScrapeError
from oahelper.models import Article

log = logging.getLogger(__name__)

_LENGTH_BYTES = 4
# Starting Python with lxml takes a fraction of a second; a loaded machine, more.
_START_SECONDS = 30.0
# Bigger than any real article page as a browser sends it (the biggest in our corpus
# is 1.2 MB with its scripts' text, which the extension leaves out); read in well
# under a second whatever it holds (scripts/bench).
SMALL_PAGE = 2 * 2**20


class Turns:
    """Whose turn it is to use one of ``readers`` workers: the smallest waiting page
    first (in arrival order among equals), and with two readers or more, the last free
    one only for a page of at most ``small`` bytes, so that big pages never hold them all."""

    def __init__(self, readers: int, small: int = SMALL_PAGE) -> None:
        self._readers, self._free, self._small = readers, readers, small
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrival = itertools.count()

    async def acquire(self, size: int) -> None:
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (size, next(self._arrival), turn))
        self._hand_out()
        try:
            await turn
        except asyncio.CancelledError:
            if not turn.cancelled():  # given the turn just as it stopped waiting
                self.release()
            raise

    def release(self) -> None:
        self._free += 1
        self._hand_out()

    def _hand_out(self) -> None:
        while self._waiting and self._free > 0:
            size, _, turn = self._waiting[0]
            if turn.done():  # stopped waiting
                heapq.heappop(self._waiting)
                continue
            if size > self._small and self._free == 1 and self._readers > 1:
                return  # kept for a small page
            heapq.heappop(self._waiting)
            self._free -= 1
            turn.set_result(None)


class _Worker:
    """One worker process and its pipes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, memory_bytes: int) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "oahelper.engine.page_worker", str(memory_bytes),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        worker = cls(process)
        try:
            async with asyncio.timeout(_START_SECONDS):
                ready = await worker._read_frame()
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            await worker.kill()
            raise ScrapeError("the page reader could not start") from exc
        if json.loads(ready) != {"ready": True}:
            await worker.kill()
            raise ScrapeError("the page reader could not start")
        return worker

    async def ask(self, header: bytes, page: bytes) -> dict[str, object]:
        stdin = self.process.stdin
        assert stdin is not None
        for data in (header, page):
            stdin.write(len(data).to_bytes(_LENGTH_BYTES, "big"))
            stdin.write(data)
        await stdin.drain()
        answer: dict[str, object] = json.loads(await self._read_frame())
        return answer

    async def _read_frame(self) -> bytes:
        stdout = self.process.stdout
        assert stdout is not None
        size = int.from_bytes(await stdout.readexactly(_LENGTH_BYTES), "big")
        return await stdout.readexactly(size)

    async def kill(self) -> None:
        with suppress(ProcessLookupError):
            self.process.kill()
        await self.process.wait()

    async def stop(self) -> None:
        """Ask the worker to end (end of its input), killing it if it does not."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            async with asyncio.timeout(2.0):
                await self.process.wait()
        except TimeoutError:
            await self.kill()


class PageReader:
    """Reads pages in worker processes under a per-page budget (module docstring)."""

    def __init__(self, *, workers: int, seconds: float, memory_bytes: int) -> None:
        self.seconds, self.memory_bytes = seconds, memory_bytes
        self._turns = Turns(workers)
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._workers = workers
        self._starting: asyncio.Task[None] | None = None

    async def warm_up(self, count: int = 1) -> None:
        """Start ``count`` workers now (at most ``workers``), so that pages do not wait
        for Python to start: the daemon starts them all, and a tab's page is read at
        once while other tabs' pages keep workers busy."""
        if self._starting is not None:
            await asyncio.shield(self._starting)
        missing = min(count, self._workers) - len(self._idle) - len(self._busy)
        if missing > 0:
            started = await asyncio.gather(*(_Worker.start(self.memory_bytes) for _ in range(missing)),
                                           return_exceptions=True)
            self._idle.extend(w for w in started if isinstance(w, _Worker))

    def _top_up(self) -> None:
        """Start a spare worker in the background when none is idle and more pages
        may be read at once."""
        if not self._idle and self._starting is None and len(self._busy) < self._workers:
            self._starting = asyncio.create_task(self._start_spare())

    async def _start_spare(self) -> None:
        try:
            self._idle.append(await _Worker.start(self.memory_bytes))
        except ScrapeError as exc:
            log.warning("%s", exc.message)
        finally:
            self._starting = None

    async def _take(self, small: bool) -> _Worker:
        """An idle worker, the spare being started, or a new one. A big page never
        takes the last idle worker: after a worker over budget was ended, its
        replacement takes a moment to start, and the big page waits for it, not the
        next tab's ordinary page."""
        keep = 0 if small or self._workers == 1 else 1
        while len(self._idle) <= keep:
            if self._starting is None:
                worker = await _Worker.start(self.memory_bytes)
                break
            await asyncio.shield(self._starting)
        else:
            worker = self._idle.pop()
        self._busy.add(worker)
        self._top_up()
        return worker

    async def read(self, url: str | None, html: str | bytes) -> Article:
        """The page's Article; ``ScrapeError`` for what is no page, ``PageOverBudget``
        for a page that needs more than the budget."""
        kind, page = (("text", html.encode("utf-8", "surrogatepass")) if isinstance(html, str)
                      else ("bytes", bytes(html)))
        header = json.dumps({"url": url, "kind": kind}).encode("utf-8")
        try:
            async with asyncio.timeout(self.seconds):
                await self._turns.acquire(len(page))
        except TimeoutError:
            raise PageOverBudget(f"every page reader was busy for {self.seconds:g} s") from None
        try:
            worker = await self._take(small=len(page) <= SMALL_PAGE)
            try:
                reply = await self._ask(worker, header, page)
            finally:
                self._busy.discard(worker)
        finally:
            self._turns.release()
        return _article(reply, self.memory_bytes)

    async def _ask(self, worker: _Worker, header: bytes, page: bytes) -> dict[str, object]:
        """The worker's reply; a worker over its budget is ended, one that is fine
        goes back to the idle ones."""
        try:
            async with asyncio.timeout(self.seconds):
                reply = await worker.ask(header, page)
        except TimeoutError:
            await worker.kill()
            raise PageOverBudget(f"reading the page took longer than {self.seconds:g} s") from None
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            await worker.kill()
            raise PageOverBudget("the page reader stopped while reading the page") from exc
        if reply.get("code") == "page_memory":
            await worker.kill()  # it ends itself; do not wait for that
        elif len(self._idle) + len(self._busy) > self._workers:
            await worker.stop()  # one too many: a big page and the spare started at once
        else:
            self._idle.append(worker)
        return reply

    async def close(self) -> None:
        if self._starting is not None:
            await asyncio.shield(self._starting)
        for worker in self._busy:
            await worker.kill()
        for worker in self._idle:
            await worker.stop()
        self._busy.clear()
        self._idle.clear()


def _article(reply: dict[str, object], memory_bytes: int) -> Article:
    if reply.get("code") == "page_memory":
        raise PageOverBudget(f"reading the page needed more than {memory_bytes // 2**20} MiB")
    if "error" in reply:
        raise ScrapeError(str(reply["error"]))
    data = reply.get("article")
    try:
        if not isinstance(data, dict):
            raise ValueError("no article")
        return article_from_json(data)
    except (TypeError, ValueError) as exc:
        raise ScrapeError("the page reader gave an answer of the wrong shape") from exc
