"""The references of the article being read: the popup offers to check them, an
extension page fills them in as answers arrive, and downloads them as CSV."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import ExtensionBrowser, shoot
from tests.e2e.harness import unpaywall_answer

pytestmark = pytest.mark.e2e

GOLD = "10.5555/oahelper.gold.2024"
GREEN = "10.5555/oahelper.green.2013"


def test_check_the_references_of_the_article(browser: ExtensionBrowser, stack) -> None:
    page = browser.open(stack.pages.url("/own/article-references.html"))
    tab = browser.tab_id(page.url)
    state = browser.wait_for_state(tab, ("result",))
    assert state["payload"]["status"] == "closed"
    before = len(stack.upstream.requests())

    popup = browser.popup(tab)
    button = popup.locator("#check-references")
    expect(button).to_have_text("Check the 5 references")
    with browser.context.expect_page() as opened:
        button.click()
    refs = opened.value
    refs.on("pageerror", lambda exc: browser.errors.append(f"references: {exc}"))

    # A DOI no source knows, and a reference nothing matches, are counted apart from
    # "no free copy".
    expect(refs.locator("#summary")).to_have_text("3 of 5 references have a free copy (2 not found)")
    expect(refs.locator("#summary")).to_have_attribute("data-state", "done")
    items = refs.locator("#references li")
    expect(items).to_have_count(5)
    assert [items.nth(i).get_attribute("data-status") for i in range(5)] == [
        "open", "open", "open", "not_found", "not_found"]
    expect(items.nth(1)).to_contain_text("A green article; with a semicolon in its title")
    expect(refs.locator("#article-link")).to_have_text("Why soils differ")
    # Each free one links its best copy, as the helper found it.
    gold_best = unpaywall_answer(GOLD)["best_oa_location"]
    gold_link = items.nth(0).locator("a.free-link")
    assert gold_link.get_attribute("href") in (gold_best["url_for_pdf"], gold_best["url"])
    expect(gold_link).to_have_attribute("target", "_blank")
    expect(items.nth(2).locator("a.free-link")).to_have_attribute("href", "https://arxiv.org/pdf/1706.03762")
    expect(items.nth(3).locator(".pill")).to_have_text("Not found")
    expect(items.nth(3)).to_contain_text("No source knows DOI 10.5555/oahelper.unknown")
    expect(items.nth(3)).not_to_contain_text("No free copy")
    # A reference with no identifier whose title no search source matches: not found either.
    expect(items.nth(4).locator(".pill")).to_have_text("Not found")
    expect(items.nth(4)).to_contain_text("No article matches this")
    shoot(refs, "references.png", full_page=True)

    # Only the DOIs went upstream: no titles, no reference text, no page address.
    sent = [r["doi"] for r in stack.upstream.requests()[before:] if r["service"] == "unpaywall"]
    assert set(sent) <= {GOLD, GREEN, "10.48550/arXiv.1706.03762", "10.5555/oahelper.unknown"}

    # Only the free ones, then the CSV of all five.
    refs.check("#free-only")
    expect(refs.locator("#references li:visible")).to_have_count(3)
    with refs.expect_download() as download:
        refs.click("#download-csv")
    text = open(download.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["status"] for r in rows] == ["open", "open", "open", "not_found", "not_found"]
    assert "link" in rows[0]  # the helper's columns, as they are
    assert rows[0]["doi"] == GOLD and rows[0]["cc_by_or_cc0"] == "yes"
    assert rows[1]["title"] == "A green article; with a semicolon in its title"
    assert browser.errors == []


def test_a_reference_that_waited_for_a_busy_source_is_checking_until_its_line_comes_again(
        browser: ExtensionBrowser, stack) -> None:
    from threading import Event

    from oahelper.audit.rows import COLUMNS
    from tests.e2e.scripted_helper import ScriptedHelper, payload

    def row(title: str, **cells) -> dict:
        return dict.fromkeys(COLUMNS) | {"file": "", "key": "", "title": title, "free_copies": 0, "sources": ""} | cells

    references = [{"title": "A paper a busy source was still asked about"}, {"doi": GOLD, "title": "A gold one"}]
    later = Event()
    batch = [
        {"index": 0, "row": row(references[0]["title"], status="unknown",
                                problem="Semantic Scholar was busy; asking again"), "pending": ["semanticscholar"]},
        {"index": 1, "row": row("A gold one", doi=GOLD, status="open", best_url="https://journal.example.org/gold.pdf",
                                version="publishedVersion", link="pdf", free_copies=1), "pending": []},
        later,
        {"index": 0, "pending": [],
         "row": row(references[0]["title"], status="not_found", problem="No article matches this reference")},
        {"done": True, "total": 2, "free": 1},
    ]
    scripted = ScriptedHelper(lambda n: payload("closed", references=references), batch)
    try:
        with browser.extension_settings(port=scripted.port):
            page = browser.open(stack.pages.url("/own/article-references.html"))
            tab = browser.tab_id(page.url)
            browser.wait_for_state(tab, ("result",))
            popup = browser.popup(tab)
            with browser.context.expect_page() as opened:
                popup.locator("#check-references").click()
            refs = opened.value
            refs.on("pageerror", lambda exc: browser.errors.append(f"references: {exc}"))
            items = refs.locator("#references li")
            first = items.nth(0)
            expect(items.nth(1)).to_have_attribute("data-status", "open")
            expect(first).to_have_attribute("data-status", "checking")
            expect(first.locator(".pill")).to_have_text("Checking…")
            expect(first).to_contain_text("Semantic Scholar was busy; asking again")
            # Counted from final rows only: the one still checking is not answered yet.
            expect(refs.locator("#summary")).to_have_text("1 of 2 references have a free copy so far (1 of 2 checked)…")
            expect(items.nth(1)).to_contain_text("PDF checked")

            later.set()
            expect(first).to_have_attribute("data-status", "not_found")
            expect(first.locator(".pill")).to_have_text("Not found")
            expect(refs.locator("#summary")).to_have_text("1 of 2 references have a free copy (1 not found)")
            with refs.expect_download() as download:
                refs.click("#download-csv")
            rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
            # The later line replaced the earlier one: one row per reference.
            assert [(r["title"], r["status"]) for r in rows] == [
                (references[0]["title"], "not_found"), ("A gold one", "open")]
            assert rows[1]["link"] == "pdf"
    finally:
        scripted.stop()
