"""One client cannot spend the upstream quotas: lookups that need the sources are
limited per client, per lane, per minute (oahelper/engine/budget.py). Past the budget
answers come from the cache, or each source says ``rate_limited``; other clients and
the batch lane keep their own budgets."""

from __future__ import annotations

import json

import pytest

from oahelper.daemon.clients import ClientStore
from oahelper.engine.budget import Caller, CallBudgets
from oahelper.daemon.app import init
from tests.support.daemon import EMAIL, Daemon, start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import GREEN_DOI, THROTTLED_SOURCES, upstream_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_budget_slides_over_a_minute_per_client_and_per_lane() -> None:
    clock = Clock()
    budgets = CallBudgets({"interactive": 2, "batch": 1}, clock=clock)
    tab = Caller("interactive", "Chromium")
    assert [budgets.ticket(tab).spend() for _ in range(3)] == [True, True, False]
    assert budgets.ticket(Caller("interactive", "script")).spend()  # another client
    assert budgets.ticket(Caller("batch", "Chromium")).spend()      # another lane
    clock.now += 59.9
    assert not budgets.ticket(tab).spend()
    clock.now += 0.2
    assert budgets.ticket(tab).spend()


def test_a_ticket_decides_once_for_all_the_sources_of_one_lookup() -> None:
    budgets = CallBudgets({"interactive": 1, "batch": 1})
    ticket = budgets.ticket(Caller("interactive", "Chromium"))
    assert ticket.spend() and ticket.spend()  # one unit, however many sources
    refused = budgets.ticket(Caller("interactive", "Chromium"))
    assert not refused.spend() and not refused.spend()
    with pytest.raises(ValueError):
        CallBudgets({"bulk": 5})


def asked(d: Daemon) -> set[str]:
    """The DOIs the upstreams were asked about, by any source."""
    return {r["doi"] for r in d.upstream.requests if r.get("doi")}


def page(doi: str) -> str:
    return f'<html><head><meta name="citation_doi" content="{doi}"></head></html>'


async def test_a_page_rewriting_its_doi_cannot_spend_the_quota(start_daemon) -> None:
    d: Daemon = await start_daemon(lookups_per_minute=3)
    assert (await d.lookup_json({"url": "https://j.org/a", "html": page(GREEN_DOI)}))["status"] == "open"
    answers = [await d.lookup_json({"url": "https://evil.example/p", "html": page(f"10.5555/loop.{n}")})
               for n in range(8)]
    # Three lookups a minute reached the upstreams (each asks several sources): the
    # first page and two of the loop.
    assert asked(d) == {GREEN_DOI, "10.5555/loop.0", "10.5555/loop.1"}
    limited = answers[2:]
    for payload in limited:
        assert payload["status"] == "unknown"
        unpaywall = payload["sources"]["unpaywall"]
        assert unpaywall["state"] == "rate_limited" and unpaywall["error_code"] == "rate_limited"
        assert "lookups" in unpaywall["error"] and "rate_limited" not in payload["badge"]["tooltip"]
        assert "cached answers still work" in payload["badge"]["tooltip"]
    # What is cached is still answered, fresh, past the budget.
    again = await d.lookup_json({"doi": GREEN_DOI})
    assert again["status"] == "open" and again["cached"]
    # Another client has its own budget.
    other = ClientStore(d.settings.clients_db).create_token("another script")
    resp = await d.client.post("/v1/lookup", json={"doi": "10.5555/other.1"},
                               headers={"Authorization": f"Bearer {other}"})
    assert (await resp.json())["sources"]["unpaywall"]["state"] == "not_found"
    assert "10.5555/other.1" in asked(d)


async def test_the_batch_lane_has_its_own_budget(start_daemon) -> None:
    # (The sources with scarce slots are off: a busy one's pending answer is not the point.)
    d: Daemon = await start_daemon(lookups_per_minute=1, batch_lookups_per_minute=2,
                                   disabled_sources=THROTTLED_SOURCES)
    await d.lookup_json({"doi": "10.5555/spent.1"})  # the interactive budget is spent
    resp = await d.client.post("/v1/batch", json={"items": [f"10.5555/ref.{n}" for n in range(4)]},
                               headers=d.auth)
    rows = [json.loads(line)["row"] async for line in resp.content if b'"row"' in line]
    assert len(asked(d)) == 1 + 2
    assert sorted(row["status"] for row in rows).count("unknown") == 2


async def test_a_batch_of_titles_spends_the_batch_lane_not_the_pages_one(start_daemon) -> None:
    d: Daemon = await start_daemon(lookups_per_minute=1, batch_lookups_per_minute=2)
    titles = [f"A reference without identifier number {n}" for n in range(3)]
    resp = await d.client.post("/v1/batch", json={"items": [{"title": t} for t in titles]}, headers=d.auth)
    # The last line of each item (a row that waited for a busy source is sent again).
    lines = [json.loads(line) async for line in resp.content if b'"row"' in line]
    rows = list({line["index"]: line["row"] for line in lines}.values())
    # Title searches are upstream calls too: two references searched, the third not.
    searched = {t for t in titles for r in d.upstream.requests if r["doi"] is None and t in json.dumps(r["query"])}
    assert len(rows) == 3 and len(searched) == 2
    refused = next(row for row in rows if row["title"] not in searched)
    assert refused["status"] == "unknown" and "batch lookups" in refused["problem"], refused
    # The pages the user opens meanwhile still have their whole budget.
    assert (await d.lookup_json({"doi": "10.5555/page.1"}))["sources"]["unpaywall"]["state"] == "not_found"
    assert "10.5555/page.1" in asked(d)


async def test_a_changed_budget_takes_effect_without_a_restart(
        aiohttp_client, upstream_server, make_settings, keystore, isolated_home) -> None:
    base = str(upstream_server.make_url("")).rstrip("/")
    flags = upstream_settings(base) | {"unpaywall_email": EMAIL, "timeout": 2.0}
    settings = make_settings(**flags)
    settings.config_file.parent.mkdir(parents=True, exist_ok=True)
    settings.config_file.write_text("lookups_per_minute = 1\n")
    client = await aiohttp_client(init(make_settings(**flags), keystore=keystore,
                                       reload_settings=lambda: make_settings(**flags)))
    auth = {"Authorization": f"Bearer {ClientStore(settings.clients_db).create_token('t')}"}

    async def state(doi: str) -> str:
        resp = await client.post("/v1/lookup", json={"doi": doi}, headers=auth)
        return (await resp.json())["sources"]["unpaywall"]["state"]

    assert [await state(f"10.5555/r.{n}") for n in range(2)] == ["not_found", "rate_limited"]
    settings.config_file.write_text("lookups_per_minute = 3\n")  # oahelper config set
    assert [await state(f"10.5555/r.{n}") for n in range(2, 5)] == [
        "not_found", "not_found", "rate_limited"]
