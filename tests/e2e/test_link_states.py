"""What opening each copy's link gave, as the user reads it, in Chromium and Firefox:
the popup says each copy's link state in words (and carries `data-link`), lists the
broken ones apart under "Reported, but not working", never as the best copy; and an
answer whose link checks are still running (`pending: ["links"]`) is asked about
again by the extension itself, so the badge, the toolbar and an open popup update
without a reload.

These tests have a helper of their own: link checks on, `allow_private_hosts` naming
the small web of tests/e2e/link_web.py (which plays Unpaywall and the copies' sites),
one second of waiting for the checks. Each test has an article of its own, since the
helper caches what it learnt.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import ExtensionBrowser, shoot
from tests.e2e.firefox import FIREFOX_ORIGIN, Firefox
from tests.e2e.harness import EMAIL, EXTENSION_ORIGIN, ExtensionState, Helper, base_env, new_port, wait_until
from tests.e2e.link_web import Article, LinkWeb, links_env

pytestmark = pytest.mark.e2e

# Long enough for the checks to finish after a release and for the next ask again
# (lib/follow-up.js: 1.5 s, 3 s, 6 s, …).
UPDATE_S = 30


@dataclass
class Links:
    web: LinkWeb
    helper: Helper

    @contextmanager
    def used_by(self, browser: ExtensionState, origin: str) -> Iterator[None]:
        """The browser's extension paired with this helper for one test."""
        token = self.helper.pair_as(origin, f"links-{origin.split(':')[0]}")
        with browser.extension_settings(port=self.helper.port, token=token):
            yield


@pytest.fixture(scope="module")
def links(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Links]:
    folder = tmp_path_factory.mktemp("links")
    web = LinkWeb()
    env = base_env(folder / "home") | links_env(web) | {"OAHELPER_UNPAYWALL_EMAIL": EMAIL}
    helper = Helper(folder / "home", new_port(), env)
    web.start()
    try:
        helper.start()
        yield Links(web, helper)
    finally:
        helper.stop()
        web.stop()


def settled_payload(browser: ExtensionState, tab: int) -> dict:
    """The tab's answer once nothing is pending any more (the extension asks again)."""
    def done() -> dict | None:
        state = browser.tab_state(tab)
        ok = state and state["kind"] == "result" and not state["payload"]["pending"]
        return state["payload"] if ok else None
    return wait_until(done, timeout=UPDATE_S, what="the link checks to finish")


def states_of(payload: dict) -> dict[str, str]:
    return {loc["url"]: loc["link"]["state"] for loc in payload["locations"]}


EVERY_KIND = ("pdf", "landing", "challenge", "gone", "paywall")
WORKING_WORDS = {
    "landing": "article page checked today",
    "challenge": "the site asks your browser to prove it is human: open it",
}
BROKEN_WORDS = {"gone": "link broken: the page is gone", "paywall": "link broken: leads to a paywall"}


def expected_states(web: LinkWeb, article: Article) -> dict[str, str]:
    return {web.copy_url(article, i): kind for i, kind in enumerate(article.copies)}


# --- Chromium ---------------------------------------------------------------------

def test_a_pending_answer_is_asked_again_and_everything_updates_without_a_reload(
        browser: ExtensionBrowser, links: Links) -> None:
    article = links.web.article("chromium-pending", ("pdf",), hold=True)
    with links.used_by(browser, EXTENSION_ORIGIN):
        page = browser.open(links.web.page_url(article))
        badge = page.locator("#oahelper-badge")
        # The first answer: free as reported, its link still being checked.
        expect(badge).to_have_attribute("data-pending", "links", timeout=10_000)
        expect(badge).to_have_attribute("data-status", "open")
        tab = browser.tab_id(page.url)
        first = browser.tab_state(tab)["payload"]
        assert first["pending"] == ["links"] and set(states_of(first).values()) == {"unchecked"}
        assert "Checking the links…" in browser.toolbar(tab)["title"]
        popup = browser.popup(tab)
        status = popup.locator("#status")
        expect(status).to_contain_text("Checking the links…")
        expect(status).to_have_attribute("data-pending", "links")
        expect(popup.locator("#best-link-state")).to_have_text("checking…")
        asked = links.helper.lookups_seen()

        links.web.release(article)
        # No reload, no click: the extension asks again, and the page's badge, the
        # toolbar and the open popup all follow.
        expect(page.locator("#oahelper-badge:not([data-pending])")).to_have_count(1, timeout=UPDATE_S * 1000)
        expect(badge).to_have_attribute("data-best-url", links.web.copy_url(article, 0))
        expect(popup.locator("#best-link-state")).to_have_text("PDF checked today", timeout=UPDATE_S * 1000)
        expect(popup.locator("#best-link-state")).to_have_attribute("data-link", "pdf")
        expect(status).not_to_contain_text("Checking")
        assert popup.locator("#status[data-pending]").count() == 0
        toolbar = browser.toolbar(tab)
        assert toolbar["text"] == "OA" and "Checking" not in toolbar["title"]
        assert settled_payload(browser, tab)["best"]["link"]["state"] == "pdf"
        # It asked again, and stopped once nothing was pending.
        again = links.helper.lookups_seen()
        assert again > asked
        page.wait_for_timeout(2000)
        assert links.helper.lookups_seen() == again


