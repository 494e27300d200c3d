"""/v1/health while another process holds the cache database's write lock.

    .venv/bin/python scripts/bench_storage.py        # also run by scripts/bench

The daemon and the fake upstream run as real processes. Eight clients keep making
cold lookups (each one writes its answer to the cache) while /v1/health is asked
every 20 ms, first with the cache free, then while a third process holds SQLite's
write lock for 3 s (what an `oahelper audit` or a second CLI command can do).
Goal (issue 15): every /v1/health within 250 ms while the lock is held; the lookups
go on too (their answers are written once the lock is free).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402

from tests.support.fake_upstream import upstream_env  # noqa: E402
from tests.support.load import percentile  # noqa: E402
from tests.support.processes import PYTHON, daemon, fake_upstream, free_port, oahelper  # noqa: E402

HOLD_SECONDS = 3.0
GOAL_MS = 250.0
CLIENTS = 8
# The third process: take the write lock, say so, hold it, let go.
HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
"""


async def _phase(port: int, token: str, seconds: float, dois: itertools.count
                 ) -> tuple[list[float], list[float]]:
    """(/v1/health times, lookup times) in ms, over ``seconds`` of load."""
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    health: list[float] = []
    lookups: list[float] = []
    end = time.monotonic() + seconds
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def client() -> None:
            while time.monotonic() < end:
                started = time.perf_counter()
                doi = f"10.5555/bench-storage-{next(dois)}"
                async with session.post(f"{base}/v1/lookup", json={"doi": doi},
                                        headers=auth) as resp:
                    await resp.read()
                lookups.append((time.perf_counter() - started) * 1000)

        async def poll() -> None:
            while time.monotonic() < end:
                started = time.perf_counter()
                async with session.get(f"{base}/v1/health") as resp:
                    await resp.read()
                health.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.02)

        await asyncio.gather(poll(), *(client() for _ in range(CLIENTS)))
    return health, lookups


def _describe(name: str, health: list[float], lookups: list[float]) -> str:
    return (f"{name}: /v1/health p50 {percentile(health, 50):.1f} ms, p99 "
            f"{percentile(health, 99):.1f} ms, slowest {max(health):.1f} ms ({len(health)} asked); "
            f"{len(lookups)} cold lookups, p50 {percentile(lookups, 50):.0f} ms, "
            f"slowest {max(lookups):.0f} ms")


def bench_storage() -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
        env |= {"OAHELPER_HOME": home, "OAHELPER_UNPAYWALL_EMAIL": "bench@uni.edu",
                "OAHELPER_LOG_LEVEL": "warning", "OAHELPER_LOOKUPS_PER_MINUTE": "1000000",
                "OAHELPER_DISABLED_SOURCES": "semanticscholar,openalex,arxiv,crossref"}
        with fake_upstream(env, delay=0.05) as base:
            env |= upstream_env(base)
            port = free_port()
            token = oahelper(["token", "create", "--name", "bench"], env).stdout.split()[-1]
            cache_db = Path(oahelper(["config", "show"], env).stdout.split("data folder: ")[1]
                            .splitlines()[0]) / "cache.sqlite3"
            dois = itertools.count()
            with daemon(env, port):
                free = asyncio.run(_phase(port, token, HOLD_SECONDS, dois))
                holder = subprocess.Popen([PYTHON, "-c", HOLDER, str(cache_db), str(HOLD_SECONDS)],
                                          stdout=subprocess.PIPE, text=True)
                try:
                    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
                    locked = asyncio.run(_phase(port, token, HOLD_SECONDS, dois))
                finally:
                    holder.wait(timeout=30)
    print("storage: " + _describe("cache free", *free))
    print("storage: " + _describe(f"write lock held {HOLD_SECONDS:.0f} s by another process",
                                  *locked))
    slowest = max(locked[0])
    print(f"storage: goal every /v1/health <= {GOAL_MS:.0f} ms while locked: "
          f"{'met' if slowest <= GOAL_MS else 'NOT met'} (slowest {slowest:.1f} ms, "
          f"{slowest / max(free[0]):.1f}x the slowest with the cache free)")


if __name__ == "__main__":
    bench_storage()
