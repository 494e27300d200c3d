"""The audit's HTML report in Chromium: offline, its totals match the CSV, and the table
sorts and filters without a server."""

from __future__ import annotations

import csv
import os
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import Playwright, expect

from tests.e2e.browser import shoot
from tests.e2e.harness import CHROMIUM, CHROMIUM_FLAGS, EMAIL
from tests.support.fake_upstream import upstream_env
from tests.support.processes import fake_upstream, oahelper

FILES = Path(__file__).resolve().parents[1] / "fixtures" / "audit"
# Recorded in ../shared/fixtures/unpaywall: every kind of open access, and a closed one.
RECORDED = ["10.1038/nature12373", "10.1016/j.envint.2020.105730", "10.1103/physreve.88.012814",
            "10.1016/j.tmaid.2020.101663", "10.1001/jamadermatol.2015.3091",
            "10.1641/0006-3568(2005)055[0851:POTAPF]2.0.CO;2", "10.1016/j.jns.2020.116832"]

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    """An audit of a thesis's BibTeX and a plain list, as CSV and HTML."""
    folder = tmp_path_factory.mktemp("audit-report")
    listing = folder / "grant-publications.txt"
    listing.write_text("\n".join(RECORDED) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
    env |= {"OAHELPER_HOME": str(folder / "home"), "OAHELPER_UNPAYWALL_EMAIL": EMAIL}
    out_csv, out_html = folder / "report.csv", folder / "report.html"
    with fake_upstream(env) as base:
        proc = oahelper(["audit", str(FILES / "thesis.bib"), str(listing), "--out", str(out_csv),
                         "--out", str(out_html)], env | upstream_env(base))
    assert proc.returncode == 0, proc.stderr
    with out_csv.open(encoding="utf-8-sig", newline="") as fh:
        return out_html, list(csv.DictReader(fh))


def test_the_report_opens_offline_and_its_totals_match_the_csv(playwright: Playwright, report) -> None:
    html, rows = report
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                         args=CHROMIUM_FLAGS)
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 1150})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(html.as_uri())
        assert requests == [html.as_uri()]  # nothing fetched: no script, font or image
        assert errors == []

        status = Counter(r["status"] for r in rows)
        expect(page.locator("#n-total")).to_have_text(str(len(rows)))
        expect(page.locator("#n-total-free")).to_have_text(str(status["open"]))
        expect(page.locator("#n-free")).to_have_text(str(status["open"]))
        expect(page.locator("#n-closed")).to_have_text(str(status["closed"]))
        expect(page.locator("#n-noid")).to_have_text(str(status["no_identifier"]))
        expect(page.locator("#n-unreadable")).to_have_text(str(status["unreadable"]))
        expect(page.locator("#n-cc")).to_have_text(str(sum(r["cc_by_or_cc0"] == "yes" for r in rows)))
        answered = status["open"] + status["closed"]
        expect(page.locator("#share")).to_have_text(f"{round(100 * status['open'] / answered)}%")
        assert status["open"] >= 5 and status["closed"] >= 1  # a report worth looking at

        # Every chart is an inline SVG drawn at report time.
        for chart in ("oa-status", "by-year", "licence", "version-host", "cc-by", "links"):
            expect(page.locator(f"#chart-{chart} svg")).to_have_count(1)
        expect(page.locator("#chart-oa-status svg")).to_contain_text("gold")

        table = page.locator("#items tbody tr")
        expect(table).to_have_count(len(rows))
        shoot(page, "audit-report.png")  # the top: totals and charts (the README shows it)

        # Filter by status, then by words; the count says what is shown.
        page.select_option("#status-filter", "open")
        expect(page.locator("#items tbody tr:visible")).to_have_count(status["open"])
        expect(page.locator("#shown")).to_have_text(f"showing {status['open']} of {len(rows)}")
        page.fill("#filter", "LISTED twice")
        expect(page.locator("#items tbody tr:visible")).to_have_count(1)
        expect(page.locator("#items tbody tr:visible")).to_contain_text("gold2024again")
        page.fill("#filter", "")
        page.select_option("#status-filter", "")

        # Sort by year, both ways; rows without a year go last going up.
        page.click("th >> text=Year")
        years = [int(y) for y in page.locator("#items tbody tr td:nth-child(2)").all_inner_texts() if y]
        assert years == sorted(years) and years
        expect(page.locator("th[aria-sort=ascending]")).to_have_text("Year")
        page.click("th >> text=Year")
        years = [int(y) for y in page.locator("#items tbody tr td:nth-child(2)").all_inner_texts() if y]
        assert years == sorted(years, reverse=True)

        # The best copy of a free reference is one click away.
        first_free = next(r for r in rows if r["status"] == "open")
        link = page.locator(f'#items a[href="{first_free["best_url"]}"]').first
        expect(link).to_have_attribute("target", "_blank")
    finally:
        browser.close()
