"""The HTTP API against fake upstreams serving the recorded Unpaywall answers."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from oahelper import __version__
from oahelper.daemon.clients import ClientStore
from oahelper.engine.cache import Cache
from oahelper.models import Location, SourceAnswer
from tests.support.api import assert_error
from tests.support.daemon import start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import CLOSED_DOI, GREEN_DOI, MISSING_DOI, UNKNOWN_DOI
from tests.support.shared import require_shared

EXT = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


async def test_health_is_open_and_says_only_what_it_is(start_daemon) -> None:
    d = await start_daemon()
    resp = await d.client.get("/v1/health")
    assert resp.status == 200
    assert await resp.json() == {"service": "oahelper", "version": __version__, "api": 1}
    assert resp.headers["X-OAHelper-Version"] == __version__
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_lookup_and_status_need_a_token(start_daemon) -> None:
    d = await start_daemon()
    await assert_error(await d.client.post("/v1/lookup", json={"doi": GREEN_DOI}), 401, "unauthorized")
    await assert_error(await d.client.get("/v1/status"), 401, "unauthorized")
    bad = {"Authorization": "Bearer not-a-real-token"}
    await assert_error(await d.client.get("/v1/status", headers=bad), 401, "unauthorized")
    assert d.upstream.requests == []


async def test_green_article_by_doi_from_the_recording(start_daemon) -> None:
    require_shared("unpaywall")
    d = await start_daemon()
    p = await d.lookup_json({"doi": "10.1038/nature12373"})
    assert p["status"] == "open" and p["oa_status"] == "green"
    assert p["best"]["host_type"] == "repository"
    assert p["best"]["url"].startswith("https://dash.harvard.edu/")
    assert p["best"]["version"] == "publishedVersion"
    assert len(p["locations"]) >= 3 and p["badge"]["color"] == "green"
    assert p["article"]["journal"] == "Nature" and p["article"]["year"] == 2013
    assert p["sources"]["unpaywall"]["state"] == "ok"
    assert p["sources"]["oab"]["state"] == "disabled"
    sent = next(r for r in d.upstream.requests if r["service"] == "unpaywall")
    assert sent["path"] == "/v2/10.1038/nature12373" and sent["query"] == {"email": "researcher@uni.edu"}


async def test_second_lookup_is_served_from_the_cache(start_daemon) -> None:
    d = await start_daemon()
    first = await d.lookup_json({"doi": GREEN_DOI})
    second = await d.lookup_json({"doi": GREEN_DOI.upper()})  # DOIs are case-insensitive
    assert first["cached"] is False and second["cached"] is True
    assert second["sources"]["unpaywall"]["cached"] is True
    assert second["best"] == first["best"]
    assert d.upstream.calls_for(GREEN_DOI, "unpaywall") == 1


@pytest.mark.parametrize("doi", [CLOSED_DOI, MISSING_DOI, UNKNOWN_DOI],
                         ids=["is_oa-false", "json-404", "bare-404"])
async def test_closed_dois_are_closed_with_actions_and_unknown_ones_not_found(start_daemon, doi) -> None:
    d = await start_daemon(openurl_base="https://resolver.example.edu/openurl")
    p = await d.lookup_json({"doi": doi})
    if doi == CLOSED_DOI:
        assert p["status"] == "closed" and p["best"] is None
        assert [a["kind"] for a in p["actions"]] == ["library"]
        assert p["badge"]["color"] == "closed"
    else:  # no source knows it: a grey "Not found", never "No free copy"
        assert p["status"] == "not_found" and p["badge"]["color"] == "unknown"
        assert p["badge"]["text"] == "Not found" and "check it for typos" in p["badge"]["tooltip"]


async def test_missing_email_is_a_configuration_problem_not_a_crash(start_daemon) -> None:
    d = await start_daemon(unpaywall_email=None)
    p = await d.lookup_json({"doi": GREEN_DOI})
    assert p["status"] == "unknown"
    up = p["sources"]["unpaywall"]
    assert up["state"] == "error" and up["error_code"] == "source_config"
    assert "oahelper config set unpaywall_email" in up["error"]
    # no call that can only fail: Unpaywall is not asked (the others need no e-mail)
    assert "unpaywall" not in {r["service"] for r in d.upstream.requests}
    status = await (await d.client.get("/v1/status", headers=d.auth)).json()
    assert [p["code"] for p in status["problems"]] == ["unpaywall_not_configured"]
    assert "e-mail" in status["problems"][0]["message"]


async def test_placeholder_email_gets_unpaywalls_422_as_a_config_problem(start_daemon) -> None:
    # Not caught locally as a placeholder, but refused by (the recording of) Unpaywall.
    d2 = await start_daemon(unpaywall_email="test@uni.edu")
    p = await d2.lookup_json({"doi": GREEN_DOI})
    assert p["status"] == "unknown"
    assert p["sources"]["unpaywall"]["error_code"] == "source_config"
    status = await (await d2.client.get("/v1/status", headers=d2.auth)).json()
    assert status["sources"]["unpaywall"]["problems"], status
    assert (await d2.client.get("/v1/health")).status == 200


async def test_429_with_retry_after_is_retried(start_daemon) -> None:
    d = await start_daemon()
    d.upstream.plan("429", doi=GREEN_DOI, retry_after=0.1, times=1, service="unpaywall")
    p = await d.lookup_json({"doi": GREEN_DOI})
    assert p["status"] == "open"
    assert d.upstream.calls_for(GREEN_DOI, "unpaywall") == 2


@pytest.mark.parametrize("kind, code", [("500", "source_error"), ("garbage", "source_bad_response"),
                                        ("hang", "source_timeout")])
async def test_failing_upstream_gives_unknown_and_the_daemon_keeps_serving(start_daemon, kind, code) -> None:
    d = await start_daemon(timeout=1.0)
    d.upstream.plan(kind, doi=GREEN_DOI, service="unpaywall")
    p = await d.lookup_json({"doi": GREEN_DOI})
    assert p["status"] == "unknown" and p["badge"]["show"] is True
    assert p["sources"]["unpaywall"]["state"] == "error"
    assert p["sources"]["unpaywall"]["error_code"] == code, p["sources"]
    assert p["elapsed_ms"] < 2500
    other = await d.lookup_json({"doi": CLOSED_DOI})  # another article still works
    assert other["status"] == "closed"


async def test_no_network_says_unknown_with_the_reason(start_daemon) -> None:
    d = await start_daemon(unpaywall_url="http://127.0.0.1:9")  # nothing listens there
    p = await d.lookup_json({"doi": GREEN_DOI})
    assert p["status"] == "unknown"
    assert "127.0.0.1" in p["sources"]["unpaywall"]["error"]
    assert "127.0.0.1" in p["badge"]["tooltip"]


async def test_expired_answer_is_served_stale_when_the_upstream_fails(start_daemon) -> None:
    d = await start_daemon()
    long_ago = Cache(d.settings.cache_db, clock=lambda: 1_000_000.0)
    green = SourceAnswer(source="unpaywall", state="ok", oa_status="green", locations=(
        Location(url="https://repo.example/old.pdf", source="unpaywall", is_best=True),))
    long_ago.put(green, f"doi:{GREEN_DOI}")
    long_ago.close()
    d.upstream.plan("500", doi=GREEN_DOI, service="unpaywall")
    p = await d.lookup_json({"doi": GREEN_DOI})
    assert p["status"] == "open" and p["best"]["url"] == "https://repo.example/old.pdf"
    assert p["sources"]["unpaywall"]["stale"] is True
    assert "500" in p["sources"]["unpaywall"]["error"]


async def test_concurrent_lookups_of_one_doi_make_one_upstream_call(start_daemon) -> None:
    d = await start_daemon()
    d.upstream.plan(None, doi=GREEN_DOI, delay=0.2)
    payloads = await asyncio.gather(*(d.lookup_json({"doi": GREEN_DOI}) for _ in range(50)))
    assert {p["status"] for p in payloads} == {"open"}
    assert d.upstream.calls_for(GREEN_DOI, "unpaywall") == 1


async def test_bad_bodies_get_clear_errors_and_lose_nothing(start_daemon) -> None:
    d = await start_daemon(max_body=10_000)
    await d.lookup_json({"doi": GREEN_DOI})
    post = d.client.post
    await assert_error(await post("/v1/lookup", data="doi=1", headers={**d.auth, "Content-Type": "text/plain"}),
                       415, "unsupported_media_type")
    await assert_error(await post("/v1/lookup", data={"doi": "1"}, headers=d.auth), 415, "unsupported_media_type")
    await assert_error(await post("/v1/lookup", data="{not json", headers={**d.auth, "Content-Type": "application/json"}),
                       400, "bad_request")
    await assert_error(await post("/v1/lookup", data="[1, 2]", headers={**d.auth, "Content-Type": "application/json"}),
                       400, "bad_request")
    await assert_error(await d.lookup({"url": 5}), 400, "bad_request")
    await assert_error(await d.lookup({"html": "<p>"}), 400, "bad_request")
    await assert_error(await d.lookup({"url": "https://x.example/", "html": "x" * 20_000}), 413, "body_too_large")
    await assert_error(await post("/v1/lookup", data=b"\xff\xfe{", headers={**d.auth, "Content-Type": "application/json"}),
                       400, "bad_request")
    await assert_error(await d.client.get("/v1/nothing", headers=d.auth), 404, "not_found")
    again = await d.lookup_json({"doi": GREEN_DOI})
    assert again["cached"] is True and again["status"] == "open"


async def test_oversized_body_is_refused_from_its_length_before_reading(start_daemon) -> None:
    d = await start_daemon(max_body=10_000)

    async def endless():
        yield b'{"url": "https://x.example/", "html": "'
        for _ in range(1000):
            yield b"x" * 100_000  # 100 MB if it were all read

    resp = await d.client.post("/v1/lookup", data=endless(),
                               headers={**d.auth, "Content-Type": "application/json"})
    await assert_error(resp, 413, "body_too_large")


async def test_host_header_must_be_loopback(start_daemon) -> None:
    d = await start_daemon()
    resp = await d.client.get("/v1/health", headers={"Host": "attacker.example:28757"})
    await assert_error(resp, 403, "forbidden")
    port = d.client.port
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        assert (await d.client.get("/v1/health", headers={"Host": host})).status == 200


async def test_requests_from_web_pages_get_no_answer_at_all(start_daemon) -> None:
    d = await start_daemon()
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "https://127.0.0.1:8000"},
                    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}):
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await d.client.post("/v1/lookup", json={"doi": GREEN_DOI}, headers={**d.auth, **headers})
    assert d.upstream.requests == []
    assert (await d.client.get("/v1/health")).status == 200  # still healthy


async def test_extension_pairs_and_gets_cors_for_its_own_origin(start_daemon) -> None:
    d = await start_daemon()
    code = ClientStore(d.settings.clients_db).new_pair_code()
    resp = await d.client.post("/v1/pair", json={"code": code, "client": "Chromium"}, headers={"Origin": EXT})
    assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] == EXT
    token = (await resp.json())["token"]
    again = await d.client.post("/v1/pair", json={"code": code, "client": "Chromium"}, headers={"Origin": EXT})
    await assert_error(again, 401, "pair_code_invalid")
    ok = await d.client.post("/v1/lookup", json={"doi": GREEN_DOI},
                             headers={"Origin": EXT, "Authorization": f"Bearer {token}"})
    assert ok.status == 200
    other = await d.client.post("/v1/lookup", json={"doi": GREEN_DOI}, headers={
        "Origin": "moz-extension://0a1b2c3d-0000-4000-8000-000000000000", "Authorization": f"Bearer {token}"})
    await assert_error(other, 403, "forbidden")
    assert [c.name for c in ClientStore(d.settings.clients_db).list()] == ["tests", "Chromium"]


async def test_pairing_is_rate_limited(start_daemon) -> None:
    d = await start_daemon()
    statuses = [(await d.client.post("/v1/pair", json={"code": "AAAA-AAAA"})).status for _ in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]


async def test_revoked_token_stops_working_at_once(start_daemon) -> None:
    d = await start_daemon()
    assert (await d.client.get("/v1/status", headers=d.auth)).status == 200
    ClientStore(d.settings.clients_db).revoke("tests")
    await assert_error(await d.client.get("/v1/status", headers=d.auth), 401, "unauthorized")


async def test_status_reports_sources_cache_and_quota(start_daemon) -> None:
    d = await start_daemon()
    await d.lookup_json({"doi": GREEN_DOI})
    s = await (await d.client.get("/v1/status", headers=d.auth)).json()
    assert s["sources"]["unpaywall"]["enabled"] is True and s["sources"]["oab"]["enabled"] is False
    assert s["quota"]["unpaywall"]["calls_today"] == 1
    # Unpaywall's answer; the other DOI sources' "not found" (some may still be on their way to disk)
    assert s["cache"]["entries"] + s["cache"]["pending_writes"] == 5
    assert s["sources"]["unpaywall"]["calls_today"] == s["sources"]["europepmc"]["calls_today"] == 1
    assert s["sources"]["free_by_id"]["needs_network"] is False
    assert s["problems"] == []


async def test_retired_oab_is_reported_once_not_hammered(start_daemon) -> None:
    d = await start_daemon(oab_url=None)
    d = await start_daemon(oab_url=f"{d.upstream_url}/oab-retired")
    first = await d.lookup_json({"doi": GREEN_DOI})
    second = await d.lookup_json({"doi": CLOSED_DOI})
    assert first["sources"]["oab"]["state"] == "retired" == second["sources"]["oab"]["state"]
    oab_calls = [r for r in d.upstream.requests if r["service"].startswith("oab")]
    assert len(oab_calls) == 1
    assert first["status"] == "open"  # Unpaywall still answers


@pytest.mark.parametrize("html", [
    # unclosed tags, stray closers, a meta inside a table: browsers and lxml recover
    f'<html><head><title>Broken<meta name="citation_doi" content="{GREEN_DOI}"></head><body><table><p></i></b>',
    # text that came through a wrong decoding: U+FFFD and C1 controls around the DOI
    f'<meta name="citation_title" content="Caf\ufffd \x92quoted\x92"><meta name="dc.identifier" content="doi:{GREEN_DOI}">',
    "",
], ids=["unclosed-tags", "mojibake", "empty"])
async def test_broken_pages_still_get_an_answer(start_daemon, html) -> None:
    d = await start_daemon()
    p = await d.lookup_json({"url": "https://pub.example/article/1", "html": html})
    if html:
        assert p["status"] == "open" and p["article"]["doi"] == GREEN_DOI
    else:
        assert p["status"] == "not_article" and d.upstream.requests == []


async def test_a_null_origin_from_a_page_is_dropped_too(start_daemon) -> None:
    d = await start_daemon()
    # A sandboxed iframe sends Origin: null, but Fetch Metadata still says "a page".
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await d.client.get("/v1/health", headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"})
    ok = await d.client.get("/v1/health", headers={"Origin": EXT, "Sec-Fetch-Site": "none"})
    assert ok.status == 200


async def test_a_source_turned_off_never_serves_its_old_answers(start_daemon) -> None:
    d = await start_daemon()  # OAB not configured
    long_ago = Cache(d.settings.cache_db, clock=lambda: 1_000_000.0)
    long_ago.put(SourceAnswer(source="oab", state="ok", locations=(
        Location(url="https://old.example/x.pdf", source="oab"),)), f"doi:{CLOSED_DOI}")
    long_ago.close()
    p = await d.lookup_json({"doi": CLOSED_DOI})
    assert p["status"] == "closed" and p["sources"]["oab"] == {"state": "disabled", "ms": 0, "cached": False}


async def test_what_is_not_an_identifier_and_wrong_methods_get_clear_errors(start_daemon) -> None:
    d = await start_daemon()
    await assert_error(await d.lookup({"doi": "hello world"}), 400, "bad_request")
    await assert_error(await d.client.get("/v1/lookup", headers=d.auth), 405, "method_not_allowed")
    assert d.upstream.requests == []
