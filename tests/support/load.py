"""Many clients at once against the daemon running as a process, as a user's would.

``run_load`` starts the fake upstream and ``oahelper serve`` as processes on
127.0.0.1, lets ``clients`` aiohttp sessions each make ``per_client`` lookups at the
same time (DOIs of the recordings and unknown ones, typed several ways, and pages
sent with their HTML, some of them not articles), checks every answer against what
the recording says, stops both processes and returns the figures. The load test
(tests/test_load.py) asserts on what it returns; scripts/bench_load.py prints it.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from oahelper.identifiers import doi_key, normalise_doi
from tests.support.fake_upstream import THROTTLED_SOURCES, Recordings, upstream_env
from tests.support.payload import payload_problems
from tests.support.processes import daemon, fake_upstream, free_port, oahelper

EMAIL = "load@uni.edu"
PAGE_HOST = "http://127.0.0.1/"  # never fetched: every page is sent with its HTML
# How a user or a page may write the same DOI; all must land on one cache entry.
DOI_SPELLINGS = ("{doi}", "{upper}", "doi:{doi}", "https://doi.org/{doi}", " {doi}. ")
# Share of lookups that send a page instead of a DOI, and of pages that are news.
PAGE_SHARE, NEWS_SHARE = 0.35, 0.08


@dataclass(frozen=True)
class Ask:
    """One lookup: the body sent and the DOI (case-folded) the answer must be about,
    or None when the page is no article."""

    body: dict[str, str]
    doi: str | None


@dataclass(frozen=True)
class Answer:
    ask: Ask
    status: int
    ms: float
    payload: Any


def pool(recordings: Recordings, distinct: int) -> list[str]:
    """``distinct`` DOIs: every recorded one (found and not found), then unknown ones."""
    recorded = [d for d in [*recordings.records, *recordings.not_found] if normalise_doi(d) == d]
    unknown = [f"10.5555/load.{n}" for n in range(max(0, distinct - len(recorded)))]
    return (recorded + unknown)[:distinct]


def article_page(doi: str, rng: random.Random) -> str:
    """A publisher-like page of ~8 KB: citation tags, prose, and a reference list
    full of other works' DOIs that must not be taken for the article's."""
    refs = "".join(f'<li><a href="https://doi.org/10.9{rng.randrange(100, 999)}/ref.{n}">ref {n}</a></li>'
                   for n in range(30))
    prose = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 40 + "</p>"
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>Article {doi}</title>'
            f'<meta name="citation_title" content="On the load of {doi}">'
            '<meta name="citation_author" content="Load, Lena"><meta name="citation_journal_title" '
            f'content="Journal of Concurrency"><meta name="citation_doi" content="{doi}">'
            f'</head><body><nav>menu</nav><article>{prose * 2}</article>'
            f'<section class="references"><h2>References</h2><ol>{refs}</ol></section></body></html>')


NEWS_PAGE = ("<!doctype html><html><head><title>Council approves new bus lanes</title>"
             '<meta property="og:type" content="article"></head><body><p>The city council '
             "voted on Tuesday.</p></body></html>")


def plan_load(rng: random.Random, dois: list[str], clients: int, per_client: int) -> list[list[Ask]]:
    """Each client's lookups. Every DOI of ``dois`` is asked at least once (when there
    are enough lookups), then DOIs are drawn at random, so many are asked by several
    clients at the same moment."""
    total = clients * per_client
    chosen = dois[:total] + [rng.choice(dois) for _ in range(total - min(total, len(dois)))]
    asks = []
    for n, doi in enumerate(chosen):
        roll = rng.random()
        if roll < NEWS_SHARE:
            asks.append(Ask({"url": f"{PAGE_HOST}news/{n}", "html": NEWS_PAGE}, None))
        elif roll < PAGE_SHARE:
            asks.append(Ask({"url": f"{PAGE_HOST}article/{n}", "html": article_page(doi, rng)},
                            doi_key(doi)))
        else:
            spelling = rng.choice(DOI_SPELLINGS).format(doi=doi, upper=doi.upper())
            asks.append(Ask({"doi": spelling}, doi_key(doi)))
    rng.shuffle(asks)
    return [asks[i::clients] for i in range(clients)]


def expected_status(recordings: Recordings, doi: str | None) -> str:
    """What the answer's status must be for ``doi``, from the recording alone."""
    if doi is None:
        return "not_article"
    record = recordings.record(doi)
    if record is None:  # no source knows it: "not found", never "no free copy"
        return "not_found"
    return "open" if record.get("is_oa") else "closed"