def test_the_popup_says_what_each_copys_link_gave_and_lists_broken_ones_apart(
        browser: ExtensionBrowser, links: Links) -> None:
    article = links.web.article("chromium-kinds", EVERY_KIND)
    with links.used_by(browser, EXTENSION_ORIGIN):
        page = browser.open(links.web.page_url(article))
        tab = browser.tab_id(page.url)
        payload = settled_payload(browser, tab)
        assert states_of(payload) == expected_states(links.web, article)
        pdf = links.web.copy_url(article, 0)
        assert payload["status"] == "open" and payload["best"]["url"] == pdf
        expect(page.locator("#oahelper-badge")).to_have_attribute("data-best-url", pdf)

        popup = browser.popup(tab)
        expect(popup.locator("#best-link")).to_have_attribute("href", pdf)
        expect(popup.locator("#best-link-state")).to_have_text("PDF checked today")
        working = popup.locator("#locations li")
        expect(working).to_have_count(2)
        assert {li.get_attribute("data-link"): li.locator(".link-state").inner_text()
                for li in working.all()} == WORKING_WORDS
        expect(popup.locator("#broken-heading")).to_have_text("Reported, but not working")
        expect(popup.locator("#broken")).to_be_visible()
        broken = popup.locator("#broken-locations li")
        expect(broken).to_have_count(2)
        assert {li.get_attribute("data-link"): li.locator(".link-state").inner_text()
                for li in broken.all()} == BROKEN_WORDS
        # Marked in more than words: a colour and a mark of their own.
        assert broken.first.locator(".link-state").evaluate("(e) => getComputedStyle(e, '::before').content") == '"✗ "'
        shoot(popup.locator("body"), "popup-links.png")


def test_when_every_reported_copy_is_broken_there_is_no_free_copy(
        browser: ExtensionBrowser, links: Links) -> None:
    article = links.web.article("chromium-all-broken", ("gone", "paywall"))
    with links.used_by(browser, EXTENSION_ORIGIN):
        page = browser.open(links.web.page_url(article))
        tab = browser.tab_id(page.url)
        payload = settled_payload(browser, tab)
        assert payload["status"] == "closed" and payload["best"] is None
        tooltip = "No free legal copy found: 2 free copies were reported, but their links don't work"
        assert payload["badge"]["tooltip"] == tooltip
        expect(page.locator("#oahelper-badge")).to_have_attribute("data-status", "closed")
        assert browser.toolbar(tab)["text"] == "no"
        popup = browser.popup(tab)
        expect(popup.locator("#status")).to_contain_text("No free, legal copy")
        expect(popup.locator("#best")).to_be_hidden()
        expect(popup.locator("#others")).to_be_hidden()
        expect(popup.locator("#broken-locations li")).to_have_count(2)


# --- Firefox ----------------------------------------------------------------------

# The start of a function that reads the badge's hooks (h: its host element).
HOOKS = "() => { const h = document.getElementById('oahelper-badge'); "


