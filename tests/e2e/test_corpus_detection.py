"""The content script's local decision, "is this an article?", on every real page
of the shared corpus, in the real browser: article pages are sent to the helper,
the news page is not."""

from __future__ import annotations

import json

import pytest

from tests.e2e.browser import ExtensionBrowser
from tests.support.shared import require_shared

pytestmark = [pytest.mark.e2e, pytest.mark.corpus]

# Real article pages whose head says nothing scholarly: the DOI is only in the
# visible text (lingbuzz_1), the page has no metadata at all (genders_1, a static
# journal site), or it is a bot challenge instead of the article (challenge_1).
# They are checked when the user clicks the toolbar button.
NOT_RECOGNISED_LOCALLY = {"lingbuzz_1.html", "genders_1.html", "challenge_1.html"}


def test_every_corpus_page_is_recognised_or_not_as_its_ground_truth_says(browser: ExtensionBrowser, stack) -> None:
    pages = require_shared("pages")
    truth = json.loads((pages / "expected.json").read_text(encoding="utf-8"))
    wrong = []
    for entry in truth:
        name = entry["file"]
        scholarly = entry["doi"] is not None or entry["title"] is not None
        expected = "not_article" if not scholarly or name in NOT_RECOGNISED_LOCALLY else "sent"
        page = browser.open(stack.pages.url(f"/shared/{name}"))
        tab = browser.tab_id(page.url)
        state = browser.wait_for_state(tab, ("not_article", "result", "error"))
        seen = "not_article" if state["kind"] == "not_article" else "sent"
        if seen != expected:
            wrong.append(f"{name}: expected {expected}, the extension {seen}")
        page.close()
    assert not wrong, "\n".join(wrong)
