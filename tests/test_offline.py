"""Offline mode (setting ``offline = true``): only the sources that need no network
answer, no page is fetched, and the upstream fakes receive nothing at all."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from oahelper.snapshot.importer import Importer
from tests.support.daemon import start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import GREEN_DOI
from tests.support.processes import fake_upstream, oahelper
from tests.support.shared import OWN_FIXTURES
from tests.support.snapshot_data import write_snapshot


@pytest.fixture
def records(tmp_path: Path, isolated_home: Path) -> list[dict]:
    feed = write_snapshot(tmp_path / "snap.jsonl", 60)
    Importer(isolated_home / "data" / "snapshot.duckdb").run([str(feed)])
    return [json.loads(line) for line in feed.read_text().splitlines()]


async def test_offline_nothing_reaches_the_upstreams_and_local_sources_answer(
        start_daemon, upstream_server, records) -> None:
    oab = str(upstream_server.make_url("/oab"))
    d = await start_daemon(offline="true", oab_url=oab)
    gold = next(r for r in records if r["oa_status"] == "gold")
    found = await d.lookup_json({"doi": gold["doi"]})
    assert found["offline"] is True and found["status"] == "open"
    assert found["sources"]["snapshot"]["state"] == "ok"
    assert found["sources"]["unpaywall"]["state"] == "disabled"
    assert found["sources"]["oab"]["state"] == "disabled"

    missing = await d.lookup_json({"doi": GREEN_DOI})  # not in the snapshot
    assert missing["status"] == "not_found" and missing["sources"]["snapshot"]["state"] == "not_found"

    arxiv = await d.lookup_json({"doi": "arXiv:1706.03762"})
    assert arxiv["status"] == "open" and arxiv["sources"]["free_by_id"]["state"] == "ok"

    page = (OWN_FIXTURES / "pages" / "highwire.html").read_text(encoding="utf-8")
    await d.lookup_json({"url": "https://journal.example.org/article/1", "html": page})
    titled = await d.lookup(
        {"query": "Attention is all you need. Vaswani et al., NeurIPS 2017"})
    assert titled.status == 200  # no search source is asked offline
    fetched = await d.lookup_json({"url": f"{d.upstream_url}/some/article"})
    assert "offline mode" in fetched["badge"]["tooltip"]

    status = await (await d.client.get("/v1/status", headers=d.auth)).json()
    assert status["offline"] is True
    assert d.upstream.requests == []  # the page URL above pointed at the fake, too


async def test_online_the_same_lookup_does_ask_the_upstream(start_daemon, records) -> None:
    d = await start_daemon()
    p = await d.lookup_json({"doi": GREEN_DOI})
    assert p["offline"] is False and d.upstream.calls_for(GREEN_DOI, "unpaywall") == 1


def test_cli_lookup_and_doctor_offline_send_nothing(records, tmp_path: Path) -> None:
    log = tmp_path / "upstream.jsonl"
    env = dict(os.environ) | {"OAHELPER_OFFLINE": "true", "OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu"}
    with fake_upstream(env, log=log) as base:
        env |= {"OAHELPER_UNPAYWALL_URL": base, "OAHELPER_OAB_URL": f"{base}/oab"}
        closed = next(r for r in records if r["oa_status"] == "closed")
        lookup = oahelper(["lookup", closed["doi"]], env)
        doctor = oahelper(["doctor"], env)
        page = oahelper(["lookup", f"{base}/an/article"], env)
    assert lookup.returncode == 0 and "NO FREE COPY" in lookup.stdout
    assert "snapshot ok as of" in lookup.stdout
    assert "OFFLINE MODE" in doctor.stdout
    assert "off  unpaywall: not asked (offline mode)" in doctor.stdout
    assert "off  oab: not asked (offline mode)" in doctor.stdout
    assert "offline mode" in page.stdout
    assert not log.exists() or log.read_text() == ""


async def test_lookups_from_the_snapshot_spend_no_budget(start_daemon, records) -> None:
    """The per-client budget guards upstream quotas; the local copy has none to spend."""
    d = await start_daemon(offline="true", lookups_per_minute=1)
    answered = [await d.lookup_json({"doi": r["doi"]}) for r in records[:5]]
    states = [p["sources"]["snapshot"]["state"] for p in answered]
    assert states == ["ok"] * 5
    assert all(p["status"] in ("open", "closed") for p in answered)
