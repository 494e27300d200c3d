"""scrape() on the 30 real publisher pages of ../shared/fixtures/pages.

One test per page and field, so a failure names both. The truth is
expected.json; the comparison rules (NFKC, whitespace, case, name word order,
either named year) are documented in tests/support/groundtruth.py. The DOI is
scored on every page (a null truth means the page must give no DOI); other
fields wherever the truth gives a value.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from oahelper.models import Article
from oahelper.scrape import scrape
from tests.support.groundtruth import CHECKS, is_right, load_truth, scored
from tests.support.shared import require_shared, shared_fixtures

pytestmark = pytest.mark.corpus

# Fields the scraper does not get right, and why. Strict: a fix makes the test
# fail until the entry is removed here.
KNOWN_GAPS: dict[tuple[str, str], str] = {
    ("genders_1.html", "container"): (
        "no metadata; the page names itself only 'Genders OnLine Journal' (<title>, the "
        "masthead logo's alt text) and 'Genders Journal' (footer address), and its masthead "
        "has no text heading above 'Issue 58, Fall 2013'. The truth is the journal's "
        "bibliographic name 'Genders'; getting it would take cutting 'OnLine Journal' off "
        "this one site's name, which is no general rule"),
}


def _cases() -> list[Any]:
    base = shared_fixtures()
    truth_file = base / "pages" / "expected.json" if base else None
    if truth_file is None or not truth_file.exists():
        return [pytest.param(None, "doi", id="shared-pages-missing")]
    cases = []
    for entry in load_truth(truth_file.parent):
        for check in CHECKS:
            if not scored(entry, check.field):
                continue
            gap = KNOWN_GAPS.get((entry["file"], check.field))
            marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
            page_id = f"{entry['file'].removesuffix('.html')}-{check.field}"
            cases.append(pytest.param(entry, check.field, id=page_id, marks=marks))
    return cases


@cache
def _scraped(file: str, url: str) -> Article:
    return scrape(url, (require_shared("pages") / file).read_bytes())


def _entry(file: str) -> dict[str, Any]:
    return next(e for e in load_truth(require_shared("pages")) if e["file"] == file)


@pytest.mark.parametrize(("entry", "field"), _cases())
def test_corpus_field(entry: dict[str, Any] | None, field: str) -> None:
    require_shared("pages")
    assert entry is not None
    article = _scraped(entry["file"], entry["url"])
    assert is_right(entry, field, article), (
        f"{entry['file']} {field}: got {article.to_json()}")


def test_every_known_gap_names_a_scored_field() -> None:
    truth = {e["file"]: e for e in load_truth(require_shared("pages"))}
    for file, field in KNOWN_GAPS:
        assert file in truth and scored(truth[file], field), (file, field)


def test_news_page_is_the_negative_control() -> None:
    entry = _entry("news_1.html")
    article = _scraped(entry["file"], entry["url"])
    assert not article.citation_meta
    assert not article.is_article


def test_challenge_page_is_flagged_and_uses_only_its_url() -> None:
    entry = _entry("challenge_1.html")
    article = _scraped(entry["file"], entry["url"])
    assert article.challenge
    assert article.doi_tier == "url"
    assert (article.title, article.authors, article.citation_meta) == (None, (), False)


def test_reference_heavy_pages_take_their_doi_from_tags() -> None:
    # Hundreds of reference DOIs on the page; the tagged DOI must win.
    for file in ("wiley_1.html", "frontiers_1.html", "acs_1.html", "aps_1.html"):
        entry = _entry(file)
        article = _scraped(file, entry["url"])
        assert article.doi_tier not in ("body_text", None), file


def test_every_page_with_a_doi_counts_as_an_article() -> None:
    for entry in load_truth(require_shared("pages")):
        if entry["doi"]:
            assert _scraped(entry["file"], entry["url"]).is_article, entry["file"]
