"""A conference page with a title but no DOI, PMID or arXiv id: the helper finds the
article by its title and the page gets that article's badge, in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import ExtensionBrowser
from tests.support.shared import require_shared

pytestmark = pytest.mark.e2e

TITLE = "Augmenting large language models with chemistry tools"


def test_a_page_with_only_a_title_gets_the_badge_of_the_article_found(
        browser: ExtensionBrowser, stack) -> None:
    require_shared("crossref")
    page = browser.open(stack.pages.url("/own/article-title-only.html"))
    tab = browser.tab_id(page.url)
    payload = browser.wait_for_state(tab, ("result",))["payload"]
    assert payload["article"]["match"]["query"] == "title", payload["badge"]
    assert payload["article"]["doi"] == "10.1038/s42256-024-00832-8"
    badge = page.locator("#oahelper-badge")
    expect(badge).to_be_visible()
    expect(badge).to_have_attribute("data-status", "open")  # not the grey "unknown"

    popup = browser.popup(tab)
    expect(popup.locator("#status")).to_have_attribute("data-state", "open")
    expect(popup.locator("#title")).to_have_text(TITLE)  # the page's <i> markup removed
    expect(popup.locator("#match")).to_contain_text("Found by title")
    expect(popup.locator("#citation")).to_contain_text("doi:10.1038/s42256-024-00832-8")
