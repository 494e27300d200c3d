"""The extension in Debian's Firefox ESR, over the Chromium suite's scenarios: pairing
through the options page, the on-page badge for a free and a closed article, the
toolbar badge and the popup, nothing sent from a page that is not an article, the
helper stopped and started again, what left the machine, and the references of the
article checked from the popup (the list filled in, filtered, downloaded as CSV).

Same helper, fake upstream and page server as the Chromium tests (tests/e2e/conftest.py);
Firefox is driven over WebDriver BiDi (tests/e2e/firefox.py).
"""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.firefox import FIREFOX_ORIGIN, Firefox, Tab
from tests.e2e.test_extension_boundaries import AUTO_CHECKS, assert_page_saw_nothing_inside
from tests.e2e.harness import GOLD_DOI, GREEN_DOI, OPENURL_BASE, unpaywall_answer, wait_until
from tests.support.shared import require_shared

pytestmark = pytest.mark.e2e


def badge(tab: Tab) -> dict[str, Any] | None:
    """The on-page badge's host element as the page sees it: its test hooks."""
    return tab.call("""() => { const h = document.getElementById('oahelper-badge');
        return h && {status: h.dataset.status, color: h.dataset.color, parent: h.parentElement.tagName,
                     position: getComputedStyle(h).position}; }""")


def wait_badge(tab: Tab, status: str, timeout: float = 10) -> dict[str, Any]:
    return tab.wait_for("(s) => { const h = document.getElementById('oahelper-badge'); return h?.dataset.status === s ? {...h.dataset} : null; }",
                        status, timeout=timeout, what=f"a {status} badge")


def test_firefox_pairs_through_the_options_page_and_the_helper_names_it(fresh_firefox: Firefox, stack) -> None:
    helper = stack.helper
    fresh_firefox.set_settings({"port": helper.port})
    article = fresh_firefox.open(stack.pages.url("/own/article-gold.html"))
    tab = fresh_firefox.tab_id(article.url)
    fresh_firefox.wait_for_state(tab, ("error",))
    assert fresh_firefox.toolbar(tab)["text"] == "pair"
    popup = fresh_firefox.popup(tab)
    popup.wait_text("#status", "not paired")
    assert popup.attribute("#status", "data-state") == "not_paired"
    assert popup.text("#command") == "oahelper pair"

    options = fresh_firefox.options()
    assert options.call("() => document.querySelector('#port').value") == str(helper.port)
    options.wait_text("#helper-state", "running on port")
    options.fill("#pair-code", helper.pair_code().lower())
    options.click("#pair-submit")
    options.wait_text("#pair-status", "Paired")
    options.wait_text("#status-sources", "unpaywall: on, configured")

    clients = helper.cli("clients", "list")
    line = next((l for l in clients.splitlines() if FIREFOX_ORIGIN in l), None)
    assert line is not None, f"the helper does not list Firefox:\n{clients}"
    assert re.match(r"Firefox \d+ on Linux", line), line

    popup.click("#retry")
    popup.wait_text("#status", "Free PDF available")
    assert fresh_firefox.toolbar(tab)["text"] == "OA"
    assert wait_badge(article, "open")["color"] == "gold"


def shadow_call(tab: Tab, function: str, *args: Any) -> Any:
    """Run function(root, *args) on the badge's shadow root. BiDi hands tests even a
    closed shadow root (serialization with includeShadowTree "all"); page scripts get
    nothing."""
    host = tab.call("() => document.getElementById('oahelper-badge')")
    assert host and host.get("type") == "node", "no badge on the page"
    root = host["value"].get("shadowRoot")
    assert root is not None, "the badge has no shadow root"
    return tab.call(function, root, *args)


def best_copy_url(browser: Firefox, tab: Tab, doi: str) -> str:
    best = browser.wait_for_state(browser.tab_id(tab.url), ("result",))["payload"]["best"]
    recorded = unpaywall_answer(doi)["best_oa_location"]
    assert best["url"] in (recorded["url_for_pdf"], recorded["url"])
    return best["url"]


