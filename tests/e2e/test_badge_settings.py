"""Turning the on-page badge off: for one site (from the popup or the options page)
or everywhere (options page)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import ExtensionBrowser
from tests.e2e.harness import wait_until

pytestmark = pytest.mark.e2e

ARTICLE = "/own/article-gold.html"


def test_a_site_switched_off_gets_no_badge_and_sends_nothing(browser: ExtensionBrowser, stack) -> None:
    # The same page on "localhost" is another site than on 127.0.0.1.
    page = browser.open(stack.pages.url(ARTICLE, host="localhost"))
    badge = page.locator("#oahelper-badge")
    expect(badge).to_have_attribute("data-status", "open")
    tab = browser.tab_id(page.url)

    popup = browser.popup(tab)
    expect(popup.locator("#site-name")).to_have_text("localhost")
    toggle = popup.get_by_label("Show the badge on localhost")
    expect(toggle).to_be_checked()
    toggle.uncheck()
    expect(badge).to_have_count(0)  # gone at once, no reload needed
    try:
        lookups = stack.helper.lookups_seen()
        page.reload()
        browser.wait_for_state(tab, ("site_off",))
        expect(badge).to_have_count(0)
        assert browser.toolbar(tab)["text"] == ""
        assert stack.helper.lookups_seen() == lookups, "a switched-off site was sent to the helper"

        # Other sites keep their badge.
        other = browser.open(stack.pages.url(ARTICLE))
        expect(other.locator("#oahelper-badge")).to_have_attribute("data-status", "open")

        # The options page lists the site, and turns it back on.
        options = browser.options()
        expect(options.locator("#sites-off li")).to_have_count(1)
        expect(options.locator("#sites-off li")).to_contain_text("localhost")
        options.get_by_role("button", name="Turn oahelper back on for localhost").click()
        expect(options.locator("#sites-off li")).to_have_count(0)
        assert browser.settings()["sitesOff"] == []
        page.reload()
        expect(badge).to_have_attribute("data-status", "open")
    finally:
        browser.set_settings({"sitesOff": []})


def test_badges_off_everywhere_still_leaves_the_answer_on_the_toolbar(browser: ExtensionBrowser, stack) -> None:
    options = browser.options()
    switch = options.get_by_label("Show the badge on article pages", exact=False)
    expect(switch).to_be_checked()
    switch.uncheck()
    try:
        wait_until(lambda: browser.settings().get("badgeEnabled") is False, what="the setting to be saved")
        page = browser.open(stack.pages.url(ARTICLE))
        tab = browser.tab_id(page.url)
        browser.wait_for_state(tab, ("result",))
        assert browser.toolbar(tab)["text"] == "OA"
        expect(page.locator("#oahelper-badge")).to_have_count(0)

        switch.check()  # and back on: the open page gets its badge without a reload
        expect(page.locator("#oahelper-badge")).to_have_attribute("data-status", "open")
    finally:
        browser.set_settings({"badgeEnabled": True})
