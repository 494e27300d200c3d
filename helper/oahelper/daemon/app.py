"""The daemon's HTTP API v1 (docs/api.md) and the checks in front of it.

Every request passes, in order: the Host allowlist (DNS rebinding), the browser-page
check (a request a web page made is dropped without an answer, so a page cannot even
learn that the daemon runs), the token check (all but /v1/health and /v1/pair), then
the handler, which reads a JSON body under a size cap. Every answer carries
Cache-Control: no-store, nosniff and X-OAHelper-Version; every error has one shape.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

from aiohttp import web

from oahelper import API_VERSION, __version__
from oahelper.audit.batch import batch_entries
from oahelper.audit.rows import Row
from oahelper.audit.runner import AuditRunner
from oahelper.daemon.clients import AsyncClientStore, Client, ClientStore
from oahelper.engine.budget import CallBudgets, Caller
from oahelper.engine.build import Engine, config_stamp, lane_limits, open_plant
from oahelper.engine.cache import AsyncCache
from oahelper.engine.diagnostics import config_problems
from oahelper.engine.lookup import LookupRequest, PageFetcher, label
from oahelper.engine.pauses import Pauses
from oahelper.errors import (
    BadRequest,
    ConfigError,
    Forbidden,
    MethodNotAllowed,
    NotFoundError,
    OAHelperError,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    UnsupportedMediaType,
)
from oahelper.identifiers import parse_query
from oahelper.keys import KeyStore
from oahelper.logtext import printable
from oahelper.settings import SOURCE_NAMES, Settings, apply_browser_changes, browser_view
from oahelper.sources.base import Source
from oahelper.sources.snapshot import Snapshot

log = logging.getLogger(__name__)

KEYSTORE = web.AppKey("keystore", KeyStore)
CLIENTS = web.AppKey("clients", AsyncClientStore)
CACHE = web.AppKey("cache", AsyncCache)
ENGINES: web.AppKey[Engines] = web.AppKey("engines")
PAIR_LIMITER: web.AppKey[RateLimiter] = web.AppKey("pair_limiter")
# A batch's items that waited for a busy source are asked again this many times, each
# time once the busy sources' answers are in (or after this many seconds).
BATCH_ROUNDS = 4
BATCH_ROUND_SECONDS = 15.0
BUDGETS = web.AppKey("budgets", CallBudgets)
CLIENT = web.RequestKey("client", Client)  # the Client the request's token belongs to

PUBLIC_PATHS = frozenset({"/v1/health", "/v1/pair"})
EXTENSION_SCHEMES = ("chrome-extension://", "moz-extension://", "safari-web-extension://")
# Field name -> longest accepted value, for /v1/lookup bodies.
LOOKUP_FIELDS = {"url": 8192, "html": None, "doi": 1024, "query": 2000}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds (sliding window)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._events: deque[float] = deque()

    def allow(self) -> bool:
        now = self.clock()
        while self._events and self._events[0] <= now - self.window:
            self._events.popleft()
        if len(self._events) >= self.limit:
            return False
        self._events.append(now)
        return True


def error_response(exc: OAHelperError) -> web.Response:
    return web.json_response(exc.to_json(), status=exc.status)


def allowed_hosts(port: int) -> frozenset[str]:
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"})


def is_extension_origin(origin: str) -> bool:
    return origin == "null" or origin.startswith(EXTENSION_SCHEMES)


def made_by_web_page(request: web.Request, own_hosts: frozenset[str]) -> bool:
    """True for requests a web page made: a web Origin, or Fetch Metadata saying so.

    Browsers send Origin on every POST and CORS request; an <img> or no-cors GET has
    no Origin but does carry Sec-Fetch-Site (https://w3c.github.io/webappsec-fetch-metadata/).
    Its values, for a request to us:

    - ``none``: not made by a document at all (a user typing the address; Chrome's
      extension service worker).
    - ``same-origin``: made by a document of the origin in the request's URL, i.e.
      ``http://<Host>``. With one of our own Host values that is the daemon's own
      origin, which serves nothing but JSON under nosniff, so no page script runs there:
      only an extension with host permission (Firefox sends its extension fetches so)
      can be the sender. With any other Host it is a DNS-rebinding page.
    - ``same-site`` (another port of 127.0.0.1) and ``cross-site``: a web page.
    Unknown values are treated as a page; no header at all is a script or an old browser.
    """
    origin = request.headers.get("Origin")
    if origin is not None and not is_extension_origin(origin):
        return True
    if origin is not None and origin != "null":
        return False  # a real extension origin: no web page can send it
    # No Origin, or "null", which a sandboxed page's iframe also sends: ask Fetch Metadata.
    site = request.headers.get("Sec-Fetch-Site")
    if site is None or site == "none":
        return False
    if site == "same-origin":
        return request.host not in own_hosts
    return True


def _drop(request: web.Request) -> web.Response:
    """Close the connection without an answer: to the page, as if nothing listened.

    The returned response is never sent: aiohttp finds the transport closed and
    only logs the access.
    """
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=403)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Host allowlist, browser-page drop, CORS for extensions, one error shape."""
    port = request.transport.get_extra_info("sockname")[1] if request.transport else 0
    if made_by_web_page(request, allowed_hosts(port)):
        log.info("dropped a request from a web page to %s", printable(request.path))
        return _drop(request)
    try:
        if request.host not in allowed_hosts(port):
            raise Forbidden("Host not allowed: the daemon answers only to 127.0.0.1, localhost or [::1]")
        refuse_compressed_body(request)
        if request.method == "OPTIONS":
            response: web.StreamResponse = web.Response(status=204)
        else:
            response = await handler(request)
    except OAHelperError as exc:
        response = error_response(exc)
    except web.HTTPException as exc:  # aiohttp's own: unknown route, wrong method, 413
        response = error_response(_translate_http(exc))
    except Exception:  # a bug must still answer in the one error shape
        log.exception("internal error on %s", printable(request.path))
        response = error_response(OAHelperError("internal error; see the daemon's log"))
    if not response.prepared:  # a streamed answer got them before its first byte
        add_cors_headers(request, response)
    return response


def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """CORS headers for an extension's request (never for a web page's)."""
    origin = request.headers.get("Origin")
    if origin and is_extension_origin(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE"
        response.headers["Vary"] = "Origin"


def refuse_compressed_body(request: web.Request) -> None:
    """No client of the daemon compresses bodies, and decompressing costs far more than
    receiving (1 MB of gzip is 1 GiB of zeros): a body in any Content-Encoding but
    identity is refused unread (the server is told never to decompress, see init)."""
    # Every Content-Encoding header and every coding listed in each ("identity, gzip").
    codings = {coding.strip().lower() for header in request.headers.getall("Content-Encoding", [])
               for coding in header.split(",")}
    if codings - {"identity", ""}:
        raise UnsupportedMediaType("request bodies must not be compressed: send them without "
                                   "Content-Encoding", code="unsupported_content_encoding")


def request_method_hint(exc: web.HTTPException) -> str:
    allowed = getattr(exc, "allowed_methods", None)
    return f"this method (allowed: {', '.join(sorted(allowed))})" if allowed else "this method"


def _translate_http(exc: web.HTTPException) -> OAHelperError:
    if exc.status == 404:
        return NotFoundError("no such endpoint; see docs/api.md")
    if exc.status == 405:
        return MethodNotAllowed(f"{request_method_hint(exc)} is not accepted here; see docs/api.md")
    if exc.status == 413:
        return PayloadTooLarge("request body too large")
    return OAHelperError(exc.reason or "error", code=f"http_{exc.status}")


@web.middleware
async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC_PATHS or request.method == "OPTIONS":
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing token: pair this client (oahelper pair) and send "
                           "Authorization: Bearer <token>")
    request[CLIENT] = await request.app[CLIENTS].verify(token.strip(), request.headers.get("Origin"))
    return await handler(request)


async def add_common_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-OAHelper-Version"] = __version__


async def read_json(request: web.Request, max_bytes: int) -> dict[str, Any]:
    """The request's JSON object, or the API error that says what is wrong with it."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("send the body as Content-Type: application/json")
    if request.content_length is not None and request.content_length > max_bytes:
        # Refuse before reading: the body may be huge.
        raise PayloadTooLarge(f"request body over {max_bytes} bytes")
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(65536):
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"request body over {max_bytes} bytes")
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks).decode(request.charset or "utf-8"))
    except (LookupError, ValueError, RecursionError) as exc:
        # ValueError covers UnicodeError (any charset's decoding) and bad JSON;
        # RecursionError is JSON nested deeper than the parser goes (a 2 KB body can be).
        raise BadRequest(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def lookup_request(data: dict[str, Any]) -> LookupRequest:
    """Check the /v1/lookup fields' types and sizes."""
    values: dict[str, str | None] = {}
    for name, longest in LOOKUP_FIELDS.items():
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"'{name}' must be a string")
        if value is not None and longest is not None and len(value) > longest:
            raise BadRequest(f"'{name}' is longer than {longest} characters")
        values[name] = value
    if values["query"] is not None and not values["query"].strip():
        raise BadRequest("'query' is empty: send a title, a reference, a DOI, PMID, PMCID or arXiv id")
    if not values["url"] and not values["doi"] and not values["query"]:
        raise BadRequest("send at least 'url', 'doi' or 'query'")
    if values["doi"] and parse_query(values["doi"]) is None:
        raise BadRequest("'doi' is not a DOI, PMID, PMCID or arXiv id")
    return LookupRequest(**values)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"service": "oahelper", "version": __version__, "api": API_VERSION})


