"""Every upstream's politeness limits, in one place shared by the whole process.

``UPSTREAM_LIMITS`` is the table: how many requests per period each upstream accepts
and how many at once. ``Politeness`` holds one ``Gate`` per upstream for the life of
the process (the daemon makes one at start-up; every lookup, every client and every
settings reload shares it). ``sources/http.py`` passes every request through its
source's gate, so no adapter can forget.

A gate:

- spaces requests with a leaky bucket (``aiolimiter``) and caps concurrent ones;
- follows what the upstream says about itself: Crossref's ``x-rate-limit-limit`` /
  ``x-rate-limit-interval`` / ``x-concurrency-limit``, a ``Retry-After`` on 429/503
  (everyone waits, not only the request that got it), and an ``X-RateLimit-Remaining``
  of 0 with its ``X-RateLimit-Reset`` (OpenAlex's daily allowance);
- never makes a lookup wait past its deadline, nor, for an upstream whose slots are
  scarce (Semantic Scholar, arXiv), longer than its ``patience`` (the next slot, not a
  queue of them): when the next free slot comes later, ``slot`` raises
  ``SourceThrottled`` at once and the source is ``skipped`` with the reason, while the
  other sources answer. So a reading list of 500 DOIs goes at Unpaywall's pace, not at
  Semantic Scholar's one request a second: most of its lookups go on without it.

A request made in the background (``queueing()``: the engine finishing, after the answer
went out, what a busy source could not answer in time) waits in the queue like any
other, up to its own deadline: nobody is waiting for it.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace

from aiolimiter import AsyncLimiter

from oahelper.errors import SourceThrottled

Clock = Callable[[], float]
# A wait an upstream asks for is believed up to a day; more is a mistake or an attack.
LONGEST_BLOCK = 24 * 3600.0
# True while the engine finishes a busy source's answer in the background.
_QUEUEING: contextvars.ContextVar[bool] = contextvars.ContextVar("queueing", default=False)


@contextmanager
def queueing() -> Iterator[None]:
    """Within: a request waits for its slot up to its deadline, however long the queue."""
    mark = _QUEUEING.set(True)
    try:
        yield
    finally:
        _QUEUEING.reset(mark)


@dataclass(frozen=True)
class Limit:
    """``rate`` requests per ``per`` seconds, at most ``concurrency`` at once; a request
    waits for a slot at most ``patience`` seconds (None: until its lookup's deadline)."""

    rate: float
    per: float
    concurrency: int
    why: str = ""
    patience: float | None = None

    def words(self) -> str:
        if self.rate == 1:
            return f"one request every {self.per:g} s"
        return f"{self.rate:g} requests per {self.per:g} s"


# Each upstream's published limit (or, where none is published, a modest one).
UPSTREAM_LIMITS: Mapping[str, Limit] = {
    # No per-second limit published; 100,000 calls a day (counted by the service).
    "unpaywall": Limit(20, 1.0, 10, "no published rate; 100,000 calls a day"),
    # Polite pool since December 2025; the headers of every answer say the current values.
    "crossref": Limit(10, 1.0, 3, "polite pool: 10/s, 3 at once (it says so in its headers)"),
    "europepmc": Limit(10, 1.0, 5, "no published rate; kept modest"),
    # Without a key the shared pool is small; a key's default is 1 request a second too.
    "semanticscholar": Limit(1, 1.0, 1, "about 1 request a second", patience=1.0),
    "openalex": Limit(10, 1.0, 5, "10 requests a second; a daily allowance it reports in headers"),
    # arXiv's API terms: one request every three seconds, one connection at a time.
    "arxiv": Limit(1, 3.0, 1, "one request every 3 s on one connection (arXiv's terms)",
                   patience=3.0),
    "oab": Limit(5, 1.0, 2, "no published rate"),
}
DEFAULT_LIMIT = Limit(5, 1.0, 2, "no published rate")

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number >= 0 else None


def parse_interval(value: str | None) -> float | None:
    """Crossref's ``x-rate-limit-interval`` ("1s") in seconds."""
    match = _INTERVAL.match(value or "")
    if not match:
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[match.group(2)]
    seconds = float(match.group(1)) * scale
    return seconds if seconds > 0 else None


class Gate:
    """The politeness of one upstream: rate, concurrency, and waits it asked for."""

    def __init__(self, name: str, limit: Limit, clock: Clock = time.monotonic) -> None:
        self.name = name
        self.limit = limit
        self._clock = clock
        self._limiter = AsyncLimiter(limit.rate, limit.per)
        self._slots = asyncio.Semaphore(limit.concurrency)
        self._waiting = 0
        self.blocked_until = 0.0
        self.blocked_why: str | None = None

    def now(self) -> float:
        """The gate's clock, on which ``slot`` deadlines are given."""
        return self._clock()

    def expected_wait(self) -> float:
        """Seconds until a request asked now would go (0 when one may go at once)."""
        now = self._clock()
        wait = max(0.0, self.blocked_until - now)
        if self._waiting or not self._limiter.has_capacity():
            wait += (self._waiting + 1) * self.limit.per / self.limit.rate
        return wait

    @asynccontextmanager
    async def slot(self, deadline: float) -> AsyncIterator[None]:
        """Hold a request slot; ``SourceThrottled`` when none comes before ``deadline``
        (a ``clock()`` time)."""
        now = self._clock()
        if self.blocked_until > now:
            if self.blocked_until >= deadline:
                raise SourceThrottled(f"{self.blocked_why}; skipped for this lookup",
                                      retry_after=self.blocked_until - now)
            await asyncio.sleep(self.blocked_until - now)
        wait = self.expected_wait()
        patience = None if _QUEUEING.get() else self.limit.patience
        if self._clock() + wait > deadline or (patience is not None and wait > patience + 1e-3):
            raise SourceThrottled(
                f"{self.name} allows {self.limit.words()} and is busy: its next free slot "
                f"comes in {wait:.1f} s; skipped for this lookup")
        slots = self._slots  # the one acquired is the one released, even if replaced
        self._waiting += 1
        try:
            async with asyncio.timeout(max(0.0, deadline - self._clock())):
                await slots.acquire()
                try:
                    await self._limiter.acquire()
                except BaseException:
                    slots.release()
                    raise
        except TimeoutError as exc:
            raise SourceThrottled(f"{self.name} allows {self.limit.words()}: no slot before "
                                  "this lookup's deadline; skipped for this lookup") from exc
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            slots.release()

    def observe(self, status: int, headers: Mapping[str, str], retry_after: float | None) -> None:
        """Learn from one answer: a wait asked for, or the limits the upstream states."""
        now = self._clock()
        if status in (429, 503) and retry_after is not None and retry_after > 0:
            self._block(now, retry_after, f"{self.name} asked to wait {retry_after:.0f} s "
                                          f"(HTTP {status})")
        if _number(headers.get("X-RateLimit-Remaining")) == 0:
            reset = _number(headers.get("X-RateLimit-Reset"))
            if reset:
                self._block(now, reset, f"{self.name}'s allowance is used up until it resets "
                                        f"in {reset:.0f} s")
        self._follow_stated_limits(headers)

    def _block(self, now: float, seconds: float, why: str) -> None:
        until = now + min(seconds, LONGEST_BLOCK)
        if until > self.blocked_until:
            self.blocked_until, self.blocked_why = until, why

    def _follow_stated_limits(self, headers: Mapping[str, str]) -> None:
        """Crossref states its current limits on every answer: keep to them."""
        rate = _number(headers.get("x-rate-limit-limit"))
        per = parse_interval(headers.get("x-rate-limit-interval"))
        concurrency = _number(headers.get("x-concurrency-limit"))
        new = self.limit
        if rate and per:
            new = replace(new, rate=rate, per=per)
        if concurrency and concurrency >= 1:
            new = replace(new, concurrency=int(concurrency))
        if (new.rate, new.per) != (self.limit.rate, self.limit.per):
            self._limiter = AsyncLimiter(new.rate, new.per)
        if new.concurrency != self.limit.concurrency:
            self._slots = asyncio.Semaphore(new.concurrency)
        self.limit = new


class Politeness:
    """One gate per upstream, made on first use, for the whole process."""

    def __init__(self, limits: Mapping[str, Limit] | None = None,
                 clock: Clock = time.monotonic) -> None:
        self._limits = {**UPSTREAM_LIMITS, **(limits or {})}
        self._clock = clock
        self._gates: dict[str, Gate] = {}

    def gate(self, upstream: str) -> Gate:
        gate = self._gates.get(upstream)
        if gate is None:
            gate = Gate(upstream, self._limits.get(upstream, DEFAULT_LIMIT), self._clock)
            self._gates[upstream] = gate
        return gate

    def limits(self) -> dict[str, Limit]:
        """The limits in force now (stated ones included), for status and docs."""
        return {name: (self._gates[name].limit if name in self._gates else limit)
                for name, limit in self._limits.items()}
