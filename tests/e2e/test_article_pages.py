"""The automatic path: an article page gets its badge without a click, the toolbar
button says the same, the popup tells the details; a page that is not an article
sends nothing anywhere."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import ExtensionBrowser, badge_shadow_mode, click_in_badge, shadow_call, shoot
from tests.e2e.harness import GOLD_DOI, GREEN_DOI, OPENURL_BASE, unpaywall_answer, wait_until
from tests.support.shared import require_shared

pytestmark = pytest.mark.e2e


def badge(page: Page):
    return page.locator("#oahelper-badge")


def in_badge(page: Page, selector: str, function: str = "(e) => e && e.textContent") -> Any:
    """What function(element) says of the element inside the badge's (closed) shadow root."""
    return shadow_call(page, f"(root, s) => ({function})(root.querySelector(s))", selector)


LINK = """(a) => a && {href: a.getAttribute('href'), target: a.target, text: a.textContent,
                 label: a.getAttribute('aria-label'), title: a.title}"""


def test_free_article_gets_a_green_badge_linking_to_the_best_copy(browser: ExtensionBrowser, stack) -> None:
    recorded = unpaywall_answer(GREEN_DOI)
    page = browser.open(stack.pages.url("/own/article-green.html"))
    best_url = best_copy_url(browser, page, GREEN_DOI)

    expect(badge(page)).to_be_visible()
    expect(badge(page)).to_have_attribute("data-status", "open")
    expect(badge(page)).to_have_attribute("data-color", "green")
    expect(badge(page)).to_have_attribute("data-best-url", best_url)
    link = in_badge(page, "a.main", LINK)
    assert link["href"] == best_url and link["target"] == "_blank"
    # Colour is not the only signal: the badge says it in words, to eyes and to screen readers.
    assert "Free PDF" in link["text"] and "green OA" in link["text"]
    assert link["label"] == f"oahelper: {link['title']} (opens in a new tab)"
    shoot(page, "badge-open.png")

    tab = browser.tab_id(page.url)
    toolbar = browser.toolbar(tab)
    assert toolbar["text"] == "OA"
    assert "Free PDF available" in toolbar["title"]

    popup = browser.popup(tab)
    expect(popup.locator("#status")).to_contain_text("Free PDF available")
    expect(popup.locator("#status")).to_have_attribute("data-state", "open")
    expect(popup.locator("#title")).to_have_text("Nanometre-scale thermometry in a living cell")
    expect(popup.locator("#best-link")).to_have_attribute("href", best_url)
    expect(popup.locator("#best-version")).to_have_text("published version")
    expect(popup.locator("#best-host")).to_contain_text("Harvard")
    expect(popup.locator("#best-pdf")).to_have_attribute("href", recorded["best_oa_location"]["url_for_pdf"])
    # Every other free copy the recording lists, each once.
    others = [loc["url"] for loc in recorded["oa_locations"] if loc["is_best"] is not True]
    expect(popup.locator("#locations li")).to_have_count(len(others))
    hrefs = [a.get_attribute("href") for a in popup.locator("#locations li > a:first-child").all()]
    assert sorted(hrefs) == sorted(others)
    expect(popup.locator("#locations")).to_contain_text("preprint (submitted version) at arxiv.org")
    expect(popup.locator("#actions-box")).to_be_hidden()
    shoot(popup.locator("body"), "popup-open.png")


def best_copy_url(browser: ExtensionBrowser, page: Page, doi: str) -> str:
    """The best copy's URL in the helper's answer for the page, checked against the
    Unpaywall answer it came from (the helper links the PDF when there is one)."""
    best = browser.wait_for_state(browser.tab_id(page.url), ("result",))["payload"]["best"]
    recorded = unpaywall_answer(doi)["best_oa_location"]
    assert best["url"] in (recorded["url_for_pdf"], recorded["url"])
    return best["url"]


def test_clicking_the_badge_opens_the_free_copy(browser: ExtensionBrowser, stack) -> None:
    best_url = None

    # The copy is on the web, which this machine cannot reach: stand in for it.
    def is_copy(url: str) -> bool:
        return url == best_url

    browser.context.route(is_copy, lambda route: route.fulfill(body="the free copy", content_type="text/plain"))
    try:
        page = browser.open(stack.pages.url("/own/article-gold.html"))
        expect(badge(page)).to_have_attribute("data-status", "open")
        expect(badge(page)).to_have_attribute("data-color", "gold")
        assert "gold OA" in in_badge(page, "a.main")
        best_url = best_copy_url(browser, page, GOLD_DOI)
        with browser.context.expect_page() as opened:
            click_in_badge(page, "a.main")
        copy = opened.value
        copy.wait_for_load_state()
        assert copy.url == best_url
        expect(copy.locator("body")).to_contain_text("the free copy")
        # The copy opens in a new tab, with no way back into the article page.
        assert copy.evaluate("window.opener") is None
    finally:
        browser.context.unroute(is_copy)