async def pair(request: web.Request) -> web.Response:
    if not request.app[PAIR_LIMITER].allow():
        raise RateLimited("too many pairing attempts; wait a minute")
    data = await read_json(request, 4096)
    code, client = data.get("code"), data.get("client", "browser")
    if not isinstance(code, str) or not isinstance(client, str):
        raise BadRequest("'code' and 'client' must be strings")
    token, name = await request.app[CLIENTS].redeem_pair_code(code, client,
                                                             request.headers.get("Origin"))
    log.info("paired a new client %r", name)
    return web.json_response({"token": token, "client": name})


async def lookup(request: web.Request) -> web.Response:
    engine = await request.app[ENGINES].current()
    data = await read_json(request, engine.settings.max_body)
    payload = await engine.service.lookup(lookup_request(data), caller=_caller(request, "interactive"))
    return web.json_response(payload)


def _caller(request: web.Request, lane: str) -> Caller:
    """Whose budget of upstream lookups a request spends (engine/budget.py)."""
    return Caller(lane, request[CLIENT].name)


async def batch(request: web.Request) -> web.StreamResponse:
    """Up to MAX_ITEMS identifiers or references; one NDJSON line per item as its
    answer arrives (``{"index", "row", "pending"}``). An item whose answer waited for a
    busy source (``pending``) is looked up again once that source has answered, and
    its new line replaces the first (same ``index``); then ``{"done": true, …}``.
    Answers the cache has come at once: only lookups that ask an upstream take one of
    the batch slots, shared fairly between clients (engine/slots.py)."""
    engine = await request.app[ENGINES].current()
    entries = batch_entries(await read_json(request, engine.settings.max_body))
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson; charset=utf-8"})
    add_cors_headers(request, response)
    await response.prepare(request)
    service = engine.service
    runner = AuditRunner(partial(service.lookup_article, caller=_caller(request, "batch")),
                         concurrency=len(entries) or 1)
    free: dict[int, bool] = {}
    waiting: list[int] = []

    async def send(index: int, row: Row, pending: list[str]) -> None:
        free[index] = row.is_free
        line = {"index": index, "row": row.to_json(), "pending": pending}
        await response.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")

    try:
        async for index, row, pending in runner.as_answered(entries):
            await send(index, row, pending)
            if pending:
                waiting.append(index)
        for _ in range(BATCH_ROUNDS):
            if not waiting:
                break
            await service.settle(timeout=BATCH_ROUND_SECONDS)
            again = await asyncio.gather(*(runner.answer_for(entries[i]) for i in waiting))
            for index, (row, pending) in zip(waiting, again, strict=True):
                await send(index, row, pending)
            waiting = [i for i, (_, pending) in zip(waiting, again, strict=True) if pending]
        done = {"done": True, "total": len(entries), "free": sum(free.values())}
        await response.write(json.dumps(done).encode() + b"\n")
    except ConnectionResetError:  # the client went away: its lookups are cancelled
        log.info("batch client left before the last answer")
        return response
    await response.write_eof()
    return response


