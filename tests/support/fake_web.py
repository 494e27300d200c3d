"""A fake web for link checks: one real local aiohttp server playing many hosts.

Every host name a test uses resolves to 127.0.0.1 through ``HostsResolver`` (never
through real DNS: a name not in the table does not resolve), and ``allow`` lists its
``(name, port)`` pairs for the fetch session, which is what ``allow_private_hosts`` is
for. So the final URLs keep their real host and path (``consent.google.es…/ml?continue=``,
``…/login/``), which the classifier reads.

``FakeWeb.route(url, handler)`` serves a URL; ``answer`` a fixed status, headers and
body; ``redirect`` a 302. The server counts what it was asked (``hits``, ``asked``:
each request's host, path, time and headers) and how many requests each host had in
flight at once (``most_at_once``).
"""

from __future__ import annotations

import asyncio
import collections
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer
from yarl import URL

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class HostsResolver(AbstractResolver):
    """A fixed hosts table: each name answers with its address, any other fails."""

    def __init__(self, table: Mapping[str, str]) -> None:
        self.table = dict(table)

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not in the test hosts table")
        return [{"hostname": host, "host": self.table[host], "port": port,
                 "family": socket.AF_INET, "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        pass


@dataclass(frozen=True)
class Asked:
    host: str
    path: str
    at: float  # time.monotonic()
    headers: Mapping[str, str]


@dataclass
class FakeWeb:
    """Routes by (host, raw path and query); start it with ``start(aiohttp_server)``."""

    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    asked: list[Asked] = field(default_factory=list)
    in_flight: collections.Counter[str] = field(default_factory=collections.Counter)
    most_at_once: collections.Counter[str] = field(default_factory=collections.Counter)
    most_at_once_anywhere: int = 0
    server: TestServer | None = None

    async def start(self, aiohttp_server: Callable[..., Awaitable[TestServer]]) -> FakeWeb:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.server = await aiohttp_server(app, host="127.0.0.1")
        return self

    @property
    def port(self) -> int:
        assert self.server is not None and self.server.port is not None, "start() first"
        return self.server.port

    # --- what is served -------------------------------------------------------------

    def url(self, url: str) -> str:
        """``url`` on this server: http, this port, same host, path and query."""
        return str(URL(url).with_scheme("http").with_port(self.port))

    def route(self, url: str, handler: Handler) -> str:
        """Serve ``url`` (moved onto this server, see ``url``) with ``handler``."""
        served = URL(self.url(url))
        self.routes[(served.raw_host or "", served.raw_path_qs)] = handler
        return str(served)

    def answer(self, url: str, status: int = 200, headers: Mapping[str, str] | None = None,
               body: bytes = b"", delay: float = 0.0) -> str:
        async def handler(_request: web.Request) -> web.StreamResponse:
            if delay:
                await asyncio.sleep(delay)
            return web.Response(status=status, headers=dict(headers or {}), body=body)
        return self.route(url, handler)

    def redirect(self, url: str, to: str, status: int = 302) -> str:
        async def handler(_request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": to})
        return self.route(url, handler)

    # --- what a checker needs -------------------------------------------------------

    def hosts(self) -> set[str]:
        return {host for host, _ in self.routes} | {"127.0.0.1"}

    def resolver(self) -> HostsResolver:
        return HostsResolver({host: "127.0.0.1" for host in self.hosts()})

    def allow(self) -> frozenset[tuple[str, int]]:
        """Every served host on this port: the ``allow_private_hosts`` of the tests."""
        return frozenset((host, self.port) for host in self.hosts())

    # --- what was asked -------------------------------------------------------------

    def hits(self, url: str | None = None) -> int:
        if url is None:
            return len(self.asked)
        served = URL(url)
        return sum(1 for a in self.asked if (a.host, a.path) == (served.raw_host, served.raw_path_qs))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        host = (request.host.rpartition(":")[0] if ":" in request.host else request.host).lower()
        self.asked.append(Asked(host, request.raw_path, time.monotonic(), dict(request.headers)))
        handler = self.routes.get((host, request.raw_path))
        if handler is None:
            return web.Response(status=404, text="not served by the fake web", content_type="text/plain")
        self.in_flight[host] += 1
        self.most_at_once[host] = max(self.most_at_once[host], self.in_flight[host])
        self.most_at_once_anywhere = max(self.most_at_once_anywhere, sum(self.in_flight.values()))
        try:
            return await handler(request)
        finally:
            self.in_flight[host] -= 1