CLOSED_DOI = "10.5555/oahelper.closed.1997"
NOT_FOUND_DOI = "10.5555/oahelper.e2e.not-indexed"
# What the helper says of an article page whose DOI no source knows.
NOT_FOUND_TOOLTIP = f"No source knows DOI {NOT_FOUND_DOI}: it may be too new to be indexed yet"


def test_closed_article_gets_a_closed_badge_and_the_popup_lists_what_to_do(browser: ExtensionBrowser, stack) -> None:
    page = browser.open(stack.pages.url("/own/article-closed.html"))
    expect(badge(page)).to_have_attribute("data-status", "closed")
    expect(badge(page)).to_have_attribute("data-color", "closed")
    expanded = "(b) => b.getAttribute('aria-expanded')"
    assert "No free copy" in in_badge(page, "button.main")
    assert in_badge(page, "button.main", expanded) == "false"
    # The badge opens a small panel with the same actions.
    click_in_badge(page, "button.main")
    wait_until(lambda: in_badge(page, "button.main", expanded) == "true", what="the panel to open")
    library = in_badge(page, ".panel a[data-kind=library]",
                       "(a) => a && a.getBoundingClientRect().height > 0 && a.getAttribute('href')")
    assert library and library.startswith(OPENURL_BASE + "?")
    shoot(page, "badge-closed.png")

    tab = browser.tab_id(page.url)
    assert browser.toolbar(tab)["text"] == "no"
    popup = browser.popup(tab)
    expect(popup.locator("#status")).to_contain_text("No free, legal copy")
    expect(popup.locator("#status")).to_have_attribute("data-state", "closed")
    expect(popup.locator("#title")).to_have_text("A closed article that no free copy exists of")
    expect(popup.locator("#best")).to_be_hidden()
    action = popup.locator("#actions li[data-kind=library] a")
    expect(action).to_have_text("Find it through your library")
    href = action.get_attribute("href")
    assert href.startswith(OPENURL_BASE + "?") and "10.5555%2Foahelper.closed.1997" in href
    shoot(popup.locator("body"), "popup-closed.png")


def test_closed_article_with_an_author_address_offers_an_email(browser: ExtensionBrowser, stack) -> None:
    page = browser.open(stack.pages.url("/own/article-closed.html"))  # it gives citation_author_email
    expect(badge(page)).to_have_attribute("data-status", "closed")
    popup = browser.popup(browser.tab_id(page.url))
    expect(popup.locator("#actions li")).to_have_count(2)
    email = popup.locator("#actions li[data-kind=email_author] a")
    assert email.get_attribute("href").startswith("mailto:carol.paywall@university.example.org")
    expect(popup.locator("#actions li[data-kind=library] a")).to_be_visible()


def test_an_article_no_source_knows_is_not_found_never_paywalled(browser: ExtensionBrowser, stack) -> None:
    page = browser.open(stack.pages.url("/own/article-not-found.html"))
    # Grey, "Not found", in the helper's words; a busy source may make the first
    # answer "still checking" until the extension asks again.
    expect(badge(page)).to_have_attribute("data-status", "not_found", timeout=30_000)
    expect(badge(page)).to_have_attribute("data-color", "unknown")
    words = in_badge(page, "button.main")
    assert "Not found" in words and "No free copy" not in words and "paywalled" not in words
    assert in_badge(page, "button.main", "(b) => b.title") == NOT_FOUND_TOOLTIP
    click_in_badge(page, "button.main")
    wait_until(lambda: in_badge(page, ".panel p", "(p) => p && p.getBoundingClientRect().height > 0 && p.textContent")
               == NOT_FOUND_TOOLTIP, what="the panel to say why")
    shoot(page, "badge-not-found.png")

    tab = browser.tab_id(page.url)
    toolbar = browser.toolbar(tab)
    assert toolbar["text"] == "–", "a neutral mark, not the red 'no'"
    assert f"Not found: No source knows DOI {NOT_FOUND_DOI}" in toolbar["title"]
    popup = browser.popup(tab)
    status = popup.locator("#status")
    expect(status).to_have_text(f"Not found: No source knows DOI {NOT_FOUND_DOI}; it may be too new to be indexed yet.")
    expect(status).to_have_attribute("data-state", "not_found")
    expect(popup.locator("#title")).to_have_text("An article too new to be indexed")
    expect(popup.locator("#best")).to_be_hidden()
    expect(popup.locator("#actions-box")).to_be_hidden()
    assert "No free" not in popup.locator("body").inner_text()
    shoot(popup.locator("body"), "popup-not-found.png")