async def status(request: web.Request) -> web.Response:
    app = request.app
    engine = await app[ENGINES].current()
    report = await status_report(engine.settings, app[KEYSTORE], engine.sources, app[CACHE],
                                 engine.service.pauses)
    report["snapshot"] = await snapshot_status(engine.sources)
    return web.json_response(report)


def settings_view(settings: Settings) -> dict[str, Any]:
    """What ``GET /v1/settings`` shows: the settings a browser may see and set (the
    user's choices, never ports, hosts, files or upstream addresses), each with its
    value, default, help and where the value comes from; and each source, on or off."""
    view = {name: {k: list(v) if isinstance(v, tuple) else v for k, v in entry.items()}
            for name, entry in browser_view(settings).items()}
    return {"settings": view, "sources": {name: settings.source_on(name) for name in SOURCE_NAMES},
            "config_file": str(settings.config_file)}


async def get_settings(request: web.Request) -> web.Response:
    engine = await request.app[ENGINES].current()
    return web.json_response(settings_view(engine.settings))


async def put_settings(request: web.Request) -> web.Response:
    """Change the user's choices: ``{"unpaywall_email": "…", "sources.crossref": false,
    "ezproxy_prefix": null}`` (null: back to the default). Checked as ``oahelper config
    set`` checks them (the same messages), all or nothing; a running daemon uses them
    from the next request on. The answer is the new ``GET /v1/settings``."""
    engine = await request.app[ENGINES].current()
    changes = await read_json(request, 65536)
    if not changes:
        raise BadRequest("send the settings to change, e.g. {\"unpaywall_email\": \"you@uni.edu\"}")
    try:
        await asyncio.to_thread(apply_browser_changes, engine.settings.config_file, changes)
    except ConfigError as exc:
        raise BadRequest(exc.message, code="bad_setting") from exc
    engine = await request.app[ENGINES].current()  # the file changed: read it again now
    log.info("settings changed from a browser: %s", ", ".join(sorted(printable(k) for k in changes)))
    return web.json_response(settings_view(engine.settings))