def test_free_article_gets_its_badge_toolbar_and_popup_in_firefox(firefox: Firefox, stack) -> None:
    recorded = unpaywall_answer(GREEN_DOI)
    page = firefox.open(stack.pages.url("/own/article-green.html"))
    best_url = best_copy_url(firefox, page, GREEN_DOI)
    hooks = wait_badge(page, "open")
    assert hooks["color"] == "green"
    assert badge(page) | {} == {"status": "open", "color": "green", "parent": "HTML", "position": "fixed"}
    link = shadow_call(page, """(root) => { const a = root.querySelector('a.main');
        return {href: a.href, target: a.target, text: a.textContent, label: a.getAttribute('aria-label'),
                title: a.title, visible: a.getBoundingClientRect().width > 0}; }""")
    assert link["href"] == best_url and link["target"] == "_blank" and link["visible"]
    assert "Free PDF" in link["text"] and "green OA" in link["text"]
    assert link["label"] == f"oahelper: {link['title']} (opens in a new tab)"

    tab = firefox.tab_id(page.url)
    toolbar = firefox.toolbar(tab)
    assert toolbar["text"] == "OA" and "Free PDF available" in toolbar["title"]
    # And as Firefox draws it on the button.
    wait_until(lambda: firefox.toolbar_shown(page) == toolbar, what="Firefox to draw the toolbar button")

    popup = firefox.popup(tab)
    popup.wait_text("#status", "Free PDF available")
    assert popup.attribute("#status", "data-state") == "open"
    assert popup.text("#title") == "Nanometre-scale thermometry in a living cell"
    assert popup.attribute("#best-link", "href") == best_url
    assert popup.attribute("#best-pdf", "href") == recorded["best_oa_location"]["url_for_pdf"]
    others = [loc["url"] for loc in recorded["oa_locations"] if loc["is_best"] is not True]
    hrefs = popup.call("() => [...document.querySelectorAll('#locations li > a:first-child')].map(a => a.href)")
    assert sorted(hrefs) == sorted(others)


def test_closed_article_gets_a_closed_badge_whose_panel_opens_in_firefox(firefox: Firefox, stack) -> None:
    page = firefox.open(stack.pages.url("/own/article-closed.html"))
    assert wait_badge(page, "closed")["color"] == "closed"
    button = "(root) => root.querySelector('button.main')"
    assert "No free copy" in shadow_call(page, f"(root) => ({button})(root).textContent")
    assert shadow_call(page, f"(root) => ({button})(root).getAttribute('aria-expanded')") == "false"
    # A real click on the badge (the browser's own pointer) opens its panel.
    box = shadow_call(page, f"""(root) => {{ const r = ({button})(root).getBoundingClientRect();
        return [r.x + r.width / 2, r.y + r.height / 2]; }}""")
    page.click_at(*box)
    wait_until(lambda: shadow_call(page, f"(root) => ({button})(root).getAttribute('aria-expanded')") == "true",
               what="the badge's panel to open")
    library = shadow_call(page, """(root) => { const a = root.querySelector('.panel a[data-kind=library]');
        return a && a.getBoundingClientRect().height > 0 ? a.href : null; }""")
    assert library and library.startswith(OPENURL_BASE + "?")

    tab = firefox.tab_id(page.url)
    assert firefox.toolbar(tab)["text"] == "no"
    popup = firefox.popup(tab)
    popup.wait_text("#status", "No free, legal copy")
    assert popup.attribute("#status", "data-state") == "closed"
    assert popup.text("#title") == "A closed article that no free copy exists of"
    href = popup.attribute("#actions li[data-kind=library] a", "href")
    assert href.startswith(OPENURL_BASE + "?") and "10.5555%2Foahelper.closed.1997" in href


def test_an_article_no_source_knows_is_not_found_never_paywalled_in_firefox(firefox: Firefox, stack) -> None:
    from tests.e2e.test_article_pages import NOT_FOUND_DOI, NOT_FOUND_TOOLTIP

    page = firefox.open(stack.pages.url("/own/article-not-found.html"))
    assert wait_badge(page, "not_found", timeout=30)["color"] == "unknown"
    button = shadow_call(page, """(root) => { const b = root.querySelector('button.main');
        return {text: b.textContent, title: b.title}; }""")
    assert "Not found" in button["text"]
    assert "No free copy" not in button["text"] and "paywalled" not in button["text"]
    assert button["title"] == NOT_FOUND_TOOLTIP
    tab = firefox.tab_id(page.url)
    toolbar = firefox.toolbar(tab)
    assert toolbar["text"] == "–" and f"Not found: No source knows DOI {NOT_FOUND_DOI}" in toolbar["title"]
    wait_until(lambda: firefox.toolbar_shown(page) == toolbar, what="Firefox to draw the toolbar button")
    popup = firefox.popup(tab)
    said = popup.wait_text("#status", "Not found:")
    assert said == f"Not found: No source knows DOI {NOT_FOUND_DOI}; it may be too new to be indexed yet."
    assert popup.attribute("#status", "data-state") == "not_found"
    assert popup.call("() => document.querySelector('#actions-box').hidden") is True
    assert "No free" not in popup.call("() => document.body.innerText")


