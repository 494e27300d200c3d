"""The web-page check (docs/api.md, "Who may ask"), request shape by request shape.

Each shape is the set of headers a browser really sends (Fetch Metadata,
https://w3c.github.io/webappsec-fetch-metadata/): what Chrome's and Firefox's extensions
send must reach the token check; everything a web page can make must get no answer.
"""

from __future__ import annotations

import aiohttp
import pytest

from oahelper.daemon.clients import ClientStore
from tests.support.daemon import start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import GREEN_DOI

CHROME_EXT = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
FIREFOX_EXT = "moz-extension://0a1b2c3d-0000-4000-8000-000000000000"
CORS = {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}

# (method, Origin or None, Sec-Fetch-Site or None): what the extensions' fetch() sends.
EXTENSION_SHAPES = {
    "chrome GET": ("GET", None, "none"),
    "chrome POST": ("POST", CHROME_EXT, "none"),
    # Firefox sends an extension's fetch to a host it has permission for as if from
    # that host's own origin: no Origin on a GET, its own Origin on a POST.
    "firefox GET": ("GET", None, "same-origin"),
    "firefox POST": ("POST", FIREFOX_EXT, "same-origin"),
    "script (curl, Python)": ("GET", None, None),
    "the user types the address": ("GET", None, "none"),
}

# (method, Origin or None, Sec-Fetch-Site or None, Host or None for ours): what a page can make.
PAGE_SHAPES = {
    "cross-site fetch": ("GET", "https://evil.example", "cross-site", None),
    "cross-site POST (fetch or form)": ("POST", "https://evil.example", "cross-site", None),
    "cross-site <img>/<script>/navigation": ("GET", None, "cross-site", None),
    "another port of 127.0.0.1, fetch": ("GET", "http://127.0.0.1:8000", "same-site", None),
    "another port of 127.0.0.1, POST": ("POST", "http://127.0.0.1:8000", "same-site", None),
    "another port of 127.0.0.1, <img>": ("GET", None, "same-site", None),
    "http://localhost page": ("POST", "http://localhost:8000", "cross-site", None),
    "sandboxed iframe (Origin null)": ("POST", "null", "cross-site", None),
    "sandboxed iframe <img>": ("GET", "null", "cross-site", None),
    "DNS rebinding GET": ("GET", None, "same-origin", "attacker.example:{port}"),
    "DNS rebinding POST": ("POST", "http://attacker.example:{port}", "same-origin", "attacker.example:{port}"),
    "DNS rebinding, Origin null": ("POST", "null", "same-origin", "rebind.example:{port}"),
    "a page claiming our own origin": ("POST", "http://127.0.0.1:{port}", "same-origin", None),
    "an old browser's CORS fetch": ("POST", "https://evil.example", None, None),
    "a Sec-Fetch-Site value from the future": ("GET", None, "cross-origin", None),
}


def _headers(origin: str | None, site: str | None, port: int) -> dict[str, str]:
    headers = dict(CORS)
    if origin is not None:
        headers["Origin"] = origin.format(port=port)
    if site is not None:
        headers["Sec-Fetch-Site"] = site
    return headers


@pytest.mark.parametrize("shape", EXTENSION_SHAPES, ids=list(EXTENSION_SHAPES))
async def test_extension_requests_reach_the_token_check(start_daemon, shape: str) -> None:
    d = await start_daemon()
    method, origin, site = EXTENSION_SHAPES[shape]
    headers = _headers(origin, site, d.client.port)
    # Tokens are bound to the origin they were issued to, as pairing does.
    token = ClientStore(d.settings.clients_db).create_token("browser", origin)
    headers["Authorization"] = f"Bearer {token}"
    if method == "GET":
        health = await d.client.get("/v1/health", headers=headers)
        assert health.status == 200 and (await health.json())["service"] == "oahelper"
        status = await d.client.get("/v1/status", headers=headers)
        assert status.status == 200, await status.text()
    else:
        resp = await d.client.post("/v1/lookup", json={"doi": GREEN_DOI}, headers=headers)
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["status"] == "open"
        if origin:
            assert resp.headers["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize("shape", PAGE_SHAPES, ids=list(PAGE_SHAPES))
async def test_every_request_a_web_page_can_make_gets_no_answer(start_daemon, shape: str) -> None:
    d = await start_daemon()
    method, origin, site, host = PAGE_SHAPES[shape]
    port = d.client.port
    headers = {**_headers(origin, site, port), **d.auth}
    if host is not None:
        headers["Host"] = host.format(port=port)
    if method == "GET":
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await d.client.get("/v1/health", headers=headers)
    else:  # both endpoints that make lookups: /v1/batch keeps /v1/lookup's rules
        for path, body in (("/v1/lookup", {"doi": GREEN_DOI}), ("/v1/batch", {"items": [GREEN_DOI]})):
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await d.client.post(path, json=body, headers=headers)
    assert d.upstream.requests == []
    assert (await d.client.get("/v1/health")).status == 200  # and the daemon still answers


async def test_same_origin_is_accepted_for_each_of_our_own_host_names(start_daemon) -> None:
    d = await start_daemon()
    port = d.client.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        resp = await d.client.get("/v1/health", headers={"Host": host, "Sec-Fetch-Site": "same-origin"})
        assert resp.status == 200, host
    # Our host name with another port is another origin: a page there is same-site.
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await d.client.get("/v1/health", headers={"Host": f"127.0.0.1:{port + 1}",
                                                  "Sec-Fetch-Site": "same-origin"})
