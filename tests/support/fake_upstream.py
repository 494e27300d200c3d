"""One fake server for every upstream, serving the real recordings as each service does.

``make_app(FakeUpstream())`` is a real aiohttp application: unit tests mount it with
pytest-aiohttp's ``aiohttp_server``, the daemon/CLI tests, the benchmark and the
browser e2e tests run it as a process::

    .venv/bin/python -m tests.support.fake_upstream --port 8765 [--delay S] [--log FILE]

What it serves:

- ``GET /v2/{doi}`` (Unpaywall): the recorded body of that DOI, verbatim, from
  ``../shared/fixtures/unpaywall`` (SQT files: the DOI object unwrapped from the
  wrapper) and from the project's own ``tests/fixtures/unpaywall``; the recorded JSON
  404 for the recorded 404 DOIs; a bare non-JSON 404 for any other DOI (Unpaywall
  since 2025); the recorded 422 body when the e-mail is missing or a placeholder.
- ``GET /oab/availability``: a *working* OAB-compatible service. No real OAB answer
  was ever recorded, so this serves the historic shape exactly as the README ("Sources")
  quotes it, with the availability taken from the Unpaywall recordings.
- ``GET /oab-retired/availability`` and ``/oab-retired/find|metadata|ill``: what the
  real service sends since its shutdown on 2025-11-18 (404 ``404``, 410 sentence).
- The other upstreams under their own prefix (``UPSTREAM_PATHS``), each from its module
  in ``tests/support/fakes/`` with its recordings in ``../shared/fixtures/<source>``:
  ``/europepmc/search``, ``/crossref/works``, ``/arxiv/query``,
  ``/semanticscholar/graph/v1/paper/…``, ``/openalex/works``. ``upstream_settings(base)`` and ``upstream_env(base)`` point
  every source's base URL setting at one running fake.

Tests tell it to misbehave with ``FakeUpstream.plan`` and read what it was asked in
``FakeUpstream.requests``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import aiohttp
import pytest
from aiohttp import web

from oahelper.sources.unpaywall import sqt_records
from tests.support.fakes import FAKES
from tests.support.fakes.common import FAKE as COMMON_FAKE
from tests.support.shared import OWN_FIXTURES, shared_fixtures

# Our own fixtures, always served (tests/fixtures/unpaywall/README.md).
GREEN_DOI = "10.5555/oahelper.green.2013"
GOLD_DOI = "10.5555/oahelper.gold.2024"
CLOSED_DOI = "10.5555/oahelper.closed.1997"
MISSING_DOI = "10.5555/oahelper.missing"   # the JSON 404 of the 2021-23 era
UNKNOWN_DOI = "10.5555/oahelper.unknown"   # nothing recorded: the bare 404 of 2025
# A recorded DOI whose brackets must reach Unpaywall percent-encoded (shared only).
BRACKET_DOI = "10.1641/0006-3568(2005)055[0851:POTAPF]2.0.CO;2"

FAILURES = frozenset({"500", "503", "429", "400", "garbage", "bare404", "410text", "hang", "xml",
                      "403"})
# Where each upstream lives on the fake (its base URL is the fake's URL + this path).
UPSTREAM_PATHS = {"unpaywall": "", "europepmc": "/europepmc", "crossref": "/crossref",
                  "arxiv": "/arxiv", "semanticscholar": "/semanticscholar", "openalex": "/openalex"}
# Query parameters that are secrets: the log says whether they were sent, never their value.
SECRET_PARAMS = frozenset({"api_key"})


# The sources whose politeness limits (one request a second, one every 3 s) make how
# many calls a run makes, and in which order answers come, depend on timing. Tests about
# ordering or call counts of something else (the audit, batches) leave them out.
THROTTLED_SOURCES = "semanticscholar,arxiv"


def upstream_settings(base: str) -> dict[str, str]:
    """Every source's base URL setting pointed at the fake running at ``base``, and
    link checks off: the recorded copies live on real sites that a test cannot reach.
    Link checks are tested against the fake web (tests/support/fake_web.py)."""
    return {f"{name}_url": base + path for name, path in UPSTREAM_PATHS.items()} | {
        "verify_links": "false"}


def upstream_env(base: str) -> dict[str, str]:
    """The same as ``OAHELPER_…_URL`` environment variables (for the CLI and daemon)."""
    return {f"OAHELPER_{k.upper()}": v for k, v in upstream_settings(base).items()}

# What Flask's bare ``abort(404)`` sends (werkzeug's NotFound page): Unpaywall's
# ``/v2/<doi>`` 404 since the 2025-05-20 backend switch has no JSON error handler.
BARE_404 = (
    "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    "<p>The requested URL was not found on the server. If you entered the URL manually "
    "please check your spelling and try again.</p>\n"
)
# The retired OAB's 410 is a plain sentence labelled application/json; the shape is
# the real one, the wording here is ours (the sentence itself was not recorded).
RETIRED_410 = "Open Access Button has been retired and this API is no longer available."
# A 200 whose body is not JSON: a cut-off record.
GARBAGE = '{"doi": "10.1038/nature12373", "best_oa_location": {"url": "https://dash.harv'
XML_PAGE = '<?xml version="1.0" encoding="UTF-8"?><responseWrapper><hitCount>0</hitCount></responseWrapper>'
LOGGED_HEADERS = ("user-agent", "accept", "referer")
_NOT_IN_UNPAYWALL = re.compile(r"^'(?P<doi>.+)' isn't in Unpaywall")


@dataclass(frozen=True)
class Recordings:
    """Unpaywall bodies by case-folded DOI, as bytes exactly as they are served."""

    records: dict[str, bytes]
    not_found: dict[str, bytes]
    refusal: bytes
    folders: tuple[Path, ...]

    @classmethod
    def load(cls, folders: Iterable[Path] | None = None) -> Recordings:
        """Our own fixtures first, then the shared recordings (which win on a clash)."""
        if folders is None:
            shared = shared_fixtures()
            folders = [OWN_FIXTURES / "unpaywall"]
            if shared is not None and (shared / "unpaywall").is_dir():
                folders.append(shared / "unpaywall")
        folders = tuple(folders)
        records: dict[str, bytes] = {}
        not_found: dict[str, bytes] = {}
        refusal = b""
        for folder in folders:
            for path in sorted(folder.glob("200_*.json")):
                records.update(_records_in(path.read_bytes()))
            for path in sorted(folder.glob("404_*.json")):
                body = path.read_bytes()
                match = _NOT_IN_UNPAYWALL.match(json.loads(body).get("message", ""))
                if match:
                    not_found[match["doi"].casefold()] = body
            for path in sorted(folder.glob("422_*.json")):
                refusal = path.read_bytes()
        return cls(records, not_found, refusal, folders)

    def record(self, doi: str) -> dict[str, Any] | None:
        """The parsed record of ``doi``, or None."""
        body = self.records.get(doi.casefold())
        return json.loads(body) if body is not None else None


def _records_in(body: bytes) -> dict[str, bytes]:
    """The DOI records one 200 file holds: itself (GET endpoint) or, for a Simple Query
    Tool wrapper, each DOI object re-serialised as the 2025 compact JSON it came in."""
    data = json.loads(body)
    if not isinstance(data, dict):
        return {}
    if isinstance(data.get("doi"), str) and "oa_locations" in data:
        return {data["doi"].casefold(): body}
    return {doi.casefold(): json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
            for doi, obj in sqt_records(data).items()}


def refuses_email(email: str | None) -> bool:
    """Unpaywall's 422 rule as far as it is known: missing, example.com or test@."""
    email = (email or "").strip().lower()
    return not email or "example.com" in email or email.startswith("test@")


