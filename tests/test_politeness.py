"""Politeness: each upstream's limits in one place, kept across lookups, never past a deadline."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from oahelper.errors import SourceThrottled
from oahelper.models import Article, WorkQuery
from oahelper.sources.politeness import UPSTREAM_LIMITS, Gate, Limit, Politeness, parse_interval
from oahelper.sources.arxiv import ArXiv
from oahelper.sources.crossref import Crossref
from oahelper.sources.europepmc import EuropePMC
from oahelper.sources.openalex import OpenAlex
from oahelper.sources.semanticscholar import SemanticScholar
from tests.support.daemon import start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import (
    FakeUpstream,
    session,  # noqa: F401 (fixture)
    upstream,  # noqa: F401 (fixture)
)
from tests.support.shared import require_shared


def test_the_published_limits_are_in_the_table() -> None:
    assert (UPSTREAM_LIMITS["arxiv"].rate, UPSTREAM_LIMITS["arxiv"].per,
            UPSTREAM_LIMITS["arxiv"].concurrency) == (1, 3.0, 1)
    assert (UPSTREAM_LIMITS["crossref"].rate, UPSTREAM_LIMITS["crossref"].concurrency) == (10, 3)
    assert UPSTREAM_LIMITS["semanticscholar"].rate == 1
    assert UPSTREAM_LIMITS["unpaywall"].patience is None  # the main source is waited for


def test_one_gate_per_upstream_for_the_process() -> None:
    polite = Politeness()
    assert polite.gate("arxiv") is polite.gate("arxiv")
    assert polite.gate("arxiv") is not polite.gate("crossref")


async def test_requests_are_spaced_and_a_slot_after_the_deadline_is_refused_at_once() -> None:
    gate = Gate("slowly", Limit(1, 0.3, 1))
    started = time.monotonic()
    async with gate.slot(gate.now() + 5):
        pass
    async with gate.slot(gate.now() + 5):  # waits for the bucket
        pass
    assert time.monotonic() - started >= 0.25
    before = time.monotonic()
    with pytest.raises(SourceThrottled, match="one request every 0.3 s"):
        async with gate.slot(gate.now() + 0.05):
            pass
    assert time.monotonic() - before < 0.05 + 0.2  # refused, not awaited


async def test_a_queue_longer_than_the_patience_is_not_joined() -> None:
    gate = Gate("s2", Limit(1, 0.5, 1, patience=0.5))  # the next slot, not a queue
    outcomes: list[str] = []

    async def one() -> None:
        try:
            async with gate.slot(gate.now() + 10):
                outcomes.append("asked")
        except SourceThrottled:
            outcomes.append("skipped")

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(5)))
    assert outcomes.count("asked") == 2 and outcomes.count("skipped") == 3
    assert time.monotonic() - started < 2.0  # nobody queued behind two intervals


async def test_concurrency_is_capped() -> None:
    gate = Gate("narrow", Limit(100, 1.0, 2))
    inside = peak = 0

    async def one() -> None:
        nonlocal inside, peak
        async with gate.slot(gate.now() + 5):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.02)
            inside -= 1

    await asyncio.gather(*(one() for _ in range(8)))
    assert peak == 2


async def test_retry_after_holds_every_lookup_and_headers_set_the_limits() -> None:
    gate = Gate("crossref", Limit(10, 1.0, 3))
    gate.observe(429, {}, 30.0)
    with pytest.raises(SourceThrottled, match="asked to wait 30 s"):
        async with gate.slot(gate.now() + 5):
            pass
    polite = Gate("crossref", Limit(10, 1.0, 3))
    polite.observe(200, {"x-rate-limit-limit": "5", "x-rate-limit-interval": "1s",
                         "x-concurrency-limit": "1"}, None)
    assert (polite.limit.rate, polite.limit.per, polite.limit.concurrency) == (5, 1.0, 1)
    polite.observe(200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "64147"}, None)
    assert polite.blocked_until - polite.now() > 60000
    assert parse_interval("1s") == 1.0 and parse_interval("500ms") == 0.5 and parse_interval("x") is None


async def test_a_throttled_source_is_skipped_with_the_reason(upstream, session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    gate = Politeness({"europepmc": Limit(1, 60.0, 1)}).gate("europepmc")
    source = EuropePMC(f"{base}/europepmc", gate=gate)
    first = await source.lookup(Article(pmid="1"), session, 2.0)
    second = await source.lookup(Article(pmid="2"), session, 2.0)
    assert first.state == "not_found"
    assert second.state == "skipped" and second.error_code == "source_throttled"
    assert "one request every 60 s" in second.error and second.calls == 0
    assert len(fake.requests) == 1
    assert source.health().last_error is None  # our own limit is no upstream error


async def test_a_429_with_retry_after_reaches_the_gate(upstream, session) -> None:
    fake, base = upstream
    gate = Politeness().gate("europepmc")
    fake.plan("429", retry_after=120, service="europepmc")
    answer = await EuropePMC(f"{base}/europepmc", gate=gate).lookup(Article(pmid="1"), session, 2.0)
    assert answer.state == "error" and answer.error_code == "source_rate_limited"
    assert gate.blocked_until - gate.now() > 100
    fake.clear()
    later = await EuropePMC(f"{base}/europepmc", gate=gate).lookup(Article(pmid="2"), session, 2.0)
    assert later.state == "skipped" and fake.requests == []


AUGMENTING = "Augmenting large language models with chemistry tools"
TITLE = WorkQuery(kind="title", title=AUGMENTING)
# Every source that asks the network, built on the fake at ``base`` with ``gate``, and
# asked the way a lookup (or a title search) asks it: (source, how to ask it).
ASKED = {
    "europepmc lookup": (lambda base, gate: EuropePMC(f"{base}/europepmc", gate=gate),
                         lambda src, session: src.lookup(Article(pmid="40437959"), session, 5.0)),
    "crossref lookup": (lambda base, gate: Crossref(f"{base}/crossref", "me@uni.edu", gate=gate),
                        lambda src, session: src.lookup(Article(doi="10.1038/srep16696"), session, 5.0)),
    "crossref search": (lambda base, gate: Crossref(f"{base}/crossref", "me@uni.edu", gate=gate),
                        lambda src, session: src.search(TITLE, session, 5.0)),
    "semanticscholar lookup": (
        lambda base, gate: SemanticScholar(f"{base}/semanticscholar", gate=gate),
        lambda src, session: src.lookup(Article(doi="10.1073/pnas.1414271111"), session, 5.0)),
    "semanticscholar search": (
        lambda base, gate: SemanticScholar(f"{base}/semanticscholar", gate=gate),
        lambda src, session: src.search(TITLE, session, 5.0)),
    "openalex lookup": (
        lambda base, gate: OpenAlex(f"{base}/openalex", gate=gate),
        lambda src, session: src.lookup(Article(doi="10.1371/journal.pone.0000030"), session, 5.0)),
    "openalex search": (lambda base, gate: OpenAlex(f"{base}/openalex", gate=gate),
                        lambda src, session: src.search(TITLE, session, 5.0)),
}


@pytest.mark.parametrize("asked", sorted(ASKED))
async def test_every_source_waits_as_a_429_asks_then_answers(upstream, session, asked: str) -> None:
    """A 429 with Retry-After from any upstream: the request is tried again no sooner than
    it asks, and the recorded answer comes."""
    service = asked.split()[0]
    require_shared(service)
    fake, base = upstream
    fake.plan("429", retry_after="1.2", times=1, service=service)  # more than any backoff
    build, ask = ASKED[asked]
    answer = await ask(build(base, Politeness().gate(service)), session)
    assert answer.state == "ok" and answer.calls == 2, answer
    first, second = (r["t"] for r in fake.requests if r["service"] == service)
    assert second - first >= 1.2


async def test_arxiv_is_not_retried_but_its_retry_after_holds_every_lookup(upstream, session) -> None:
    fake, base = upstream
    gate = Politeness().gate("arxiv")
    fake.plan("429", retry_after="120", times=1, service="arxiv")
    first = await ArXiv(f"{base}/arxiv", gate=gate).lookup(Article(arxiv="1605.08386"), session, 5.0)
    assert first.state == "error" and first.error_code == "source_rate_limited" and first.calls == 1
    later = await ArXiv(f"{base}/arxiv", gate=gate).search(TITLE, session, 5.0)
    assert later.state == "skipped" and "asked to wait 120 s" in later.error
    assert len(fake.requests) == 1


async def test_a_lookup_goes_on_without_a_busy_source_and_says_why(start_daemon) -> None:
    """Through the daemon: arXiv asked a moment ago cannot be asked again before this
    lookup's deadline, so the answer comes from the rest, arXiv is asked in the
    background (pending) and the next lookup has its answer."""
    require_shared("arxiv")
    d = await start_daemon(timeout=1.5)
    await d.lookup_json({"doi": "arXiv:1605.08386"})
    p = await d.lookup_json({"doi": "arXiv:1707.08567"})
    arxiv = p["sources"]["arxiv"]
    assert arxiv["state"] == "skipped" and arxiv["error"] == "arXiv was busy; asking again", arxiv
    assert p["pending"] == ["arxiv"] and "allows" not in json.dumps(p)
    assert p["status"] == "open" and p["best"]["url"] == "https://arxiv.org/pdf/1707.08567"
    assert len([r for r in d.upstream.requests if r["service"] == "arxiv"]) == 1
    for _ in range(80):  # arXiv's next slot comes within 3 s: the background asks then
        if len([r for r in d.upstream.requests if r["service"] == "arxiv"]) == 2:
            break
        await asyncio.sleep(0.1)
    again = await d.lookup_json({"doi": "arXiv:1707.08567"})
    assert again["pending"] == [] and again["sources"]["arxiv"]["state"] in ("ok", "not_found")
    assert again["sources"]["arxiv"]["cached"] is True
