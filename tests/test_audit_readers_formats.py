"""Every export format reads record by record: Web of Science, PubMed MEDLINE, Scopus BibTeX.

The files under fixtures/audit/ were written from each format's documentation (Web
of Science's field tags, NLM's MEDLINE/PubMed format), not exported from the services.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

from oahelper.audit.readers import open_reading_list
from oahelper.errors import ReadingListError
from tests.support.fake_upstream import THROTTLED_SOURCES, upstream_env
from tests.support.processes import fake_upstream, oahelper

FILES = Path(__file__).parent / "fixtures" / "audit"


def entries(path: Path) -> list:
    return list(open_reading_list(path).entries())


def test_web_of_science_one_entry_per_record_not_per_cited_reference() -> None:
    reading = open_reading_list(FILES / "wos_savedrecs.txt")
    assert reading.format == "wos"
    gold, green, title_only, book = reading.entries()  # 4 records; their CR lines cite 4 DOIs
    assert (gold.key, gold.line, gold.doi, gold.year) == (
        "WOS:000111111100001", 3, "10.5555/oahelper.gold.2024", 2024)
    assert gold.title == ("A gold open-access article for oahelper's tests, with a title "
                          "long enough to go on over a second line")  # a continuation line
    assert gold.authors == ("Muller, Anna", "O'Brien, Sean")  # AF (full names) before AU
    assert gold.journal == "OPEN JOURNAL OF TEST FIXTURES"
    assert ((green.doi or "").casefold(), green.pmid) == ("10.5555/oahelper.green.2013", "23456789")
    assert title_only.identified_by is None and title_only.year == 2021
    assert title_only.authors == ("The Fixture Consortium",)  # CA, a group author
    assert book.doi == "10.5555/oahelper.book.2001"  # D2, the book's DOI


def test_a_web_of_science_file_cut_short_keeps_the_records_it_has() -> None:
    got = entries(FILES / "wos_cut_short.ciw")  # no EF; the 4th and 5th records lack ER
    assert [e.title for e in got] == ["One", "Two", "Three", "Four, whose ER is missing",
                                      "Five, where the export was cut off"]
    assert got[3].pmid == "23456789" and got[3].doi is None  # its CR-less record alone
    assert got[4].key == "line 37" and got[4].doi == "10.5555/oahelper.cut.2020"  # no UT


def test_pubmed_medline_one_entry_per_record() -> None:
    reading = open_reading_list(FILES / "pubmed.nbib")
    assert reading.format == "medline"
    green, closed, book = reading.entries()
    assert (green.pmid, green.pmcid, green.doi) == (
        "23456789", "PMC3531190", "10.5555/oahelper.green.2013")  # LID/AID [doi], not [pii]
    assert green.title == ('Green, with a comma and "quotes": a title that goes on over '
                           "a continuation line.")
    assert green.authors == ("Smith, John", "Doe, Anne")  # FAU before AU
    assert (green.year, green.journal) == (2013, "Journal of test fixtures")  # DP, JT
    assert (closed.doi, closed.authors, closed.line) == (
        "10.5555/oahelper.closed.1997", ("Closed, Carl",), 39)
    assert (book.pmid, book.doi, book.year) == ("11111111", None, 2001)
    assert book.title == "A book without any identifier but its PubMed id."  # BTI


def test_scopus_bibtex_keeps_every_entry_and_says_which_field_repeated() -> None:
    gold, green, closed = entries(FILES / "scopus.bib")
    assert gold.unreadable is None and gold.doi == "10.5555/oahelper.gold.2024"
    assert gold.note == "field 'funding_details' appears 2 times; the first is read"
    assert (green.pmid, green.note) == (
        "23456789", "field 'funding_details' appears 3 times; the first is read")
    assert closed.note is None and closed.doi == "10.5555/oahelper.closed.1997"


def test_a_repeated_field_that_is_read_keeps_its_first_value(tmp_path: Path) -> None:
    path = tmp_path / "dupes.bib"
    path.write_text("@article{a, doi = {10.5555/x.1}, DOI = {10.5555/x.2}, title = {T}}\n")
    (entry,) = entries(path)
    assert entry.doi == "10.5555/x.1" and entry.note == "field 'doi' appears 2 times; the first is read"


def test_endnote_xml_one_entry_per_record() -> None:
    reading = open_reading_list(FILES / "endnote.xml")
    assert reading.format == "endnote"
    gold, green, book = reading.entries()
    assert (gold.key, gold.doi, gold.year) == ("record 12", "10.5555/oahelper.gold.2024", 2024)
    assert gold.title == "A gold open-access article for oahelper's tests"  # three <style> runs
    assert gold.authors == ("Müller, Anna", "O'Brien, Seán")
    assert gold.journal == "Open Journal of Test Fixtures"
    assert (green.pmid, green.pmcid, green.doi) == (
        "23456789", "PMC3531190", "10.5555/oahelper.green.2013")  # the DOI from its link
    assert book.identified_by is None and book.title == "A Book Without Any Identifier"


def test_an_endnote_file_cut_short_keeps_the_records_before_the_cut(tmp_path: Path) -> None:
    path = tmp_path / "cut.xml"
    text = (FILES / "endnote.xml").read_text(encoding="utf-8")
    path.write_text(text[:text.index("<record><rec-number>14")] + "<record><rec-number>14</rec",
                    encoding="utf-8")
    assert [e.key for e in entries(path)] == ["record 12", "record 13", "record 14"]


@pytest.mark.parametrize("fixture,named,format", [
    ("wos_savedrecs.txt", "savedrecs.dat", "wos"),
    ("wos_cut_short.ciw", "export.csv", "wos"),
    ("pubmed.nbib", "pubmed-export.txt", "medline"),
    ("pubmed.nbib", "citations.ris", "medline"),
    ("scopus.bib", "scopus.txt", "bibtex"),
    ("endnote.xml", "library.txt", "endnote"),
])
def test_recognised_by_content_whatever_the_extension(tmp_path: Path, fixture: str, named: str,
                                                      format: str) -> None:
    path = tmp_path / named
    shutil.copy(FILES / fixture, path)
    reading = open_reading_list(path)
    assert reading.format == format
    assert [e.key for e in reading.entries()] == [e.key for e in entries(FILES / fixture)]


def test_a_tagged_file_without_a_record_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.ciw"
    path.write_text("FN Clarivate Analytics Web of Science\nVR 1.0\nEF\n")
    with pytest.raises(ReadingListError, match="no Web of Science record in it"):
        entries(path)


def test_the_audit_command_reads_exports_by_their_content(isolated_home: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")} | {
        "OAHELPER_HOME": str(isolated_home), "OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu",
        "OAHELPER_DISABLED_SOURCES": THROTTLED_SOURCES}
    wos, medline = tmp_path / "savedrecs.dat", tmp_path / "pubmed-export.txt"
    shutil.copy(FILES / "wos_savedrecs.txt", wos)
    shutil.copy(FILES / "pubmed.nbib", medline)
    report = tmp_path / "report.csv"
    with fake_upstream(env) as base:
        proc = oahelper(["audit", str(wos), str(medline), "--out", str(report)],
                        env | upstream_env(base))
    assert proc.returncode == 0, proc.stderr
    with report.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["key"] for r in rows] == ["WOS:000111111100001", "WOS:000222222200002",
                                        "WOS:000333333300003", "WOS:000444444400004",
                                        "line 1", "line 39", "line 52"]
    assert rows[0]["status"] == "open" and rows[4]["pmcid"] == "PMC3531190"
