"""Keyboard, screen-reader names and 200% zoom on the popup and the options page.

Browser zoom at 200% halves the CSS width of a window: a 1280-pixel window shows the
options page 640 CSS pixels wide, and the popup (which the browser caps at 800
pixels) gets 400."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import ExtensionBrowser

pytestmark = pytest.mark.e2e


def no_sideways_scrolling(page: Page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")


def test_options_page_is_labelled_keyboard_reachable_and_fits_at_200_percent(browser: ExtensionBrowser) -> None:
    page = browser.options()
    page.set_viewport_size({"width": 640, "height": 800})
    expect(page.locator("#helper-state")).to_contain_text("running")
    # Every control has a name a screen reader reads out.
    expect(page.get_by_label("Port")).to_have_id("port")
    expect(page.get_by_label("Pairing code")).to_have_id("pair-code")
    expect(page.get_by_role("button", name="Pair", exact=True)).to_have_id("pair-submit")
    expect(page.get_by_label("Show the badge on article pages", exact=False)).to_have_id("badge-enabled")
    expect(page.get_by_label("Add a site")).to_have_id("site-add")
    expect(page.locator("#pair-status")).to_have_attribute("role", "status")

    # Tab walks through the controls in reading order.
    order = []
    for _ in range(8):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id"))
    wanted = ["port", "pair-code", "pair-submit", "badge-enabled", "site-add", "site-add-submit"]
    assert [i for i in order if i in wanted] == wanted, order

    assert no_sideways_scrolling(page)
    # The port field says what is wrong with it, to eyes and to screen readers.
    page.fill("#port", "99999")
    page.keyboard.press("Tab")
    expect(page.locator("#port")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#port-error")).to_have_text("A port is a whole number from 1 to 65535.")
    assert browser.settings()["port"] != 99999


def test_popup_is_labelled_and_fits_at_200_percent(browser: ExtensionBrowser, stack) -> None:
    article = browser.open(stack.pages.url("/own/article-gold.html"))
    expect(article.locator("#oahelper-badge")).to_be_visible()
    popup = browser.popup(browser.tab_id(article.url))
    popup.set_viewport_size({"width": 400, "height": 700})
    expect(popup.locator("#status")).to_contain_text("Free PDF available")
    expect(popup.locator("#status")).to_have_attribute("role", "status")
    expect(popup.get_by_role("link", name="Read the published version", exact=False)).to_have_id("best-link")
    expect(popup.get_by_role("checkbox", name="Show the badge on 127.0.0.1")).to_be_checked()
    assert no_sideways_scrolling(popup)
    # The first Tab stop is the free copy, the point of the popup.
    popup.keyboard.press("Tab")
    assert popup.evaluate("document.activeElement.id") == "best-link"
