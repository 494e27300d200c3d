"""Benchmark: title lookups, cold and warm, with every fake upstream answering in 200 ms.

    .venv/bin/python scripts/bench_title.py      (also run by scripts/bench)

Cold: a fresh daemon (empty cache, fresh politeness limits) per run, one lookup of a
recorded title. Goal <= 450 ms end to end: one search round (Crossref, Semantic Scholar,
OpenAlex, arXiv at once), then one identifier round (the rest at once). Two titles: a
journal article with a publisher DOI, and an arXiv-only preprint that only Semantic
Scholar finds (arXiv, already searched, is not asked again by id). Warm: the first
title again, answered from the cache (goal p50 <= 10 ms). Also: how many upstream calls
one cold title lookup makes, by upstream; and a second, different title looked up right
after the first in the same daemon, which meets arXiv's one request every 3 s and
Semantic Scholar's one a second (no goal: the figure says what politeness costs).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402

from tests.support.fake_upstream import upstream_env  # noqa: E402
from tests.support.load import percentile  # noqa: E402
from tests.support.processes import daemon, fake_upstream, free_port, oahelper  # noqa: E402
from tests.support.shared import shared_fixtures  # noqa: E402

TITLE = "Augmenting large language models with chemistry tools"
PREPRINT = "PaperQA: Retrieval-Augmented Generative Agent for Scientific Research"
UPSTREAM_DELAY = 0.2
COLD_RUNS = 5
WARM_RUNS = 200


async def _lookups(port: int, token: str, title: str, n: int) -> list[tuple[float, dict]]:
    url = f"http://127.0.0.1:{port}/v1/lookup"
    out = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
        for _ in range(n):
            started = time.perf_counter()
            async with session.post(url, json={"query": title}) as resp:
                payload = await resp.json()
            out.append(((time.perf_counter() - started) * 1000, payload))
    return out


def _entries(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _calls(sent: list[dict]) -> str:
    counts = Counter(e["service"] for e in sent)
    return f"{len(sent)} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})"


def _ms(figures: list[float]) -> str:
    return f"median {statistics.median(figures):.0f} ms, max {max(figures):.0f} ms"


def bench_titles() -> None:
    cold: dict[str, list[float]] = {TITLE: [], PREPRINT: []}
    calls: dict[str, str] = {}
    warm: list[float] = []
    after: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
        base_env |= {"OAHELPER_UNPAYWALL_EMAIL": "bench@uni.edu", "OAHELPER_LOG_LEVEL": "warning"}
        log = Path(folder) / "upstream.jsonl"
        with fake_upstream(base_env | {"OAHELPER_HOME": f"{folder}/fake"}, delay=UPSTREAM_DELAY,
                           log=log) as base:
            for run in range(COLD_RUNS):
                for title in (TITLE, PREPRINT):
                    home = f"{folder}/run{run}-{len(calls)}-{title[:8]}"
                    env = base_env | upstream_env(base) | {"OAHELPER_HOME": home}
                    token = oahelper(["token", "create", "--name", "bench"], env).stdout.split()[-1]
                    port = free_port()
                    with daemon(env, port):
                        before = len(_entries(log))
                        (ms, payload), = asyncio.run(_lookups(port, token, title, 1))
                        assert payload["article"].get("match"), payload["badge"]
                        cold[title].append(ms)
                        calls.setdefault(title, _calls(_entries(log)[before:]))
                        if title == TITLE:
                            # another title at once: arXiv's and S2's next slots are later
                            (ms, payload), = asyncio.run(_lookups(port, token, PREPRINT, 1))
                            assert payload["article"].get("match"), payload["badge"]
                            after.append(ms)
                            if run == 0:
                                warm = [ms for ms, _ in asyncio.run(
                                    _lookups(port, token, TITLE, WARM_RUNS))]
    print(f"cold title lookup (journal article), every upstream at {UPSTREAM_DELAY * 1000:.0f} ms: "
          f"{_ms(cold[TITLE])} over {COLD_RUNS} fresh daemons (goal <= 450 ms)")
    print(f"cold title lookup (arXiv-only preprint found by Semantic Scholar): "
          f"{_ms(cold[PREPRINT])} over {COLD_RUNS} fresh daemons (goal <= 450 ms)")
    print(f"warm title lookup: p50 {percentile(warm, 50):.1f} ms, p99 {percentile(warm, 99):.1f} ms "
          f"(goal p50 <= 10 ms)")
    print(f"upstream calls per cold title lookup: journal article {calls[TITLE]}; "
          f"preprint {calls[PREPRINT]}")
    print(f"a second title right after the first in one daemon (arXiv 1 per 3 s, Semantic "
          f"Scholar 1 per s): {_ms(after)} over {COLD_RUNS} daemons (no goal)")


if __name__ == "__main__":
    if shared_fixtures() is None:
        print("../shared/fixtures not found: the title lookups need the recordings", file=sys.stderr)
        sys.exit(2)
    bench_titles()
