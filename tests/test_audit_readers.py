"""Reading lists in every format, as reference managers and people write them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oahelper.audit.entries import make_entry
from oahelper.audit.readers import open_reading_list
from oahelper.audit.readers.lines import entry_from_text
from oahelper.errors import ReadingListError
from oahelper.identifiers import parse_query

FILES = Path(__file__).parent / "fixtures" / "audit"


def entries(path: Path | str, format: str | None = None) -> list:
    return list(open_reading_list(path, format).entries())


def by_key(path: Path) -> dict:
    return {e.key: e for e in entries(path)}


def test_bibtex_with_strings_comments_braces_concatenation_and_a_doi_as_url() -> None:
    got = by_key(FILES / "thesis.bib")
    assert list(got) == ["gold2024", "green2013", "vaswani2017attention", "pmc-only",
                         "closed1997", "broken", "notitle2001", "gold2024again"]
    gold = got["gold2024"]
    assert gold.doi == "10.5555/oahelper.gold.2024"           # from a doi.org URL
    assert gold.journal == "Open Journal of Test Fixtures"     # an @string macro
    assert gold.title == "A Gold Open-Access Article for oahelper's Tests"  # braces gone
    assert gold.authors == ("Müller, Anna", "O'Brien, Seán", "The Fixture Consortium")
    assert gold.year == 2024 and gold.line == 9
    green = got["green2013"]
    assert green.doi.casefold() == "10.5555/oahelper.green.2013"  # "doi:" prefix, any case
    assert green.journal == "Journal of Test Fixtures (Second Series)"  # macro # "string"
    assert green.title == 'Green, with a comma and "quotes"'
    assert got["vaswani2017attention"].arxiv == "1706.03762"
    assert got["pmc-only"].pmcid == "PMC3531190" and got["pmc-only"].year == 2012
    assert got["notitle2001"].identified_by is None and got["notitle2001"].unreadable is None


def test_a_broken_bibtex_entry_is_a_row_with_the_reason_and_the_rest_is_read() -> None:
    got = by_key(FILES / "thesis.bib")
    broken = got["broken"]
    assert broken.line == 49
    assert "not valid BibTeX" in broken.unreadable and "closing" in broken.unreadable
    assert got["notitle2001"].title == "A Book Without Any Identifier"  # the entry after it


def test_a_bibtex_key_used_twice_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "dupes.bib"
    path.write_text("@article{a, doi={10.5555/x.1}}\n@article{a, doi={10.5555/x.2}}\n")
    first, second = entries(path)
    assert first.doi == "10.5555/x.1"
    assert second.unreadable and "used twice" in second.unreadable and second.line == 2


def test_ris_export() -> None:
    got = entries(FILES / "zotero.ris")
    assert [e.line for e in got] == [1, 12, 21, 26]
    gold, closed, title_only, green = got
    assert gold.doi == "10.5555/oahelper.gold.2024" and gold.journal == "Open Journal of Test Fixtures"
    assert gold.authors == ("Müller, Anna", "O'Brien, Seán") and gold.year == 2024
    assert closed.doi == "10.5555/oahelper.closed.1997" and closed.pmid == "9999999"
    assert title_only.identified_by is None and title_only.title == "A record that only has a title"
    assert green.doi == "10.5555/oahelper.green.2013" and green.year == 2013


def test_csl_json_export_with_a_stray_item() -> None:
    green, pmc, stray, closed = entries(FILES / "zotero.json")
    assert green.doi == "10.5555/oahelper.green.2013" and green.year == 2013
    assert green.authors == ("Smith, John", "The Fixture Consortium")
    assert pmc.pmcid == "PMC3531190" and pmc.key == "pandoc-key" and pmc.year == 2012
    assert stray.unreadable and "not a CSL-JSON object" in stray.unreadable
    assert closed.doi == "10.5555/oahelper.closed.1997"


def test_csv_says_which_columns_it_used() -> None:
    reading = open_reading_list(FILES / "scopus.csv")
    got = list(reading.entries())
    assert [e.key for e in got] == ["row 2", "row 3", "row 6"]  # blank rows skipped
    assert got[0].doi == "10.5555/oahelper.gold.2024" and got[0].title.startswith("A gold")
    assert got[1].doi == "10.5555/oahelper.green.2013"  # from the Link column
    assert got[1].title == 'Green, "quoted" title'
    assert got[2].identified_by is None
    assert any("doi from column 'DOI'" in n and "title from column 'Title'" in n for n in reading.notes)


def test_semicolon_and_tab_separated_tables(tmp_path: Path) -> None:
    semi = tmp_path / "list.csv"
    semi.write_text("Titel;DOI\nEin Artikel;10.5555/oahelper.gold.2024\n", encoding="utf-8")
    wos = tmp_path / "savedrecs.txt"
    wos.write_text("PT\tAU\tTI\tSO\tPY\tDI\nJ\tSmith, J\tA title\tA Journal\t2013\t10.5555/x.1\n")
    assert [e.doi for e in entries(semi)] == ["10.5555/oahelper.gold.2024"]
    (row,) = entries(wos)
    assert (row.doi, row.title, row.year, row.journal) == ("10.5555/x.1", "A title", 2013, "A Journal")


def test_plain_list_of_identifiers_and_references() -> None:
    got = entries(FILES / "list.txt")
    assert [e.key for e in got] == ["line 2", "line 3", "line 5", "line 6", "line 7", "line 8"]
    assert [e.identified_by for e in got] == ["doi", "doi", "pmcid", "doi", "doi", None]
    assert got[4].doi == "10.5555/oahelper.closed.1997"  # found inside a whole reference
    assert got[5].text.startswith("Smith, J. A reference")


@pytest.mark.parametrize("name,content,format", [
    ("refs.txt", "% exported\n@article{x, doi={10.5555/x.1}}\n", "bibtex"),
    ("export", "\ufeffTY  - JOUR\nDO  - 10.5555/x.1\nER  - \n", "ris"),
    ("refs.data", '[{"DOI": "10.5555/x.1"}]', "csljson"),
    ("refs.txt", "Title,DOI\nX,10.5555/x.1\n", "csv"),
    ("refs.bib", "10.5555/x.1\n", "text"),  # the content says what it is, not the name
    ("refs.csv", "10.5555/x.1\n10.5555/x.2\n", "csv"),  # no header: each row a reference
])
def test_the_format_is_recognised_by_content_then_extension(tmp_path: Path, name: str,
                                                             content: str, format: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    reading = open_reading_list(path)
    assert reading.format == format
    assert next(e.doi for e in reading.entries()) == "10.5555/x.1"


def test_a_headerless_csv_keeps_its_first_row(tmp_path: Path) -> None:
    path = tmp_path / "refs.csv"
    path.write_text("10.5555/x.1\n10.5555/x.2\n")
    assert [e.doi for e in entries(path)] == ["10.5555/x.1", "10.5555/x.2"]


def test_a_file_that_cannot_be_read_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "refs.json"
    path.write_text('[\n  {"DOI": "10.5555/x.1"},\n  {"DOI": "10.5555/x.2"\n]\n')
    with pytest.raises(ReadingListError, match=r"refs.json line 4: not valid JSON"):
        entries(path)
    binary = tmp_path / "refs.pdf"
    binary.write_bytes(b"%PDF-1.7\n\x00\x01\x02")
    with pytest.raises(ReadingListError, match="a binary file, not a reading list"):
        open_reading_list(binary)
    ris = tmp_path / "empty.ris"
    ris.write_text("nothing here\n")
    with pytest.raises(ReadingListError, match="no RIS record"):
        entries(ris)


def test_a_csv_cell_over_the_csv_limit_loses_its_row_not_the_file(tmp_path: Path) -> None:
    path = tmp_path / "refs.csv"
    path.write_text("Title,DOI\n" + "x,10.5555/x.1\n" * 3 + '"' + "y" * 200_000
                    + '",10.5555/x.2\nz,10.5555/x.3\n')
    *first, huge, last = entries(path)
    assert [e.doi for e in first] == ["10.5555/x.1"] * 3
    assert huge.line == 5 and huge.unreadable and "131,072 characters" in huge.unreadable
    assert last.doi == "10.5555/x.3"


def test_windows_1252_and_utf16_files(tmp_path: Path) -> None:
    latin = tmp_path / "refs.txt"
    latin.write_bytes("Müller (2013) doi:10.5555/x.1\n".encode("cp1252"))
    reading = open_reading_list(latin)
    (entry,) = reading.entries()
    assert entry.text.startswith("Müller") and entry.doi == "10.5555/x.1"
    assert any("Windows-1252" in n for n in reading.notes)
    wide = tmp_path / "refs.ris"
    wide.write_bytes("TY  - JOUR\nTI  - Über\nDO  - 10.5555/x.1\nER  - \n".encode("utf-16"))
    (entry,) = entries(wide)
    assert entry.title == "Über" and entry.doi == "10.5555/x.1"


def test_a_doi_field_that_is_no_doi_is_noted(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text("@article{x, title={T}, doi={n/a}}\n")
    (entry,) = entries(path)
    assert entry.identified_by is None and entry.note == "the DOI field 'n/a' is not a DOI"


def test_a_huge_line_is_an_unreadable_entry_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "refs.txt"
    path.write_text("10.5555/x.1\n" + "x" * 50_000 + "\n10.5555/x.2\n")
    first, huge, last = entries(path)
    assert huge.unreadable and "too long" in huge.unreadable
    assert (first.doi, last.doi) == ("10.5555/x.1", "10.5555/x.2")


# A plain list of a million bare DOIs takes a short cut past parse_query and make_entry;
# whatever a line holds, the entry must be the one the general reading makes.
_DOI_LIKE = st.one_of(
    st.from_regex(r"\A10\.[0-9]{4,9}/[!-~]{1,30}\Z"),
    st.from_regex(r"\A(doi:|https://doi\.org/|PMID |PMC|arXiv:)?10\.[0-9]{3,9}/[ -~]{0,20}\Z"),
    st.text(min_size=1, max_size=40))


@given(_DOI_LIKE)
def test_a_bare_doi_line_is_read_as_the_general_reading_reads_it(text: str) -> None:
    text = text.strip()
    if not text or text.startswith("#"):
        return
    typed = parse_query(text)
    general = (make_entry("l.txt", "line 1", 1, doi=typed.doi, pmid=typed.pmid,
                          pmcid=typed.pmcid, arxiv=typed.arxiv) if typed is not None else
               make_entry("l.txt", "line 1", 1, urls=(text,) if "://" in text else (), text=text))
    assert entry_from_text("l.txt", "line 1", 1, text) == general
