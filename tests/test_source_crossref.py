"""Crossref against the fake serving its recordings: works by DOI, open licences, searches."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from oahelper.models import Article, WorkQuery
from oahelper.sources.politeness import Politeness
from oahelper.sources.crossref import Crossref, cc_licence, free_at_publisher, metadata_of
from tests.support.fake_upstream import (
    FakeUpstream,
    session,  # noqa: F401 (fixture)
    upstream,  # noqa: F401 (fixture)
)
from tests.support.shared import require_shared

EMAIL = "reader@university.edu"


def work(name: str) -> dict[str, Any]:
    return json.loads((require_shared("crossref") / name).read_bytes())["message"]


def crossref(upstream: tuple[FakeUpstream, str], **kw: Any) -> Crossref:
    return Crossref(upstream[1] + "/crossref", kw.pop("email", EMAIL), **kw)


@pytest.mark.parametrize("name, licence, pdf", [
    ("works_10.1038_srep16696.json", "cc-by", "https://www.nature.com/articles/srep16696.pdf"),
    ("works_10.1371_journal.pone.0033693.json", "cc-by", None),  # licence for every version
])
def test_an_open_licence_on_the_version_of_record_is_a_free_copy(name: str, licence: str,
                                                                pdf: str | None) -> None:
    found = free_at_publisher(work(name))
    assert found is not None
    assert (found.license, found.pdf_url, found.host_type, found.version) == (
        licence, pdf, "publisher", "publishedVersion")
    assert found.url == (pdf or found.landing_url) and found.landing_url.startswith("https://")


@pytest.mark.parametrize("name", ["works_10.1002_jor.1100150407.json",
                                  "works_10.1016_j.neurobiolaging.2010.03.024.json"])
def test_publisher_and_text_mining_licences_and_links_are_no_free_copy(name: str) -> None:
    assert free_at_publisher(work(name)) is None


def test_licence_words_and_metadata() -> None:
    assert cc_licence("https://creativecommons.org/licenses/by-nc-nd/4.0/") == "cc-by-nc-nd"
    assert cc_licence("http://creativecommons.org/publicdomain/zero/1.0/") == "cc0"
    assert cc_licence("http://onlinelibrary.wiley.com/termsAndConditions#vor") is None
    meta = metadata_of(work("works_10.1002_jor.1100150407.json"))
    assert meta["doi"] == "10.1002/jor.1100150407" and meta["year"] == 1997
    assert meta["authors"][0] == "Richard L. Lieber" and meta["journal"]


async def test_lookup_by_doi_sends_mailto_and_follows_the_stated_limits(upstream, session) -> None:
    require_shared("crossref")
    fake, _ = upstream
    gate = Politeness().gate("crossref")
    answer = await crossref(upstream, gate=gate).lookup(Article(doi="10.1038/SREP16696"), session, 5.0)
    assert answer.state == "ok" and answer.locations[0].license == "cc-by"
    assert answer.metadata["title"].startswith("Single-molecule FRET")
    assert fake.requests[-1]["query"] == {"mailto": EMAIL}
    assert (gate.limit.rate, gate.limit.per, gate.limit.concurrency) == (10, 1.0, 3)
    # without an e-mail: the public pool, whose smaller limits the gate then keeps
    await crossref(upstream, email=None, gate=gate).lookup(Article(doi="10.1038/srep16696"), session, 5.0)
    assert fake.requests[-1]["query"] == {}
    assert (gate.limit.rate, gate.limit.concurrency) == (5, 1)


async def test_plain_text_404_is_not_found(upstream, session) -> None:
    require_shared("crossref")
    source = crossref(upstream)
    answer = await source.lookup(Article(doi="10.1371/notarealdoi"), session, 5.0)
    assert answer.state == "not_found", answer
    assert source.health().last_error is None


async def test_arxivs_own_dois_are_not_asked(upstream, session) -> None:
    """DataCite registers them: Crossref's answer is always the 404 recorded for one."""
    fake, _ = upstream
    answer = await crossref(upstream).lookup(Article(doi="10.48550/arXiv.2312.07559"), session, 5.0)
    assert answer.state == "skipped" and fake.requests == []


async def test_nothing_to_ask_and_switched_off(upstream, session) -> None:
    assert (await crossref(upstream).lookup(Article(pmid="1"), session, 5.0)).state == "skipped"
    assert (await crossref(upstream, enabled=False).lookup(Article(doi="10.1/x"), session, 5.0)).state == "disabled"


@pytest.mark.parametrize("kind, code", [("500", "source_error"), ("garbage", "source_bad_response"),
                                        ("bare404", None)])
async def test_failures(upstream, session, kind: str, code: str | None) -> None:
    fake, _ = upstream
    fake.plan(kind, service="crossref")
    answer = await crossref(upstream).lookup(Article(doi="10.1038/srep16696"), session, 5.0)
    if code is None:
        assert answer.state == "not_found"  # a 404 is "not found" whatever its body
    else:
        assert answer.state == "error" and answer.error_code == code


async def test_search_returns_unchecked_candidates_with_their_answers(upstream, session) -> None:
    require_shared("crossref")
    fake, _ = upstream
    query = WorkQuery(kind="title", title="Augmenting large language models with chemistry tools",
                      first_author="Andres M. Bran", year=2024)
    answer = await crossref(upstream).search(query, session, 5.0)
    assert answer.state == "ok" and len(answer.candidates) == 1
    (hit,) = answer.candidates
    assert hit.work.doi == "10.1038/s42256-024-00832-8" and hit.work.year == 2024
    assert hit.answer is not None and hit.answer.metadata["doi"] == hit.work.doi
    sent = fake.requests[-1]["query"]
    assert sent["query.bibliographic"] == f"{query.title} 2024"
    assert sent["query.author"] == "Andres M. Bran" and sent["mailto"] == EMAIL
    assert int(sent["rows"]) <= 100 and "select" in sent


async def test_search_with_no_hits_and_a_refused_search(upstream, session) -> None:
    require_shared("crossref")
    fake, _ = upstream
    answer = await crossref(upstream).search(WorkQuery(kind="title", title="abs12032jsdafn"), session, 5.0)
    assert answer.state == "not_found" and answer.candidates == ()
    fake.plan("400", service="crossref")
    refused = await crossref(upstream).search(WorkQuery(kind="title", title="x y z"), session, 5.0)
    assert refused.state == "error"


async def test_the_fake_refuses_too_many_rows_as_crossref_does(upstream, session) -> None:
    require_shared("crossref")
    _, base = upstream
    async with session.get(f"{base}/crossref/works", params={"query": "ecology", "rows": "200"}) as resp:
        assert resp.status == 400
        assert (await resp.json())["message"][0]["type"] == "integer-not-valid"
    async with session.get(f"{base}/crossref/works/10.1371/notarealdoi") as resp:
        assert (resp.status, resp.content_type, await resp.text()) == (404, "text/plain", "Resource not found.")
