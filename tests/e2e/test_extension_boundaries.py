"""What a web page can and cannot get from the extension, in real Chromium: it cannot
read the on-page badge (a closed shadow root; the library link names the user's
institution), its content script can speak only for its own tab and cannot pair,
unpair or ask about other tabs, and a page that keeps changing its DOI is checked a
few times a minute, not once per change (tests/e2e/test_firefox.py has the same
in Firefox)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import ExtensionBrowser, click_in_badge, shadow_call
from tests.e2e.harness import OPENURL_BASE, wait_until

pytestmark = pytest.mark.e2e

# content/main.js: automatic checks a page gets per minute.
AUTO_CHECKS = 4


def test_a_page_cannot_read_the_badge_it_carries(browser: ExtensionBrowser, stack) -> None:
    page = browser.open(stack.pages.url("/own/article-snooping.html"))
    badge = page.locator("#oahelper-badge")
    expect(badge).to_have_attribute("data-status", "closed")
    # The user opens the badge's panel: its library link is there, for the user's eyes.
    click_in_badge(page, "button.main")
    library = wait_until(lambda: shadow_call(page, """(root) => {
        const a = root.querySelector('.panel a[data-kind=library]');
        return a && a.getBoundingClientRect().height > 0 && a.getAttribute('href'); }"""),
        what="the panel's library link")
    assert library.startswith(OPENURL_BASE + "?")

    assert_page_saw_nothing_inside(page.evaluate("snoop()"))


def assert_page_saw_nothing_inside(seen: dict[str, Any]) -> None:
    """What the snooping page's snoop() found: the badge's hooks, nothing of its insides."""
    assert seen["host"] and seen["status"] == "closed"
    assert seen["clicks"] >= 1, "the page did not even see the click"
    assert not seen["shadowRoot"] and seen["roots"] == 0
    leaked = [w for w in ("resolver.library.example", "openurl", "No free copy", "Find it through your library",
                          "aria-expanded", "oahelper-panel") if w.casefold() in seen["text"].casefold()]
    assert leaked == [], f"the page read {leaked} from the badge"


def _content_script_call(page: Page, expression: str) -> Any:
    """Evaluate in the extension's content-script world of the page, as if the page's
    renderer had been taken over (through the DevTools protocol: tests only)."""
    cdp = page.context.new_cdp_session(page)
    contexts: list[dict[str, Any]] = []
    cdp.on("Runtime.executionContextCreated", lambda event: contexts.append(event["context"]))
    try:
        cdp.send("Runtime.enable")
        ours = [c for c in contexts if c.get("auxData", {}).get("type") == "isolated" and c.get("name") == "oahelper"]
        assert ours, f"no content-script world in {[c.get('name') for c in contexts]}"
        result = cdp.send("Runtime.evaluate", {"expression": expression, "contextId": ours[0]["id"],
                                               "awaitPromise": True, "returnByValue": True})
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")
    finally:
        cdp.detach()


def test_a_content_script_speaks_only_for_its_own_tab(browser: ExtensionBrowser, stack) -> None:
    page = browser.open(stack.pages.url("/own/article-gold.html"))
    own = browser.tab_id(page.url)
    browser.wait_for_state(own, ("result",))
    other_page = browser.open(stack.pages.url("/own/article-green.html"))
    other = browser.tab_id(other_page.url)
    other_state = browser.wait_for_state(other, ("result",))
    token = browser.settings()["token"]
    lookups = stack.helper.lookups_seen()
    logged = len(stack.helper.process.stderr.read_text(encoding="utf-8", errors="replace"))

    def send(message: dict[str, Any]) -> Any:
        return _content_script_call(page, f"chrome.runtime.sendMessage({json.dumps(message)})")

    for message in ({"type": "unpair"}, {"type": "pair", "code": "ABCD-EFGH"}, {"type": "helper-status"},
                    {"type": "tab-report", "tabId": other}, {"type": "check", "tabId": other}):
        answer = send(message)
        assert answer["error"]["kind"] == "refused", (message, answer)
    # Nor may it open the references page's port to have another tab's list checked.
    port = _content_script_call(page, """new Promise((resolve) => {
        const port = chrome.runtime.connect({name: "batch"});
        const got = [];
        port.onMessage.addListener((m) => got.push(m));
        port.onDisconnect.addListener(() => resolve({disconnected: true, got}));
        port.postMessage({type: "check-references", tabId: %d});
        setTimeout(() => resolve({disconnected: false, got}), 3000);
    })""" % other)
    assert port == {"disconnected": True, "got": []}
    log = stack.helper.process.stderr.read_text(encoding="utf-8", errors="replace")
    assert '"POST /v1/batch ' not in log[logged:], "a content script had a batch checked"
    assert browser.settings()["token"] == token, "a content script unpaired the browser"
    assert browser.tab_state(other)["at"] == other_state["at"], "a content script touched another tab"
    assert stack.helper.lookups_seen() == lookups, "a content script made a lookup for another tab"

    # What a content script may say is about its own tab, whatever tab it names.
    answer = send({"type": "not-article", "url": page.url, "tabId": other})
    assert "error" not in answer
    assert browser.tab_state(own)["kind"] == "not_article"
    assert browser.tab_state(other)["at"] == other_state["at"]


def test_a_page_that_keeps_changing_its_doi_is_checked_a_few_times_a_minute(browser: ExtensionBrowser, stack) -> None:
    lookups = stack.helper.lookups_seen()
    page = browser.open(stack.pages.url("/own/article-churn.html"))
    tab = browser.tab_id(page.url)
    # Twelve new DOIs in six seconds, each one settled long enough to be checked.
    wait_until(lambda: page.evaluate("changes") >= 12, timeout=20, what="the page to change its DOI 12 times")
    time.sleep(1)
    checked = stack.helper.lookups_seen() - lookups
    assert 1 <= checked <= AUTO_CHECKS, f"{checked} lookups for one page in six seconds"
    assert browser.tab_state(tab)["kind"] == "held"
    assert "too often" in browser.toolbar(tab)["title"]
    expect(page.locator("#oahelper-badge")).to_have_count(0)

    # The user's own navigation is still checked at once, budget or not.
    page.click("#to-gold")
    expect(page.locator("#oahelper-badge")).to_have_attribute("data-status", "open")
    assert stack.helper.lookups_seen() - lookups == checked + 1


def test_the_service_worker_caps_the_lookups_a_content_script_asks_for(browser: ExtensionBrowser, stack) -> None:
    # A content script taken over would not keep to its own limit: the service worker
    # looks up at most 10 pages a minute for one tab, whatever the tab sends.
    page = browser.open(stack.pages.url("/own/article-gold.html"))
    tab = browser.tab_id(page.url)
    browser.wait_for_state(tab, ("result",))
    lookups = stack.helper.lookups_seen()
    sent = _content_script_call(page, """(async () => {
        for (let i = 0; i < 15; i++) {
          await chrome.runtime.sendMessage({type: "page", url: location.href, html: document.documentElement.outerHTML});
        }
        return 15; })()""")
    assert sent == 15
    made = stack.helper.lookups_seen() - lookups
    assert made == 10 - 1, f"{made} lookups for 15 messages (one was made when the page loaded)"
    assert browser.tab_state(tab)["kind"] == "held"
