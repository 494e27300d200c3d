"""One page can never hold the helper: pages are read in worker processes under a
budget of time and memory (oahelper/engine/pages.py), and a page over it is
unreadable: the lookup says why, and other lookups go on being answered."""

from __future__ import annotations

import asyncio
import os
import re
from contextlib import suppress
from pathlib import Path

import aiohttp
import pytest

from oahelper.errors import PageOverBudget, ScrapeError
from oahelper.engine import pages
from oahelper.engine.pages import SMALL_PAGE, PageReader, Turns
from oahelper.scrape import scrape
from tests.support.pathological import NAMED_SHAPES
from tests.support.processes import daemon, fake_upstream, free_port, oahelper

NORMAL = ('<html><head><meta name="citation_doi" content="10.5555/oahelper.green.2013">'
          '<meta name="citation_title" content="A normal page"></head><body>\ud83d</body></html>')
# Linear, but slow at this size: a stand-in for whatever the next slow shape will be.
SLOW = next(s for s in NAMED_SHAPES if s.name == "nested headings")
HOSTILE_SIZE = 6_000_000
# For the daemon: near max_body (8 MiB), seconds of work on any machine.
DAEMON_HOSTILE_SIZE = 7_500_000
# For the page reader itself, whose pages may be bigger: longer still.
HUGE_SIZE = 20_000_000


@pytest.fixture
async def reader():
    pages = PageReader(workers=2, seconds=0.5, memory_bytes=512 * 2**20)
    yield pages
    await pages.close()


async def test_a_worker_reads_what_the_scraper_reads(reader: PageReader) -> None:
    url = "https://journal.example.org/a"
    assert await reader.read(url, NORMAL) == scrape(url, NORMAL)
    data = NORMAL.replace("\ud83d", "").encode("utf-8")
    assert await reader.read(url, data) == scrape(url, data)


async def test_a_page_the_scraper_refuses_is_refused_the_same_way() -> None:
    reader = PageReader(workers=1, seconds=30, memory_bytes=512 * 2**20)
    try:
        with pytest.raises(ScrapeError, match="larger than") as refused:
            await reader.read(None, "x" * (33 * 1024 * 1024))
        assert not isinstance(refused.value, PageOverBudget)
    finally:
        await reader.close()


async def test_a_page_over_the_time_budget_is_unreadable_and_the_next_page_is_read(
        reader: PageReader) -> None:
    with pytest.raises(PageOverBudget, match="longer than 0.5 s"):
        await reader.read(SLOW.url, SLOW.page(HOSTILE_SIZE))
    assert (await reader.read(None, NORMAL)).doi == "10.5555/oahelper.green.2013"


async def test_a_page_over_the_memory_budget_is_unreadable_and_the_next_page_is_read() -> None:
    reader = PageReader(workers=1, seconds=30, memory_bytes=16 * 2**20)
    try:
        with pytest.raises(PageOverBudget, match="more than 16 MiB"):
            await reader.read(SLOW.url, SLOW.page(HOSTILE_SIZE))
        assert (await reader.read(None, NORMAL)).doi == "10.5555/oahelper.green.2013"
    finally:
        await reader.close()


async def test_no_worker_is_left_behind(reader: PageReader) -> None:
    await reader.read(None, NORMAL)
    await reader.warm_up()  # the spare is started
    before = set(page_workers())
    with pytest.raises(PageOverBudget):
        await reader.read(SLOW.url, SLOW.page(HOSTILE_SIZE))
    assert len(before - set(page_workers())) == 1  # the worker over budget is gone
    assert (await reader.read(None, NORMAL)).doi == "10.5555/oahelper.green.2013"
    await reader.close()
    assert page_workers() == []


async def test_turns_go_to_the_smallest_page_and_the_last_reader_waits_for_a_small_one() -> None:
    turns = Turns(readers=2, small=100)
    order: list[int] = []

    async def read(size: int) -> None:
        await turns.acquire(size)
        order.append(size)

    first = asyncio.create_task(read(1000))  # a big page takes one reader ...
    await asyncio.sleep(0)
    big = asyncio.create_task(read(2000))    # ... but not the last one
    await asyncio.sleep(0)
    assert order == [1000] and not big.done()
    await read(50)                           # a small page gets it at once
    assert order == [1000, 50]
    waiting = [asyncio.create_task(read(size)) for size in (300, 90, 200)]
    await asyncio.sleep(0)
    for _ in range(4):
        turns.release()
        await asyncio.sleep(0)
    # Smallest first; a big page only while another reader stays free.
    assert order == [1000, 50, 90, 200, 300] and not big.done()
    turns.release()
    await asyncio.sleep(0)
    assert order[-1] == 2000
    await asyncio.gather(first, big, *waiting)


async def test_a_turn_given_up_is_no_turn_lost() -> None:
    turns = Turns(readers=1)
    await turns.acquire(10)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await turns.acquire(10)
    turns.release()
    async with asyncio.timeout(1):
        await turns.acquire(10)  # the one reader is free again