async def snapshot_status(sources: list[Source]) -> dict[str, Any] | None:
    """The snapshot's figures (read in a thread: a scan of the whole copy), or None
    when no snapshot source is in use."""
    source = next((s for s in sources if isinstance(s, Snapshot)), None)
    if source is None:
        return None
    try:
        return (await asyncio.to_thread(source.status)).to_json()
    except OAHelperError as exc:
        return {"path": str(source.path), "present": source.path.exists(), "error": exc.message}


async def status_report(settings: Settings, keystore: KeyStore, sources: list[Source],
                        cache: AsyncCache, pauses: Pauses) -> dict[str, Any]:
    """What /v1/status shows (``snapshot`` is added by the handler). The keyring and
    the cache are read in threads."""
    calls = {s.name: await cache.calls_today(s.name) for s in sources}
    problems, backend, available = await asyncio.to_thread(
        lambda: (config_problems(settings, keystore, sources), keystore.backend_name(),
                 keystore.available()))
    return {
        "service": "oahelper", "version": __version__, "api": API_VERSION, "port": settings.port,
        "sources": {s.name: s.health().to_json() | {"calls_today": calls[s.name],
                                                    "paused": pauses.to_json(s.name, label(s))}
                    for s in sources},
        "problems": [p.to_json() for p in problems],
        "cache": await cache.stats(),
        "quota": {"unpaywall": {"calls_today": calls.get("unpaywall", 0),
                                "limit": settings.unpaywall_daily_limit}},
        "keyring": {"backend": backend, "available": available},
        "offline": settings.offline,
    }