@dataclass
class Plan:
    """How to misbehave: ``kind`` (one of FAILURES, or None to answer normally after
    ``delay`` seconds), for ``times`` requests (None: until cleared). Plans are made
    for one identifier or all, and for one service or all."""

    kind: str | None = None
    delay: float = 0.0
    retry_after: str | None = None
    times: int | None = None


@dataclass
class FakeUpstream:
    """State of the fake servers: the request log and the failure plans."""

    recordings: Recordings = field(default_factory=Recordings.load)
    delay: float = 0.0
    log: TextIO | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    _plans: dict[tuple[str | None, str | None], Plan] = field(default_factory=dict)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def plan(self, kind: str | None = None, *, doi: str | None = None, delay: float = 0.0,
             retry_after: str | float | None = None, times: int | None = None,
             service: str | None = None) -> None:
        """Misbehave for ``doi`` (or for every request when None), at ``service`` (or
        at every service when None)."""
        if kind is not None and kind not in FAILURES:
            raise ValueError(f"unknown failure {kind!r}; known: {sorted(FAILURES)}")
        after = None if retry_after is None else str(retry_after)
        key = (service, doi.casefold() if doi else None)
        self._plans[key] = Plan(kind, delay, after, times)

    def clear(self) -> None:
        """Forget every plan and the request log."""
        self._plans.clear()
        self.requests.clear()

    def calls_for(self, doi: str, service: str | None = None) -> int:
        """How many requests named ``doi`` (of ``service`` when given)."""
        key = doi.casefold()
        return sum(1 for r in self.requests
                   if (r["doi"] or "").casefold() == key
                   and (service is None or r["service"] == service))

    def release(self) -> None:
        """Let every hanging or delayed handler finish (server shutdown)."""
        self._released.set()

    def record_request(self, request: web.Request, service: str, doi: str | None) -> None:
        headers: dict[str, Any] = {name: request.headers.get(name) for name in LOGGED_HEADERS}
        # Presence only: the key itself is a secret and never goes to a log.
        headers["x-apikey"] = "x-apikey" in request.headers
        headers["x-api-key"] = "x-api-key" in request.headers
        query = {k: (True if k in SECRET_PARAMS else v) for k, v in request.query.items()}
        entry = {"service": service, "method": request.method, "path": request.path,
                 "raw_path": request.raw_path if not SECRET_PARAMS & set(request.query) else
                 request.path, "query": query, "headers": headers, "doi": doi,
                 "t": time.monotonic()}
        self.requests.append(entry)
        if self.log is not None:
            self.log.write(json.dumps(entry) + "\n")
            self.log.flush()

    def _take(self, doi: str | None, service: str | None) -> Plan | None:
        folded = doi.casefold() if doi else None
        for key in ((service, folded), (None, folded), (service, None), (None, None)):
            if (key[1] is None or folded is not None) and key in self._plans:
                break
        else:
            return None
        plan = self._plans[key]
        if plan.times is not None:
            plan.times -= 1
            if plan.times <= 0:
                del self._plans[key]
        return plan

    async def _pause(self, seconds: float | None) -> None:
        """Wait ``seconds`` (None: until released), cut short by a shutdown so a test
        server never keeps its teardown waiting."""
        try:
            await asyncio.wait_for(self._released.wait(), seconds)
        except TimeoutError:
            pass

    async def misbehaviour(self, doi: str | None, service: str | None = None
                           ) -> web.Response | None:
        """Apply the global delay and the plan for ``doi`` at ``service``: a response to
        send instead of the normal answer, or None."""
        plan = self._take(doi, service)
        delay = self.delay + (plan.delay if plan else 0.0)
        if delay > 0:
            await self._pause(delay)
        if plan is None or plan.kind is None:
            return None
        if plan.kind == "hang":
            await self._pause(None)
            return web.Response(status=503, text="Service Unavailable")
        return _failure(plan)


