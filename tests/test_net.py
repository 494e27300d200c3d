"""The one network-safety stack (net/) as pages and sources now share it: the
allow-list of (host, port) pairs, the one literal-address parser, and the redirect
rule's hops. The page-fetch SSRF cases are in test_fetch.py, the sources' redirect
cases in test_source_redirects.py."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable

import aiohttp
import pytest
import yarl
from aiohttp import web
from aiohttp.test_utils import TestServer

from oahelper.errors import FetchRefused
from oahelper.net import (
    AddressPolicy,
    fetch_page,
    follow,
    host_ports,
    literal_address,
    make_fetch_session,
    read_capped,
)
from oahelper.sources.http import get_with_retries, upstream_session
from tests.support.fake_web import HostsResolver

PAGE = "<!doctype html><html><body>An intranet repository</body></html>"
Server = Callable[..., Awaitable[TestServer]]


def site(seen: list[str]) -> web.Application:
    """A page at /page, and /to?loc=… redirecting anywhere; records every path."""
    async def page(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        return web.Response(text=PAGE, content_type="text/html")

    async def to(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        raise web.HTTPFound(request.query["loc"])

    app = web.Application()
    app.add_routes([web.get("/page", page), web.get("/to", to)])
    return app


async def serve(aiohttp_server: Server, seen: list[str]) -> int:
    server = await aiohttp_server(site(seen), host="127.0.0.1")
    assert server.port is not None
    return server.port


# --- the allow-list for pages --------------------------------------------------

async def test_a_private_page_is_refused_unless_its_host_and_port_are_listed(
        aiohttp_server: Server) -> None:
    seen: list[str] = []
    port = await serve(aiohttp_server, seen)
    url = f"http://127.0.0.1:{port}/page"
    async with make_fetch_session() as session:
        with pytest.raises(FetchRefused):
            await fetch_page(url, session)
    assert seen == []
    async with make_fetch_session(allow_private_hosts=frozenset({("127.0.0.1", port)})) as session:
        page = await fetch_page(url, session)
    assert page.body.decode() == PAGE and seen == ["/page"]


async def test_a_listed_name_may_resolve_to_a_private_address(aiohttp_server: Server) -> None:
    seen: list[str] = []
    port = await serve(aiohttp_server, seen)
    resolver = HostsResolver({"repo.intranet.test": "127.0.0.1"})
    url = f"http://repo.intranet.test:{port}/page"
    async with make_fetch_session(resolver=resolver) as session:
        err = await refused(fetch_page(url, session))
    assert "repo.intranet.test" in err.message and seen == []
    listed = frozenset({("repo.intranet.test", port)})
    async with make_fetch_session(resolver=resolver, allow_private_hosts=listed) as session:
        page = await fetch_page(url, session)
    assert page.url == url and seen == ["/page"]


async def test_the_allow_list_is_per_port_and_per_host(aiohttp_server: Server) -> None:
    seen: list[str] = []
    port = await serve(aiohttp_server, seen)
    resolver = HostsResolver({"other.test": "127.0.0.1"})
    # Listed: the same address on another port, and another name for it.
    listed = frozenset({("127.0.0.1", port + 1), ("localhost", port)})
    async with make_fetch_session(resolver=resolver, allow_private_hosts=listed) as session:
        for url in (f"http://127.0.0.1:{port}/page", f"http://other.test:{port}/page",
                    f"http://[::ffff:127.0.0.1]:{port}/page"):
            await refused(fetch_page(url, session))
    assert seen == []


async def test_a_listed_host_cannot_redirect_to_one_that_is_not(aiohttp_server: Server) -> None:
    seen: list[str] = []
    port = await serve(aiohttp_server, seen)
    other: list[str] = []
    other_port = await serve(aiohttp_server, other)
    listed = frozenset({("127.0.0.1", port)})
    async with make_fetch_session(allow_private_hosts=listed) as session:
        await refused(fetch_page(f"http://127.0.0.1:{port}/to?loc=http://127.0.0.1:{other_port}/page",
                                 session))
        page = await fetch_page(f"http://127.0.0.1:{port}/to?loc=/page", session)
    assert page.url == f"http://127.0.0.1:{port}/page"
    assert other == [] and seen == [f"/to?loc=http://127.0.0.1:{other_port}/page",
                                    "/to?loc=/page", "/page"]


async def test_a_page_is_not_fetched_with_the_sources_session(aiohttp_server: Server) -> None:
    # It lets the configured upstreams be private; a page URL must not inherit that.
    seen: list[str] = []
    port = await serve(aiohttp_server, seen)
    url = f"http://127.0.0.1:{port}/page"
    async with upstream_session(aiohttp.ClientTimeout(total=5), [url]) as session:
        with pytest.raises(ValueError, match="make_fetch_session"):
            await fetch_page(url, session)
    assert seen == []


async def refused(fetch: Awaitable[object]) -> FetchRefused:
    with pytest.raises(FetchRefused) as info:
        await fetch
    return info.value


# --- the one literal parser and the rule ----------------------------------------

@pytest.mark.parametrize("host, address", [
    ("example.org", None), ("0x7f.1", None), ("8.8.8.8", "8.8.8.8"), ("[::1]", "::1"),
    ("::ffff:127.0.0.1", "127.0.0.1"), ("[::ffff:7f00:1]", "127.0.0.1"),
])
def test_literal_address_tells_names_from_addresses(host: str, address: str | None) -> None:
    expected = ipaddress.ip_address(address) if address else None
    assert literal_address(host) == expected


@pytest.mark.parametrize("host", ["127.1", "2130706433", "017700000001", "1.2.3.4.5", "::g"])
def test_a_numeric_host_that_is_not_a_canonical_address_is_an_error(host: str) -> None:
    with pytest.raises(ValueError):
        literal_address(host)


def test_the_allow_list_comes_from_urls_and_ignores_case_and_brackets() -> None:
    listed = host_ports(["https://Mirror.LAN", "http://[::1]:8080/api", None, ""])
    assert listed == frozenset({("mirror.lan", 443), ("::1", 8080)})
    policy = AddressPolicy(allow_private_hosts=frozenset({("Mirror.LAN", 443), ("[::1]", 8080)}))
    private = ipaddress.ip_address("10.0.0.5")
    assert policy.allows("MIRROR.lan", 443, private)
    assert policy.allows("::1", 8080, ipaddress.ip_address("::1"))
    assert not policy.allows("mirror.lan", 80, private)
    assert policy.allows("anything.example", 443, ipaddress.ip_address("8.8.8.8"))


# --- the redirect rule, as link checks will use it ------------------------------

async def test_follow_says_every_hop_and_leaves_the_final_answer_to_read(
        aiohttp_server: Server) -> None:
    seen: list[str] = []
    port = await serve(aiohttp_server, seen)
    base = yarl.URL(f"http://127.0.0.1:{port}")
    start = base / "to" % {"loc": "/page"}
    policy = AddressPolicy(allow_private_hosts=frozenset({("127.0.0.1", port)}))
    async with (make_fetch_session(allow_private_hosts=policy.allow_private_hosts) as session,
                follow(session, start, policy=policy, headers={}, max_redirects=5,
                       timeout=5.0) as followed):
        body = await read_capped(followed.response, 1000)
    assert followed.hops == (start, base / "page")
    assert followed.url == base / "page" and followed.response.status == 200
    assert body.decode() == PAGE
    assert seen == ["/to?loc=/page", "/page"]


# --- the sources share the literal parser: no numeric trick reaches a local service ----

@pytest.mark.parametrize("host", ["127.1", "2130706433"])
async def test_an_upstream_cannot_redirect_to_a_numeric_form_of_loopback(
        aiohttp_server: Server, host: str) -> None:
    seen: list[str] = []
    local = await serve(aiohttp_server, seen)
    upstream = await aiohttp_server(site([]), host="127.0.0.1")
    base = str(upstream.make_url("")).rstrip("/")
    target = f"http://{host}:{local}/page"
    async with upstream_session(aiohttp.ClientTimeout(total=5), [base]) as session:
        exchange = await get_with_retries(session, yarl.URL(base) / "to" % {"loc": target},
                                          timeout=5, max_retries=0)
    assert exchange.reply is None and exchange.error is not None
    assert "canonical" in exchange.error.message
    assert seen == []


async def test_an_upstream_redirect_to_an_invalid_url_is_an_error_not_an_exception(
        aiohttp_server: Server) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "http://[::1"})

    app = web.Application()
    app.router.add_get("/x", broken)
    upstream = await aiohttp_server(app, host="127.0.0.1")
    base = str(upstream.make_url("")).rstrip("/")
    async with upstream_session(aiohttp.ClientTimeout(total=5), [base]) as session:
        exchange = await get_with_retries(session, yarl.URL(base) / "x", timeout=5, max_retries=0)
    assert exchange.error is not None and "invalid URL" in exchange.error.message
