"""`oahelper audit --out report.csv` with formula payloads from the reading list and
from an upstream's answer (a real aiohttp fake Unpaywall, in a thread): no cell of the
CSV is a formula, and the JSON and HTML reports keep the exact text (issue 18)."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from oahelper.audit.csvcell import guard
from oahelper.audit.rows import COLUMNS
from oahelper.audit.writers import NUMBER_COLUMNS

from tests.csv_payloads import PAYLOADS, unsafe_cells
from tests.support.fake_upstream import (
    GOLD_DOI,
    THROTTLED_SOURCES,
    FakeUpstream,
    Recordings,
    serve,
    upstream_env,
)
from tests.support.processes import oahelper

UPSTREAM_DOI = "10.5555/oahelper.formula.{}"
LIST_DOI = "10.5555/oahelper.listed.{}"


# Controls XML 1.0 forbids; the HTML report's licence chart cannot take them yet (the
# xfail test below), so the licences here are the payloads without them.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def licence(payload: str) -> str:
    return NOT_XML.sub("", payload)


def hostile_record(doi: str, payload: str, licence: str) -> dict[str, Any]:
    """The gold fixture's record with the payload as its title and journal."""
    record = json.loads((Path(__file__).parent / "fixtures" / "unpaywall" /
                         f"200_{GOLD_DOI.replace('/', '_')}.json").read_text())
    record.update(doi=doi, title=payload, journal_name=payload)
    for location in [record["best_oa_location"], *record["oa_locations"]]:
        location["license"] = licence
    return record


@contextmanager
def hostile_upstream(licences: dict[str, str] | None = None) -> Iterator[str]:
    """The fake upstreams in a thread's event loop, Unpaywall answering each
    UPSTREAM_DOI with a payload (and ``licences``' DOIs with that licence); yields
    the base URL."""
    loaded = Recordings.load()
    records = [hostile_record(UPSTREAM_DOI.format(i), p, licence(p)) for i, p in enumerate(PAYLOADS)]
    records += [hostile_record(doi, "A title", text) for doi, text in (licences or {}).items()]
    extra = {r["doi"].casefold(): json.dumps(r).encode() for r in records}
    fake = FakeUpstream(recordings=replace(loaded, records={**loaded.records, **extra}))
    loop = asyncio.new_event_loop()
    runner, port = loop.run_until_complete(serve(fake))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


