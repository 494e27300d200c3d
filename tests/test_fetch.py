"""The daemon's own page fetch: every SSRF rule, against real servers on 127.0.0.1.

Refusal tests use the default policy and check that the local server saw no request:
the point is to refuse before connecting. The other tests use a policy that allows
127.0.0.1 only, so redirects, caps and timeouts can be exercised locally.
"""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Handler

from oahelper.errors import FetchError, FetchRefused
from oahelper.net import (
    AddressRefused,
    FetchPolicy,
    PolicyResolver,
    fetch_page,
    is_public_address,
    make_fetch_session,
)
from oahelper.net.policy import IPAddress

LOOPBACK = ipaddress.IPv4Address("127.0.0.1")
PAGE = "<!doctype html><html><head><title>Café</title></head><body>An article</body></html>"


def loopback_only(addr: IPAddress) -> bool:
    """The test policy: 127.0.0.1 and nothing else."""
    return addr == LOOPBACK


LOCAL = FetchPolicy(is_allowed=loopback_only, timeout=5.0, max_bytes=100_000)


class Gate:
    """A policy allowing 127.0.0.1 until a server handler closes it mid-fetch."""

    def __init__(self) -> None:
        self.open = True
        self.asked: list[IPAddress] = []

    def __call__(self, addr: IPAddress) -> bool:
        self.asked.append(addr)
        return self.open and addr == LOOPBACK