def test_a_page_that_is_not_an_article_sends_nothing_from_firefox(firefox: Firefox, stack) -> None:
    require_shared("pages/news_1.html")
    lookups_before = stack.helper.lookups_seen()
    upstream_before = len(stack.upstream.requests())
    page = firefox.open(stack.pages.url("/shared/news_1.html"))
    tab = firefox.tab_id(page.url)
    assert firefox.wait_for_decision(tab, page.url)["article"] is False
    assert firefox.tab_state(tab) is None
    assert badge(page) is None
    assert firefox.toolbar(tab)["text"] == ""
    assert stack.helper.lookups_seen() == lookups_before, "the helper was asked about a news page"
    assert len(stack.upstream.requests()) == upstream_before, "a news page reached the upstream"
    # Opening the popup is the user asking: the page goes to the helper, which agrees.
    popup = firefox.popup(tab)
    popup.wait_text("#status", "does not look like a scholarly article")
    assert stack.helper.lookups_seen() == lookups_before + 1
    assert badge(page) is None


def test_helper_stopped_then_started_again_in_firefox(firefox: Firefox, stack) -> None:
    helper = stack.helper
    helper.stop()
    try:
        page = firefox.open(stack.pages.url("/own/article-gold.html"))
        tab = firefox.tab_id(page.url)
        assert firefox.wait_for_state(tab, ("error",))["error"]["kind"] == "not_running"
        toolbar = firefox.toolbar(tab)
        assert toolbar["text"] == "off" and "not running" in toolbar["title"]
        wait_until(lambda: firefox.toolbar_shown(page) == toolbar, what="Firefox to draw the toolbar button")
        assert badge(page) is None
        popup = firefox.popup(tab)
        popup.wait_text("#status", "The oahelper helper is not running.")
        assert popup.attribute("#status", "data-state") == "not_running"
        assert popup.text("#command") == f"oahelper serve --port {helper.port}"
    finally:
        helper.start()
    popup.click("#retry")
    popup.wait_text("#status", "Free PDF available")
    assert firefox.toolbar(tab)["text"] == "OA"
    assert wait_badge(page, "open")["color"] == "gold"


def test_only_identifiers_and_the_email_leave_the_machine_from_firefox(firefox: Firefox, stack) -> None:
    from tests.e2e.test_privacy import assert_only_identifiers_left

    require_shared("pages/news_1.html")
    before = stack.upstream.requests()
    words: list[str] = []
    for path, article in (("/shared/news_1.html", False), ("/own/article-gold.html", True)):
        page = firefox.open(stack.pages.url(path))
        tab = firefox.tab_id(page.url)
        assert firefox.wait_for_decision(tab, page.url)["article"] is article
        if article:
            firefox.wait_for_state(tab, ("result",))
        heading = page.text("h1")
        words += [page.url, page.url.split("://", 1)[1], page.title().strip(), (heading or "").strip()]
    requests = assert_only_identifiers_left(stack, [w for w in words if w] + ["yjc", "7349926", "Dana Open"])
    # Not vacuous: the article's lookup reached the upstream (now or earlier in the session).
    assert any(r["doi"] == GOLD_DOI for r in requests)
    assert {r["doi"] for r in requests[len(before):]} <= {GOLD_DOI}


def test_single_page_site_is_checked_again_when_the_article_changes_in_firefox(firefox: Firefox, stack) -> None:
    page = firefox.open(stack.pages.url("/own/spa.html"))
    wait_badge(page, "open")
    page.click("#to-two")  # pushState, then new meta tags, no reload
    page.wait_for("(u) => location.href === u", stack.pages.url("/own/spa.html?article=two"), what="the new URL")
    # Its DOI no source knows: grey "not found", never "no free copy".
    assert wait_badge(page, "not_found", timeout=30)["color"] == "unknown"
    tab = firefox.tab_id(page.url)
    wait_until(lambda: firefox.toolbar(tab)["text"] == "–", what="the toolbar to follow")
    firefox.bidi.command("browsingContext.traverseHistory", {"context": page.context, "delta": -1})  # popstate
    wait_badge(page, "open")
    wait_until(lambda: firefox.toolbar(tab)["text"] == "OA", what="the toolbar to follow back")


