"""Benchmarks of reading lists: `oahelper audit` on 10,000 DOIs, and /v1/batch.

    .venv/bin/python scripts/bench_audit.py     # alone (scripts/bench runs it too)

1. `oahelper audit` of a plain list of 10,000 DOIs (9,000 distinct) against a fake
   Unpaywall answering each in 50 ms, as a user runs it (a process): entries per second,
   upstream calls (goal: one per distinct DOI), peak memory (goal: flat — the same for
   1,000 and 10,000 entries); then the same command again (goal: 0 upstream calls, under
   10 s, every answer from the cache).
2. A 300-reference /v1/batch whose answers are all cached: time to the last line
   (goal: under 1 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.processes import PYTHON, daemon, fake_upstream, free_port, oahelper  # noqa: E402

UPSTREAM_DELAY = 0.05


def _peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):  # the process's peak resident memory so far
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run_audit(listing: Path, out: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run one audit as a user would: (seconds, peak resident MiB of the process)."""
    started = time.perf_counter()
    proc = subprocess.Popen([PYTHON, "-m", "oahelper", "audit", str(listing), "--out", str(out)],
                            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _peak_rss_mib(proc.pid) or 0.0)
        time.sleep(0.05)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"audit failed ({proc.returncode}): {proc.stderr.read()}")
    return took, peak


def _calls(log: Path) -> int:
    return sum(1 for line in log.read_text().splitlines() if line.strip()) if log.exists() else 0


def bench_audit_cli() -> None:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
        env |= {"OAHELPER_HOME": str(home / "home"), "OAHELPER_UNPAYWALL_EMAIL": "bench@uni.edu"}
        small, big = home / "small.txt", home / "big.txt"
        small.write_text("".join(f"10.5555/bench.small.{i}\n" for i in range(1_000)))
        dois = [f"10.5555/bench.audit.{i % 9_000}" for i in range(10_000)]  # 1,000 listed twice
        big.write_text("".join(f"{d}\n" for d in dois))
        log = home / "upstream.jsonl"
        with fake_upstream(env, delay=UPSTREAM_DELAY, log=log) as base:
            env["OAHELPER_UNPAYWALL_URL"] = base
            _, small_peak = run_audit(small, home / "small.csv", env)
            before = _calls(log)
            took, peak = run_audit(big, home / "big.csv", env)
            calls = _calls(log) - before
            print(f"audit of 10,000 DOIs (9,000 distinct), Unpaywall answering in "
                  f"{UPSTREAM_DELAY * 1000:.0f} ms: {10_000 / took:.0f} entries/s ({took:.1f} s); "
                  f"{calls} upstream calls (goal: 9000, one per distinct DOI); peak memory "
                  f"{peak:.0f} MiB for 10,000 vs {small_peak:.0f} MiB for 1,000 (goal: flat)")
            before = _calls(log)
            again, _ = run_audit(big, home / "big.csv", env)
            print(f"the same audit again: {_calls(log) - before} upstream calls (goal: 0), "
                  f"{again:.1f} s (goal: < 10 s)")
            rows = (home / "big.csv").read_text(encoding="utf-8-sig").count("\n") - 1
            assert rows == 10_000, rows


def bench_batch(port: int, token: str) -> None:
    """300 references whose answers are cached: the time to the last NDJSON line."""
    items = [{"doi": f"10.5555/bench.batch.{i}", "title": f"Reference {i}"} for i in range(300)]

    def post() -> tuple[float, list[dict]]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/batch", data=json.dumps({"items": items}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=120) as resp:
            lines = [json.loads(line) for line in resp if line.strip()]
        return (time.perf_counter() - started) * 1000, lines

    post()  # answers into the cache
    times = []
    for _ in range(5):
        ms, lines = post()
        assert lines[-1] == {"done": True, "total": 300, "free": 0} and len(lines) == 301, lines[-1]
        times.append(ms)
    print(f"/v1/batch of 300 references, all cached: last answer after {min(times):.0f} ms best, "
          f"{max(times):.0f} ms worst of 5 (goal: < 1000 ms)")


def main() -> int:
    bench_audit_cli()
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
        env |= {"OAHELPER_HOME": home, "OAHELPER_UNPAYWALL_EMAIL": "bench@uni.edu",
                "OAHELPER_LOG_LEVEL": "warning"}
        with fake_upstream(env, delay=UPSTREAM_DELAY) as base:
            env["OAHELPER_UNPAYWALL_URL"] = base
            port = free_port()
            token = oahelper(["token", "create", "--name", "bench"], env).stdout.split()[-1]
            with daemon(env, port):
                bench_batch(port, token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
