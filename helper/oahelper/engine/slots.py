"""Lookups at once for batch work (``/v1/batch``), shared fairly between clients.

A batch lookup takes a slot only when it must ask an upstream (on its first cache
miss): an answer the cache or the snapshot has is given at once, whatever else runs.
No client holds more than half of the slots, so a second client always finds one
free: one client's long or slow batch (upstreams that hang until the deadline)
cannot hold back another's first row. When more clients wait, a freed slot goes to
the one holding fewest, then in turn (round-robin), not to whoever asked first.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque

# Lookups that need the upstreams, at once, for every batch client together.
BATCH_SLOTS = 8


class FairSlots:
    """``slots`` lookups at once, at most half of them one client's, handed out
    round-robin between the clients waiting."""

    def __init__(self, slots: int = BATCH_SLOTS) -> None:
        self.slots = slots
        self.per_client = max(1, slots // 2)
        self._held: dict[str, int] = {}
        self._waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    def _may_take(self, client: str) -> bool:
        return sum(self._held.values()) < self.slots and self._held.get(client, 0) < self.per_client

    def _take(self, client: str) -> None:
        self._held[client] = self._held.get(client, 0) + 1

    async def acquire(self, client: str) -> None:
        if client not in self._waiting and self._may_take(client):
            self._take(client)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(client, deque()).append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(client)  # granted just as the waiter gave up: give it back
            else:
                self._forget(client, future)
            raise

    def release(self, client: str) -> None:
        held = self._held.get(client, 0) - 1
        if held > 0:
            self._held[client] = held
        else:
            self._held.pop(client, None)
        self._hand_out()

    def _forget(self, client: str, future: asyncio.Future[None]) -> None:
        queue = self._waiting.get(client)
        if queue is not None and future in queue:
            queue.remove(future)
            if not queue:
                del self._waiting[client]

    def _hand_out(self) -> None:
        """Give free slots to the waiting clients, the one holding fewest first (of
        those, the one that asked first)."""
        while True:
            able = [c for c in self._waiting if self._may_take(c)]
            if not able:
                return
            client = min(able, key=lambda c: self._held.get(c, 0))
            queue = self._waiting[client]
            future = queue.popleft()
            if queue:
                self._waiting.move_to_end(client)  # the others go before its next one
            else:
                del self._waiting[client]
            self._take(client)
            future.set_result(None)


class SlotClaim:
    """One lookup's claim on a slot: taken at its first need (however many of its
    sources miss the cache at once), given back when the lookup ends."""

    def __init__(self, slots: FairSlots, client: str) -> None:
        self.slots, self.client = slots, client
        self._taken: asyncio.Task[None] | None = None

    async def take(self) -> None:
        if self._taken is None:
            self._taken = asyncio.ensure_future(self.slots.acquire(self.client))
        await asyncio.shield(self._taken)

    def give_back(self) -> None:
        if self._taken is None:
            return
        if self._taken.done() and not self._taken.cancelled() and self._taken.exception() is None:
            self.slots.release(self.client)
        else:
            self._taken.cancel()
