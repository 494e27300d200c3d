"""Privacy, after real browsing: what left the machine (the fake upstream's whole
request log) is identifiers and the configured e-mail, nothing of the pages — not
their addresses, titles or HTML, and nothing at all of a page that is not an
article; the helper's own log holds no page HTML, no token and no pairing code.

Each test visits its pages itself, so it does not depend on the order tests run in;
the log checks cover everything the session's browser tests sent before, too.
"""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import ExtensionBrowser
from tests.e2e.harness import EMAIL, GOLD_DOI, wait_until
from tests.support import privacy
from tests.support.shared import require_shared

pytestmark = pytest.mark.e2e

# Page markup, in any case: none of it may leave the machine or reach a log.
HTML_MARKERS = ("<", ">", "meta", "citation_", "doctype", "<html", "<title", "href=")
PERSIAN = re.compile(r"[\u0600-\u06FF]")   # the news page's script


def visit(browser: ExtensionBrowser, url: str, kind: str) -> tuple[Page, dict[str, Any]]:
    """Open a page and wait until the extension has made up its mind about it (on a
    page that is not an article, the content script's own decision: it sends nothing)."""
    page = browser.open(url)
    tab = browser.tab_id(page.url)
    if kind == "not_article":
        decided = browser.wait_for_decision(tab, page.url)
        assert decided["article"] is False
        return page, {"kind": kind}
    return page, browser.wait_for_state(tab, (kind,))


def page_words(page: Page) -> list[str]:
    """What identifies a page: its address, its title, its first heading."""
    words = [page.url, page.url.split("://", 1)[1], page.title().strip()]
    heading = page.locator("h1").first
    if heading.count():
        words.append(heading.inner_text().strip())
    return [w for w in words if w]


def what_is_wrong(request: dict[str, Any]) -> str | None:
    """Why one logged upstream request carries more than identifiers and the e-mail
    (tests/support/privacy.py has the rules per upstream), or None."""
    return privacy.what_is_wrong(request, EMAIL)


def assert_only_identifiers_left(stack, forbidden: list[str]) -> list[dict[str, Any]]:
    """The whole upstream log: each request identifiers and the e-mail only, and
    none of the forbidden words (page addresses, titles, text) anywhere in it."""
    requests = stack.upstream.requests()
    wrong = {json.dumps(r): why for r in requests if (why := what_is_wrong(r))}
    assert wrong == {}, "requests that carry more than identifiers and the e-mail"
    # Path, raw path and query of every request, as the upstream saw them.
    sent = "\n".join(f"{r['raw_path']} {r['path']} {json.dumps(r['query'], ensure_ascii=False)}" for r in requests)
    pages = stack.pages
    always = ["127.0.0.1", "localhost", f":{pages.port}", ".html", *HTML_MARKERS]
    found = [w for w in [*always, *forbidden] if w.casefold() in sent.casefold()]
    assert found == [], f"the upstream was sent {found}:\n{sent}"
    return requests


def test_an_article_page_sends_the_upstream_only_its_identifier_and_the_email(browser: ExtensionBrowser, stack) -> None:
    page, state = visit(browser, stack.pages.url("/own/article-gold.html"), "result")
    assert state["payload"]["article"]["doi"] == GOLD_DOI
    # The helper was given the page's address and HTML; the upstream got neither.
    requests = assert_only_identifiers_left(stack, page_words(page) + ["Dana Open", "Gold-Access", "paywall"])
    # Not vacuous: this article's lookup is in the log (this test's, or an earlier one's).
    assert any(r["doi"] == GOLD_DOI for r in requests)


def test_nothing_of_a_news_page_leaves_the_machine(browser: ExtensionBrowser, stack) -> None:
    require_shared("pages/news_1.html")
    require_shared("pages/springer_1.html")
    before = stack.upstream.requests()
    news, _ = visit(browser, stack.pages.url("/shared/news_1.html"), "not_article")
    # The news page's own address (its og:url) and its article number, which looks
    # like a PMID, are as private as its text.
    words = page_words(news) + ["yjc", "7349926"]
    # An article page, in the same browsing session: its identifier may go, its page may
    # not. No source knows its DOI, and the user reads that, not "no free copy".
    article, _ = visit(browser, stack.pages.url("/shared/springer_1.html"), "result")
    expect(article.locator("#oahelper-badge")).to_have_attribute("data-status", "not_found", timeout=30_000)
    tab = browser.tab_id(article.url)
    assert browser.toolbar(tab)["text"] == "–"
    doi = browser.tab_state(tab)["payload"]["article"]["doi"]
    requests = assert_only_identifiers_left(stack, words + page_words(article))
    assert any((r["doi"] or "").casefold() == doi.casefold() for r in requests)
    assert not [r for r in requests if PERSIAN.search(json.dumps(r, ensure_ascii=False))]
    # Visiting the news page itself sent nothing: every request since names the article.
    assert {(r["doi"] or "").casefold() for r in requests[len(before):]} <= {doi.casefold()}


def pair_from_python(stack) -> tuple[str, str, str]:
    """Pair as a script would: a code from `oahelper pair`, redeemed at /v1/pair.
    (code, token, client name)."""
    code = stack.helper.pair_code()
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.helper.port}/v1/pair", method="POST",
        data=json.dumps({"code": code, "client": "e2e-privacy"}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        paired = json.loads(answer.read())
    return code, paired["token"], paired["client"]


def lookup_from_python(stack, token: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.helper.port}/v1/lookup", method="POST", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=15) as answer:
        return json.loads(answer.read())


def test_the_helpers_log_has_no_page_html_token_or_pairing_code(browser: ExtensionBrowser, stack) -> None:
    helper = stack.helper
    log = helper.process.stderr
    logged_before = log.read_text(encoding="utf-8", errors="replace")
    page, _ = visit(browser, stack.pages.url("/own/article-gold.html"), "result")
    extension_token = browser.settings()["token"]
    code, token, client = pair_from_python(stack)
    try:
        # A page's HTML, with a mark of its own, sent with that token.
        html = page.content().replace("<body>", '<body><p id="mark">privacy-mark-5e1f</p>', 1)
        assert lookup_from_python(stack, token, {"url": page.url, "html": html})["status"] == "open"
    finally:
        helper.cli("clients", "revoke", client)
    # The helper did log these requests (so its log is the one to look at).
    wait_until(lambda: log.read_text(encoding="utf-8", errors="replace").count('"POST /v1/pair ')
               > logged_before.count('"POST /v1/pair '), what="the helper to log the pairing request")
    logged = log.read_text(encoding="utf-8", errors="replace")
    assert '"POST /v1/lookup ' in logged[len(logged_before):]
    secrets = {"the extension's token": extension_token, "a script's token": token, "the pairing code": code,
               "the pairing code, as typed": code.replace("-", "")}
    assert [name for name, s in secrets.items() if s in logged] == []
    markup = ["privacy-mark-5e1f", "<html", "<meta", "<body", "<!doctype", "citation_", page.title()]
    assert [m for m in markup if m.casefold() in logged.casefold()] == []
