"""The sources' session follows an upstream's redirect only within its origin or to a
public address, and sends no credential to another host (net/redirects.py)."""

from __future__ import annotations

import aiohttp
import pytest
import yarl
from aiohttp import web

from oahelper.sources.http import get_with_retries
from oahelper.sources.http import upstream_session

SECRET = {"x-apikey": "KEY-123", "Authorization": "Bearer abc"}


def recording_app(seen: list[dict[str, str]], answer: str = '{"local": "service"}') -> web.Application:
    """A local service that records what reaches it."""
    async def handler(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.Response(text=answer, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


def redirecting_app(location: str) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        if request.path == "/moved":
            return web.json_response({"ok": True, "key": request.headers.get("x-apikey")})
        raise web.HTTPFound(location)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


async def get(base: str, *, trusted: list[str]) -> tuple[int | None, str | None]:
    timeout = aiohttp.ClientTimeout(total=5)
    async with upstream_session(timeout, [base, *trusted]) as session:
        exchange = await get_with_retries(session, yarl.URL(base) / "v2" / "x", timeout=5,
                                          headers=SECRET, max_retries=0)
    if exchange.error is not None:
        return None, exchange.error.message
    assert exchange.reply is not None
    return exchange.reply.status, exchange.reply.body.decode()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
async def test_a_redirect_to_a_local_service_is_not_followed(aiohttp_server, host: str) -> None:
    seen: list[dict[str, str]] = []
    local = await aiohttp_server(recording_app(seen))
    upstream = await aiohttp_server(redirecting_app(f"http://{host}:{local.port}/admin"))
    status, message = await get(str(upstream.make_url("")).rstrip("/"), trusted=[])
    assert status is None and message is not None
    assert "not followed" in message or "non-public" in message
    assert seen == []  # the local service was never called, so nothing of it is echoed
    assert "service" not in message


async def test_a_redirect_within_the_upstream_is_followed_with_its_key(aiohttp_server) -> None:
    upstream = await aiohttp_server(redirecting_app("/moved"))
    status, body = await get(str(upstream.make_url("")).rstrip("/"), trusted=[])
    assert status == 200 and '"key": "KEY-123"' in body


async def test_credentials_are_dropped_when_the_host_changes(aiohttp_server) -> None:
    seen: list[dict[str, str]] = []
    mirror = await aiohttp_server(recording_app(seen, '{"from": "mirror"}'))
    mirror_url = f"http://localhost:{mirror.port}"  # another configured upstream
    upstream = await aiohttp_server(redirecting_app(mirror_url + "/v2/x"))
    status, body = await get(str(upstream.make_url("")).rstrip("/"), trusted=[mirror_url])
    assert status == 200 and "mirror" in body
    assert len(seen) == 1
    assert not {"x-apikey", "authorization"} & {name.lower() for name in seen[0]}
