"""POST /v1/batch: a page's references checked in one request, answers streamed as NDJSON."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from oahelper.audit.batch import MAX_ITEMS
from oahelper.daemon.clients import ClientStore
from tests.support.api import assert_error
from tests.support.daemon import Daemon, start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import CLOSED_DOI, GOLD_DOI, GREEN_DOI, THROTTLED_SOURCES
from tests.support.shared import require_shared
from tests.test_resolve_titles import AUGMENTING, AUGMENTING_DOI

EXT = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


async def batch(d: Daemon, body: Any, **headers: str) -> aiohttp.ClientResponse:
    return await d.client.post("/v1/batch", json=body, headers={**d.auth, **headers})


async def lines(resp: aiohttp.ClientResponse) -> list[dict[str, Any]]:
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"].startswith("application/x-ndjson")
    return [json.loads(line) async for line in resp.content if line.strip()]


async def test_one_line_per_item_as_answers_arrive_then_done(start_daemon) -> None:
    d = await start_daemon(disabled_sources=THROTTLED_SOURCES)
    d.upstream.plan(doi=GOLD_DOI, delay=0.4)  # the first item answers last
    items = [
        {"doi": GOLD_DOI, "title": "Gold", "key": "ref-1"},
        GREEN_DOI,
        {"title": "A reference with no identifier", "authors": ["Doe, J."], "year": 2001},
        f"Smith J. (1997) A closed one. doi:{CLOSED_DOI}.",
    ]
    got = await lines(await batch(d, {"items": items}))
    results, done = got[:-1], got[-1]
    assert done == {"done": True, "total": 4, "free": 2}
    assert sorted(r["index"] for r in results) == [0, 1, 2, 3]
    assert results[-1]["index"] == 0  # streamed as answered, not in order
    rows = {r["index"]: r["row"] for r in results}
    assert rows[0]["status"] == "open" and rows[0]["key"] == "ref-1" and rows[0]["oa_status"] == "gold"
    assert rows[0]["best_url"].startswith("https://") and rows[0]["cc_by_or_cc0"] is True
    assert rows[1]["status"] == "open" and rows[1]["doi"] == GREEN_DOI
    assert rows[2]["status"] == "not_found" and rows[2]["problem"] == "No article matches this title"
    assert rows[3]["status"] == "closed" and rows[3]["doi"] == CLOSED_DOI
    # What left the machine: identifiers, and for the item without one its title,
    # first author and year (to the search sources); never a whole reference's text.
    assert sorted(r["doi"] for r in d.upstream.requests if r["service"] == "unpaywall") == sorted(
        [GOLD_DOI, GREEN_DOI, CLOSED_DOI])
    searches = [json.dumps(r["query"]) for r in d.upstream.requests if r["doi"] is None]
    assert searches and all("A reference with no identifier" in q for q in searches)
    assert "A closed one" not in json.dumps(d.upstream.requests)


async def test_a_reference_without_identifier_is_found_by_its_title(start_daemon) -> None:
    require_shared("crossref")
    d = await start_daemon()
    item = {"title": AUGMENTING, "authors": ["Bran, Andres M."], "year": 2024}
    (result, done) = await lines(await batch(d, {"items": [item]}))
    row = result["row"]
    assert (row["identified_by"], row["doi"], row["match_score"]) == ("title", AUGMENTING_DOI, 1.0)
    assert row["status"] in ("open", "closed") and row["title"] == AUGMENTING
    assert done["total"] == 1


async def test_a_reference_listed_twice_is_asked_once(start_daemon) -> None:
    d = await start_daemon(disabled_sources=THROTTLED_SOURCES)
    got = await lines(await batch(d, {"items": [GREEN_DOI, {"doi": GREEN_DOI.upper()}, GREEN_DOI]}))
    assert got[-1]["free"] == 3
    assert d.upstream.calls_for(GREEN_DOI, "unpaywall") == 1


async def test_batch_needs_a_token_and_gets_cors_only_for_an_extension(start_daemon) -> None:
    d = await start_daemon(disabled_sources=THROTTLED_SOURCES)
    no_token = await d.client.post("/v1/batch", json={"items": [GREEN_DOI]})
    await assert_error(no_token, 401, "unauthorized")
    with pytest.raises(aiohttp.ServerDisconnectedError):  # a web page: dropped unanswered
        await batch(d, {"items": [GREEN_DOI]}, Origin="https://evil.example")
    assert d.upstream.requests == []


async def test_extension_origin_gets_cors_headers_on_the_stream(start_daemon) -> None:
    d = await start_daemon(disabled_sources=THROTTLED_SOURCES)
    token = ClientStore(d.settings.clients_db).create_token("extension", origin=EXT)
    resp = await d.client.post("/v1/batch", json={"items": [GREEN_DOI]},
                               headers={"Authorization": f"Bearer {token}", "Origin": EXT})
    assert resp.headers["Access-Control-Allow-Origin"] == EXT
    assert resp.headers["Cache-Control"] == "no-store"
    assert (await lines(resp))[-1]["done"] is True


@pytest.mark.parametrize("body,message", [
    ({}, "items"),
    ({"items": "10.5555/x"}, "items"),
    ({"items": []}, "empty"),
    ({"items": [GREEN_DOI] * (MAX_ITEMS + 1)}, f"at most {MAX_ITEMS}"),
    ({"items": [42]}, "items[0] must be a string or an object"),
    ({"items": [{"doi": 10}]}, "'doi' must be a string"),
    ({"items": [{"authors": "Doe"}]}, "'authors' must be a list"),
    ({"items": [{"year": [2001]}]}, "'year' must be"),
    ({"items": ["x" * 5000]}, "longer than"),
])
async def test_bad_batches_are_400_before_any_lookup(start_daemon, body, message) -> None:
    d = await start_daemon(disabled_sources=THROTTLED_SOURCES)
    error = await assert_error(await batch(d, body), 400, "bad_request")
    assert message in error["message"]
    assert d.upstream.requests == []


async def test_the_lookup_payload_lists_the_page_references(start_daemon) -> None:
    from tests.support.shared import OWN_FIXTURES

    d = await start_daemon(disabled_sources=THROTTLED_SOURCES)
    html = (OWN_FIXTURES / "pages" / "highwire.html").read_text(encoding="utf-8")
    payload = await d.lookup_json({"url": "https://journal.example/a", "html": html})
    assert payload["references"] == [
        {"doi": "10.8888/old.1", "title": "An older study", "journal": "Other Journal"}]
    assert d.upstream.calls_for("10.8888/old.1") == 0  # listed, not looked up
    bare = await d.lookup_json({"doi": GREEN_DOI})
    assert bare["references"] == []


async def test_a_row_that_waited_for_a_busy_source_is_sent_again_once_it_answered(start_daemon) -> None:
    """Semantic Scholar takes one request a second, and a lookup waits a second for it
    at most: of three items, one finds it busy. Its row says so (pending), and once the
    background has asked, a second line with the same index replaces it; the
    limiter's own words never show."""
    d = await start_daemon(disabled_sources="arxiv", timeout=2.0)
    got = await lines(await batch(d, {"items": [GOLD_DOI, GREEN_DOI, CLOSED_DOI]}))
    rows = [line for line in got if "row" in line]
    first = {}
    for line in rows:
        first.setdefault(line["index"], line)
    waited = [i for i, line in first.items() if line["pending"] == ["semanticscholar"]]
    assert waited, rows
    final = [line for line in rows if line["index"] == waited[0]][-1]
    assert final is not first[waited[0]] and final["pending"] == []
    assert "semanticscholar" in final["row"]["sources"]
    assert got[-1] == {"done": True, "total": 3, "free": 2}
    assert "allows" not in json.dumps(got)