def test_a_page_that_is_not_an_article_sends_nothing(browser: ExtensionBrowser, stack) -> None:
    require_shared("pages/news_1.html")
    lookups_before = stack.helper.lookups_seen()
    upstream_before = len(stack.upstream.requests())

    page = browser.open(stack.pages.url("/shared/news_1.html"))
    tab = browser.tab_id(page.url)
    # The content script has looked at the page and decided: not an article, so it
    # sends nothing, not even to its own service worker.
    assert browser.wait_for_decision(tab, page.url)["article"] is False
    assert browser.tab_state(tab) is None

    expect(badge(page)).to_have_count(0)
    assert browser.toolbar(tab)["text"] == ""
    assert stack.helper.lookups_seen() == lookups_before, "the helper was asked about a news page"
    assert len(stack.upstream.requests()) == upstream_before, "a news page reached the upstream"

    # A click on the toolbar button is the user asking: then the page is sent, and
    # the helper agrees it is no article.
    popup = browser.popup(tab)
    expect(popup.locator("#status")).to_contain_text("does not look like a scholarly article")
    assert stack.helper.lookups_seen() == lookups_before + 1
    expect(badge(page)).to_have_count(0)


def test_single_page_site_is_checked_again_when_the_article_changes(browser: ExtensionBrowser, stack) -> None:
    page = browser.open(stack.pages.url("/own/spa.html"))
    expect(badge(page)).to_have_attribute("data-status", "open")

    page.click("#to-two")  # pushState, then new meta tags, no reload
    expect(page).to_have_url(stack.pages.url("/own/spa.html?article=two"))
    # Its DOI no source knows: grey "not found", never "no free copy".
    expect(badge(page)).to_have_attribute("data-status", "not_found", timeout=30_000)
    expect(badge(page)).to_have_attribute("data-color", "unknown")
    tab = browser.tab_id(page.url)
    wait_until(lambda: browser.toolbar(tab)["text"] == "–", what="the toolbar to follow")

    page.go_back()  # popstate
    expect(badge(page)).to_have_attribute("data-status", "open")
    wait_until(lambda: browser.toolbar(tab)["text"] == "OA", what="the toolbar to follow back")


def test_the_badge_never_moves_the_page_and_can_be_dismissed_by_keyboard(browser: ExtensionBrowser, stack) -> None:
    page = browser.open(stack.pages.url("/own/article-gold.html"))
    expect(badge(page)).to_be_visible()
    layout = "() => JSON.stringify([document.body.getBoundingClientRect(), document.getElementById('content').getBoundingClientRect(), document.documentElement.scrollWidth, document.documentElement.scrollHeight])"
    with_badge = page.evaluate(layout)
    placed = page.evaluate("""() => {
        const host = document.getElementById('oahelper-badge');
        return {parent: host.parentElement.tagName, position: getComputedStyle(host).position,
                pageSeesInside: host.shadowRoot !== null};
    }""")
    # Its insides are in a closed shadow root: drawn, but out of the page's reach.
    assert placed == {"parent": "HTML", "position": "fixed", "pageSeesInside": False}
    assert badge_shadow_mode(page) == "closed"

    # Keyboard: the badge's link and its dismiss button are in the tab order.
    focused = "(root) => root.activeElement && (root.activeElement.getAttribute('aria-label') || '')"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "oahelper-badge"
    assert shadow_call(page, "(root) => root.activeElement?.className") == "main"
    page.keyboard.press("Tab")
    assert shadow_call(page, focused) == "Hide the oahelper badge on this page"
    page.keyboard.press("Enter")
    expect(badge(page)).to_have_count(0)
    assert page.evaluate(layout) == with_badge, "the page's layout changed with the badge"