def answer_problems(recordings: Recordings, answer: Answer) -> list[str]:
    """What is wrong with one answer: status, shape, and whether it is about the DOI asked."""
    if answer.status != 200:
        return [f"HTTP {answer.status}: {str(answer.payload)[:200]}"]
    problems = payload_problems(answer.payload)
    if problems:
        return problems
    got_doi = answer.payload["article"]["doi"]
    if (doi_key(got_doi) if got_doi else None) != answer.ask.doi:
        problems.append(f"answer about {got_doi!r}, asked {answer.ask.doi!r}")
    want = expected_status(recordings, answer.ask.doi)
    if answer.payload["status"] != want:
        problems.append(f"status {answer.payload['status']!r}, recording says {want!r}")
    return problems


async def _one_client(port: int, token: str, asks: list[Ask]) -> list[Answer]:
    """One user's session: its lookups one after the other."""
    url = f"http://127.0.0.1:{port}/v1/lookup"
    headers = {"Authorization": f"Bearer {token}"}
    answers = []
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=60)) as session:
        for ask in asks:
            started = time.perf_counter()
            async with session.post(url, json=ask.body) as resp:
                payload = await resp.json(content_type=None)
                answers.append(Answer(ask, resp.status, (time.perf_counter() - started) * 1000, payload))
    return answers


async def drive(port: int, token: str, plan: list[list[Ask]]) -> tuple[list[Answer], float]:
    """All clients at once; their answers and the wall-clock seconds it took."""
    started = time.perf_counter()
    per_client = await asyncio.gather(*(_one_client(port, token, asks) for asks in plan))
    return [a for answers in per_client for a in answers], time.perf_counter() - started


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def upstream_calls(log: Path) -> Counter[str]:
    """Unpaywall calls per case-folded DOI, from the fake upstream's request log."""
    calls: Counter[str] = Counter()
    for line in log.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["service"] == "unpaywall":
            calls[doi_key(entry["doi"])] += 1
    return calls


@contextmanager
def _home(home: Path | None) -> Iterator[Path]:
    if home is not None:
        yield home
        return
    with tempfile.TemporaryDirectory(prefix="oahelper-load-") as temp:
        yield Path(temp)


def run_load(*, clients: int = 50, per_client: int = 40, distinct: int = 200, seed: int = 1,
             upstream_delay: float = 0.0, home: Path | None = None,
             fail: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run the load; figures, problems and what the upstream was asked. ``fail``: the
    fake upstream's ``SERVICE:KIND`` plans (a source failing at every request).

    ``home`` (default: a temporary folder, removed afterwards) is the daemon's
    OAHELPER_HOME; its cache is at ``home/data/cache.sqlite3`` once this returns.
    """
    recordings = Recordings.load()
    dois = pool(recordings, distinct)
    plan = plan_load(random.Random(seed), dois, clients, per_client)
    with _home(home) as folder:
        # A clean environment, but the fake upstream must serve the recordings this
        # process expects (OAHELPER_SHARED_FIXTURES may point elsewhere).
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("OAHELPER_") or k == "OAHELPER_SHARED_FIXTURES"}
        # One script token stands for 50 clients here: the per-client budget of lookups
        # (tests/test_call_budget.py) is set out of the way of what this measures.
        # The sources with one slot a second are off too: under 50 clients they are busy
        # for nearly every lookup, whose answer would then be "pending" (asked again
        # later), while this checks each answer against the recording at once.
        env |= {"OAHELPER_HOME": str(folder), "OAHELPER_UNPAYWALL_EMAIL": EMAIL,
                "OAHELPER_LOG_LEVEL": "warning", "OAHELPER_LOOKUPS_PER_MINUTE": "1000000",
                "OAHELPER_DISABLED_SOURCES": THROTTLED_SOURCES}
        log = folder / "upstream.jsonl"
        with fake_upstream(env, delay=upstream_delay, log=log, fail=fail) as base:
            env |= upstream_env(base)
            token = oahelper(["token", "create", "--name", "load"], env).stdout.split()[-1]
            port = free_port()
            with daemon(env, port):
                answers, seconds = asyncio.run(drive(port, token, plan))
        calls = upstream_calls(log)
        by_service = Counter(json.loads(line)["service"]
                             for line in log.read_text(encoding="utf-8").splitlines())
    latencies = [a.ms for a in answers]
    problems = [f"{a.ask.body.get('doi') or a.ask.body['url']}: {p}"
                for a in answers for p in answer_problems(recordings, a)]
    return {
        "lookups": len(answers), "clients": clients, "seconds": seconds,
        "throughput": len(answers) / seconds,
        "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
        "mean_ms": statistics.fmean(latencies), "max_ms": max(latencies),
        "upstream_delay": upstream_delay, "problems": problems,
        "asked": sorted({a.ask.doi for a in answers if a.ask.doi}),
        "upstream_calls": dict(calls), "calls_by_service": dict(by_service),
    }
