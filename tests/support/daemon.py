"""A daemon app (the real one) wired to the fake upstream, for API tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from oahelper.daemon.clients import ClientStore
from oahelper.settings import Settings, write_setting
from oahelper.daemon.app import init
from tests.support.fake_upstream import FAKE, FakeUpstream, make_app, upstream_settings

EMAIL = "researcher@uni.edu"


@dataclass
class Daemon:
    client: TestClient
    token: str
    upstream: FakeUpstream
    upstream_url: str
    settings: Settings

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def lookup(self, body: dict[str, Any], **kw: Any) -> Any:
        headers = {**self.auth, **kw.pop("headers", {})}
        return await self.client.post("/v1/lookup", json=body, headers=headers, **kw)

    async def lookup_json(self, body: dict[str, Any]) -> dict[str, Any]:
        resp = await self.lookup(body)
        assert resp.status == 200, await resp.text()
        return await resp.json()


@pytest.fixture
async def upstream_server(aiohttp_server) -> TestServer:
    return await aiohttp_server(make_app(FakeUpstream()))


@pytest.fixture
def start_daemon(aiohttp_client, upstream_server: TestServer, make_settings, keystore):
    """Start the real daemon app with the given settings on top of the test defaults."""

    async def start(*, config: dict[str, str] | None = None, **values: Any) -> Daemon:
        """``values`` are given as flags (they beat the config file); ``config`` is
        written to the config file instead, and the daemon reads the file again when
        it changes, as ``oahelper serve`` does."""
        base = str(upstream_server.make_url("")).rstrip("/")
        values = upstream_settings(base) | {"unpaywall_email": EMAIL, "timeout": 2.0} | values
        values = {k: v for k, v in values.items() if v is not None and k not in (config or {})}
        settings = make_settings(**values)
        for name, value in (config or {}).items():
            write_setting(settings.config_file, name, value)
        settings = make_settings(**values)
        reload = (lambda: make_settings(**values)) if config is not None else None
        client = await aiohttp_client(init(settings, keystore=keystore, reload_settings=reload))
        token = ClientStore(settings.clients_db).create_token("tests")
        return Daemon(client, token, upstream_server.app[FAKE], base, settings)

    return start
