"""A clock set back (or jumping forward) changes no answer into a wrong one (issue 18).

Lifetimes stored in the files (cached answers, pairing codes) are wall-clock times,
since other processes read them; pauses and budgets are held in one process and run
on the monotonic clock (tests/test_pauses.py, tests/test_call_budget.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oahelper.daemon.clients import PAIR_CODE_TTL, ClientStore
from oahelper.engine.cache import FOUND_TTL, Cache
from oahelper.errors import Unauthorized
from oahelper.models import Location, SourceAnswer

FREE = SourceAnswer(source="unpaywall", state="ok", locations=(
    Location(url="https://repo.example/a.pdf", source="unpaywall"),))


class Clock:
    def __init__(self, now: float = 2_000_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_an_answer_cached_before_the_clock_was_set_back_is_not_trusted_as_fresh(tmp_path: Path) -> None:
    clock = Clock()
    cache = Cache(tmp_path / "cache.sqlite3", clock)
    cache.put(FREE, "doi:10.1/a")
    clock.now -= 30 * 86400  # set back a month: the answer would "live" five weeks
    found = cache.get("unpaywall", "doi:10.1/a")
    assert found is not None and not found.fresh  # asked again; served stale if that fails
    clock.now += 30 * 86400 + FOUND_TTL + 1  # and forward past its lifetime: expired
    assert not cache.get("unpaywall", "doi:10.1/a").fresh
    cache.close()


def test_a_little_drift_between_processes_keeps_an_answer_fresh(tmp_path: Path) -> None:
    clock = Clock()
    cache = Cache(tmp_path / "cache.sqlite3", clock)
    cache.put(FREE, "doi:10.1/a")
    clock.now -= 5
    assert cache.get("unpaywall", "doi:10.1/a").fresh
    cache.close()


def test_a_pairing_code_made_before_the_clock_was_set_back_dies_as_it_would_have(tmp_path: Path) -> None:
    clock = Clock()
    store = ClientStore(tmp_path / "clients.sqlite3", clock)
    code = store.new_pair_code()
    clock.now -= 3600  # an hour back: the code would otherwise work for an hour and 2 minutes
    with pytest.raises(Unauthorized):
        store.redeem_pair_code(code, "Firefox", "moz-extension://x")
    fresh = store.new_pair_code()  # a code made now works, within its two minutes
    clock.now += PAIR_CODE_TTL - 1
    token, name = store.redeem_pair_code(fresh, "Firefox", "moz-extension://x")
    assert token and name == "Firefox"
    store.close()
