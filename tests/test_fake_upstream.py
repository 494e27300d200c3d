"""The fake upstream serves the recordings as the real services did, and misbehaves on cue."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.fake_upstream import (
    BARE_404,
    CLOSED_DOI,
    GOLD_DOI,
    GREEN_DOI,
    MISSING_DOI,
    RETIRED_410,
    UNKNOWN_DOI,
    FakeUpstream,
    Recordings,
    make_app,
)
from tests.support.shared import OWN_FIXTURES, REPO, require_shared

OWN = OWN_FIXTURES / "unpaywall"
EMAIL = "?email=reader%40university.edu"


@pytest.fixture
def fake() -> FakeUpstream:
    return FakeUpstream()


@pytest.fixture
async def client(aiohttp_client: Any, fake: FakeUpstream) -> Any:
    return await aiohttp_client(make_app(fake))


async def test_serves_recorded_bodies_verbatim(client: Any) -> None:
    shared = require_shared("unpaywall")
    for name, doi in [("200_10.1038_nature12373.json", "10.1038/nature12373"),
                      ("200_10.1001_jamadermatol.2015.3091.json", "10.1001/jamadermatol.2015.3091"),
                      ("200_10.1016_s0962-1849_05_80014-9.json", "10.1016/S0962-1849(05)80014-9")]:
        resp = await client.get(f"/v2/{doi}{EMAIL}")
        assert resp.status == 200
        assert resp.content_type == "application/json"
        assert await resp.read() == (shared / name).read_bytes()


async def test_unwraps_simple_query_tool_objects(client: Any) -> None:
    wrapper_file = require_shared("unpaywall") / "200_sqt-v2-dois_10.1016_j.cell.2007.11.019.json"
    resp = await client.get(f"/v2/10.1016/j.cell.2007.11.019{EMAIL}")
    body = await resp.read()
    wrapper = json.loads(wrapper_file.read_bytes())
    assert json.loads(body) == wrapper["results"]["10.1016/j.cell.2007.11.019"]
    assert body in wrapper_file.read_bytes()  # the object's own bytes, as recorded


async def test_not_found_json_and_bare(client: Any) -> None:
    resp = await client.get(f"/v2/{MISSING_DOI}{EMAIL}")
    assert (resp.status, resp.content_type) == (404, "application/json")
    assert await resp.read() == (OWN / "404_10.5555_oahelper.missing.json").read_bytes()
    resp = await client.get(f"/v2/{UNKNOWN_DOI}{EMAIL}")
    assert (resp.status, resp.content_type) == (404, "text/html")
    with pytest.raises(ValueError):
        json.loads(await resp.text())


async def test_recorded_404_body(client: Any) -> None:
    shared = require_shared("unpaywall")
    resp = await client.get(f"/v2/10.000/nodata{EMAIL}")
    assert resp.status == 404
    assert await resp.read() == (shared / "404_10.000_nodata.json").read_bytes()


@pytest.mark.parametrize("query", ["", "?email=", "?email=test@example.com",
                                   "?email=test@lab.org", "?email=someone@EXAMPLE.COM"])
async def test_placeholder_email_gets_the_422(query: str, client: Any, fake: FakeUpstream) -> None:
    resp = await client.get(f"/v2/{GREEN_DOI}{query}")
    assert (resp.status, resp.content_type) == (422, "application/json")
    assert await resp.read() == fake.recordings.refusal
    assert json.loads(fake.recordings.refusal)["message"].startswith(
        "Please use your own email address")


async def test_doi_lookup_is_case_insensitive(client: Any) -> None:
    resp = await client.get(f"/v2/{GREEN_DOI.upper()}{EMAIL}")
    assert resp.status == 200
    assert (await resp.json())["doi"] == GREEN_DOI


async def test_own_fixtures_alone_still_serve(aiohttp_client: Any) -> None:
    fake = FakeUpstream(Recordings.load([OWN]))  # a clone without ../shared
    client = await aiohttp_client(make_app(fake))
    for doi, status in [(GREEN_DOI, "green"), (GOLD_DOI, "gold"), (CLOSED_DOI, "closed")]:
        resp = await client.get(f"/v2/{doi}{EMAIL}")
        assert (await resp.json())["oa_status"] == status
    assert (await client.get(f"/v2/10.1038/nature12373{EMAIL}")).status == 404
    resp = await client.get(f"/v2/{GREEN_DOI}?email=test@example.com")
    assert await resp.read() == (OWN / "422_placeholder-email.json").read_bytes()


def _same_keys(mine: dict[str, Any], real: dict[str, Any]) -> None:
    """Same keys in the same order, in the record and in each of its locations."""
    assert list(mine) == list(real)
    location_keys = {tuple(loc) for loc in real.get("oa_locations", [])}
    for loc in mine.get("oa_locations", []):
        assert tuple(loc) in location_keys


@pytest.mark.parametrize(("own", "recorded", "dump"), [
    ("200_10.5555_oahelper.green.2013.json", "200_10.1038_nature12373.json",
     lambda d: json.dumps(d, indent=2, sort_keys=True)),
    ("200_10.5555_oahelper.closed.1997.json", "200_10.1641_0006-3568_2005_055_0851_POTAPF_2.0.CO_2.json",
     json.dumps),
    ("404_10.5555_oahelper.missing.json", "404_10.000_nodata.json",
     lambda d: json.dumps(d, indent=4, sort_keys=True)),
])
def test_own_fixtures_follow_the_recorded_shapes(own: str, recorded: str, dump: Any) -> None:
    real_text = (require_shared("unpaywall") / recorded).read_text()
    own_text = (OWN / own).read_text()
    real, mine = json.loads(real_text), json.loads(own_text)
    _same_keys(mine, real)
    assert dump(real) == real_text and dump(mine) == own_text  # same wire formatting


def test_own_2025_fixture_follows_the_sqt_objects() -> None:
    wrapper = json.loads((require_shared("unpaywall")
                          / "200_sqt-v2-dois_10.1016_j.cell.2007.11.019.json").read_bytes())
    real = wrapper["results"]["10.1016/j.cell.2007.11.019"]
    own_text = (OWN / "200_10.5555_oahelper.gold.2024.json").read_text()
    mine = json.loads(own_text)
    _same_keys(mine, real)
    assert list(mine["best_oa_location"]) == list(real["best_oa_location"])
    assert json.dumps(mine, separators=(",", ":")) == own_text


async def test_failure_plans_per_doi_and_times(client: Any, fake: FakeUpstream) -> None:
    fake.plan("500", doi=GREEN_DOI, times=1)
    assert (await client.get(f"/v2/{GREEN_DOI}{EMAIL}")).status == 500
    assert (await client.get(f"/v2/{GREEN_DOI}{EMAIL}")).status == 200
    fake.plan("bare404", doi=GOLD_DOI)
    assert (await client.get(f"/v2/{CLOSED_DOI}{EMAIL}")).status == 200
    assert (await client.get(f"/v2/{GOLD_DOI.upper()}{EMAIL}")).status == 404
    fake.plan("429", retry_after=12)
    resp = await client.get(f"/v2/{CLOSED_DOI}{EMAIL}")
    assert (resp.status, resp.headers["Retry-After"]) == (429, "12")
    fake.plan("garbage")
    resp = await client.get(f"/v2/{CLOSED_DOI}{EMAIL}")
    assert resp.status == 200
    with pytest.raises(ValueError):
        json.loads(await resp.text())
    assert fake.calls_for(GREEN_DOI) == 2 and fake.calls_for(GOLD_DOI.upper()) == 1
    fake.clear()
    assert fake.requests == [] and (await client.get(f"/v2/{CLOSED_DOI}{EMAIL}")).status == 200
    with pytest.raises(ValueError):
        fake.plan("teapot")


async def test_request_log_never_holds_the_api_key(client: Any, fake: FakeUpstream) -> None:
    await client.get(f"/oab/availability?doi={GREEN_DOI}", headers={"x-apikey": "s3cret"})
    entry = fake.requests[0]
    assert entry["service"] == "oab" and entry["doi"] == GREEN_DOI
    assert entry["query"] == {"doi": GREEN_DOI} and entry["headers"]["x-apikey"] is True
    assert "s3cret" not in json.dumps(fake.requests)


async def test_oab_endpoints(client: Any, fake: FakeUpstream) -> None:
    body = await (await client.get(f"/oab/availability?doi={GREEN_DOI}")).json()
    assert body["data"]["availability"] == [
        {"type": "article",
         "url": "https://repository.example.org/bitstream/1/4242/1/oahelper-green.pdf"}]
    assert body["data"]["accepts"] == [] and "v2" in body
    resp = await client.get(f"/oab-retired/availability?doi={GREEN_DOI}")
    assert (resp.status, await resp.text()) == (404, "404")
    resp = await client.get(f"/oab-retired/find?id={GREEN_DOI}")
    assert (resp.status, resp.content_type, await resp.text()) == (
        410, "application/json", RETIRED_410)
    await client.get("/somewhere/else?url=https://page.example.org")
    assert fake.requests[-1]["service"] == "other"
    assert fake.calls_for(GREEN_DOI, "oab") == 1 and fake.calls_for(GREEN_DOI) == 2


async def test_hanging_handlers_let_the_server_shut_down(aiohttp_server: Any) -> None:
    fake = FakeUpstream()
    fake.plan("hang")
    server = await aiohttp_server(make_app(fake))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(TimeoutError):
            await session.get(server.make_url(f"/v2/{GREEN_DOI}{EMAIL}"),
                              timeout=aiohttp.ClientTimeout(total=0.2))
    # without the release on shutdown this would wait for aiohttp's 60 s grace period
    await asyncio.wait_for(server.close(), 10)


def test_command_line_serves_and_logs(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_upstream", "--port", "0", "--log", str(log)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": ""})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), proc.stderr.read() if not line else line
        base = line.removeprefix("listening on ")
        with urllib.request.urlopen(f"{base}/v2/{GREEN_DOI}{EMAIL}", timeout=10) as resp:
            assert json.loads(resp.read())["oa_status"] == "green"
        entries = [json.loads(x) for x in log.read_text().splitlines()]
        assert [(e["service"], e["doi"]) for e in entries] == [("unpaywall", GREEN_DOI)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
    assert BARE_404  # the module's constants are importable without a server