class HostsResolver(AbstractResolver):
    """A fixed hosts table, so test names can point at 127.0.0.1 (injected, not patched)."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} not in the test hosts table")
        return [{"hostname": host, "host": addr, "port": port,
                 "family": socket.AF_INET6 if ":" in addr else socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST} for addr in self.table[host]]

    async def close(self) -> None:
        pass


@dataclass
class Site:
    """A local server and what it saw."""

    port: int = 0
    seen: list[str] = field(default_factory=list)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: asyncio.Event = field(default_factory=asyncio.Event)
    on_request: Callable[[web.Request], None] | None = None

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def html(body: bytes | str = PAGE, **kwargs: object) -> web.Response:
    data = body.encode() if isinstance(body, str) else body
    return web.Response(body=data, content_type="text/html", **kwargs)  # type: ignore[arg-type]


def build_app(site: Site) -> web.Application:
    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        site.seen.append(request.path_qs)
        site.headers[request.path] = dict(request.headers)
        if site.on_request is not None:
            site.on_request(request)
        return await handler(request)

    async def page(request: web.Request) -> web.Response:
        return html(PAGE.encode("latin-1"), charset="iso-8859-1")

    async def chain(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if n == 0:
            return html()
        raise web.HTTPFound(f"/r/{n - 1}")

    async def to(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["loc"])

    async def set_cookie(request: web.Request) -> web.Response:
        resp = web.HTTPFound("/echo")
        resp.set_cookie("session", "secret")
        raise resp

    async def status(request: web.Request) -> web.Response:
        return html(status=int(request.match_info["code"]))

    async def pdf(request: web.Request) -> web.Response:
        return web.Response(body=b"%PDF-1.7\n", content_type="application/pdf")

    async def big(request: web.Request) -> web.Response:
        return html(b"x" * int(request.query["n"]))

    async def gzipped(request: web.Request) -> web.Response:
        body = gzip.compress(b"<html>" + b"\0" * int(request.query["n"]))
        return web.Response(body=body, content_type="text/html",
                            headers={"Content-Encoding": "gzip"})

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_type = "text/html"
        await resp.prepare(request)
        try:
            while True:
                await resp.write(b"x" * 65536)
        except asyncio.CancelledError:
            # The test server cancels the handler of a client that hung up.
            site.dropped.set()
            raise
        except OSError:
            site.dropped.set()
        return resp

    async def slow(request: web.Request) -> web.Response:
        await site.release.wait()
        return html()

    async def trickle(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_type = "text/html"
        await resp.prepare(request)
        while not site.release.is_set():
            await resp.write(b"<p>")
            await asyncio.sleep(0.05)
        return resp

    async def lagging(request: web.Request) -> web.Response:
        await asyncio.sleep(0.2)
        n = int(request.match_info["n"])
        if n == 0:
            return html()
        raise web.HTTPFound(f"/lag/{n - 1}")

    async def no_location(request: web.Request) -> web.Response:
        return web.Response(status=302)

    app = web.Application(middlewares=[record])
    app.add_routes([
        web.get("/page", page), web.get("/r/{n}", chain), web.get("/to", to),
        web.get("/set-cookie", set_cookie), web.get("/echo", page),
        web.get("/status/{code}", status), web.get("/pdf", pdf), web.get("/big", big),
        web.get("/gzip", gzipped), web.get("/endless", endless),
        web.get("/slow", slow), web.get("/trickle", trickle), web.get("/lag/{n}", lagging),
        web.get("/no-location", no_location),
    ])
    return app


@pytest.fixture
async def site(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> AsyncIterator[Site]:
    site = Site()
    server = await aiohttp_server(build_app(site), host="127.0.0.1")
    assert server.port is not None
    site.port = server.port
    yield site
    site.release.set()  # let held handlers finish so the server can close


async def refused(url: str, **kwargs: object) -> FetchRefused:
    with pytest.raises(FetchRefused) as info:
        await fetch_page(url, **kwargs)  # type: ignore[arg-type]
    assert info.value.code == "fetch_refused"
    return info.value


async def failed(url: str, code: str, **kwargs: object) -> FetchError:
    with pytest.raises(FetchError) as info:
        await fetch_page(url, **kwargs)  # type: ignore[arg-type]
    assert info.value.code == code, info.value.message
    return info.value


# --- the default policy: public addresses only --------------------------------

@pytest.mark.parametrize("host", [
    "127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
    "[::1]", "127.1", "2130706433", "017700000001", "0x7f.1", "0.0.0.0",
])
async def test_default_policy_refuses_loopback_before_connecting(site: Site, host: str) -> None:
    await refused(site.url("/page", host))
    assert site.seen == []


async def test_default_policy_refuses_a_name_that_resolves_to_loopback(site: Site) -> None:
    resolver = HostsResolver({"journal.test": ["127.0.0.1", "::1"]})
    async with make_fetch_session(resolver=resolver) as session:
        err = await refused(site.url("/page", "journal.test"), session=session)
    assert "journal.test" in err.message
    assert site.seen == []


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://127.0.0.1/", "data:text/html,<html>", "javascript:alert(1)",
    "/relative/path", "http://", "http://[::1",
])
async def test_refuses_urls_that_are_not_http_pages(url: str) -> None:
    await refused(url, policy=LOCAL)


@pytest.mark.parametrize("addr, public", [
    ("8.8.8.8", True), ("2606:4700:4700::1111", True), ("::ffff:8.8.8.8", True),
    ("64:ff9b::808:808", True), ("2002:808:808::1", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("100.64.0.1", False), ("169.254.169.254", False), ("224.0.0.1", False),
    ("239.255.255.250", False), ("0.0.0.0", False), ("240.0.0.1", False),
    ("255.255.255.255", False), ("192.0.2.1", False), ("::", False), ("::1", False),
    ("fe80::1", False), ("fec0::1", False), ("fd00::1", False), ("ff02::1", False),
    ("ff0e::1", False), ("::ffff:10.0.0.1", False), ("::ffff:127.0.0.1", False),
    ("64:ff9b::7f00:1", False), ("2002:a00:1::1", False), ("::127.0.0.1", False),
    ("2001:db8::1", False),
])
def test_is_public_address(addr: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(addr)) is public


async def test_resolver_returns_only_allowed_addresses() -> None:
    inner = HostsResolver({"mixed.test": ["127.0.0.2", "::ffff:127.0.0.1", "::1"],
                           "inside.test": ["127.0.0.2", "::1"]})
    resolver = PolicyResolver(loopback_only, inner)
    answers = await resolver.resolve("mixed.test", 80, socket.AF_UNSPEC)
    assert [a["host"] for a in answers] == ["::ffff:127.0.0.1"]
    with pytest.raises(AddressRefused):
        await resolver.resolve("inside.test", 80, socket.AF_UNSPEC)


# --- a policy that lets the local server in ------------------------------------

async def test_fetches_a_page_with_its_charset(site: Site) -> None:
    page = await fetch_page(site.url("/page"), policy=LOCAL)
    assert page.status == 200
    assert page.url == site.url("/page")
    assert page.content_type == "text/html"
    assert page.charset == "iso-8859-1"
    assert page.body.decode(page.charset) == PAGE
    assert site.headers["/page"]["User-Agent"] == LOCAL.user_agent


async def test_a_name_connects_to_the_address_it_was_checked_at(site: Site) -> None:
    resolver = HostsResolver({"journal.test": ["127.0.0.1"]})
    async with make_fetch_session(LOCAL, resolver=resolver) as session:
        page = await fetch_page(site.url("/page", "journal.test"), session, policy=LOCAL)
    assert page.url == site.url("/page", "journal.test")
    assert site.headers["/page"]["Host"] == f"journal.test:{site.port}"


async def test_unknown_host_is_a_clear_error(site: Site) -> None:
    async with make_fetch_session(LOCAL, resolver=HostsResolver({})) as session:
        err = await failed("http://nowhere.test/", "fetch_failed", session=session, policy=LOCAL)
    assert "could not resolve nowhere.test" in err.message


async def test_five_redirects_are_followed(site: Site) -> None:
    page = await fetch_page(site.url("/r/5"), policy=LOCAL)
    assert page.url == site.url("/r/0")
    assert site.seen == [f"/r/{n}" for n in range(5, -1, -1)]


async def test_a_sixth_redirect_is_not_followed(site: Site) -> None:
    await failed(site.url("/r/6"), "fetch_too_many_redirects", policy=LOCAL)
    assert site.seen == [f"/r/{n}" for n in range(6, 0, -1)]


async def test_max_redirects_is_a_policy_setting(site: Site) -> None:
    await failed(site.url("/r/2"), "fetch_too_many_redirects",
                 policy=replace(LOCAL, max_redirects=1))


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/pub/"])
async def test_redirect_to_another_scheme_is_refused(site: Site, target: str) -> None:
    err = await refused(site.url(f"/to?loc={target}"), policy=LOCAL)
    assert target.split(":")[0] in err.message


async def test_redirect_to_a_loopback_literal_is_refused_by_default_rule(site: Site) -> None:
    # A redirect's literal IP is checked against the policy like the first URL's.
    gate = Gate()
    site.on_request = lambda request: setattr(gate, "open", False)
    policy = replace(LOCAL, is_allowed=gate)
    await refused(site.url(f"/to?loc={site.url('/page')}"), policy=policy)
    assert site.seen == [f"/to?loc={site.url('/page')}"]


async def test_redirect_to_a_name_with_a_refused_address_is_refused(site: Site) -> None:
    # The second host is new to the connector, so its addresses go through the policy.
    gate = Gate()
    site.on_request = lambda request: setattr(gate, "open", False)
    policy = replace(LOCAL, is_allowed=gate)
    resolver = HostsResolver({"journal.test": ["127.0.0.1"], "intranet.test": ["127.0.0.1"]})
    target = site.url("/page", "intranet.test")
    async with make_fetch_session(policy, resolver=resolver) as session:
        err = await refused(site.url(f"/to?loc={target}", "journal.test"),
                            session=session, policy=policy)
    assert "intranet.test" in err.message
    assert site.seen == [f"/to?loc={target}"]
    assert gate.asked == [LOOPBACK, LOOPBACK]


async def test_redirect_without_location_is_a_clear_error(site: Site) -> None:
    err = await failed(site.url("/no-location"), "fetch_failed", policy=LOCAL)
    assert "without a Location" in err.message


async def test_cookies_are_never_sent_back(site: Site) -> None:
    # A host name, not an IP: a normal cookie jar ignores cookies from IPs.
    resolver = HostsResolver({"journal.test": ["127.0.0.1"]})
    async with make_fetch_session(LOCAL, resolver=resolver) as session:
        await fetch_page(site.url("/set-cookie", "journal.test"), session, policy=LOCAL)
        assert "Cookie" not in site.headers["/echo"]
        await fetch_page(site.url("/echo", "journal.test"), session, policy=LOCAL)
    assert site.seen == ["/set-cookie", "/echo", "/echo"]
    assert "Cookie" not in site.headers["/echo"]


async def test_body_at_the_cap_is_read(site: Site) -> None:
    page = await fetch_page(site.url("/big?n=100000"), policy=LOCAL)
    assert len(page.body) == 100_000


async def test_body_over_the_cap_is_refused(site: Site) -> None:
    err = await failed(site.url("/big?n=100001"), "fetch_too_large", policy=LOCAL)
    assert "100000 bytes" in err.message


async def test_compressed_body_counts_decompressed(site: Site) -> None:
    page = await fetch_page(site.url("/gzip?n=50000"), policy=LOCAL)
    assert len(page.body) == 50_006
    # About 1 KiB on the wire, 1 MiB once inflated.
    await failed(site.url("/gzip?n=1048576"), "fetch_too_large", policy=LOCAL)


async def test_reading_stops_at_the_cap_of_an_endless_body(site: Site) -> None:
    await failed(site.url("/endless"), "fetch_too_large", policy=LOCAL)
    # The connection is dropped, not drained: the server's writes start failing.
    await asyncio.wait_for(site.dropped.wait(), timeout=5)


async def test_slow_server_times_out(site: Site) -> None:
    err = await failed(site.url("/slow"), "fetch_timeout", policy=replace(LOCAL, timeout=0.5))
    assert "0.5 s" in err.message


async def test_slow_body_times_out(site: Site) -> None:
    await failed(site.url("/trickle"), "fetch_timeout",
                 policy=replace(LOCAL, timeout=0.5, max_bytes=10_000_000))


async def test_timeout_covers_all_redirects_together(site: Site) -> None:
    # Each hop takes 0.2 s, well within 0.5 s; four hops together do not.
    await failed(site.url("/lag/3"), "fetch_timeout", policy=replace(LOCAL, timeout=0.5))
    page = await fetch_page(site.url("/lag/3"), policy=replace(LOCAL, timeout=5.0))
    assert page.url == site.url("/lag/0")


async def test_pdf_is_not_a_page(site: Site) -> None:
    err = await failed(site.url("/pdf"), "fetch_not_html", policy=LOCAL)
    assert "application/pdf" in err.message


@pytest.mark.parametrize("code", [403, 404, 410, 500, 503])
async def test_http_error_status_is_a_clear_error(site: Site, code: int) -> None:
    err = await failed(site.url(f"/status/{code}"), "fetch_http_status", policy=LOCAL)
    assert f"HTTP {code}" in err.message


@pytest.fixture
async def untyped() -> AsyncIterator[Callable[[bytes], str]]:
    """A bare HTTP server answering without Content-Type (aiohttp's always adds one)."""
    bodies: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = bodies.pop(0)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    def serve(body: bytes) -> str:
        bodies.append(body)
        return f"http://127.0.0.1:{port}/"

    async with server:
        yield serve


async def test_untyped_body_is_accepted_only_when_it_looks_like_html(
        untyped: Callable[[bytes], str]) -> None:
    page = await fetch_page(untyped(b"\n<!DOCTYPE html><p>hi"), policy=LOCAL)
    assert page.body == b"\n<!DOCTYPE html><p>hi"
    assert (page.content_type, page.charset) == ("text/html", None)
    await failed(untyped(b"%PDF-1.7"), "fetch_not_html", policy=LOCAL)


async def test_session_must_come_from_make_fetch_session(site: Site) -> None:
    async with aiohttp.ClientSession() as plain:
        with pytest.raises(ValueError, match="make_fetch_session"):
            await fetch_page(site.url("/page"), plain, policy=LOCAL)
    async with make_fetch_session(LOCAL) as session:
        with pytest.raises(ValueError, match="different address rule"):
            await fetch_page(site.url("/page"), session)
    assert site.seen == []
