"""Benchmarks of the Unpaywall snapshot (README, "The Unpaywall snapshot"), in one run.

    scripts/bench --snapshot                      # 200,000 and 2,000,000 records; 1,000,000-DOI audit
    scripts/bench --snapshot --sizes 20000 --audit 20000 --work /tmp/b   # a quick look

For each size N, on N records made by scripts/make-snapshot (kept in --work, reused):

1. import: DuckDB's own ``read_json`` of the file into a plain table (the yardstick),
   then ``oahelper snapshot import`` of the same file, each a process of its own:
   records/s, their ratio (goal: within 2x), disk bytes per record, peak memory;
2. lookup: ``/v1/lookup`` of DOIs held by the snapshot through the daemon (offline, so
   only local sources answer; every DOI asked once, so the cache never answers):
   p50 and p99 (goal: p50 <= 5 ms at every size);
3. at the largest size: ``oahelper audit`` of --audit DOIs, half of them in the
   snapshot, offline, writing CSV and JSON reports: seconds end to end (goal: <= 60 s
   for 1,000,000 DOIs against 2,000,000 records); the Parquet export, and the audit
   query of docs/scale.md run by DuckDB on it.

Everything runs as real processes on 127.0.0.1, as a user's would. The machine is
shared: each figure comes with the load average when it was taken.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
import duckdb  # noqa: E402

from tests.support.load import percentile  # noqa: E402
from oahelper.snapshot.store import duckdb_memory  # noqa: E402
from tests.support.processes import PYTHON, daemon, free_port, oahelper  # noqa: E402

PLAIN_READ = """
import duckdb, sys
con = duckdb.connect(sys.argv[2], config={"memory_limit": sys.argv[3]})
path = sys.argv[1].replace("'", "''")
con.execute(f"CREATE TABLE plain AS SELECT * FROM read_json('{path}', format = 'newline_delimited')")
print(con.execute("SELECT count(*) FROM plain").fetchone()[0])
"""
AUDIT_SQL = REPO / "docs" / "scale" / "audit.sql"
LAST_CPU = 0.0


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def timed_process(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(seconds, peak resident MiB, stdout) of one process, waited for with wait4; its
    CPU seconds (user + system) are kept in ``LAST_CPU``: on a shared machine the
    wall-clock time depends on the others' load, the CPU time much less."""
    global LAST_CPU
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=out, stderr=subprocess.DEVNULL,
                                text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - started
        LAST_CPU = usage.ru_utime + usage.ru_stime
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{text}")
    return took, usage.ru_maxrss // 1024, text


def make_feed(work: Path, n: int) -> Path:
    feed = work / f"snapshot-{n}.jsonl.gz"
    if not feed.exists():
        started = time.perf_counter()
        part = work / f"snapshot-{n}.part.jsonl.gz"
        subprocess.run([PYTHON, "-m", "tests.support.snapshot_data", str(n), "-o", str(part)],
                       cwd=REPO, check=True)
        part.replace(feed)
        print(f"  made {n:,} records in {time.perf_counter() - started:.0f} s ({feed.stat().st_size / 1e6:.0f} MB gzip)")
    return feed


def bench_import(work: Path, n: int, env: dict[str, str], memory: str) -> Path:
    feed = make_feed(work, n)
    plain_db = work / f"plain-{n}.duckdb"
    plain_db.unlink(missing_ok=True)
    # The yardstick gets what oahelper gives DuckDB of the same setting.
    plain_s, plain_mib, _ = timed_process([PYTHON, "-c", PLAIN_READ, str(feed), str(plain_db),
                                           duckdb_memory(memory)], env)
    plain_db.unlink(missing_ok=True)
    home = work / f"home-{n}"
    db = home / "data" / "snapshot.duckdb"
    for leftover in (db, Path(f"{db}.wal")):
        leftover.unlink(missing_ok=True)
    ours_s, ours_mib, _ = timed_process([PYTHON, "-m", "oahelper", "snapshot", "import", str(feed)],
                                        env | {"OAHELPER_HOME": str(home)})
    disk = db.stat().st_size + (Path(f"{db}.wal").stat().st_size if Path(f"{db}.wal").exists() else 0)
    print(f"  import {n:,}: oahelper {n / ours_s:,.0f} records/s ({ours_s:.0f} s, peak {ours_mib} MiB); "
          f"DuckDB read_json into a plain table {n / plain_s:,.0f} records/s ({plain_s:.0f} s, "
          f"peak {plain_mib} MiB); ratio {ours_s / plain_s:.2f} (goal <= 2); "
          f"{disk / n:,.0f} bytes/record on disk; DuckDB memory_limit {memory}; {load()}")
    return home


def sample_dois(db: Path, k: int) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.execute(f"SELECT doi FROM records USING SAMPLE {k} ROWS").fetchall()]


