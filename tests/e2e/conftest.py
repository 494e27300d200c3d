"""Fixtures for the browser tests: one real helper, one fake upstream, one page
server, one paired Chromium and one paired Firefox for the whole session (starting
them per test would cost seconds each); tests that need a clean browser get their own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Playwright, sync_playwright

from tests.e2e.browser import ExtensionBrowser, pair_through_options
from tests.e2e.firefox import FIREFOX_ORIGIN, Firefox, pair_firefox, require_firefox
from tests.e2e.harness import (
    EMAIL, OPENURL_BASE, Helper, PageServer, Upstream, base_env, new_port, require_chromium,
)
from tests.support.fake_upstream import upstream_env
from tests.support.shared import shared_fixtures


@dataclass
class Stack:
    helper: Helper
    upstream: Upstream
    pages: PageServer


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("e2e")
    upstream = Upstream(folder, base_env(folder / "upstream-home"))
    upstream.start()
    env = base_env(folder / "home") | upstream_env(upstream.url) | {
        "OAHELPER_UNPAYWALL_EMAIL": EMAIL,
        "OAHELPER_OPENURL_BASE": OPENURL_BASE,
    }
    helper = Helper(folder / "home", new_port(), env)
    shared = shared_fixtures()
    pages = PageServer(shared / "pages" if shared else None)
    try:
        helper.start()
        pages.start()
        yield Stack(helper, upstream, pages)
    finally:
        pages.stop()
        helper.stop()
        upstream.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    require_chromium()
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright, stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExtensionBrowser]:
    """Chromium with the extension, paired with the helper through the options page."""
    browser = ExtensionBrowser(playwright, tmp_path_factory.mktemp("profile"))
    try:
        pair_through_options(browser, stack.helper).close()
        yield browser
    finally:
        browser.close()


@pytest.fixture
def fresh_browser(playwright: Playwright, tmp_path: Path) -> Iterator[ExtensionBrowser]:
    """A browser with a new profile: the extension as just installed, not paired."""
    browser = ExtensionBrowser(playwright, tmp_path / "profile")
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="session")
def firefox(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Firefox]:
    """Firefox ESR with the extension, paired with the helper through the options page."""
    require_firefox()
    browser = Firefox(tmp_path_factory.mktemp("firefox") / "profile")
    try:
        pair_firefox(browser, stack.helper).close()
        yield browser
    finally:
        browser.close()


@pytest.fixture
def fresh_firefox(tmp_path: Path) -> Iterator[Firefox]:
    """Firefox with a new profile: the extension as just installed, not paired."""
    require_firefox()
    browser = Firefox(tmp_path / "profile")
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(autouse=True)
def close_firefox_tabs_and_check_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test's Firefox tabs are closed after it, and our own pages must not have thrown."""
    if "firefox" not in request.fixturenames:
        yield
        return
    browser: Firefox = request.getfixturevalue("firefox")
    before = set(browser.contexts()) | {browser.control.context}
    browser.errors.clear()
    yield
    for context in set(browser.contexts()) - before:
        browser.bidi.command("browsingContext.close", {"context": context})
    ours = [e for e in browser.errors if e.startswith(FIREFOX_ORIGIN)]
    assert not ours, f"the extension's pages threw: {ours}"


@pytest.fixture(autouse=True)
def close_pages_and_check_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test's pages are closed after it, and our own pages must not have thrown."""
    if "browser" not in request.fixturenames:
        yield
        return
    browser: ExtensionBrowser = request.getfixturevalue("browser")
    before = set(browser.context.pages)
    browser.errors.clear()
    yield
    for page in browser.context.pages:
        if page not in before:
            page.close()
    ours = [e for e in browser.errors if e.startswith(("popup:", "options:"))]
    assert not ours, f"the extension's pages threw: {ours}"
