"""A lookup opens its copies' links before it calls them free (issue 16), end to end.

The daemon asks a fake Unpaywall that serves the recorded record of 10.1038/nature12373
with its four locations moved onto the fake web (composed from recorded parts: the
record's shape and metadata are Unpaywall's, the addresses are this test's), and the
fake web answers each address as the test says. ``allow_private_hosts`` lets the
daemon's link checks reach the fake web on 127.0.0.1, and nothing else.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from oahelper.daemon.clients import ClientStore
from oahelper.daemon.app import init
from tests.support.fake_web import FakeWeb
from tests.support.fakes.junk import Junk, make_app
from tests.support.shared import require_shared, shared_fixtures
from tests.test_links_pdf import minimal_pdf

DOI = "10.1038/nature12373"
TITLE = "Nanometre-scale thermometry in a living cell"
PATHS = ("/dash/thermometry.pdf", "/europepmc/render", "/pmc/PMC4221854", "/arxiv/1304.1068")


async def start(aiohttp_server: Any, aiohttp_client: Any, make_settings: Any, keystore: Any,
                web: FakeWeb, **values: Any) -> tuple[Any, str]:
    """The daemon, its token and the fake Unpaywall serving the moved record."""
    require_shared("unpaywall")
    record = json.loads((shared_fixtures() / "unpaywall" / f"200_{DOI.replace('/', '_')}.json")
                        .read_text(encoding="utf-8"))
    for location, path in zip(record["oa_locations"], PATHS, strict=True):
        url = f"http://127.0.0.1:{web.port}{path}"
        location.update(url=url, url_for_pdf=url, url_for_landing_page=None)
    record["best_oa_location"] = record["oa_locations"][0]
    junk = Junk()
    junk.send(json.dumps(record))
    unpaywall = await aiohttp_server(make_app(junk))
    settings = make_settings(
        unpaywall_url=str(unpaywall.make_url("")).rstrip("/"), unpaywall_email="me@uni.edu",
        disabled_sources="snapshot,europepmc,crossref,semanticscholar,openalex,arxiv,oab,free_by_id",
        allow_private_hosts=f"127.0.0.1:{web.port}", **({"verify_links": "true"} | values))
    client = await aiohttp_client(init(settings, keystore=keystore))
    return client, ClientStore(settings.clients_db).create_token("tests")


async def lookup(client: Any, token: str) -> dict[str, Any]:
    resp = await client.post("/v1/lookup", json={"doi": DOI}, headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200, await resp.text()
    return await resp.json()


@pytest.fixture
async def web(aiohttp_server: Any) -> FakeWeb:
    return await FakeWeb().start(aiohttp_server)


def serve(web: FakeWeb, states: dict[str, tuple[int, bytes]], delay: float = 0.0) -> None:
    for path, (status, body) in states.items():
        web.answer(f"http://127.0.0.1{path}", status=status, body=body, delay=delay,
                   headers={"Content-Type": "application/pdf" if body.startswith(b"%PDF")
                            else "text/html"})


GONE = (404, b"<html><title>Page not found</title></html>")
PDF = (200, minimal_pdf([TITLE, f"doi:{DOI}"]))


async def test_a_broken_best_copy_is_listed_marked_and_the_working_one_is_best(
        aiohttp_server, aiohttp_client, make_settings, keystore, web) -> None:
    serve(web, {PATHS[0]: GONE, PATHS[1]: PDF, PATHS[2]: GONE, PATHS[3]: GONE})
    client, token = await start(aiohttp_server, aiohttp_client, make_settings, keystore, web)
    p = await lookup(client, token)
    assert p["status"] == "open" and p["pending"] == []
    assert p["best"]["url"].endswith(PATHS[1]) and p["best"]["link"]["state"] == "pdf"
    assert p["best"]["link"]["checked_at"].endswith("Z")
    states = {loc["url"].rpartition(str(web.port))[2]: loc["link"]["state"] for loc in p["locations"]}
    assert states == {PATHS[0]: "gone", PATHS[1]: "pdf", PATHS[2]: "gone", PATHS[3]: "gone"}
    opened = web.hits()
    again = await lookup(client, token)  # warm: nothing is opened again
    assert web.hits() == opened and again["best"] == p["best"]


async def test_when_every_link_is_broken_it_is_closed_and_says_so(
        aiohttp_server, aiohttp_client, make_settings, keystore, web) -> None:
    serve(web, dict.fromkeys(PATHS, GONE))
    client, token = await start(aiohttp_server, aiohttp_client, make_settings, keystore, web)
    p = await lookup(client, token)
    assert p["status"] == "closed" and p["best"] is None and len(p["locations"]) == 4
    assert p["badge"]["tooltip"] == ("No free legal copy found: 4 free copies were reported, "
                                     "but their links don't work")


async def test_checks_still_running_leave_copies_unchecked_and_the_next_ask_has_them(
        aiohttp_server, aiohttp_client, make_settings, keystore, web) -> None:
    serve(web, dict.fromkeys(PATHS, PDF), delay=1.0)
    client, token = await start(aiohttp_server, aiohttp_client, make_settings, keystore, web,
                                link_check_seconds=0.2)
    p = await lookup(client, token)
    assert p["pending"] == ["links"] and p["status"] == "open"  # reported, not known broken
    assert {loc["link"]["state"] for loc in p["locations"]} == {"unchecked"}
    for _ in range(60):  # the checks go on in the background, into the cache
        await asyncio.sleep(0.1)
        p = await lookup(client, token)
        if not p["pending"]:
            break
    assert p["pending"] == [] and p["best"]["link"]["state"] == "pdf"


async def test_with_verify_links_off_nothing_is_opened(
        aiohttp_server, aiohttp_client, make_settings, keystore, web) -> None:
    serve(web, dict.fromkeys(PATHS, GONE))
    client, token = await start(aiohttp_server, aiohttp_client, make_settings, keystore, web,
                                verify_links="false")
    p = await lookup(client, token)
    assert web.hits() == 0 and p["pending"] == []
    assert p["status"] == "open" and {loc["link"]["state"] for loc in p["locations"]} == {"unchecked"}
