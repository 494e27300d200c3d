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

An answer is read in three steps, the same for every adapter: ``decode_json`` (or
``decode_xml``) turns the body into data, any failure to parse it included, else
``SourceBadResponse``; ``require`` checks the shape the source's recordings show before
the adapter may say "ok" (a required field missing or of the wrong kind is
``SourceBadResponse`` too, naming the source and the field); optional fields are read
with ``mapping()`` and the like, so one of the wrong kind reads as missing. Anything
else an adapter raises while reading is its own bug: ``adapter_bug`` logs it and the
answer is an "internal" error, never "ok" and so never "No free copy".
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeAlias, TypeVar

import aiohttp
import yarl
from lxml import etree

from oahelper import __version__
from oahelper.errors import (
    FetchError,
    OAHelperError,
    SourceBadResponse,
    SourceError,
    SourceRateLimited,
    SourceThrottled,
    SourceTimeout,
)
from oahelper.models import Article, Candidate, SourceAnswer, SourceState
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

T = TypeVar("T")
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
# XML from an upstream (arXiv's Atom): no DTD loaded, no entity expanded, nothing
# fetched, and libxml2's limits on depth and size kept (huge_tree off).
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                              load_dtd=False)
log = logging.getLogger(__name__)


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


def _snippet(body: bytes) -> str:
    return body[:60].decode("utf-8", "replace").strip()


def decode_json(body: bytes, what: str) -> Any:
    """Parse an upstream's JSON body; anything that cannot be read as JSON (an HTML
    page, an empty or cut-off body, nesting too deep for the parser, a number too long
    to convert) becomes ``SourceBadResponse``."""
    try:
        return json.loads(body)
    except RecursionError as exc:
        raise SourceBadResponse(f"{what} sent JSON nested too deep to read") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise SourceBadResponse(f"{what} sent something that is not JSON: {_snippet(body)!r}") from exc


def json_or_none(body: bytes) -> Any:
    """The JSON of an error answer, whose words are only a bonus, or None."""
    try:
        return decode_json(body, "")
    except SourceBadResponse:
        return None


def decode_xml(body: bytes, what: str) -> Any:
    """The root element of an upstream's XML body. A parse failure of any kind (libxml2's
    depth and size limits included) and a document type (the only way to declare an
    entity, which is never expanded) are ``SourceBadResponse``."""
    try:
        root = etree.fromstring(body, _XML_PARSER)
    except (etree.LxmlError, ValueError) as exc:
        raise SourceBadResponse(f"{what} sent something that is not XML: {_snippet(body)!r}") from exc
    if root.getroottree().docinfo.internalDTD is not None:  # any <!DOCTYPE …>
        raise SourceBadResponse(f"{what} sent XML with a document type (its entities are not read)")
    return root


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


def listed(value: Any) -> list[Any]:
    """``value`` when it is a JSON list, else an empty one (as ``mapping`` for objects)."""
    return value if isinstance(value, list) else []


def one_of(value: Any, allowed: Iterable[T]) -> T | None:
    """The item of ``allowed`` that ``value`` is, else None: a field sent as a list or an
    object (which no set could hold) reads as missing too."""
    return next((item for item in allowed if item == value), None)


@dataclass(frozen=True)
class Each:
    """A JSON list whose every item is of ``kind``."""

    kind: Kind


# What a field must be: a type (``str``, ``bool``, ``int``, ``float``, ``list``, ``dict``,
# ``type(None)``), a tuple of them (any one), a JSON object with these fields (a dict of
# field name → Kind), or ``Each(kind)``.
Kind: TypeAlias = "type | tuple[type, ...] | Mapping[str, Kind] | Each"
_KIND_NAMES: dict[type, str] = {str: "text", bool: "true or false", int: "a whole number",
                                float: "a number", list: "a list", dict: "an object",
                                type(None): "null"}


@dataclass(frozen=True)
class Shape:
    """What an upstream's answer must hold before the adapter may read it as one:
    ``name`` says what it is ("a paper", "a DOI record"), ``fields`` the required fields
    (each adapter's comment names the recordings that always have them)."""

    name: str
    fields: Mapping[str, Kind]


