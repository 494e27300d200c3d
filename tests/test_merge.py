"""Merge: ranking, de-duplication, status, badge and actions, as docs/api.md says."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oahelper.engine.merge import build_payload, rank_locations, url_key
from oahelper.models import Article, LinkCheck, Location, SourceAnswer

ART = Article(url="https://pub.example/a", doi="10.1234/ABC", title="A study", authors=("Ada Lovelace",),
              journal="J. Things", year=2020, author_email="ada@uni.example", citation_meta=True)


def loc(url: str, **kw) -> Location:
    return Location(url=url, source=kw.pop("source", "unpaywall"), **kw)


def test_url_key_ignores_scheme_host_case_and_trailing_slash() -> None:
    assert url_key("https://Repo.Example/x/") == url_key("http://repo.example/x")
    assert url_key("https://repo.example/x?id=1") != url_key("https://repo.example/x?id=2")


def test_ranking_best_then_version_then_host_then_pdf_then_https() -> None:
    ranked = rank_locations([
        loc("http://r.example/sub", version="submittedVersion", host_type="repository"),
        loc("http://r.example/acc", version="acceptedVersion", host_type="repository"),
        loc("https://p.example/pub-nopdf", version="publishedVersion", host_type="publisher"),
        loc("https://r.example/pub", version="publishedVersion", host_type="repository", pdf_url="https://r.example/pub.pdf"),
        loc("https://p.example/pub-pdf", version="publishedVersion", host_type="publisher", pdf_url="https://p.example/x.pdf"),
        loc("http://r.example/best", version="acceptedVersion", host_type="repository", is_best=True),
    ])
    assert [urlsplit(l.url).path for l in ranked] == [
        "/best", "/pub-pdf", "/pub-nopdf", "/pub", "/acc", "/sub"]


def test_duplicates_across_sources_keep_the_better_ranked_copy() -> None:
    ranked = rank_locations([
        loc("http://repo.example/paper/", source="oab"),
        loc("https://REPO.example/paper", version="acceptedVersion", is_best=True),
    ])
    assert len(ranked) == 1 and ranked[0].source == "unpaywall"


def test_open_payload_has_best_badge_and_no_actions() -> None:
    up = SourceAnswer(source="unpaywall", state="ok", oa_status="green", ms=12,
                      locations=(loc("https://repo.example/p.pdf", version="acceptedVersion",
                                     host_type="repository", repository="Repo U", is_best=True),))
    p = build_payload(ART, [up, SourceAnswer(source="oab", state="disabled")])
    assert p["status"] == "open" and p["oa_status"] == "green"
    assert p["best"]["url"] == "https://repo.example/p.pdf" and "is_best" not in p["best"]
    assert p["badge"]["show"] and p["badge"]["color"] == "green"
    assert "accepted manuscript" in p["badge"]["tooltip"] and "Repo U" in p["badge"]["tooltip"]
    assert p["actions"] == []
    assert p["sources"] == {"unpaywall": {"state": "ok", "ms": 12, "cached": False},
                            "oab": {"state": "disabled", "ms": 0, "cached": False}}
    assert set(p["article"]) == {"doi", "pmid", "pmcid", "arxiv", "isbn", "title", "authors",
                                 "journal", "year", "publisher", "pdf_url", "url"}


def test_oa_status_is_unpaywalls_own_never_recomputed() -> None:
    # A real bronze record has a licence; it stays bronze.
    up = SourceAnswer(source="unpaywall", state="ok", oa_status="bronze",
                      locations=(loc("https://cell.example/x", license="publisher-specific-oa",
                                     host_type="publisher", version="publishedVersion"),))
    p = build_payload(ART, [up])
    assert p["oa_status"] == "bronze" and p["badge"]["color"] == "bronze"


def test_closed_gives_email_and_library_actions() -> None:
    up = SourceAnswer(source="unpaywall", state="ok", oa_status="closed")
    p = build_payload(ART, [up], openurl_base="https://resolver.example.edu/openurl")
    assert p["status"] == "closed" and p["best"] is None and p["badge"]["color"] == "closed"
    kinds = {a["kind"]: a for a in p["actions"]}
    mail = urlsplit(kinds["email_author"]["url"])
    assert mail.scheme == "mailto" and mail.path == "ada@uni.example"
    assert "A study" in unquote(mail.query) and "10.1234/ABC" in unquote(mail.query)
    q = parse_qs(urlsplit(kinds["library"]["url"]).query)
    assert q["rft_id"] == ["info:doi/10.1234/ABC"] and q["rft.atitle"] == ["A study"]
    assert q["rft.jtitle"] == ["J. Things"] and q["rft.date"] == ["2020"]


def test_not_found_everywhere_is_not_found_but_all_failed_is_unknown_with_reason() -> None:
    nf = SourceAnswer(source="unpaywall", state="not_found")
    assert build_payload(ART, [nf])["status"] == "not_found"
    err = SourceAnswer(source="unpaywall", state="error", error="no answer within 8.0 s")
    p = build_payload(ART, [err, SourceAnswer(source="oab", state="disabled")])
    assert p["status"] == "unknown" and p["badge"]["color"] == "unknown"
    assert "no answer within 8.0 s" in p["badge"]["tooltip"]
    assert p["sources"]["unpaywall"]["error"] == "no answer within 8.0 s"


def test_one_source_down_still_gives_the_others_answer() -> None:
    err = SourceAnswer(source="unpaywall", state="error", error="HTTP 500")
    oab = SourceAnswer(source="oab", state="ok", locations=(loc("https://r.example/x", source="oab"),))
    p = build_payload(ART, [err, oab])
    assert p["status"] == "open" and p["best"]["source"] == "oab"


def test_not_article_shows_no_badge_and_asks_nothing() -> None:
    p = build_payload(Article(url="https://news.example/today"), [])
    assert p["status"] == "not_article" and p["badge"]["show"] is False
    assert p["locations"] == [] and p["sources"] == {}


def test_source_metadata_fills_only_missing_article_fields() -> None:
    up = SourceAnswer(source="unpaywall", state="ok", oa_status="closed",
                      metadata={"title": "Other title", "journal": "Nature", "year": 2013,
                                "authors": ["Ada Lovelace", "C. Babbage"]})
    bare = Article(doi="10.1038/nature12373")
    p = build_payload(bare, [up])
    assert p["article"]["journal"] == "Nature" and p["article"]["authors"] == ["Ada Lovelace", "C. Babbage"]
    p2 = build_payload(ART, [up])
    assert p2["article"]["title"] == "A study"


def test_only_web_links_reach_the_users_page() -> None:
    ranked = rank_locations([
        loc("javascript:alert(1)", is_best=True),
        loc("https://repo.example/x", pdf_url="javascript:alert(2)", landing_url="data:text/html,hi"),
    ])
    assert [l.url for l in ranked] == ["https://repo.example/x"]
    assert ranked[0].pdf_url is None and ranked[0].landing_url is None
    # One copy alone takes a short cut: the same cleaning, and who found it.
    alone = rank_locations([loc(" HTTPS://repo.example/y", pdf_url="javascript:alert(3)",
                                landing_url="https://repo.example/y/page", source="snapshot")])
    assert [(l.url, l.pdf_url, l.landing_url, l.found_by) for l in alone] == [
        (" HTTPS://repo.example/y", None, "https://repo.example/y/page", ("snapshot",))]
    assert rank_locations([loc("ftp://repo.example/z")]) == []


def test_a_page_that_could_not_be_fetched_is_unknown_not_not_article() -> None:
    p = build_payload(Article(url="https://pub.example/a"), [], page_problem="could not fetch the page (DNS)")
    assert p["status"] == "unknown" and p["badge"]["show"] is True
    assert "could not fetch the page" in p["badge"]["tooltip"]


def test_an_identifier_no_source_knows_is_not_found_never_paywalled() -> None:
    nobody = [SourceAnswer(source="unpaywall", state="not_found"),
              SourceAnswer(source="crossref", state="not_found")]
    typed = build_payload(ART, nobody, typed=True)
    assert typed["status"] == "not_found" and typed["badge"]["color"] == "unknown"
    assert typed["badge"]["text"] == "Not found"
    assert typed["badge"]["tooltip"] == "No source knows DOI 10.1234/ABC: check it for typos"
    assert "paywall" not in json.dumps(typed["badge"]).lower() and typed["actions"] == []
    on_a_page = build_payload(ART, nobody, typed=False)
    assert on_a_page["badge"]["tooltip"].endswith("it may be too new to be indexed yet")


def test_a_source_that_knows_the_article_makes_it_closed() -> None:
    known = SourceAnswer(source="crossref", state="ok", metadata={"title": "A study"})
    p = build_payload(ART, [SourceAnswer(source="unpaywall", state="not_found"), known])
    assert p["status"] == "closed" and p["badge"]["text"] == "No free copy"


def test_a_title_nothing_matches_is_not_found_with_the_searchs_words() -> None:
    searched = [SourceAnswer(source="crossref", state="not_found")]
    p = build_payload(Article(title="A title"), searched, no_match=True,
                      page_problem="no article matches this title")
    assert p["status"] == "not_found" and p["badge"]["tooltip"] == "No article matches this title"


def test_a_busy_source_is_pending_not_a_no_match() -> None:
    busy = SourceAnswer(source="semanticscholar", state="skipped", error_code="source_busy",
                        error="Semantic Scholar was busy; asking again", pending=True)
    p = build_payload(Article(title="A title"), [SourceAnswer(source="crossref", state="not_found"),
                                                 busy], no_match=True,
                      page_problem="no article matches this title")
    assert p["status"] == "unknown" and p["pending"] == ["semanticscholar"]
    assert p["badge"]["tooltip"] == ("Could not check for a free copy: still searching "
                                     "(Semantic Scholar was busy; asking again)")
    assert "allows" not in json.dumps(p)  # never the limiter's own words


def test_broken_links_stay_listed_never_best_and_do_not_make_it_open() -> None:
    up = SourceAnswer(source="unpaywall", state="ok", oa_status="bronze", locations=(
        loc("https://pub.example/a.pdf", is_best=True), loc("https://repo.example/a", source="oab")))
    gone = {"https://pub.example/a.pdf": LinkCheck("gone"), "https://repo.example/a": LinkCheck("paywall")}
    p = build_payload(ART, [up], links=gone)
    assert p["status"] == "closed" and p["best"] is None and len(p["locations"]) == 2
    assert p["badge"]["tooltip"] == ("No free legal copy found: 2 free copies were reported, "
                                     "but their links don't work")
    one_works = gone | {"https://repo.example/a": LinkCheck("landing")}
    p = build_payload(ART, [up], links=one_works)
    assert p["status"] == "open" and p["best"]["url"] == "https://repo.example/a"
    assert [x["link"]["state"] for x in p["locations"]] == ["landing", "gone"]


def test_ranking_puts_working_then_passable_then_unknown_links_first() -> None:
    copies = [loc(f"https://h{n}.example/a", source=f"s{n}", is_best=(n == 0)) for n in range(4)]
    states = {"https://h0.example/a": LinkCheck("error"), "https://h1.example/a": LinkCheck("challenge"),
              "https://h2.example/a": LinkCheck("pdf")}
    p = build_payload(ART, [SourceAnswer(source="unpaywall", state="ok", locations=tuple(copies))],
                      links=states)
    assert [x["link"]["state"] for x in p["locations"]] == ["pdf", "challenge", "error", "unchecked"]


def test_a_copy_two_sources_report_is_one_location_naming_both() -> None:
    unpaywall = loc("http://europepmc.org/articles/pmc4221854?pdf=render", is_best=True,
                    version="acceptedVersion", host_type="repository")
    europepmc = loc("https://europepmc.org/articles/PMC4221854?pdf=render", source="europepmc",
                    landing_url="https://europepmc.org/articles/PMC4221854", license="cc-by")
    arxiv_s2 = loc("https://arxiv.org/pdf/1304.1068", source="semanticscholar")
    arxiv_id = loc("https://arxiv.org/pdf/1304.1068v2", source="free_by_id",
                   landing_url="https://arxiv.org/abs/1304.1068", version="submittedVersion")
    ranked = rank_locations([unpaywall, arxiv_s2, europepmc, arxiv_id])
    assert len(ranked) == 2
    first, second = ranked
    assert first.source == "unpaywall" and first.found_by == ("unpaywall", "europepmc")
    assert first.license == "cc-by"  # a gap filled from the other report
    assert first.landing_url == "https://europepmc.org/articles/PMC4221854"
    assert second.found_by == ("semanticscholar", "free_by_id")
    assert second.version == "submittedVersion"
    assert first.to_json()["found_by"] == ["unpaywall", "europepmc"]


def test_different_copies_stay_apart() -> None:
    ranked = rank_locations([loc("https://arxiv.org/abs/1304.1068"),
                             loc("https://arxiv.org/abs/1304.1069", source="oab"),
                             loc("https://pmc.ncbi.nlm.nih.gov/articles/PMC1/", source="free_by_id"),
                             loc("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC1", source="x"),
                             loc("https://doi.org/10.1/A"), loc("https://dx.doi.org/10.1/a", source="y")])
    assert [r.found_by for r in ranked] == [("unpaywall",), ("oab",), ("free_by_id", "x"),
                                            ("unpaywall", "y")]


def test_status_open_when_any_source_has_a_copy_and_oa_status_stays_unpaywalls() -> None:
    up = SourceAnswer(source="unpaywall", state="ok", oa_status="closed")
    epmc = SourceAnswer(source="europepmc", state="ok", locations=(
        loc("https://europepmc.org/articles/PMC9?pdf=render", source="europepmc",
            version="acceptedVersion", host_type="repository"),))
    p = build_payload(ART, [up, epmc])
    assert p["status"] == "open" and p["oa_status"] == "closed"
    assert p["best"]["found_by"] == ["europepmc"]


def test_not_found_in_a_partial_source_while_the_main_one_failed_is_unknown() -> None:
    up = SourceAnswer(source="unpaywall", state="error", error="Unpaywall answered HTTP 500")
    epmc = SourceAnswer(source="europepmc", state="not_found")
    assert build_payload(ART, [up, epmc])["status"] == "unknown"
    assert build_payload(ART, [SourceAnswer(source="unpaywall", state="not_found"), epmc])[
        "status"] == "not_found"
    paused = SourceAnswer(source="unpaywall", state="paused", error="paused after errors until 10:42")
    assert build_payload(ART, [paused, epmc])["status"] == "unknown"


def _url_key_by_urlsplit(url: str) -> str:
    """url_key as urlsplit alone reads it (what its quick path must agree with)."""
    parts = urlsplit(url.strip())
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}{f'?{parts.query}' if parts.query else ''}"


@given(st.sampled_from(["https://", "http://", "HTTPS://", " http://", "\x01https://",
                        "ftp://", "https:", ""]),
       st.text(alphabet="aZ0.-:@/?#[]%=&é \t\r\n\x00", max_size=30))
def test_url_key_reads_every_url_as_urlsplit_does(scheme: str, rest: str) -> None:
    url = scheme + rest
    try:
        expected = _url_key_by_urlsplit(url)
    except ValueError:  # urlsplit refuses it (a bracket in the host): so does url_key
        with pytest.raises(ValueError):
            url_key(url)
        return
    assert url_key(url) == expected
