"""sources/http.py's retry loop against a real local server."""

from __future__ import annotations

import asyncio
import random
import time

import aiohttp
from aiohttp import web

from oahelper.sources.http import get_with_retries


async def test_a_retry_that_runs_out_of_time_keeps_the_answer_before_it(aiohttp_server) -> None:
    calls = 0

    async def flaky(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        if calls <= 2:
            return web.json_response({"error": "boom"}, status=500)
        await asyncio.sleep(10)  # the last try hangs past the deadline
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/x", flaky)
    server = await aiohttp_server(app)
    skipped = 0.0  # the backoff waits pass on this clock, not the wall's

    async def sleep(seconds: float) -> None:
        nonlocal skipped
        skipped += seconds

    async with aiohttp.ClientSession() as session:
        exchange = await get_with_retries(session, server.make_url("/x"), timeout=3.0, sleep=sleep,
                                          rng=random.Random(1), clock=lambda: time.monotonic() + skipped)
    assert calls == 3 and exchange.calls == 3
    assert exchange.error is None and exchange.reply is not None and exchange.reply.status == 500