@pytest.fixture
def env(isolated_home: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
    return clean | {"OAHELPER_HOME": str(isolated_home), "OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu",
                    "OAHELPER_DISABLED_SOURCES": THROTTLED_SOURCES}


# The references a plain list can hold: one line each, and none starting with "@" (a
# list whose line reads like "@SUM(…)" is taken for BibTeX, which the BibTeX test has).
REFERENCES = [p for p in PAYLOADS if p.strip() and not set(p) & {"\r", "\n", "\x00"}
              and not p.strip().startswith("@")]
BIBTEX = """@article{-2+3,
  title   = {=HYPERLINK("https://evil.example/x","Open the PDF")},
  journal = {@SUM(1+1)},
  year    = {2019},
  doi     = {10.5555/oahelper.listed.bib},
}
"""


def reading_lists(folder: Path) -> list[Path]:
    """A CSL-JSON list with a payload as the key, title, journal and DOI field of each
    item (whose file name is one too), the review's BibTeX entry, and plain lists of
    the upstream's DOIs and of payloads as whole references."""
    items = []
    for i, payload in enumerate(PAYLOADS):
        items.append({"id": payload, "title": payload, "container-title": payload,
                      "DOI": LIST_DOI.format(i)})
        items.append({"id": f"bad-doi-{i}", "DOI": payload})  # "the DOI field … is not a DOI"
    csl = folder / "@SUM(1+1);=2.json"
    csl.write_text(json.dumps(items), encoding="utf-8")
    bib = folder / "thesis.bib"
    bib.write_text(BIBTEX, encoding="utf-8")
    dois = folder / "dois.txt"
    dois.write_text("\n".join(UPSTREAM_DOI.format(i) for i in range(len(PAYLOADS))) + "\n")
    references = folder / "references.txt"
    references.write_text("\n".join(REFERENCES) + "\n", encoding="utf-8")
    return [csl, bib, dois, references]


def test_no_csv_cell_is_a_formula_and_json_and_html_keep_the_text(env, tmp_path: Path) -> None:
    inputs = reading_lists(tmp_path)
    out_csv, out_json, out_html = (tmp_path / f"report.{kind}" for kind in ("csv", "json", "html"))
    with hostile_upstream() as base:
        proc = oahelper(["audit", *map(str, inputs), "--out", str(out_csv), "--out", str(out_json),
                         "--out", str(out_html)], env | upstream_env(base), timeout=240)
    assert proc.returncode == 0, proc.stderr
    with out_csv.open(encoding="utf-8-sig", newline="") as fh:
        text = fh.read()
    assert unsafe_cells(text, NUMBER_COLUMNS) == []

    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    report = json.loads(out_json.read_text(encoding="utf-8"))["rows"]
    assert len(rows) == len(report) == 3 * len(PAYLOADS) + 1 + len(REFERENCES)
    # Each CSV cell is the JSON report's exact text, guarded; numbers stay numbers.
    for csv_row, json_row in zip(rows, report, strict=True):
        for column in COLUMNS:
            value = json_row[column]
            if column in NUMBER_COLUMNS:
                assert csv_row[column] == ("" if value is None else str(value))
            else:
                text_value = "" if value is None else "yes" if value is True else "no" if value is False else value
                assert csv_row[column] == guard(text_value), (column, value)

    # What each origin put in: the reading list's key, title and journal verbatim (the
    # key exactly, titles with their whitespace collapsed), the upstream's title,
    # journal and licence as it sent them (stripped).
    listed = {r["doi"]: r for r in report if r["file"].endswith(".json") and r["doi"]}
    answered = {r["doi"]: r for r in report if r["doi"] and r["doi"].startswith("10.5555/oahelper.formula.")}
    assert len(listed) == len(answered) == len(PAYLOADS)
    formula_cells = 0
    for i, payload in enumerate(PAYLOADS):
        mine, theirs = listed[LIST_DOI.format(i)], answered[UPSTREAM_DOI.format(i)]
        assert mine["key"] == payload
        assert mine["title"] == mine["journal"] == " ".join(payload.split())
        assert theirs["status"] == "open"
        assert theirs["title"] == theirs["journal"] == payload.strip()
        assert theirs["license"] == licence(payload).strip()
        formula_cells += sum(guard(v) != v for v in (mine["key"], mine["title"], theirs["title"],
                                                     theirs["journal"], theirs["license"]))
    assert formula_cells > 4 * len(PAYLOADS)  # the run did carry formulas to guard
    assert any(r["file"].endswith("@SUM(1+1);=2.json") for r in report)
    bad = "the DOI field '=1+1;{}=2' is not a DOI; no DOI, PMID, PMCID, arXiv id, title or reference text"
    assert any(r["problem"] == bad.format("") for r in report)
    assert any(r["problem"] == bad.format("'") for r in rows)

    hyperlink = '=HYPERLINK("https://evil.example/x","Open the PDF")'
    bib = next(r for r in report if r["file"].endswith("thesis.bib"))
    assert (bib["key"], bib["title"], bib["journal"], bib["year"]) == ("-2+3", hyperlink, "@SUM(1+1)", 2019)
    bib_csv = next(r for r in rows if r["file"].endswith("thesis.bib"))
    assert (bib_csv["key"], bib_csv["title"], bib_csv["year"]) == ("'-2+3", "'" + hyperlink, "2019")
    assert [r["reference"] for r in report if r["file"].endswith("references.txt")] == [
        " ".join(p.split()) for p in REFERENCES]

    page = out_html.read_text(encoding="utf-8")
    titles = re.findall(r'<span class="title">(.*?)</span>', page)
    for text in (hyperlink, "a;=1", "=1+1;=2", "-1", "\uff1d1+1"):
        assert html.escape(text, quote=True) in titles
    assert not [t for t in titles if t.startswith("&#x27;")]  # no guard in the HTML


@pytest.mark.xfail(strict=True, reason="the HTML report's charts (vl-convert) abort the process on a "
                   "licence holding a control character XML forbids; not the CSV writer's")
def test_a_licence_with_a_nul_does_not_abort_the_html_report(env, tmp_path: Path) -> None:
    doi = "10.5555/oahelper.nul.licence"
    listing = tmp_path / "list.txt"
    listing.write_text(doi + "\n")
    with hostile_upstream({doi: "cc-by\x00"}) as base:
        proc = oahelper(["audit", str(listing), "--out", str(tmp_path / "r.html")],
                        env | upstream_env(base), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
