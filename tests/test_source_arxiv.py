"""arXiv against the fake serving its recorded Atom feeds: ids, publisher DOIs, searches."""

from __future__ import annotations

import time
from typing import Any

import pytest

from oahelper.errors import SourceBadResponse, SourceError
from oahelper.models import Article, WorkQuery
from oahelper.sources.politeness import Limit, Politeness
from oahelper.identifiers import arxiv_doi
from oahelper.sources.arxiv import ArXiv, parse_feed, search_query
from tests.support.fake_upstream import (
    FakeUpstream,
    session,  # noqa: F401 (fixture)
    upstream,  # noqa: F401 (fixture)
)
from tests.support.shared import require_shared


def feed(name: str) -> bytes:
    return (require_shared("arxiv") / name).read_bytes()


def arxiv(upstream: tuple[FakeUpstream, str], **kw: Any) -> ArXiv:
    return ArXiv(upstream[1] + "/arxiv", **kw)


def test_an_entry_gives_the_preprint_pdf_and_no_doi_when_none_was_registered() -> None:
    (answer,) = parse_feed(feed("query_id_list-1605.08386.xml"))
    (loc,) = answer.locations
    assert loc.url == loc.pdf_url == "https://arxiv.org/pdf/1605.08386v1"
    assert loc.landing_url == "https://arxiv.org/abs/1605.08386" and loc.version == "submittedVersion"
    assert answer.metadata["arxiv"] == "1605.08386" and "doi" not in answer.metadata
    assert answer.metadata["title"] == "Heat-bath random walks with Markov bases"
    assert answer.metadata["year"] == 2016 and answer.metadata["authors"][0] == "Caprice Stanley"


def test_old_style_ids_and_publisher_dois() -> None:
    (old,) = parse_feed(feed("query_id_list-astro-ph_0601001.xml"))
    assert old.metadata["arxiv"] == "astro-ph/0601001"
    found = parse_feed(feed("query_search_query-testing_max_results-10.xml"))
    assert len(found) == 10
    with_doi = {a.metadata["arxiv"]: a.metadata["doi"] for a in found if "doi" in a.metadata}
    assert with_doi["2005.14124"] == "10.1145/3395363.3397376" and len(with_doi) == 6


def test_zero_entries_and_the_400_error_feed() -> None:
    assert parse_feed(feed("query_id_list-0000.0000_0-results.xml")) == []
    with pytest.raises(SourceError, match="incorrect id format for abc"):
        parse_feed(feed("query_id_list-abc_400.xml"))
    with pytest.raises(SourceBadResponse):
        parse_feed(b'{"not": "atom"}')
    with pytest.raises(SourceBadResponse):  # no entity expansion, no network
        parse_feed(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')


def test_search_query_syntax() -> None:
    q = WorkQuery(kind="title", title='PaperQA: "Retrieval"-Augmented (agents)', first_author="Jakub Lála")
    assert search_query(q) == 'ti:"PaperQA Retrieval -Augmented agents" AND au:lala'


async def test_lookup_by_id_learns_the_publisher_doi(upstream, session) -> None:
    require_shared("arxiv")
    fake, _ = upstream
    answer = await arxiv(upstream).lookup(Article(arxiv="2005.14124", doi=arxiv_doi("2005.14124")),
                                          session, 5.0)
    assert answer.state == "ok" and answer.metadata["doi"] == "10.1145/3395363.3397376"
    assert fake.requests[-1]["query"] == {"id_list": "2005.14124", "max_results": "1"}


async def test_not_asked_once_the_publisher_doi_is_known(upstream, session) -> None:
    source = arxiv(upstream)
    article = Article(arxiv="2005.14124", doi="10.1145/3395363.3397376")
    assert source.cache_key(article) is None
    assert (await source.lookup(article, session, 5.0)).state == "skipped"
    assert source.cache_key(Article(doi="10.48550/arXiv.2005.14124")) == "arxiv:2005.14124"


async def test_unknown_and_malformed_ids(upstream, session) -> None:
    require_shared("arxiv")
    source = arxiv(upstream)
    assert (await source.lookup(Article(arxiv="0000.0000"), session, 5.0)).state == "not_found"
    assert (await source.lookup(Article(arxiv="1999.99999"), session, 5.0)).state == "not_found"
    fake, base = upstream
    async with session.get(f"{base}/arxiv/query", params={"id_list": "abc"}) as resp:
        assert resp.status == 400 and "incorrect id format" in await resp.text()


async def test_one_request_every_interval_on_one_connection(upstream, session) -> None:
    require_shared("arxiv")
    fake, _ = upstream
    gate = Politeness({"arxiv": Limit(1, 0.4, 1)}).gate("arxiv")
    source = arxiv(upstream, gate=gate)
    ids = ["1605.08386", "2005.14124", "2204.08348"]
    import asyncio

    answers = await asyncio.gather(*(source.lookup(Article(arxiv=i), session, 5.0) for i in ids))
    assert [a.state for a in answers] == ["ok"] * 3
    times = sorted(r["t"] for r in fake.requests)
    assert all(b - a >= 0.35 for a, b in zip(times, times[1:])), times


async def test_a_lookup_that_cannot_get_a_slot_in_time_skips_arxiv(upstream, session) -> None:
    gate = Politeness().gate("arxiv")  # the real limit: one request every 3 s
    source = arxiv(upstream, gate=gate)
    await source.lookup(Article(arxiv="0000.0000"), session, 5.0)
    started = time.monotonic()
    second = await source.lookup(Article(arxiv="1605.08386"), session, 1.0)
    assert second.state == "skipped" and "one request every 3 s" in second.error, second
    assert time.monotonic() - started < 1.0


async def test_search_by_title(upstream, session) -> None:
    require_shared("arxiv")
    fake, _ = upstream
    answer = await arxiv(upstream).search(WorkQuery(kind="title", title="Nothing recorded here"), session, 5.0)
    assert answer.state == "not_found" and answer.candidates == ()
    assert fake.requests[-1]["query"]["search_query"] == 'ti:"Nothing recorded here"'
