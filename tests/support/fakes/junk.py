"""A fake upstream that answers every request with what the test tells it to send.

The modules beside this one serve the recordings; this one serves the answers no
recording shows and an adapter must still not read as "ok": JSON of the wrong shape,
JSON nested 200,000 levels deep, an HTML error page with status 200, an empty body,
broken or entity-laden XML. Every path gets the same ``Junk.body`` with its status and
content type, so one server stands in for any source (point the adapter's base URL at
it). It is a real aiohttp server: the adapters read it through the same network stack
as a real upstream. ``Junk.paths`` logs what was asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web


@dataclass
class Junk:
    """What the fake sends (until told otherwise), and the paths it was asked for."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    paths: list[str] = field(default_factory=list)

    def send(self, body: bytes | str, *, status: int = 200,
             content_type: str = "application/json") -> None:
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.status = status
        self.content_type = content_type


JUNK: web.AppKey[Junk] = web.AppKey("junk", Junk)


async def answer(request: web.Request) -> web.Response:
    junk = request.app[JUNK]
    junk.paths.append(request.path)
    return web.Response(status=junk.status, body=junk.body, content_type=junk.content_type)


def make_app(junk: Junk) -> web.Application:
    app = web.Application()
    app[JUNK] = junk
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


@pytest.fixture
async def junk_upstream(aiohttp_server: Any) -> tuple[Junk, str]:
    """A fresh junk server on a local test server: (what it sends, its base URL)."""
    junk = Junk()
    server = await aiohttp_server(make_app(junk))
    return junk, str(server.make_url("")).rstrip("/")
