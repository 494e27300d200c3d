"""The audit runner over the real lookup engine and the fake Unpaywall."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oahelper.audit.entries import Entry, make_entry
from oahelper.audit.readers import open_reading_list
from oahelper.audit.rows import Row, row_from_payload
from oahelper.audit.runner import AuditRunner
from tests.support.engine import engine  # noqa: F401 (fixture)
from tests.support.engine import Engine
from tests.support.fake_upstream import CLOSED_DOI, GOLD_DOI, GREEN_DOI, UNKNOWN_DOI

FILES = Path(__file__).parent / "fixtures" / "audit"


def doi_entries(dois: Sequence[str]) -> list[Entry]:
    return [make_entry("list.txt", f"line {i}", i, doi=d) for i, d in enumerate(dois, 1)]


async def run(runner: AuditRunner, entries: Sequence[Entry], **kw: Any) -> list[Row]:
    rows: list[Row] = []
    await runner.run(entries, rows.append, **kw)
    return rows


async def test_every_entry_gets_a_row_in_input_order_even_when_answers_come_out_of_order(
        engine: Engine) -> None:
    engine.upstream.plan(doi=GOLD_DOI, delay=0.3)  # the first answer comes last
    dois = [GOLD_DOI, GREEN_DOI, CLOSED_DOI, UNKNOWN_DOI]
    answered: list[str] = []
    rows = await run(AuditRunner(engine.service.lookup_article), doi_entries(dois),
                     on_row=lambda row: answered.append(row.doi))
    assert [r.doi for r in rows] == dois
    assert answered[-1] == GOLD_DOI  # heard of as answered, written in order
    gold, green, closed, unknown = rows
    assert (gold.status, gold.oa_status, gold.license, gold.cc_by_or_cc0) == ("open", "gold", "cc-by", True)
    assert gold.host_type == "publisher" and gold.best_url.startswith("https://")
    assert (green.status, green.oa_status, green.host_type) == ("open", "green", "repository")
    assert green.cc_by_or_cc0 is False and green.free_copies >= 2
    assert (closed.status, closed.free_copies, closed.cc_by_or_cc0) == ("closed", 0, False)
    assert unknown.status == "not_found" and unknown.problem.startswith("No source knows DOI ")
    assert unknown.problem.endswith(": check it for typos")
    assert gold.sources == "unpaywall;europepmc;crossref;openalex" and gold.title  # the title Unpaywall knows


async def test_a_doi_listed_twice_is_asked_once(engine: Engine) -> None:
    rows = await run(AuditRunner(engine.service.lookup_article),
                     doi_entries([GREEN_DOI, GOLD_DOI, GREEN_DOI.upper(), GREEN_DOI]))
    assert [r.status for r in rows] == ["open"] * 4
    assert sorted(engine.unpaywall_calls()) == sorted([GREEN_DOI, GOLD_DOI])


async def test_a_second_run_answers_from_the_cache(engine: Engine) -> None:
    entries = list(open_reading_list(FILES / "thesis.bib").entries())
    first = await run(AuditRunner(engine.service.lookup_article), entries)
    calls = len(engine.upstream.requests)
    again = await run(AuditRunner(engine.service.lookup_article), entries)
    assert len(engine.upstream.requests) == calls  # not one more upstream call
    assert [r.status for r in again] == [r.status for r in first]


async def test_entries_without_identifier_or_unreadable_are_rows_and_ask_nobody(engine: Engine) -> None:
    rows = await run(AuditRunner(engine.service.lookup_article),
                     list(open_reading_list(FILES / "thesis.bib").entries()))
    by_key = {r.key: r for r in rows}
    assert by_key["broken"].status == "unreadable" and "not valid BibTeX" in by_key["broken"].problem
    # No identifier: looked for by its title, which no search source matches.
    assert by_key["notitle2001"].status == "not_found"
    assert by_key["notitle2001"].problem == "No article matches this title"
    assert by_key["pmc-only"].status == "open" and by_key["pmc-only"].sources == "europepmc;free_by_id"
    assert by_key["vaswani2017attention"].status == "open"
    assert by_key["vaswani2017attention"].version == "submittedVersion"
    assert by_key["closed1997"].status == "closed"
    assert all("a book without" not in (c or "").lower() for c in engine.unpaywall_calls())


async def test_stopping_writes_what_was_answered_in_order(engine: Engine) -> None:
    slow = [f"10.5555/oahelper.slow.{i}" for i in range(30)]
    for doi in slow[3:]:
        engine.upstream.plan(doi=doi, delay=5)
    stop = asyncio.Event()
    rows: list[Row] = []
    answers: list[Row] = []

    def answered(row: Row) -> None:
        answers.append(row)
        if len(answers) == 3:
            stop.set()  # as Ctrl-C does

    runner = AuditRunner(engine.service.lookup_article, concurrency=4)
    stats = await asyncio.wait_for(runner.run(doi_entries(slow), rows.append, on_row=answered,
                                              stop=stop), 4)
    assert stats.interrupted and stats.written == len(rows) == 3
    assert [r.doi for r in rows] == slow[:3]


async def test_a_prepass_answers_a_chunk_before_any_per_item_lookup(engine: Engine) -> None:
    asked: list[list[str]] = []
    gold = await engine.service.lookup_article(make_entry("x", "x", doi=GOLD_DOI).article())
    engine.upstream.clear()

    async def prepass(chunk: Sequence[Entry]) -> dict[str, dict[str, Any]]:
        asked.append([e.key for e in chunk])
        return {e.lookup_key: gold for e in chunk if e.doi == GOLD_DOI}

    rows = await run(AuditRunner(engine.service.lookup_article, prepass=prepass, chunk=2),
                     doi_entries([GOLD_DOI, GREEN_DOI, GOLD_DOI]))
    assert asked == [["line 1", "line 2"], ["line 3"]]
    assert [r.status for r in rows] == ["open", "open", "open"]
    assert engine.unpaywall_calls() == [GREEN_DOI]


async def test_as_answered_yields_each_index_once_as_answers_arrive(engine: Engine) -> None:
    engine.upstream.plan(doi=GOLD_DOI, delay=0.3)
    runner = AuditRunner(engine.service.lookup_article)
    got = [(i, row.doi) async for i, row, _ in runner.as_answered(doi_entries([GOLD_DOI, GREEN_DOI]))]
    assert got == [(1, GREEN_DOI), (0, GOLD_DOI)]


def test_a_row_found_by_title_says_so_with_the_match_score() -> None:
    entry = make_entry("refs.bib", "k", 1, title="Attention is all you need", year=2017)
    payload = {"status": "open", "oa_status": "green",
               "article": {"doi": "10.48550/arXiv.1706.03762", "title": "Attention Is All You Need",
                           "match": {"by": "crossref", "query": "title", "score": 0.97}},
               "best": {"url": "https://arxiv.org/pdf/1706.03762", "version": "submittedVersion"},
               "locations": [{"url": "https://arxiv.org/pdf/1706.03762"}],
               "sources": {"unpaywall": {"state": "ok"}}}
    row = row_from_payload(entry, payload)
    assert (row.identified_by, row.match_score, row.doi) == ("title", 0.97, "10.48550/arXiv.1706.03762")
    assert row.title == "Attention is all you need"  # the entry's own


async def test_only_what_has_nothing_to_search_by_is_not_looked_up(engine: Engine) -> None:
    bare = make_entry("list.txt", "line 1", 1, text="12")
    (row,) = await run(AuditRunner(engine.service.lookup_article), [bare])
    assert row.status == "no_identifier" and row.problem
    assert engine.upstream.requests == []
