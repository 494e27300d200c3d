"""The HTML report file itself: self-contained, and safe with hostile reading lists."""

from __future__ import annotations

import re
from pathlib import Path

from oahelper.audit.charts import CHARTS
from oahelper.audit.entries import make_entry
from oahelper.audit.html import HtmlWriter
from oahelper.audit.rows import row_from_payload, row_without_lookup
from oahelper.audit.tally import AuditSummary, Tally

OPEN_PAYLOAD = {
    "status": "open", "oa_status": "gold",
    "article": {"title": "From the source"},
    "best": {"url": "javascript:alert(1)", "version": "publishedVersion", "license": "cc-by",
             "host_type": "publisher"},
    "locations": [{"url": "javascript:alert(1)", "license": "cc-by"}],
    "sources": {"unpaywall": {"state": "ok"}},
}


def write_report(tmp_path: Path, rows: list) -> str:
    summary = AuditSummary(Tally(), inputs=["refs.bib (BibTeX)"])
    writer = HtmlWriter(tmp_path / "r.html", "Open access audit of <refs>.bib")
    for row in rows:
        summary.tally.add(row)
        writer.write(row)
    writer.close(summary)
    return (tmp_path / "r.html").read_text(encoding="utf-8")


def test_hostile_titles_and_links_are_inert(tmp_path: Path) -> None:
    evil = make_entry("refs.bib", '"><img src=x onerror=alert(1)>', 3,
                      doi="10.5555/x\"onmouseover=alert(1)", title="<script>alert(1)</script>")
    page = write_report(tmp_path, [row_from_payload(evil, OPEN_PAYLOAD)])
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page  # only web links become links
    assert "&lt;refs&gt;.bib" in page


def test_the_file_loads_nothing_from_anywhere(tmp_path: Path) -> None:
    entry = make_entry("refs.bib", "k", 1)
    page = write_report(tmp_path, [row_without_lookup(entry, entry.lookup_input()[2])])
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)
    assert "@import" not in page and "url(http" not in page
    # Nothing answered, so no chart: each says so instead.
    assert page.count("Nothing to show") == len(CHARTS)


def test_the_headline_says_what_its_share_is_of(tmp_path: Path) -> None:
    """Three free of four answered is 75%, next to '3 of 5 references': the page says
    the 75% is of those with an answer, so the two figures do not read as a contradiction."""
    free = [row_from_payload(make_entry("refs.bib", f"k{n}", n, doi=f"10.5555/{n}"), OPEN_PAYLOAD)
            for n in range(3)]
    closed = row_from_payload(make_entry("refs.bib", "c", 4, doi="10.5555/c"),
                              {"status": "closed", "sources": {"unpaywall": {"state": "ok"}}})
    blank = make_entry("refs.bib", "blank", 5)
    page = write_report(tmp_path, [*free, closed, row_without_lookup(blank, "nothing to look up by")])
    text = re.sub(r"<[^>]+>", "", page)
    assert "75%of the 4 references with an answer have a free copy" in text
    assert "(3 of 5 references in the list; 1 without an answer)" in text
    everything = write_report(tmp_path, [*free, closed])
    assert "75%free: 3 of 4 references have a free copy" in re.sub(r"<[^>]+>", "", everything)
