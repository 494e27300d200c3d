"""The popup's box "Title, DOI or reference": a title typed there is found, checked
and looked up, in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import ExtensionBrowser
from tests.support.shared import require_shared

pytestmark = pytest.mark.e2e

TITLE = "Augmenting large language models with chemistry tools"


def test_a_typed_title_is_found_and_its_free_copies_listed(browser: ExtensionBrowser, stack) -> None:
    require_shared("crossref")
    page = browser.open(stack.pages.url("/own/article-gold.html"))
    tab = browser.tab_id(page.url)
    browser.wait_for_state(tab, ("result",))
    popup = browser.popup(tab)
    expect(popup.locator("label[for=query]")).to_have_text("Title, DOI or reference")
    popup.fill("#query", TITLE)
    popup.click("#query-submit")
    expect(popup.locator("#status")).to_have_attribute("data-state", "open", timeout=20_000)
    expect(popup.locator("#title")).to_have_text(TITLE)
    expect(popup.locator("#match")).to_contain_text("Found by title")
    expect(popup.locator("#citation")).to_contain_text("doi:10.1038/s42256-024-00832-8")
    expect(popup.locator("#best-found-by")).not_to_be_empty()
    items = popup.locator("#locations li")
    expect(items.first).to_contain_text("found by")
    # a wrong guess is never shown: Crossref's answer for this title is another paper,
    # so the title is not found (grey, no paywall), however long a busy source takes
    popup.fill("#query", "Attention is All you Need")
    popup.click("#query-submit")
    status = popup.locator("#status")
    expect(status).to_have_attribute("data-state", "not_found", timeout=40_000)
    expect(status).to_have_text("Not found: No article matches this title.")
    expect(popup.locator("#citation")).not_to_contain_text("10.18653")
    expect(popup.locator("#actions-box")).to_be_hidden()
