"""Pairing, as a user does it: the extension as just installed knows nothing, the
options page takes the code that `oahelper pair` prints, and the helper then lists
the browser among its clients."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import ExtensionBrowser, shoot
from tests.e2e.harness import EXTENSION_ORIGIN

pytestmark = pytest.mark.e2e


def test_unpaired_extension_says_so_and_pairing_through_options_page_fixes_it(fresh_browser: ExtensionBrowser, stack) -> None:
    helper = stack.helper
    fresh_browser.set_settings({"port": helper.port})
    article = fresh_browser.open(stack.pages.url("/own/article-gold.html"))
    tab = fresh_browser.tab_id(article.url)

    # Before pairing: the toolbar and the popup say "not paired" and lead to the options page.
    fresh_browser.wait_for_state(tab, ("error",))
    assert fresh_browser.toolbar(tab)["text"] == "pair"
    popup = fresh_browser.popup(tab)
    expect(popup.locator("#status")).to_contain_text("not paired")
    expect(popup.locator("#status")).to_have_attribute("data-state", "not_paired")
    expect(popup.locator("#command")).to_have_text("oahelper pair")
    with fresh_browser.context.expect_page() as opened:
        popup.click("#open-options")
    options = opened.value
    expect(options).to_have_url(f"{EXTENSION_ORIGIN}/options/options.html")

    # The options page: port, a code from `oahelper pair`, Pair.
    expect(options.locator("#port")).to_have_value(str(helper.port))
    expect(options.locator("#helper-state")).to_contain_text("running on port")
    expect(options.locator("#pair-status")).to_contain_text("Not paired")
    options.fill("#pair-code", helper.pair_code().lower())  # people type lower case
    options.click("#pair-submit")
    expect(options.locator("#pair-status")).to_contain_text("Paired")
    expect(options.locator("#pair-status")).to_have_attribute("data-state", "paired")
    expect(options.locator("#status-sources")).to_contain_text("unpaywall: on, configured")
    expect(options.locator("#status-figures")).to_contain_text(re.compile(r"unpaywall calls today: \d+ of 100000 allowed\."))
    expect(options.locator("#status-figures")).to_contain_text("Unpaywall snapshot: none imported")
    shoot(options, "options.png", full_page=True)

    clients = helper.cli("clients", "list")
    line = next((l for l in clients.splitlines() if EXTENSION_ORIGIN in l), None)
    assert line is not None, f"the helper does not list the extension:\n{clients}"
    assert line.startswith("Chromium") and "on Linux" in line

    # Retry in the popup now finds the free copy.
    popup.click("#retry")
    expect(popup.locator("#status")).to_contain_text("Free PDF available")
    assert fresh_browser.toolbar(tab)["text"] == "OA"


def test_a_wrong_pairing_code_is_refused_in_words(fresh_browser: ExtensionBrowser, stack) -> None:
    fresh_browser.set_settings({"port": stack.helper.port})
    clients_before = stack.helper.cli("clients", "list")
    options = fresh_browser.options()
    options.fill("#pair-code", "ZZZZ-ZZZZ")
    options.click("#pair-submit")
    expect(options.locator("#pair-status")).to_contain_text("not valid")
    expect(options.locator("#pair-status")).to_have_attribute("data-state", "error")
    assert "token" not in fresh_browser.settings() or not fresh_browser.settings()["token"]
    assert stack.helper.cli("clients", "list") == clients_before