def _failure(plan: Plan) -> web.Response:
    """The response of one planned failure (5xx and 429 bodies are never read)."""
    match plan.kind:
        case "429":
            headers = {"Retry-After": plan.retry_after} if plan.retry_after else {}
            return web.Response(status=429, text="Too Many Requests", headers=headers)
        case "500":
            return web.Response(status=500, text="Internal Server Error")
        case "503":
            return web.Response(status=503, text="Service Unavailable")
        case "400":
            return web.Response(status=400, text="400", content_type="application/json")
        case "garbage":
            return web.Response(status=200, text=GARBAGE, content_type="application/json")
        case "bare404":
            return web.Response(status=404, text=BARE_404, content_type="text/html")
        case "410text":
            return web.Response(status=410, text=RETIRED_410, content_type="application/json")
        case "403":  # a refused key (or no key); OpenAlex's documented envelope, not recorded
            return web.Response(status=403, text=json.dumps(
                {"error": "Forbidden", "message": "An API key is required for this request."}),
                content_type="application/json")
        case "xml":  # an XML page where JSON was asked for (Europe PMC without format=json)
            return web.Response(status=200, text=XML_PAGE, content_type="application/xml")
    raise AssertionError(plan.kind)


FAKE = COMMON_FAKE  # one key, shared with the modules in tests/support/fakes/


def _json(body: bytes, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body, content_type="application/json")


async def unpaywall(request: web.Request) -> web.Response:
    """``GET /v2/{doi}?email=…`` as Unpaywall answers it."""
    fake = request.app[FAKE]
    doi = request.match_info["doi"]
    fake.record_request(request, "unpaywall", doi)
    planned = await fake.misbehaviour(doi, "unpaywall")
    if planned is not None:
        return planned
    if refuses_email(request.query.get("email")):
        return _json(fake.recordings.refusal, 422)
    key = doi.casefold()
    if key in fake.recordings.records:
        return _json(fake.recordings.records[key])
    if key in fake.recordings.not_found:
        return _json(fake.recordings.not_found[key], 404)
    return web.Response(status=404, text=BARE_404, content_type="text/html")


