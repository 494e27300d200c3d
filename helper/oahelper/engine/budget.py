"""How many lookups that need the upstreams one client may cause, per lane, per minute.

A web page can make the extension look it up again and again (one that rewrites its
``citation_doi`` every half second makes one lookup each time), and every lookup the
cache cannot answer calls the sources with the user's e-mail: Unpaywall allows
100,000 calls a day for everything, after which the user's own lookups fail until
midnight. So each client (a paired extension, a script's token) has a budget in each
*lane*:

- ``interactive``: ``/v1/lookup``, the pages a person opens (setting
  ``lookups_per_minute``);
- ``batch``: ``/v1/batch``, a reading list, on its own budget (setting
  ``batch_lookups_per_minute``), so that checking 300 references neither spends the
  interactive budget nor is spent by the pages the user opens meanwhile.

A lookup whose every answer is cached, or comes from this machine (the snapshot),
costs nothing. One that needs an upstream takes
one unit, once, however many sources it then asks (``Ticket``). Past the budget the
lookup is answered from the cache, fresh or stale, and each source it would have
asked says ``rate_limited``. The command line (``oahelper lookup``, ``audit``) is the
user's own and has no budget.

    budgets = CallBudgets({"interactive": 30, "batch": 600})
    ticket = budgets.ticket(Caller("interactive", "Chromium on laptop"))
    if ticket.spend(): ...          # first call decides for the whole lookup
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

WINDOW = 60.0
LANES = ("interactive", "batch")


@dataclass(frozen=True)
class Caller:
    """Who caused a lookup, and in which lane."""

    lane: str
    client: str


class Ticket:
    """One lookup's claim on its caller's budget: the first ``spend`` takes a unit (or
    is refused), every later one in the same lookup repeats that decision."""

    def __init__(self, take: Callable[[], bool], caller: Caller, limit: int) -> None:
        self._take, self.caller, self.limit = take, caller, limit
        self._granted: bool | None = None

    def spend(self) -> bool:
        if self._granted is None:
            self._granted = self._take()
        return self._granted

    @property
    def refusal(self) -> str:
        """What a source that was not asked says."""
        return (f"not asked: this client started more than {self.limit} {self.caller.lane} "
                f"lookups needing the sources within a minute; cached answers still work")


class CallBudgets:
    """A sliding one-minute window of lookups per (lane, client)."""

    def __init__(self, per_minute: Mapping[str, int],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.set_limits(per_minute)
        self.clock = clock
        self._spent: dict[Caller, deque[float]] = {}

    def set_limits(self, per_minute: Mapping[str, int]) -> None:
        """New limits (a settings reload); what each client spent this minute still counts."""
        unknown = set(per_minute) - set(LANES)
        if unknown:
            raise ValueError(f"unknown lanes: {sorted(unknown)}")
        self.per_minute = dict(per_minute)

    def ticket(self, caller: Caller) -> Ticket:
        limit = self.per_minute[caller.lane]
        return Ticket(lambda: self._take(caller, limit), caller, limit)

    def _take(self, caller: Caller, limit: int) -> bool:
        now = self.clock()
        spent = self._spent.setdefault(caller, deque())
        while spent and spent[0] <= now - WINDOW:
            spent.popleft()
        if len(spent) >= limit:
            return False
        spent.append(now)
        return True