def test_a_pending_answer_is_asked_again_and_everything_updates_in_firefox(
        firefox: Firefox, links: Links) -> None:
    article = links.web.article("firefox-pending", ("pdf",), hold=True)
    with links.used_by(firefox, FIREFOX_ORIGIN):
        page = firefox.open(links.web.page_url(article))
        first = page.wait_for(HOOKS + "return h?.dataset.pending && {...h.dataset}; }",
                              what="a badge that is still checking its links")
        assert first["pending"] == "links" and first["status"] == "open"
        tab = firefox.tab_id(page.url)
        assert "Checking the links…" in firefox.toolbar(tab)["title"]
        popup = firefox.popup(tab)
        popup.wait_text("#status", "Checking the links…")
        assert popup.attribute("#status", "data-pending") == "links"
        assert popup.text("#best-link-state") == "checking…"

        links.web.release(article)
        hooks = page.wait_for(HOOKS + "return h && !('pending' in h.dataset) && {...h.dataset}; }",
                              timeout=UPDATE_S, what="the badge to update by itself")
        assert hooks["status"] == "open" and hooks["bestUrl"] == links.web.copy_url(article, 0)
        popup.wait_text("#best-link-state", "PDF checked today", timeout=UPDATE_S)
        assert popup.attribute("#best-link-state", "data-link") == "pdf"
        assert "Checking" not in popup.text("#status") and popup.attribute("#status", "data-pending") is None
        wait_until(lambda: "Checking" not in firefox.toolbar(tab)["title"], what="the toolbar to follow")


def test_the_popup_says_what_each_copys_link_gave_in_firefox(firefox: Firefox, links: Links) -> None:
    article = links.web.article("firefox-kinds", EVERY_KIND)
    with links.used_by(firefox, FIREFOX_ORIGIN):
        page = firefox.open(links.web.page_url(article))
        tab = firefox.tab_id(page.url)
        assert states_of(settled_payload(firefox, tab)) == expected_states(links.web, article)
        popup = firefox.popup(tab)
        popup.wait_text("#best-link-state", "PDF checked today")
        assert popup.attribute("#best-link", "href") == links.web.copy_url(article, 0)
        listed = """(s) => Object.fromEntries([...document.querySelectorAll(s)].map(
            (li) => [li.dataset.link, li.querySelector('.link-state').textContent]))"""
        assert popup.call(listed, "#locations li") == WORKING_WORDS
        assert popup.call(listed, "#broken-locations li") == BROKEN_WORDS
        assert popup.text("#broken-heading") == "Reported, but not working"
        assert popup.call("() => document.querySelector('#broken').hidden") is False


# --- When the work never finishes -----------------------------------------------------

def test_the_extension_stops_asking_after_its_tries_and_says_checks_could_not_finish(
        browser: ExtensionBrowser, stack) -> None:
    from tests.e2e.scripted_helper import ScriptedHelper, payload

    busy = "Could not check for a free copy: still searching (Semantic Scholar was busy; asking again)"
    scripted = ScriptedHelper(lambda n: payload("unknown", pending=("semanticscholar",), tooltip=busy))
    try:
        with browser.extension_settings(port=scripted.port):
            page = browser.open(stack.pages.url("/own/article-gold.html"))
            badge = page.locator("#oahelper-badge")
            expect(badge).to_have_attribute("data-pending", "semanticscholar")
            tab = browser.tab_id(page.url)
            assert browser.toolbar(tab)["text"] == "…"
            popup = browser.popup(tab)
            # The source's own words while it is asked again, never the limiter's.
            expect(popup.locator("#status")).to_have_text("Still checking. Semantic Scholar was busy; asking again.")
            expect(popup.locator("#source-box")).to_be_hidden()

            expect(page.locator("#oahelper-badge[data-unfinished]")).to_have_count(1, timeout=45_000)
            expect(badge).not_to_have_attribute("data-pending", "semanticscholar")
            said = "Could not find out whether a free copy exists. Some checks could not finish."
            expect(popup.locator("#status")).to_have_text(said)
            toolbar = browser.toolbar(tab)
            assert toolbar["text"] == "?" and toolbar["title"] == f"oahelper: {said}"
            # The first lookup and five tries, then no more.
            assert scripted.lookups == 6
            page.wait_for_timeout(2000)
            assert scripted.lookups == 6

            # Those tries were the extension's own: the page may still have the nine
            # more lookups of its ten a minute (background/content-limit.js).
            from tests.e2e.test_extension_boundaries import _content_script_call
            message = json.dumps({"type": "page", "url": page.url, "html": "<html><head></head></html>"})
            views = [_content_script_call(page, f"chrome.runtime.sendMessage({message})")["view"] for _ in range(9)]
            assert all(view and view["status"] == "unknown" for view in views)
            assert browser.tab_state(tab)["kind"] == "result"
    finally:
        scripted.stop()
