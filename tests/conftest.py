"""Fixtures shared by the suite: isolated settings, an in-memory keyring."""

from __future__ import annotations

from pathlib import Path

import pytest

from oahelper.keys import KeyStore
from oahelper.settings import Settings, load_settings
from tests.support.memory_keyring import MemoryKeyring


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own OAHELPER_HOME and no stray OAHELPER_ settings."""
    import os

    for name in list(os.environ):
        if name.startswith("OAHELPER_") and name not in ("OAHELPER_REQUIRE_SHARED",
                                                          "OAHELPER_REQUIRE_KEYRING",
                                                          "OAHELPER_SHARED_FIXTURES"):
            monkeypatch.delenv(name)
    home = tmp_path / "oahelper-home"
    monkeypatch.setenv("OAHELPER_HOME", str(home))
    return home


@pytest.fixture
def keystore() -> KeyStore:
    return KeyStore(MemoryKeyring())


@pytest.fixture
def make_settings(isolated_home: Path):
    """Settings for this test's home, with the given values as if passed as flags."""

    def make(**values: object) -> Settings:
        return load_settings(values, env={"OAHELPER_HOME": str(isolated_home)})

    return make


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in
    this thread until the session ends, and the asyncio tests cannot share it."""
    items.sort(key=lambda item: "e2e" in item.path.parts)  # stable: order kept otherwise
