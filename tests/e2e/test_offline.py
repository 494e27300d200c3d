"""Offline mode and the snapshot as the user sees them in the popup: the answer comes
from the local copy of Unpaywall, says how fresh it is, and nothing reaches the
upstream while the helper is offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import ExtensionBrowser, shoot
from tests.e2e.harness import GOLD_DOI, unpaywall_answer

pytestmark = pytest.mark.e2e


def test_offline_the_popup_says_so_and_answers_from_the_snapshot_with_its_date(
        browser: ExtensionBrowser, stack, tmp_path: Path) -> None:
    helper = stack.helper
    record = unpaywall_answer(GOLD_DOI) | {"updated": "2025-06-30T08:00:00"}
    feed = tmp_path / "snapshot.jsonl"
    feed.write_text(json.dumps(record) + "\n", encoding="utf-8")
    db = tmp_path / "snapshot.duckdb"
    helper.cli("config", "set", "snapshot_db", str(db))
    helper.cli("snapshot", "import", str(feed))
    helper.cli("config", "set", "offline", "true")
    asked_before = len(stack.upstream.requests())
    try:
        page = browser.open(stack.pages.url("/own/article-gold.html"))
        expect(page.locator("#oahelper-badge")).to_have_attribute("data-status", "open")
        popup = browser.popup(browser.tab_id(page.url))
        expect(popup.locator("#status")).to_contain_text("Free PDF available")
        expect(popup.locator("#offline-note")).to_be_visible()
        expect(popup.locator("#offline-note")).to_contain_text("nothing left this computer")
        expect(popup.locator("#snapshot-note")).to_have_text(
            "Answered from your Unpaywall snapshot of 2025-06-30.")
        shoot(popup.locator("body"), "popup-offline.png")
        assert len(stack.upstream.requests()) == asked_before  # nothing reached the upstream
    finally:
        helper.cli("config", "unset", "offline")
        helper.cli("config", "unset", "snapshot_db")
    page = browser.open(stack.pages.url("/own/article-gold.html?online"))
    popup = browser.popup(browser.tab_id(page.url))
    expect(popup.locator("#status")).to_contain_text("Free PDF available")
    expect(popup.locator("#offline-note")).to_be_hidden()