def oab_answer(recordings: Recordings, query: dict[str, str]) -> dict[str, Any]:
    """The historic ``/availability`` answer (the README ("Sources"), 2020+ form with the
    top-level ``v2`` object, served empty since no recording shows its content)."""
    doi = query.get("doi")
    record = recordings.record(doi) if doi else None
    best = (record or {}).get("best_oa_location") or {}
    url = best.get("url") if (record or {}).get("is_oa") else None
    available = [{"type": "article", "url": url}] if url else []
    article = {"doi": doi, "title": (record or {}).get("title"), "url": url} if doi else {}
    match = next((f"{k}={v}" for k, v in query.items()), "")
    return {
        "data": {
            "availability": available,
            "requests": [],
            "accepts": [] if available else [{"type": "article"}],
            "meta": {"article": article, "data": {}, "cache": False, "refresh": 0},
            "match": match,
        },
        "v2": {},
    }


async def oab_availability(request: web.Request) -> web.Response:
    """A working OAB-compatible ``/availability``."""
    fake = request.app[FAKE]
    doi = request.query.get("doi")
    fake.record_request(request, "oab", doi)
    planned = await fake.misbehaviour(doi, "oab")
    if planned is not None:
        return planned
    return web.json_response(oab_answer(fake.recordings, dict(request.query)))


async def oab_retired_availability(request: web.Request) -> web.Response:
    """The real ``/availability`` since 2025-11-18: HTTP 404, body ``404``."""
    request.app[FAKE].record_request(request, "oab-retired", request.query.get("doi"))
    return web.Response(status=404, text="404", content_type="application/json")


async def oab_retired_other(request: web.Request) -> web.Response:
    """The real ``/find``, ``/metadata``, ``/ill`` since then: 410 and a sentence."""
    request.app[FAKE].record_request(request, "oab-retired", request.query.get("doi"))
    return web.Response(status=410, text=RETIRED_410, content_type="application/json")


async def anything_else(request: web.Request) -> web.Response:
    """Logged too, so a privacy test sees every request that reached the fake."""
    request.app[FAKE].record_request(request, "other", None)
    return web.Response(status=404, text=BARE_404, content_type="text/html")


async def _release_on_shutdown(app: web.Application) -> None:
    app[FAKE].release()


def make_app(fake: FakeUpstream) -> web.Application:
    """The fake upstreams as one aiohttp application."""
    app = web.Application()
    app[FAKE] = fake
    app.router.add_get("/v2/{doi:.+}", unpaywall)
    app.router.add_get("/oab/availability", oab_availability)
    app.router.add_get("/oab-retired/availability", oab_retired_availability)
    app.router.add_get("/oab-retired/{endpoint:find|metadata|ill}", oab_retired_other)
    for name, module in FAKES.items():
        module.add_routes(app, UPSTREAM_PATHS[name])
    app.router.add_route("*", "/{tail:.*}", anything_else)
    app.on_shutdown.append(_release_on_shutdown)
    return app


async def start_in(aiohttp_server: Any, fake: FakeUpstream | None = None
                   ) -> tuple[FakeUpstream, str]:
    """Mount the fake on pytest-aiohttp's ``aiohttp_server``: the fake and its base URL."""
    fake = fake or FakeUpstream()
    server = await aiohttp_server(make_app(fake))
    return fake, str(server.make_url("")).rstrip("/")


# Fixtures for adapter tests; a test module imports them by name to use them.
@pytest.fixture
async def upstream(aiohttp_server: Any) -> tuple[FakeUpstream, str]:
    """A fresh fake upstream on a local test server: (fake, base URL)."""
    return await start_in(aiohttp_server)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The client session an adapter is handed, as the daemon hands it one."""
    async with aiohttp.ClientSession() as client:
        yield client


async def serve(fake: FakeUpstream, port: int = 0) -> tuple[web.AppRunner, int]:
    """Start the app on 127.0.0.1:``port`` (0: any free port); the runner and the port."""
    runner = web.AppRunner(make_app(fake), shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return runner, runner.addresses[0][1]


async def _run(fake: FakeUpstream, port: int) -> None:
    runner, port = await serve(fake, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.fake_upstream",
                                     description="Serve the recorded Unpaywall/OAB answers.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--log", type=Path, help="append each request as a JSON line here")
    parser.add_argument("--fail", action="append", default=[], metavar="SERVICE:KIND",
                        help=f"misbehave at every request to SERVICE (kinds: {', '.join(sorted(FAILURES))})")
    args = parser.parse_args(argv)
    log = args.log.open("a", encoding="utf-8") if args.log else None
    fake = FakeUpstream(delay=args.delay, log=log)
    for failing in args.fail:
        service, _, kind = failing.partition(":")
        fake.plan(kind, service=service)
    try:
        asyncio.run(_run(fake, args.port))
    finally:
        if log is not None:
            log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
