"""Issue 18, medium 2: one /v1/batch client must not hold up another.

Work that needs no upstream (a cached answer) never waits behind work that does, and
the batch slots are shared between clients (engine/slots.py). The upstream here is
slow (it answers after 1.5 s; one that hangs to the deadline gets paused after three
timeouts, which is another test's subject). Order is asserted, not time.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from oahelper.daemon.clients import ClientStore
from oahelper.engine.slots import FairSlots
from tests.support.daemon import Daemon, start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import GREEN_DOI, THROTTLED_SOURCES


async def test_slots_are_capped_per_client_and_handed_out_in_turn() -> None:
    slots = FairSlots(4)
    for _ in range(2):
        await slots.acquire("a")
    a3 = asyncio.ensure_future(slots.acquire("a"))  # a may hold half: it waits
    await asyncio.sleep(0)
    assert not a3.done()
    await asyncio.wait_for(slots.acquire("b"), 1)  # b finds a free slot at once
    await asyncio.wait_for(slots.acquire("b"), 1)
    b3 = asyncio.ensure_future(slots.acquire("b"))
    c1 = asyncio.ensure_future(slots.acquire("c"))
    await asyncio.sleep(0)
    slots.release("a")  # c holds none: it goes before a's third and b's third
    await asyncio.sleep(0)
    assert c1.done() and not a3.done() and not b3.done()
    slots.release("b")  # a and b hold one each now: a asked first
    await asyncio.sleep(0)
    assert a3.done() and not b3.done()
    b3.cancel()  # a waiter that gives up leaves no slot taken
    await asyncio.gather(b3, return_exceptions=True)
    slots.release("c")
    await asyncio.wait_for(slots.acquire("d"), 1)
    assert slots._held == {"a": 2, "b": 1, "d": 1}


async def _rows(d: Daemon, token: str, items: list[str], seen: list[tuple[str, Any]],
                who: str) -> None:
    resp = await d.client.post("/v1/batch", json={"items": items},
                               headers={"Authorization": f"Bearer {token}"})
    async for line in resp.content:
        if line.strip():
            seen.append((who, json.loads(line)))


async def test_a_cached_row_and_a_second_clients_row_do_not_wait_for_a_slow_batch(
        start_daemon) -> None:
    d: Daemon = await start_daemon(disabled_sources=THROTTLED_SOURCES, timeout=4.0)
    b_token = ClientStore(d.settings.clients_db).create_token("client B")
    assert (await d.lookup_json({"doi": GREEN_DOI}))["status"] == "open"  # now cached
    d.upstream.plan(None, delay=1.5)  # every uncached lookup takes 1.5 s
    seen: list[tuple[str, Any]] = []
    a = asyncio.ensure_future(_rows(d, d.token, [f"10.5555/a.{n}" for n in range(24)], seen, "A"))
    await asyncio.sleep(0.3)  # A's lookups hold their slots now
    await _rows(d, b_token, [GREEN_DOI], seen, "B")
    await _rows(d, b_token, ["10.5555/b.1"], seen, "B")
    await a
    order = [(who, "done" if "done" in line else line["row"]["doi"]) for who, line in seen]
    first_of_a = next(i for i, (who, _) in enumerate(order) if who == "A")
    cached_b = order.index(("B", GREEN_DOI))
    uncached_b = order.index(("B", "10.5555/b.1"))
    assert cached_b < first_of_a  # the cached row came before any of A's (all slow)
    # A's 24 slow lookups take six rounds of its four slots; B's one uncached lookup
    # took a free slot at once and came back within A's first rounds.
    assert uncached_b < order.index(("A", "done")) and sum(1 for w, _ in order[:uncached_b]
                                                          if w == "A") <= 8
