"""What honest answers cost (issue 16): link checks in a lookup, and a failing source.

    .venv/bin/python scripts/bench_honest.py        # also run by scripts/bench

1. A cold lookup (a new DOI, in a running daemon) whose copies' links are opened: a
   fake Unpaywall answering in 200 ms
   with the recorded record of 10.1038/nature12373, its four copies moved onto a fake web
   of four hosts (127.0.0.1 to 127.0.0.4, as real copies live on different hosts) each
   answering in 200 ms with a PDF of the article. Goal: the source's time plus one link
   round trip plus at most 50 ms. And the same lookup warm (nothing opened again).
2. 50 clients making the load of tests/test_load.py (mostly cached lookups) while
   Europe PMC answers every request with HTTP 500, against the same load with every
   source healthy. Goal: within 10% of the healthy throughput (the failing source is
   paused after three failures, so nobody waits on it).

Figures and ratios from one run; the machine's load is printed beside them.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from tests.support.load import run_load  # noqa: E402
from tests.support.processes import daemon, free_port, oahelper  # noqa: E402
from tests.support.shared import shared_fixtures  # noqa: E402
from tests.test_links_pdf import minimal_pdf  # noqa: E402

DOI = "10.1038/nature12373"
TITLE = "Nanometre-scale thermometry in a living cell"
DELAY = 0.2
RUNS = 7
HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")


async def _serve(app: web.Application, hosts: tuple[str, ...] = ("127.0.0.1",)
                 ) -> tuple[web.AppRunner, int]:
    """``app`` on one port of each of ``hosts``."""
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    for host in hosts:
        await web.TCPSite(runner, host, port).start()
    return runner, port


async def _links_figures(record: dict) -> tuple[list[float], list[float]]:
    """Cold and warm lookups in one running daemon; each cold one a new DOI whose four
    copies are new URLs (the fake Unpaywall moves the record's copies under the DOI)."""
    pdf = minimal_pdf([TITLE, f"doi:{DOI}"])

    async def a_pdf(_request: web.Request) -> web.Response:
        await asyncio.sleep(DELAY)
        return web.Response(body=pdf, content_type="application/pdf")

    site = web.Application()
    site.router.add_get("/{tail:.*}", a_pdf)
    web_runner, web_port = await _serve(site, hosts=HOSTS)

    async def unpaywall(request: web.Request) -> web.Response:
        asked = request.match_info["doi"]
        moved = json.loads(json.dumps(record)) | {"doi": asked}
        for n, location in enumerate(moved["oa_locations"]):
            url = f"http://{HOSTS[n]}:{web_port}/{asked}/copy{n}.pdf"
            location.update(url=url, url_for_pdf=url, url_for_landing_page=None)
        moved["best_oa_location"] = moved["oa_locations"][0]
        await asyncio.sleep(DELAY)
        return web.json_response(moved)

    app = web.Application()
    app.router.add_get("/v2/{doi:.+}", unpaywall)
    up_runner, up_port = await _serve(app)
    try:
        return await _daemon_lookups(up_port, web_port)
    finally:
        await up_runner.cleanup()
        await web_runner.cleanup()


async def _daemon_lookups(up_port: int, web_port: int) -> tuple[list[float], list[float]]:
    cold: list[float] = []
    warm: list[float] = []
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
        env |= {"OAHELPER_HOME": home, "OAHELPER_UNPAYWALL_EMAIL": "bench@uni.edu",
                "OAHELPER_UNPAYWALL_URL": f"http://127.0.0.1:{up_port}",
                "OAHELPER_DISABLED_SOURCES": "snapshot,europepmc,crossref,semanticscholar,"
                                             "openalex,arxiv,oab,free_by_id",
                "OAHELPER_ALLOW_PRIVATE_HOSTS": ",".join(f"{h}:{web_port}" for h in HOSTS),
                "OAHELPER_LOG_LEVEL": "warning", "OAHELPER_LOOKUPS_PER_MINUTE": "1000"}
        token = (await asyncio.to_thread(oahelper, ["token", "create", "--name", "b"], env)
                 ).stdout.split()[-1]
        port = free_port()
        with daemon(env, port):
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as s:
                url = f"http://127.0.0.1:{port}/v1/lookup"
                for run in range(RUNS + 1):
                    body = {"doi": f"10.5555/bench.links.{run}"}
                    started = time.perf_counter()
                    async with s.post(url, json=body) as resp:
                        payload = await resp.json()
                    took = (time.perf_counter() - started) * 1000
                    assert payload["best"]["link"]["state"] == "pdf", payload["best"]
                    if run:  # the first lookup of a new daemon also warms its own parts up
                        cold.append(took)
                    for _ in range(40):  # the other copies' checks finish meanwhile
                        await asyncio.sleep(0.25)
                        started = time.perf_counter()
                        async with s.post(url, json=body) as resp:
                            again = await resp.json()
                        if not again["pending"]:
                            break
                    warm.append((time.perf_counter() - started) * 1000)
                    assert again["pending"] == [], "the background checks did not finish in 10 s"
    return cold, warm


def bench_honest() -> None:
    shared = shared_fixtures()
    if shared is None:
        print("honest: ../shared/fixtures not found; skipped", file=sys.stderr)
        return
    record = json.loads((shared / "unpaywall" / f"200_{DOI.replace('/', '_')}.json").read_text())
    load = os.getloadavg()[0]
    cold, warm = asyncio.run(_links_figures(record))
    goal = 2 * DELAY * 1000 + 50
    print(f"honest: cold lookup with its 4 links opened (source {DELAY * 1000:.0f} ms, each link "
          f"{DELAY * 1000:.0f} ms): median {statistics.median(cold):.0f} ms, max {max(cold):.0f} ms "
          f"over {RUNS} new DOIs in one daemon; goal <= {goal:.0f} ms: "
          f"{'met' if statistics.median(cold) <= goal else 'NOT met'} (load {load:.1f})")
    print(f"honest: the same lookup warm (no link opened again): median {statistics.median(warm):.1f} ms")
    healthy = run_load()
    failing = run_load(fail=("europepmc:500",))
    ratio = failing["throughput"] / healthy["throughput"]
    print(f"honest: 50 clients, {healthy['lookups']} lookups: {healthy['throughput']:.0f} lookups/s "
          f"with every source healthy, {failing['throughput']:.0f} lookups/s while Europe PMC "
          f"answers HTTP 500 ({ratio:.2f}x; goal >= 0.90: {'met' if ratio >= 0.9 else 'NOT met'}); "
          f"Europe PMC was asked {failing['calls_by_service'].get('europepmc', 0)} times "
          f"(healthy: {healthy['calls_by_service'].get('europepmc', 0)})")


if __name__ == "__main__":
    bench_honest()
