"""2,000 lookups from 50 clients at once against the daemon and the fake upstream as
processes: every answer right, the cache whole, one upstream call per DOI.

No timings are asserted here; scripts/bench_load.py prints them.
"""

from __future__ import annotations

import sqlite3

import pytest

from oahelper.engine.cache import Cache
from oahelper.settings import load_settings
from tests.support.fake_upstream import Recordings
from tests.support.load import run_load

CLIENTS, PER_CLIENT, DISTINCT = 50, 40, 200


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One load run shared by this module's tests (it takes a few seconds)."""
    home = tmp_path_factory.mktemp("load-home")
    result = run_load(clients=CLIENTS, per_client=PER_CLIENT, distinct=DISTINCT, seed=7, home=home)
    result["home"] = home
    return result


def test_every_lookup_is_answered_right(load: dict) -> None:
    assert load["lookups"] == CLIENTS * PER_CLIENT
    assert load["problems"] == [], f"{len(load['problems'])} bad answers, e.g. {load['problems'][:5]}"
    assert len(load["asked"]) >= DISTINCT * 0.9  # (a few draws are news pages instead)


def test_the_upstream_was_asked_once_per_doi(load: dict) -> None:
    calls = load["upstream_calls"]
    assert set(calls) == set(load["asked"])
    repeated = {doi: n for doi, n in calls.items() if n != 1}
    assert not repeated, f"asked the upstream more than once: {repeated}"


def test_the_cache_holds_one_correct_entry_per_doi(load: dict) -> None:
    settings = load_settings(env={"OAHELPER_HOME": str(load["home"])})
    recordings = Recordings.load()
    cache = Cache(settings.cache_db)
    try:
        cache.check()
        with sqlite3.connect(settings.cache_db) as db:
            keys = [key for (key,) in db.execute("SELECT key FROM answers WHERE source='unpaywall'")]
        assert sorted(keys) == sorted(f"doi:{doi}" for doi in load["asked"])
        for doi in load["asked"]:
            cached = cache.get("unpaywall", f"doi:{doi}")
            assert cached is not None and cached.fresh, doi
            record = recordings.record(doi)
            if record is None:
                assert (cached.answer.state, cached.answer.locations) == ("not_found", ()), doi
                continue
            recorded_urls = [loc.get("url_for_pdf") or loc.get("url") for loc in record["oa_locations"]]
            assert cached.answer.state == "ok", doi
            assert cached.answer.oa_status == record["oa_status"], doi
            assert [loc.url for loc in cached.answer.locations] == recorded_urls, doi
            assert cached.answer.metadata.get("title") == ((record.get("title") or "").strip() or None), doi
    finally:
        cache.close()