class Engines:
    """The engine for the current settings: rebuilt when the config file changes, so
    ``oahelper config set`` takes effect without a restart (port and host excepted).
    Reading the settings and building (which reads the keyring) run in a thread."""

    def __init__(self, build: Callable[[Settings], Engine], engine: Engine,
                 reload: Callable[[], Settings] | None) -> None:
        self._build, self._reload = build, reload
        self._engine = engine
        self._reloading = asyncio.Lock()

    async def current(self) -> Engine:
        engine = self._engine
        if self._reload is None or config_stamp(engine.settings.config_file) == engine.stamp:
            return engine
        async with self._reloading:  # one rebuild, however many requests noticed the change
            if self._engine is engine:
                self._engine = await asyncio.to_thread(self._rebuilt, engine, self._reload)
            return self._engine

    def _rebuilt(self, engine: Engine, reload: Callable[[], Settings]) -> Engine:
        stamp = config_stamp(engine.settings.config_file)
        try:
            settings = reload()
        except OAHelperError as exc:
            log.warning("config file changed but not used: %s", exc.message)
            engine.stamp = stamp  # say it once, not on every request
            return engine
        if (settings.host, settings.port) != (engine.settings.host, engine.settings.port):
            log.warning("host and port changes take effect when the daemon restarts")
        log.info("settings reloaded from %s", settings.config_file)
        return self._build(settings)


def init(settings: Settings, *, keystore: KeyStore | None = None,
         sources: list[Source] | None = None, fetch_page: PageFetcher | None = None,
         reload_settings: Callable[[], Settings] | None = None) -> web.Application:
    """The daemon's application; resources open on startup and close on cleanup.

    With ``reload_settings``, a changed config file is read again on the next request.
    """
    # auto_decompress off: the server itself never inflates a body (guard refuses them).
    app = web.Application(middlewares=[guard, require_token], client_max_size=settings.max_body,
                          handler_args={"auto_decompress": False})
    app[KEYSTORE] = keystore or KeyStore()
    app[PAIR_LIMITER] = RateLimiter(limit=10, window=60.0)
    app[BUDGETS] = CallBudgets(lane_limits(settings))

    async def resources(app: web.Application) -> AsyncIterator[None]:
        app[CLIENTS] = AsyncClientStore(await asyncio.to_thread(ClientStore, settings.clients_db))
        try:
            async with open_plant(settings, keystore=app[KEYSTORE], budgets=app[BUDGETS],
                                  page_workers=True, sources=sources,
                                  fetch_page=fetch_page) as plant:
                app[CACHE] = plant.cache
                first = await asyncio.to_thread(plant.engine, settings)
                app[ENGINES] = Engines(plant.engine, first, reload_settings)
                yield
        finally:
            await app[CLIENTS].aclose()

    app.cleanup_ctx.append(resources)
    app.on_response_prepare.append(add_common_headers)
    app.router.add_get("/v1/health", health)
    app.router.add_post("/v1/pair", pair)
    app.router.add_post("/v1/lookup", lookup)
    app.router.add_post("/v1/batch", batch)
    app.router.add_get("/v1/status", status)
    app.router.add_get("/v1/settings", get_settings)
    app.router.add_put("/v1/settings", put_settings)
    return app