async def lookups(port: int, token: str, dois: list[str]) -> list[float]:
    url = f"http://127.0.0.1:{port}/v1/lookup"
    times = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"},
                                     timeout=aiohttp.ClientTimeout(total=30)) as session:
        for i, doi in enumerate(dois):
            started = time.perf_counter()
            async with session.post(url, json={"doi": doi}) as resp:
                payload = await resp.json()
            if i >= 20:  # the first ones open the database
                times.append((time.perf_counter() - started) * 1000)
            assert payload["sources"]["snapshot"]["state"] == "ok", payload["sources"]
    return times


def bench_lookup(home: Path, n: int, env: dict[str, str]) -> None:
    env = env | {"OAHELPER_HOME": str(home), "OAHELPER_OFFLINE": "true", "OAHELPER_LOG_LEVEL": "warning"}
    dois = sample_dois(home / "data" / "snapshot.duckdb", 520)
    token = oahelper(["token", "create", "--name", f"bench-{time.time_ns()}"], env).stdout.split()[-1]
    port = free_port()
    with daemon(env, port):
        times = asyncio.run(lookups(port, token, dois))
    print(f"  /v1/lookup from the snapshot of {n:,}: p50 {percentile(times, 50):.1f} ms "
          f"(goal <= 5), p99 {percentile(times, 99):.1f} ms, {len(times)} DOIs each asked once; {load()}")


def bench_audit(home: Path, n: int, m: int, env: dict[str, str], work: Path) -> None:
    env = env | {"OAHELPER_HOME": str(home), "OAHELPER_OFFLINE": "true"}
    listing = work / f"audit-{m}-of-{n}.txt"
    if not listing.exists():
        present = sample_dois(home / "data" / "snapshot.duckdb", m // 2)
        dois = present + [f"10.9999/not.in.the.snapshot.{i}" for i in range(m - len(present))]
        random.Random(1).shuffle(dois)
        listing.write_text("\n".join(dois) + "\n", encoding="utf-8")
    outs = [work / "audit.csv", work / "audit.json"]
    took, mib, text = timed_process([PYTHON, "-m", "oahelper", "audit", str(listing),
                                     *(a for o in outs for a in ("--out", str(o)))], env)
    size = sum(o.stat().st_size for o in outs) / 1e6
    print(f"  audit of {m:,} DOIs (half in the snapshot) against {n:,} records, offline, CSV + JSON "
          f"reports ({size:.0f} MB): {took:.1f} s end to end (goal <= 60 s; CPU {LAST_CPU:.1f} s), "
          f"peak {mib} MiB; {load()}")
    print(f"    {text.strip()}")

    parquet = work / f"parquet-{n}"
    if not parquet.exists():
        took, mib, _ = timed_process([PYTHON, "-m", "oahelper", "snapshot", "export", "--parquet",
                                      str(parquet)], env)
        print(f"  export of {n:,} records to Parquet: {took:.0f} s (CPU {LAST_CPU:.0f} s), peak "
              f"{mib} MiB (goal: within snapshot_memory, {env['OAHELPER_SNAPSHOT_MEMORY']}); {load()}")
    csv_list = work / f"audit-{m}-of-{n}.csv"
    csv_list.write_text("doi\n" + listing.read_text(encoding="utf-8"), encoding="utf-8")
    started = time.perf_counter()
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW snapshot AS SELECT * FROM read_parquet("
                    f"'{parquet}/*/*.parquet', hive_partitioning = true)")
        con.execute(f"CREATE VIEW dois AS SELECT * FROM read_csv('{csv_list}')")
        query = AUDIT_SQL.read_text(encoding="utf-8")
        con.execute(f"COPY ({query}) TO '{work / 'query.csv'}' (HEADER)")
    print(f"  docs/scale.md's audit query, DuckDB on the Parquet export: "
          f"{time.perf_counter() - started:.1f} s for {m:,} DOIs against {n:,} records; {load()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench --snapshot")
    parser.add_argument("--sizes", default="200000,2000000", help="snapshot sizes (records)")
    parser.add_argument("--audit", type=int, default=1_000_000, help="DOIs in the audited list")
    parser.add_argument("--work", type=Path, help="keep generated files here (default: a temporary folder)")
    parser.add_argument("--memory", default="2GiB", help="DuckDB memory limit for both imports")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
    env["OAHELPER_SNAPSHOT_MEMORY"] = args.memory
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        print(f"snapshot benchmarks ({os.cpu_count()} cores; figures taken while the machine "
              "was shared are noisy)")
        home = None
        for n in sizes:
            home = bench_import(work, n, env, args.memory)
            bench_lookup(home, n, env)
        if home is not None and args.audit:
            bench_audit(home, sizes[-1], args.audit, env, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
