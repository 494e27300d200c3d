"""Throughput and latency of the daemon under many clients at once.

    .venv/bin/python scripts/bench_load.py [--clients 50] [--per-client 40] [--repeat 3]

Runs the load of tests/test_load.py (tests/support/load.py: the daemon and the fake
upstream as processes on 127.0.0.1; 50 sessions x 40 lookups over 200 DOIs, a third
of them pages sent with their HTML) and prints lookups/s and p50/p99 latency per run.
Every answer is checked too; a run with a wrong answer exits 1. ``run_load`` is
re-exported for scripts/bench.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.load import run_load  # noqa: E402

__all__ = ["main", "run_load"]


def describe(result: dict) -> str:
    """One line of figures for one run."""
    return (f"{result['lookups']} lookups from {result['clients']} clients in "
            f"{result['seconds']:.1f} s: {result['throughput']:.0f} lookups/s, "
            f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
            f"max {result['max_ms']:.0f} ms (upstream delay {result['upstream_delay'] * 1000:.0f} ms); "
            f"{len(result['asked'])} DOIs, {sum(result['upstream_calls'].values())} upstream calls, "
            f"{len(result['problems'])} wrong answers")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--per-client", type=int, default=40)
    parser.add_argument("--distinct", type=int, default=200, help="distinct DOIs in the mix")
    parser.add_argument("--upstream-delay", type=float, default=0.0,
                        help="seconds the fake upstream waits before each answer")
    parser.add_argument("--repeat", type=int, default=3, help="runs (each on a fresh cache)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs; daemon, fake upstream and clients share them)")
    results = []
    for run in range(args.repeat):
        result = run_load(clients=args.clients, per_client=args.per_client, distinct=args.distinct,
                          seed=args.seed + run, upstream_delay=args.upstream_delay)
        print(f"run {run + 1}: {describe(result)}", flush=True)
        for problem in result["problems"][:5]:
            print(f"  wrong answer: {problem}")
        results.append(result)
    if args.repeat > 1:
        print(f"median of {args.repeat} runs: "
              f"{statistics.median(r['throughput'] for r in results):.0f} lookups/s, "
              f"p50 {statistics.median(r['p50_ms'] for r in results):.0f} ms, "
              f"p99 {statistics.median(r['p99_ms'] for r in results):.0f} ms")
    return 1 if any(r["problems"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
