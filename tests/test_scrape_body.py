"""scrape() on pages with little or no metadata: the visible masthead (title,
subtitle, byline, date, periodical) and a labelled issue date over an e-pub date.
Every page here is of our own writing."""

from __future__ import annotations

import pytest

from oahelper.scrape import scrape
from oahelper.scrape.line_kinds import is_date_line, is_issue_line, line_year, names_in
from oahelper.scrape.lines import opening_lines
from tests.support.shared import OWN_FIXTURES

PAGES = OWN_FIXTURES / "pages"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


# --- The masthead of a page with no metadata -----------------------------------

def test_static_journal_page_is_read_from_its_masthead() -> None:
    article = scrape("https://lantern.example.org/v7n4/okonjo.html", page("static_masthead.html"))
    # The big-font title and the line a <br> below it; not the site-wide <title>.
    assert article.title == "Glass Houses: Light and Privacy in Modernist Architecture"
    assert article.authors == ("AMARA OKONJO", "Tomas Lindqvist")
    # The issue's season, not the stale copyright line in the footer.
    assert article.year == 2008
    # The heading above "Winter 2008 / Vol. 7, No. 4".
    assert article.journal == "The Lantern Review"
    assert article.doi is None and not article.citation_meta


def test_preprint_listing_takes_names_and_date_under_its_title() -> None:
    article = scrape("https://archive.example.org/004711", page("preprint_listing.html"))
    assert article.title == "Vowel harmony without features"  # <title>, shown in the body
    assert article.authors == ("Ines Ferreira", "Kwame Asante")
    assert article.year == 2021  # "March 2021", not a version's date or the publication note
    assert article.journal is None  # no issue line: no periodical


def test_title_tag_shown_in_the_body_beats_a_bigger_heading() -> None:
    html = ("<html><head><title>On moss - Moss Notes</title></head><body>"
            "<h1>Moss Notes</h1><h3>On moss</h3><p>Jo Park</p><p>Text.</p></body></html>")
    assert scrape(None, html).title == "On moss"


def test_a_site_name_drawn_large_does_not_replace_the_title_tag() -> None:
    html = ("<html><head><title>On moss | Moss Notes</title></head><body>"
            "<h1>Moss Notes</h1><p>Mosses grow slowly.</p></body></html>")
    assert scrape(None, html).title == "On moss"


def test_byline_with_affiliations_keeps_only_the_names() -> None:
    html = ("<html><head><title>Crowds and archives</title></head><body>"
            "<h3>Crowds and archives</h3><p>Ada Byrne, University of Example, Lab One<br>"
            "ada [at] example.org<br>Ben Ode, The Example Museum<br>ben [at] example.org</p>"
            "<p>Body text.</p></body></html>")
    assert scrape(None, html).authors == ("Ada Byrne", "Ben Ode")


@pytest.mark.parametrize("head", [
    # Citation tags: the page has said what it has; no journal means none.
    '<meta name="citation_title" content="A preprint"><meta name="citation_author" content="X Y">',
    # A title tag of any family: the template knows its metadata.
    '<meta property="og:title" content="A preprint">',
])
def test_masthead_is_not_read_on_pages_with_tags(head: str) -> None:
    html = (f"<html><head><title>A preprint</title>{head}</head><body>"
            "<h2>Some Review</h2><p>Vol. 2, No. 1</p><h1>A preprint</h1>"
            "<p>By Jane Roe</p><p>June 2004</p></body></html>")
    article = scrape(None, html)
    assert article.journal is None
    assert article.year is None
    assert "Jane Roe" not in article.authors


# --- The issue's date over the e-pub date ----------------------------------------

def test_labelled_issue_date_beats_the_dublin_core_epub_date() -> None:
    article = scrape("https://pubs.example.org/doi/10.5555/iel.2018.0042", page("issue_date.html"))
    assert article.year == 2019
    assert article.journal == "Imaginary Energy Letters"


def test_highwire_date_beats_a_labelled_issue_date() -> None:
    html = ('<html><head><meta name="citation_title" content="T">'
            '<meta name="citation_publication_date" content="2018/11/28"></head>'
            "<body><p>Issue date: 9 January 2019</p></body></html>")
    assert scrape(None, html).year == 2018


def test_issue_date_is_only_read_on_scholarly_pages() -> None:
    html = ('<html><head><meta name="dc.title" content="Bridge opens">'
            '<meta name="dc.date" content="2020-05-10"></head>'
            "<body><p>Cover date: 1 June 2021</p></body></html>")
    assert scrape(None, html).year == 2020


# --- Line shapes -------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("November 2025", True), ("May/June 2017", True), ("Fall 2013", True),
    ("12th March 2020", True), ("2017-05-15", True),
    ("v1 [May 2019]", False), ("Published 2019", False), ("2019 2020", False),
    ("Downloaded 5206 times", False),
])
def test_date_lines(text: str, expected: bool) -> None:
    assert is_date_line(text) is expected


@pytest.mark.parametrize(("text", "issue", "year"), [
    ("Volume 23, Number 5/6", True, None),
    ("Issue 58, Fall 2013", True, 2013),
    ("Vol 12, No 1503 (2005)", True, 2005),  # the issue numbers are not years
    ("Notes on 3 things", False, None),
])
def test_issue_lines(text: str, issue: bool, year: int | None) -> None:
    assert is_issue_line(text) is issue
    assert line_year(text) == year


@pytest.mark.parametrize(("text", "names"), [
    ("By JANE DOE and John Roe", ("JANE DOE", "John Roe")),
    ("Ludwig van Beethoven & Clara Schumann", ("Ludwig van Beethoven", "Clara Schumann")),
    ("Victoria Van Hyning, University of Oxford, Zooniverse", ("Victoria Van Hyning",)),
    ("Recovering the Feminine in a Neolithic Tomb", ()),
    ("Table of Contents", ()),
    ("By 2018 we will build four projects", ()),
])
def test_names_in_lines(text: str, names: tuple[str, ...]) -> None:
    assert names_in(text) == names


def test_lines_break_at_blocks_and_br_and_know_their_size() -> None:
    html = ("<html><body><nav>Home | About</nav><p><font size=5><b>Main</b></font><br>Sub</p>"
            "<h2>Next</h2><script>var x = 1;</script><p>Tail</p></body></html>")
    lines = opening_lines(html)
    assert [line.text for line in lines] == ["Main", "Sub", "Next", "Tail"]
    assert lines[0].block == lines[1].block != lines[2].block
    assert lines[0].size == 5.5 and lines[1].size == 3.0 and lines[2].size == 5.5