def require(body: Any, shape: Shape, what: str) -> dict[str, Any]:
    """``body`` when it is a JSON object with every field of ``shape``, each of its kind;
    else ``SourceBadResponse`` naming ``what`` (the source) and the field. Fields the
    shape does not name are not looked at."""
    problem = _misfit(body, shape.fields, "")
    if problem is None and isinstance(body, dict):
        return body
    raise SourceBadResponse(f"{what} sent JSON that is not {shape.name}: {problem}")


def _misfit(value: Any, kind: Kind, at: str) -> str | None:
    """What is wrong with ``value`` (at path ``at``) as a ``kind``, or None."""
    if isinstance(kind, Mapping):
        if not isinstance(value, dict):
            return f"{at or 'the answer'} is {_kind_of(value)}, not an object"
        for name, inner in kind.items():
            where = f"{at}.{name}" if at else name
            if name not in value:
                return f"{where} is missing"
            problem = _misfit(value[name], inner, where)
            if problem is not None:
                return problem
        return None
    if isinstance(kind, Each):
        if not isinstance(value, list):
            return f"{at} is {_kind_of(value)}, not a list"
        return next((p for i, item in enumerate(value)
                     if (p := _misfit(item, kind.kind, f"{at}[{i}]")) is not None), None)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if any(_is_kind(value, k) for k in kinds):
        return None
    return f"{at} is {_kind_of(value)}, not {' or '.join(_KIND_NAMES[k] for k in kinds)}"


def _is_kind(value: Any, kind: type) -> bool:
    # JSON's true and false are not numbers, though Python's bool is an int.
    return isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)


def _kind_of(value: Any) -> str:
    found = next((k for k in _KIND_NAMES if _is_kind(value, k)), None)
    return _KIND_NAMES[found] if found is not None else type(value).__name__


def adapter_bug(label: str) -> OAHelperError:
    """The error for an exception an adapter raised reading an answer (its own bug, not
    the upstream's), logged with its traceback: code "internal", so the answer is an
    error, never "ok" and never "No free copy". Call it in an ``except`` block."""
    log.exception("the %s adapter failed reading an answer", label)
    return OAHelperError(f"internal error in the {label} adapter")


def failed_answer(source: str, error: OAHelperError, *, calls: int, ms: int) -> SourceAnswer:
    """The answer of a source that could not answer: state "error" with code and message,
    or "skipped" when our own politeness limit kept it from asking in time."""
    state: SourceState = "skipped" if isinstance(error, SourceThrottled) else "error"
    return SourceAnswer(source=source, state=state, error=error.message,
                        error_code=error.code, calls=calls, ms=ms)


def hits_answer(source: str, answers: Iterable[SourceAnswer]) -> SourceAnswer:
    """A search's answer: each hit's own answer as a candidate, in the upstream's order
    ("not_found" when there is none)."""
    found = tuple(Candidate(source=source, work=Article(**answer.metadata), rank=rank,
                            answer=answer) for rank, answer in enumerate(answers))
    return SourceAnswer(source=source, state="ok" if found else "not_found", candidates=found)


def elapsed_ms(started: float, clock: Clock) -> int:
    """Whole milliseconds since ``started`` on ``clock``."""
    return round((clock() - started) * 1000)


Read = Callable[[Reply], SourceAnswer]


def read_exchange(exchange: Exchange, read: Read, label: str) -> SourceAnswer | OAHelperError:
    """What ``read`` makes of the exchange's final reply, or the error: the exchange's
    own, the ``SourceError`` that ``read`` raised, or ``adapter_bug`` for anything else
    it raised (a shape nobody foresaw), so that no exception makes an answer "ok"."""
    if exchange.error is not None:
        return exchange.error
    assert exchange.reply is not None
    try:
        return read(exchange.reply)
    except SourceError as exc:
        return exc
    except Exception:
        return adapter_bug(label)


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
        ``SourceError``); failures become an "error" (or throttled: "skipped") answer,
        and anything else ``read`` raises an "internal" one (``adapter_bug``)."""
        started = self._clock()
        exchange = await get_with_retries(session, url, timeout=timeout, headers=headers,
                                          max_retries=self.max_retries, clock=self._clock,
                                          gate=self.gate)
        ms = elapsed_ms(started, self._clock)
        got = read_exchange(exchange, read, self.label)
        if isinstance(got, SourceAnswer):
            return dataclasses.replace(got, calls=exchange.calls, ms=ms)
        if not isinstance(got, SourceThrottled):
            self._last_error = got.message
        return failed_answer(self.name, got, calls=exchange.calls, ms=ms)

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
