"""The extension's speed in real browsers: Debian's Chromium and Firefox ESR.

For each browser, with the helper's answer already cached (warm):
  - content-script start -> on-page badge drawn, on a ~100 KB and a 1.2 MB shared page
    (goals: <= 50 ms and <= 150 ms);
  - the content script's own synchronous work on a page that is not an article
    (goal: <= 2 ms).

The extension is measured as it ships, plus two tiny content scripts added to a copy
of it: one runs first and notes the time, one runs last and notes when the
synchronous work ended and when the badge was drawn (it wraps badge.show). Both use
the page's performance.now(). Everything else (helper, fake upstream, page server,
browsers) is the test suite's own harness (tests/e2e).

Usage: scripts/bench-browser [--runs N] [--browser chromium|firefox] [--extension DIR]
Figures on a shared 2-core machine are noisy: the median and the spread are printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.harness import (  # noqa: E402
    EMAIL, EXTENSION, Helper, PageServer, Upstream, base_env, new_port, wait_until,
)
from tests.support.fake_upstream import upstream_env  # noqa: E402
from tests.support.shared import shared_fixtures  # noqa: E402

PAGES = {"100 KB article (plos_1)": "plos_1.html", "1.2 MB article (frontiers_1)": "frontiers_1.html"}
NOT_ARTICLE = ("262 KB news page (news_1)", "news_1.html")
GOALS = {"100 KB article (plos_1)": 50.0, "1.2 MB article (frontiers_1)": 150.0, NOT_ARTICLE[0]: 2.0}

BENCH_START = "globalThis.oahelperBench = { start: performance.now() };\n"
BENCH_END = """(() => {
  const bench = globalThis.oahelperBench;
  bench.sync = performance.now() - bench.start;   // detection and the message, synchronously
  const root = document.documentElement;
  root.dataset.oahelperBench = JSON.stringify(bench);
  const badge = globalThis.oahelper.badge;
  const show = badge.show;
  badge.show = (view) => {
    show(view);
    if (view && bench.badge === undefined) {
      bench.badge = performance.now() - bench.start;
      root.dataset.oahelperBench = JSON.stringify(bench);
    }
  };
})();
"""


def instrumented_extension(folder: Path, source: Path = EXTENSION) -> Path:
    """A copy of the extension with the two timing scripts around the content scripts."""
    copy = folder / "extension"
    shutil.copytree(source, copy)
    (copy / "bench-start.js").write_text(BENCH_START)
    (copy / "bench-end.js").write_text(BENCH_END)
    manifest = json.loads((copy / "manifest.json").read_text())
    scripts = manifest["content_scripts"][0]["js"]
    manifest["content_scripts"][0]["js"] = ["bench-start.js", *scripts, "bench-end.js"]
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return copy


class ChromiumDriver:
    """Chromium through Playwright, as tests/e2e/browser.py drives it."""

    name = "Chromium"

    def __init__(self, extension: Path, profile: Path) -> None:
        from playwright.sync_api import sync_playwright

        from tests.e2e.browser import ExtensionBrowser, pair_through_options

        self._pw = sync_playwright().start()
        self.browser = ExtensionBrowser(self._pw, profile, extension, timing=True)
        self._pair = pair_through_options

    def pair(self, helper: Helper) -> None:
        self._pair(self.browser, helper).close()

    def visit(self, url: str) -> Callable[[], dict[str, Any] | None]:
        page = self.browser.context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        self._page = page
        return lambda: _parse(page.evaluate("document.documentElement.dataset.oahelperBench ?? null"))

    def done(self) -> None:
        self._page.close()

    def close(self) -> None:
        self.browser.close()
        self._pw.stop()


class FirefoxDriver:
    """Firefox ESR over WebDriver BiDi, as tests/e2e/firefox.py drives it."""

    name = "Firefox ESR"

    def __init__(self, extension: Path, profile: Path) -> None:
        from tests.e2e.firefox import Firefox, pair_firefox

        self.browser = Firefox(profile, extension=extension)
        self._pair = pair_firefox

    def pair(self, helper: Helper) -> None:
        self._pair(self.browser, helper).close()

    def visit(self, url: str) -> Callable[[], dict[str, Any] | None]:
        tab = self.browser.open(url)
        self._tab = tab
        return lambda: _parse(tab.call("() => document.documentElement.dataset.oahelperBench ?? null"))

    def done(self) -> None:
        self._tab.close()

    def close(self) -> None:
        self.browser.close()


def _parse(text: str | None) -> dict[str, Any] | None:
    return json.loads(text) if text else None


def measure(driver: Any, url: str, key: str, runs: int) -> list[float]:
    """Open the page `runs` times (after one warm-up visit); the figure `key` each time."""
    figures = []
    for i in range(runs + 1):
        read = driver.visit(url)
        timing = wait_until(lambda: (t := read()) and key in t and t, timeout=30, what=f"{key} on {url}")
        if i:  # the first visit warms the helper's cache and the browser's
            figures.append(timing[key])
        driver.done()
        time.sleep(0.2)
    return figures


@contextmanager
def stack(folder: Path) -> Iterator[tuple[Helper, PageServer]]:
    upstream = Upstream(folder, base_env(folder / "upstream-home"))
    upstream.start()
    env = base_env(folder / "home") | upstream_env(upstream.url) | {"OAHELPER_UNPAYWALL_EMAIL": EMAIL}
    helper = Helper(folder / "home", new_port(), env)
    pages = PageServer(shared_fixtures() / "pages")
    try:
        helper.start()
        pages.start()
        yield helper, pages
    finally:
        pages.stop()
        helper.stop()
        upstream.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--browser", choices=["chromium", "firefox"], action="append")
    parser.add_argument("--extension", type=Path, default=EXTENSION,
                        help="measure this copy of the extension (e.g. an older commit's, to compare)")
    args = parser.parse_args()
    if shared_fixtures() is None:
        print("bench-browser: needs the shared page corpus (../shared/fixtures/pages)", file=sys.stderr)
        return 2
    drivers = {"chromium": ChromiumDriver, "firefox": FirefoxDriver}
    chosen = args.browser or list(drivers)
    with tempfile.TemporaryDirectory(prefix="oahelper-bench-browser-") as tmp:
        folder = Path(tmp)
        extension = instrumented_extension(folder, args.extension)
        rows = []
        with stack(folder) as (helper, pages):
            for name in chosen:
                driver = drivers[name](extension, folder / f"profile-{name}")
                try:
                    driver.pair(helper)
                    for label, file in PAGES.items():
                        rows.append((driver.name, label, measure(driver, pages.url(f"/shared/{file}"), "badge", args.runs)))
                    label, file = NOT_ARTICLE
                    rows.append((driver.name, label, measure(driver, pages.url(f"/shared/{file}"), "sync", args.runs)))
                finally:
                    driver.close()
    print(f"Extension in the browser, warm cache, {args.runs} runs each (median [min-max], ms):")
    print(f"{'browser':<12} {'page':<30} {'what':<28} {'median':>8} {'range':>17} {'goal':>6}  ratio")
    for browser, label, figures in rows:
        what = "content script's own work" if label == NOT_ARTICLE[0] else "content-script start -> badge"
        median = statistics.median(figures)
        goal = GOALS[label]
        print(f"{browser:<12} {label:<30} {what:<28} {median:8.1f} {min(figures):8.1f}-{max(figures):<8.1f}"
              f" {goal:6.0f}  {median / goal:4.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