async def test_huge_pages_of_other_tabs_never_keep_an_ordinary_page_waiting() -> None:
    """More huge pages than readers: an ordinary page sent after them is read before
    any of them is done (each takes seconds on any machine)."""
    reader = PageReader(workers=2, seconds=2, memory_bytes=1024 * 2**20)
    await reader.warm_up(2)
    huge = SLOW.page(HUGE_SIZE)
    assert len(huge.encode()) > SMALL_PAGE
    finished: list[str] = []

    async def read(name: str, url: str | None, html: str) -> None:
        with suppress(PageOverBudget):  # over the budget, or waited too long: both fine
            await reader.read(url, html)
        finished.append(name)

    try:
        tabs = [asyncio.create_task(read(f"huge {n}", SLOW.url, huge)) for n in range(3)]
        await asyncio.sleep(0.3)  # they are being read, or waiting for a reader
        await read("ordinary", None, NORMAL)
        assert finished == ["ordinary"]
        await asyncio.gather(*tabs)
    finally:
        await reader.close()


async def test_after_a_page_over_budget_an_ordinary_page_waits_for_no_worker_to_start(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker of a page over budget is ended, and a new one takes a moment to start
    (Python, lxml): the next big page waits for that, the ordinary page sent right
    after it does not."""
    started = 0
    start = pages._Worker.start

    async def counted_start(memory_bytes: int) -> pages._Worker:
        nonlocal started
        worker = await start(memory_bytes)
        started += 1
        return worker

    reader = PageReader(workers=2, seconds=0.5, memory_bytes=1024 * 2**20)
    await reader.warm_up(2)
    monkeypatch.setattr(pages._Worker, "start", counted_start)
    huge = SLOW.page(HUGE_SIZE)
    try:
        with pytest.raises(PageOverBudget):
            await reader.read(SLOW.url, huge)  # its worker is ended
        big = asyncio.create_task(reader.read(SLOW.url, huge))
        await asyncio.sleep(0)
        assert (await reader.read(None, NORMAL)).doi == "10.5555/oahelper.green.2013"
        assert started == 0, "the ordinary page waited for a new worker to start"
        with pytest.raises(PageOverBudget):
            await big
    finally:
        await reader.close()


def page_workers() -> list[int]:
    """This process's live page-reader children."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if (proc.name.isdigit() and int(fields[1]) == os.getpid() and fields[0] != "Z"
                and b"oahelper.engine.page_worker" in cmdline):
            found.append(int(proc.name))
    return found


# --- Against the daemon process ---------------------------------------------------------

@pytest.fixture
def helper(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
    env |= {"OAHELPER_HOME": str(tmp_path), "OAHELPER_UNPAYWALL_EMAIL": "researcher@uni.edu",
            "OAHELPER_PAGE_SECONDS": "1", "OAHELPER_PAGE_WORKERS": "3"}
    with fake_upstream(env) as base:
        env["OAHELPER_UNPAYWALL_URL"] = base
        token = oahelper(["token", "create", "--name", "tests"], env).stdout.split()[-1]
        port = free_port()
        with daemon(env, port):
            yield f"http://127.0.0.1:{port}/v1/lookup", {"Authorization": f"Bearer {token}"}


async def test_a_hostile_page_is_unknown_with_the_reason_and_other_tabs_are_answered_meanwhile(
        helper: tuple[str, dict[str, str]]) -> None:
    url, headers = helper
    hostile = {"url": "https://evil.example.org/paper", "html": SLOW.page(DAEMON_HOSTILE_SIZE)}
    normal = {"url": "https://journal.example.org/a", "html": NORMAL}
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:

        async def post(body: dict[str, str]) -> dict:
            async with session.post(url, json=body) as resp:
                assert resp.status == 200
                return await resp.json()

        await post(normal)  # the answer is cached from here on
        # Six hostile tabs, as in the review: more than there are page readers.
        hostile_tabs = [asyncio.create_task(post(hostile)) for _ in range(6)]
        await asyncio.sleep(0.3)  # they are being read, or waiting for a reader
        answer = await post(normal)
        # The other tab's page is read, and its lookup answered, while the hostile
        # pages are still being read.
        assert not any(tab.done() for tab in hostile_tabs)
        assert answer["status"] == "open" and answer["cached"]
        payloads = await asyncio.gather(*hostile_tabs)
        assert all(payload["status"] == "unknown" for payload in payloads)
        # A fast, idle core may read some of them within the budget; the others are
        # unreadable: over the time budget, or the memory budget, whichever the
        # machine hits first, or, beyond the readers big pages may hold, no reader
        # came in time.
        unreadable = [p["badge"]["tooltip"] for p in payloads
                      if "could not read the page" in p["badge"]["tooltip"]]
        assert unreadable
        for tooltip in unreadable:
            assert re.search(r"longer than 1 s|needed more than \d+ MiB|every page reader was busy", tooltip)
