"""One GET to an upstream, with retries, a deadline and errors as data.

Every source adapter talks HTTP through ``get_with_retries``, over a session from
``upstream_session``. The request itself goes through the network-safety stack
(``net/``): its address policy, resolver and redirect rule, with the configured
upstreams allowed to be private addresses (a self-hosted mirror on the local
network). What is about upstream APIs is here: retries with backoff, Retry-After,
the politeness ``Gate`` every request passes (``sources/politeness.py``), JSON, and
the ``SourceError`` each failure becomes, returned rather than raised so that the
number of calls made survives a failure (the daily Unpaywall quota counts every
request, retries included).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import yarl

from oahelper import __version__
from oahelper.errors import (
    FetchError,
    SourceBadResponse,
    SourceError,
    SourceRateLimited,
    SourceThrottled,
    SourceTimeout,
)
from oahelper.models import SourceAnswer, SourceState
from oahelper.net import (
    AddressPolicy,
    follow,
    host_of,
    host_port,
    host_ports,
    make_session,
    read_capped,
    session_policy,
)
from oahelper.sources.politeness import Gate

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

USER_AGENT = f"oahelper/{__version__}"
# Upstream answers are a few kilobytes; anything far larger is not what we asked for.
MAX_BODY = 4 * 1024 * 1024
# The first retry waits about this long (doubling after), unless Retry-After says more.
BACKOFF_BASE = 0.5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# An API that moved says so once or twice; more is not an API answering.
MAX_REDIRECTS = 3
# What a failure in net/ is for a source; any other is a plain SourceError.
_SOURCE_ERRORS: dict[str, type[SourceError]] = {
    "fetch_timeout": SourceTimeout,
    "fetch_too_large": SourceBadResponse,
    "fetch_too_many_redirects": SourceBadResponse,
}
_SECONDS = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Reply:
    """The last HTTP answer received: status, headers and the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def retry_after(self) -> float | None:
        """Seconds the upstream asked us to wait, or None."""
        return parse_retry_after(self.headers.get("Retry-After"), self.headers.get("Date"))


@dataclass(frozen=True)
class Exchange:
    """What one GET-with-retries came to: a reply or an error, and the calls it took."""

    calls: int
    reply: Reply | None = None
    error: SourceError | None = None


