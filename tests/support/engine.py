"""The daemon's lookup engine in-process, on the fake upstream: for audit and batch tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from oahelper.engine.build import open_engine
from oahelper.engine.lookup import LookupService
from tests.support.fake_upstream import THROTTLED_SOURCES, FakeUpstream, start_in, upstream_settings

EMAIL = "researcher@uni.edu"


@dataclass
class Engine:
    service: LookupService
    upstream: FakeUpstream

    def unpaywall_calls(self) -> list[str]:
        return [r["doi"] for r in self.upstream.requests if r["service"] == "unpaywall"]


@pytest.fixture
async def engine(aiohttp_server: Any, make_settings: Any, keystore: Any) -> AsyncIterator[Engine]:
    """A LookupService as the daemon builds it (engine/build.py), asking the fake Unpaywall."""
    fake, base = await start_in(aiohttp_server)
    settings = make_settings(**upstream_settings(base), unpaywall_email=EMAIL, timeout=3.0,
                             disabled_sources=THROTTLED_SOURCES)
    async with open_engine(settings, keystore=keystore) as built:
        yield Engine(built.service, fake)