def test_a_page_cannot_read_the_badge_it_carries_in_firefox(firefox: Firefox, stack) -> None:
    page = firefox.open(stack.pages.url("/own/article-snooping.html"))
    wait_badge(page, "closed")
    box = shadow_call(page, """(root) => { const r = root.querySelector('button.main').getBoundingClientRect();
        return [r.x + r.width / 2, r.y + r.height / 2]; }""")
    page.click_at(*box)
    library = wait_until(lambda: shadow_call(page, """(root) => {
        const a = root.querySelector('.panel a[data-kind=library]');
        return a && a.getBoundingClientRect().height > 0 && a.getAttribute('href'); }"""),
        what="the panel's library link")
    assert library.startswith(OPENURL_BASE + "?")

    assert_page_saw_nothing_inside(page.call("() => snoop()"))


def test_a_page_that_keeps_changing_its_doi_is_checked_a_few_times_a_minute_in_firefox(firefox: Firefox, stack) -> None:
    lookups = stack.helper.lookups_seen()
    page = firefox.open(stack.pages.url("/own/article-churn.html"))
    tab = firefox.tab_id(page.url)
    page.wait_for("() => changes >= 12", timeout=20, what="the page to change its DOI 12 times")
    time.sleep(1)
    checked = stack.helper.lookups_seen() - lookups
    assert 1 <= checked <= AUTO_CHECKS, f"{checked} lookups for one page in six seconds"
    assert firefox.tab_state(tab)["kind"] == "held"
    assert "too often" in firefox.toolbar(tab)["title"]
    assert badge(page) is None
    # The user's own navigation (a real click) is still checked at once.
    page.click("#to-gold")
    assert wait_badge(page, "open")["color"] == "gold"
    assert stack.helper.lookups_seen() - lookups == checked + 1


def test_check_the_references_of_the_article_in_firefox(firefox: Firefox, stack, tmp_path: Path) -> None:
    from tests.e2e.test_references import GOLD, GREEN

    page = firefox.open(stack.pages.url("/own/article-references.html"))
    tab = firefox.tab_id(page.url)
    assert firefox.wait_for_state(tab, ("result",))["payload"]["status"] == "closed"
    before = len(stack.upstream.requests())

    popup = firefox.popup(tab)
    popup.wait_text("#check-references", "Check the 5 references")
    refs = firefox.opened_by(lambda: popup.click("#check-references"),
                             f"{FIREFOX_ORIGIN}/references/references.html?tab={tab}")
    refs.wait_for("() => document.querySelector('#summary').dataset.state === 'done'",
                  what="every reference to be answered")
    assert refs.text("#summary") == "3 of 5 references have a free copy (2 not found)"
    assert refs.call("() => [...document.querySelectorAll('#references li')].map(li => li.dataset.status)") == [
        "open", "open", "open", "not_found", "not_found"]
    items = "#references li"
    assert "A green article; with a semicolon in its title" in refs.text(f"{items}:nth-child(2)")
    assert refs.text("#article-link") == "Why soils differ"
    gold_best = unpaywall_answer(GOLD)["best_oa_location"]
    assert refs.attribute(f"{items}:nth-child(1) a.free-link", "href") in (gold_best["url_for_pdf"], gold_best["url"])
    assert refs.attribute(f"{items}:nth-child(1) a.free-link", "target") == "_blank"
    assert refs.attribute(f"{items}:nth-child(3) a.free-link", "href") == "https://arxiv.org/pdf/1706.03762"
    fourth = refs.text(f"{items}:nth-child(4)")
    assert "Not found" in fourth and "No source knows DOI 10.5555/oahelper.unknown" in fourth
    assert "No free copy" not in fourth
    assert "No article matches this" in refs.text(f"{items}:nth-child(5)")

    # Only the DOIs went upstream: no titles, no reference text, no page address.
    sent = [r["doi"] for r in stack.upstream.requests()[before:] if r["service"] == "unpaywall"]
    assert set(sent) <= {GOLD, GREEN, "10.48550/arXiv.1706.03762", "10.5555/oahelper.unknown"}

    # Only the free ones (a real click on the box), then the CSV of all five as Firefox saves it.
    refs.click("#free-only")
    refs.wait_for("() => document.querySelectorAll('#references li:not([hidden])').length === 3",
                  what="only the three free references to show")
    saved = firefox.download(lambda: refs.click("#download-csv"), tmp_path)
    assert saved.name == "references.csv"
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert [r["status"] for r in rows] == ["open", "open", "open", "not_found", "not_found"]
    assert "link" in rows[0]  # the helper's columns, as they are
    assert rows[0]["doi"] == GOLD and rows[0]["cc_by_or_cc0"] == "yes"
    assert rows[1]["title"] == "A green article; with a semicolon in its title"