def parse_retry_after(value: str | None, date: str | None = None,
                      now: datetime | None = None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP-date measured from the reply's own
    Date header (so a skewed local clock does not matter), else from ``now``."""
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):  # RFC 9110 says whole seconds; a decimal costs nothing
        return float(value)
    try:
        until = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    base = now or datetime.now(UTC)
    if date:
        try:
            base = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            pass
    if until.tzinfo is None or base.tzinfo is None:
        return None
    return max(0.0, (until - base).total_seconds())


def decode_json(body: bytes, what: str) -> Any:
    """Parse an upstream's JSON body; non-JSON becomes ``SourceBadResponse``."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        snippet = body[:60].decode("utf-8", "replace").strip()
        raise SourceBadResponse(f"{what} sent something that is not JSON: {snippet!r}") from exc


def upstream_session(timeout: aiohttp.ClientTimeout,
                     upstream_urls: Iterable[str | None]) -> aiohttp.ClientSession:
    """The sources' one session: net/'s rules, with the ``(host, port)`` of each
    configured upstream URL allowed to be a private address."""
    return make_session(AddressPolicy(allow_private_hosts=host_ports(upstream_urls)),
                        timeout=timeout)


async def _get_once(session: aiohttp.ClientSession, url: yarl.URL,
                    headers: Mapping[str, str], timeout: float) -> Reply:
    """One request and its redirects (net/ checks each); net's errors become SourceErrors."""
    # A session not from upstream_session (tests hand adapters plain ones) trusts the
    # upstream asked, as upstream_session trusts the configured ones.
    policy = (session_policy(session)
              or AddressPolicy(allow_private_hosts=frozenset({host_port(url)})))
    try:
        async with follow(session, url, policy=policy, headers=headers,
                          max_redirects=MAX_REDIRECTS, timeout=timeout) as followed:
            resp = followed.response
            return Reply(resp.status, resp.headers, await read_capped(resp, MAX_BODY))
    except FetchError as exc:
        raise _SOURCE_ERRORS.get(exc.code, SourceError)(exc.message) from exc


async def get_with_retries(
    session: aiohttp.ClientSession,
    url: yarl.URL,
    *,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    max_retries: int = 2,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
    clock: Clock = time.monotonic,
    gate: Gate | None = None,
) -> Exchange:
    """GET ``url`` within ``timeout`` seconds in all, retrying 429 and 5xx answers at
    most ``max_retries`` times with exponential backoff and jitter. Retry-After is
    honoured, but a wait that would end past the deadline is not started: the last
    reply is returned instead. Each request first takes a slot of ``gate`` (the
    upstream's politeness limits); none before the deadline gives ``SourceThrottled``.
    Never raises for upstream trouble."""
    rng = rng or random.Random()
    deadline = clock() + timeout
    sent = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    calls = 0
    reply: Reply | None = None
    while True:
        remaining = deadline - clock()
        if remaining <= 0:
            return Exchange(calls, error=SourceTimeout(
                f"{host_of(url)} did not answer within {timeout:.1f} s"))
        try:
            if gate is None:
                calls += 1
                reply = await _get_once(session, url, sent, remaining)
            else:
                async with gate.slot(gate.now() + remaining):
                    calls += 1
                    reply = await _get_once(session, url, sent, max(0.05, deadline - clock()))
                gate.observe(reply.status, reply.headers, reply.retry_after)
        except SourceTimeout as exc:
            # A retry that ran out of the time left says less than the answer before it.
            return Exchange(calls, reply=reply) if reply is not None else Exchange(calls, error=exc)
        except SourceError as exc:
            return Exchange(calls, error=exc)
        if reply.status not in RETRY_STATUSES or calls > max_retries:
            return Exchange(calls, reply=reply)
        backoff = BACKOFF_BASE * 2 ** (calls - 1)
        wait = reply.retry_after
        if wait is None:
            wait = backoff + rng.uniform(0, backoff / 2)
        if wait >= deadline - clock():
            return Exchange(calls, reply=reply)
        await sleep(wait)


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one: a field a source sent as
    a list, a string or null reads as missing, never as an adapter's crash."""
    return value if isinstance(value, Mapping) else {}


def failed_answer(source: str, error: SourceError, *, calls: int, ms: int) -> SourceAnswer:
    """The answer of a source that could not answer: state "error" with code and message,
    or "skipped" when our own politeness limit kept it from asking in time."""
    state: SourceState = "skipped" if isinstance(error, SourceThrottled) else "error"
    return SourceAnswer(source=source, state=state, error=error.message,
                        error_code=error.code, calls=calls, ms=ms)


def elapsed_ms(started: float, clock: Clock) -> int:
    """Whole milliseconds since ``started`` on ``clock``."""
    return round((clock() - started) * 1000)


Read = Callable[[Reply], SourceAnswer]


class HttpSource:
    """What the HTTP adapters share: a base URL, the upstream's politeness gate, a
    clock, and one way to turn a GET into a ``SourceAnswer``.

    A subclass sets ``name`` and ``label`` (for messages), builds URLs and reads
    replies with its pure ``parse_…``; ``ask`` does the rest: the gate, retries,
    errors as data, timing, and the last error for ``/v1/status``.
    """

    name = ""
    label = ""
    needs_network = True

    def __init__(self, base_url: str, *, gate: Gate | None = None, enabled: bool = True,
                 max_retries: int = 2, clock: Clock = time.monotonic) -> None:
        self.base_url = base_url.strip().rstrip("/")
        self.gate = gate
        self.enabled = enabled
        self.max_retries = max_retries
        self._clock = clock
        self._last_error: str | None = None

    async def ask(self, session: aiohttp.ClientSession, url: yarl.URL, timeout: float,
                  read: Read, *, headers: Mapping[str, str] | None = None) -> SourceAnswer:
        """GET ``url`` and read the final reply with ``read`` (which may raise a
        ``SourceError``); failures become an "error" (or throttled: "skipped") answer."""
        started = self._clock()
        exchange = await get_with_retries(session, url, timeout=timeout, headers=headers,
                                          max_retries=self.max_retries, clock=self._clock,
                                          gate=self.gate)
        ms = elapsed_ms(started, self._clock)
        try:
            if exchange.error is not None:
                raise exchange.error
            assert exchange.reply is not None
            answer = read(exchange.reply)
        except SourceError as exc:
            if not isinstance(exc, SourceThrottled):
                self._last_error = exc.message
            return failed_answer(self.name, exc, calls=exchange.calls, ms=ms)
        return dataclasses.replace(answer, calls=exchange.calls, ms=ms)

    def unexpected(self, reply: Reply) -> SourceError:
        """The error for a status the adapter has no rule for (429 says how long)."""
        if reply.status == 429:
            wait = reply.retry_after
            later = f" (it asks to wait {wait:.0f} s)" if wait is not None else ""
            return SourceRateLimited(f"{self.label} is limiting requests (HTTP 429){later}",
                                     retry_after=wait)
        return SourceError(f"{self.label} answered HTTP {reply.status}")

    def json_body(self, reply: Reply) -> Any:
        """The reply's JSON; an HTML or XML page where JSON was asked for says so."""
        return decode_json(reply.body, self.label)
