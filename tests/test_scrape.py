"""scrape() on small pages of our own writing: each DOI tier, field precedence,
encodings, broken HTML and the pages that must come out as not-an-article."""

from __future__ import annotations

import pytest

from oahelper.errors import ScrapeError
from oahelper.scrape import scrape
from tests.support.shared import OWN_FIXTURES

PAGES = OWN_FIXTURES / "pages"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


# --- DOI tiers -------------------------------------------------------------------

@pytest.mark.parametrize(("name", "url", "doi", "tier"), [
    # Tags win over the body's and the reference tags' DOIs.
    ("highwire.html", "https://journal.example.org/content/42", "10.9999/jmua.2019.0042",
     "citation_doi"),
    # publisher-id holds a DOI-shaped value; only scheme="doi" may be read.
    ("dublin_core.html", None, "10.4321/icl.2020.77", "dc_doi"),
    # The work's own sameAs, not the breadcrumb's, the website's or a citation's.
    ("jsonld.html", "https://repo.example.net/records/77", "10.6543/repo.77", "json_ld"),
    # COinS, brackets balanced; the reference list is not read.
    ("coins.html", "https://toy.example.org/abstract/7", "10.3210/ToyMag.7.011(2020)", "coins"),
    # One DOI left once nav, footer, script and the References section are gone.
    ("body_one_doi.html", "https://archive.example.org/paper/9", "10.4444/lichen.2022.004",
     "body_text"),
])
def test_doi_tier_on_our_pages(name: str, url: str | None, doi: str, tier: str) -> None:
    article = scrape(url, page(name))
    assert (article.doi, article.doi_tier) == (doi, tier)


def test_url_tier_reads_doi_paths_and_strips_views_and_versions() -> None:
    html = "<html><head><title>x</title></head><body>no ids</body></html>"
    cases = {
        "https://pubs.example.org/doi/abs/10.1021/acscombsci.5b00087": "10.1021/acscombsci.5b00087",
        "https://x.example.org/doi/full/10.1002/andp.19263851302": "10.1002/andp.19263851302",
        "https://x.example.org/content/10.1101/2020.03.22.002386v3.full.pdf":
            "10.1101/2020.03.22.002386",
        "https://x.example.org/journal/article?id=10.1371/journal.pone.0213978":
            "10.1371/journal.pone.0213978",
        "https://x.example.org/article/10.1088/0026-1394/12/4/002/pdf": "10.1088/0026-1394/12/4/002",
    }
    for url, doi in cases.items():
        article = scrape(url, html)
        assert (article.doi, article.doi_tier) == (doi, "url"), url


def test_canonical_link_counts_as_a_url() -> None:
    html = ('<html><head><link rel="canonical" href="/doi/10.4242/canon.1">'
            '</head><body></body></html>')
    article = scrape("https://site.example.org/article/view/1", html)
    assert (article.doi, article.doi_tier) == ("10.4242/canon.1", "url")


def test_arxiv_id_tag_gives_the_datacite_doi() -> None:
    html = '<html><head><meta name="citation_arxiv_id" content="2101.00001"></head></html>'
    article = scrape("https://mirror.example.org/abs/2101.00001", html)
    assert article.arxiv == "2101.00001"
    assert (article.doi, article.doi_tier) == ("10.48550/arXiv.2101.00001", "site_rule")


def test_body_with_many_dois_and_no_tags_gives_none() -> None:
    article = scrape("https://blog.example.org/reading-list", page("references_many.html"))
    assert article.doi is None
    assert not article.is_article


def test_several_citation_dois_prefer_the_one_in_the_url() -> None:
    html = ('<html><head><meta name="citation_doi" content="10.1111/other.1">'
            '<meta name="citation_doi" content="10.2222/this.one"></head></html>')
    article = scrape("https://x.example.org/doi/10.2222/THIS.ONE", html)
    assert article.doi == "10.2222/this.one"


def test_meta_names_match_across_attributes_and_case() -> None:
    for attribute in ("name", "property", "itemprop", "id"):
        html = f'<html><head><meta {attribute}="DC.Identifier.DOI" content="10.5050/x.1"></head></html>'
        assert scrape(None, html).doi == "10.5050/x.1", attribute


# --- Fields ------------------------------------------------------------------

def test_highwire_fields_win_and_are_cleaned() -> None:
    article = scrape("https://journal.example.org/content/42", page("highwire.html"))
    assert article.title == "Tidal locking of small moons"  # not DC, OG or the script's
    assert article.authors == ("Okafor, Adaeze", "van der Berg, Pieter")
    assert article.journal == "Journal of Made-Up Astronomy"  # never the abbreviation
    assert article.year == 2019  # publication date before online date
    assert article.publisher == "Example Society Press"
    # Relative PDF link resolved against <base href>.
    assert article.pdf_url == "https://journal.example.org/content/vol12/article-42.pdf"
    assert article.author_email == "a.okafor@uni.example.edu"
    assert article.citation_meta


def test_references_stay_out_of_the_articles_fields() -> None:
    article = scrape(None, page("highwire.html"))
    assert "Other Journal" != article.journal
    assert "An older study" != article.title


def test_dublin_core_page_fields_and_journal_from_the_title_tag() -> None:
    article = scrape(None, page("dublin_core.html"))
    assert article.title == "Catalysis on grains of sand"
    assert article.authors == ("Marta Quispe", "Lin Wei")  # padding collapsed
    assert article.year == 2020
    assert article.journal == "Imaginary Chemistry Letters"
    assert article.citation_meta


def test_json_ld_fields() -> None:
    article = scrape(None, page("jsonld.html"))
    assert article.title == "Notes on nothing"
    assert article.authors == ("Ana Souza", "Kofi Mensah")
    assert article.journal == "Review of Nothing"
    assert article.year == 2021
    assert article.publisher == "Example Repository Press"


def test_title_tag_is_the_last_resort_without_the_site_name() -> None:
    article = scrape(None, page("body_one_doi.html"))
    assert article.title == "Field notes on lichens"


def test_identifiers_from_urls_and_tags() -> None:
    html = ('<html><head><meta name="citation_pmid" content="23193287">'
            '<meta name="citation_isbn" content="978-1-939133-31-1">'
            '<meta name="citation_isbn" content="9781939133311"></head></html>')
    article = scrape("https://pmc.ncbi.nlm.nih.gov/articles/PMC3531190/", html)
    assert (article.pmid, article.pmcid) == ("23193287", "PMC3531190")
    assert article.isbn == ("978-1-939133-31-1",)  # one number, as the page first wrote it


# --- Pages that are not articles ---------------------------------------------

def test_news_page_is_not_an_article() -> None:
    article = scrape("https://citydaily.example.com/news/123", page("news.html"))
    assert article.doi is None
    assert not article.citation_meta
    assert not article.is_article


def test_challenge_page_trusts_only_the_url() -> None:
    url = "https://pubs.example.org/doi/abs/10.5432/real.one"
    article = scrape(url, page("challenge.html"))
    assert article.challenge
    assert (article.doi, article.doi_tier) == ("10.5432/real.one", "url")
    # Nothing from the interstitial's HTML: not its meta tag, not the DOI in its script.
    assert article.title is None
    assert not article.citation_meta


def test_challenge_page_without_an_id_in_its_url_has_no_doi() -> None:
    article = scrape("https://pubs.example.org/action/show", page("challenge.html"))
    assert article.challenge and article.doi is None


# --- Input robustness -------------------------------------------------------------

def test_undeclared_cp1252_bytes_are_decoded() -> None:
    article = scrape(None, page("cp1252.html"))
    assert article.title == "Café society – a “modern” history"
    assert article.authors == ("Renée Dubois",)


@pytest.mark.parametrize(("prefix", "encoding"), [
    (b"\xef\xbb\xbf", "utf-8"),
    (b"", "utf-8"),
])
def test_utf8_bytes_with_and_without_bom(prefix: bytes, encoding: str) -> None:
    html = '<html><head><meta name="citation_title" content="Schrödinger’s cat"></head></html>'
    assert scrape(None, prefix + html.encode(encoding)).title == "Schrödinger’s cat"


def test_declared_charset_is_honoured() -> None:
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2">'
            '<meta name="citation_title" content="Łódź"></head></html>')
    assert scrape(None, html.encode("iso-8859-2")).title == "Łódź"


TITLE_PAGE = '<html><head><meta charset="{label}"><meta name="citation_title" content="{title}"></head>'


@pytest.mark.parametrize("label", ["utf-7", "UTF7", "cp037", "rot13", "x-no-such-charset"])
def test_a_label_browsers_do_not_know_is_ignored(label: str) -> None:
    """WHATWG encoding rules: UTF-7 is no encoding of the web, so "+ADw-script+AD4-"
    stays that text and never becomes "<script>"."""
    page = TITLE_PAGE.format(label=label, title="a +ADw-script+AD4- b").encode("ascii")
    assert scrape(None, page).title == "a +ADw-script+AD4- b"


@pytest.mark.parametrize(("label", "title", "codec"), [
    ("utf-16", "Łódź", "utf-8"),          # declared in ASCII: cannot be UTF-16
    ("x-user-defined", "café", "cp1252"),
    ("latin1", "café €", "cp1252"),       # the WHATWG table maps Latin-1 to Windows-1252
    ("sjis", "日本", "shift_jis"),
])
def test_labels_mean_what_the_encoding_standard_says(label: str, title: str, codec: str) -> None:
    assert scrape(None, TITLE_PAGE.format(label=label, title=title).encode(codec)).title == title


def test_a_replacement_encoding_label_makes_the_page_unreadable_as_in_a_browser() -> None:
    page = TITLE_PAGE.format(label="iso-2022-kr", title="Hidden").encode("ascii")
    assert scrape(None, page).title is None


def test_an_http_charset_follows_the_same_table() -> None:
    from oahelper.scrape.decode import decode_labelled

    assert decode_labelled(b"+ADw-b+AD4-", "utf-7") == b"+ADw-b+AD4-"  # left to the page
    assert decode_labelled("café".encode("cp1252"), "latin1") == "café"
    assert decode_labelled("Łódź".encode("utf-16-le"), "utf-16le") == "Łódź"


def test_broken_html_still_gives_what_it_can() -> None:
    article = scrape(None, page("broken.html"))
    assert article.doi == "10.7070/Broken.Case.(1)"
    assert article.authors[0] == "O'Neil, Siobhán"
    assert article.title == "Unclosed things & odd quoting"  # inline markup removed: plain text
    assert article.journal == "Journal Found In Body"


@pytest.mark.parametrize("html", [
    "", b"", "<", "<html", "\x00\x01\x02", b"\xff\xfe\x00", "<meta content='", "<<<>>>",
    "<script>", "<!--", "<title>", '<span class="Z3988" title="rft_id=%zz">',
    '<script type="application/ld+json">{not json</script>',
    '<script type="application/ld+json">[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]</script>',
])
def test_garbage_never_crashes(html: str | bytes) -> None:
    article = scrape("https://example.org/", html)
    assert article.doi is None


def test_absurd_input_raises_scrape_error() -> None:
    with pytest.raises(ScrapeError):
        scrape(None, None)  # type: ignore[arg-type]
    with pytest.raises(ScrapeError):
        scrape(None, "x" * (33 * 1024 * 1024))
    with pytest.raises(ScrapeError):
        scrape(42, "<html></html>")  # type: ignore[arg-type]


def test_conference_title_is_a_container_and_abbreviations_are_not() -> None:
    html = ('<html><head><meta name="citation_title" content="A talk">'
            '<meta name="citation_journal_abbrev" content="Proc. Conf.">'
            '<meta name="citation_conference_title" content="Proceedings of the Example Conference">'
            '</head></html>')
    assert scrape(None, html).journal == "Proceedings of the Example Conference"


def test_one_body_doi_is_ignored_when_a_tag_names_the_doi() -> None:
    html = ('<html><head><meta name="dc.identifier" content="doi:10.1212/tagged.1"></head>'
            '<body><p>Related: doi:10.3434/body.only</p></body></html>')
    article = scrape(None, html)
    assert (article.doi, article.doi_tier) == ("10.1212/tagged.1", "dc_identifier")


@pytest.mark.parametrize("meta, expected", [
    ('<meta name="citation_title" content="Roots of &lt;i&gt;Zea mays&lt;/i&gt; in drought">',
     "Roots of Zea mays in drought"),
    ('<meta name="citation_title" content="CO<sub>2</sub> uptake by <i>E. coli</i>">',
     "CO2 uptake by E. coli"),
    ('<meta name="citation_title" content="&amp;lt;em&amp;gt;Arabidopsis&amp;lt;/em&amp;gt; clocks">',
     "Arabidopsis clocks"),
    ('<meta name="citation_title" content="When p&lt;0.05 and a&lt;b and c&gt;d">',
     "When p<0.05 and a<b and c>d"),
])
def test_titles_come_out_as_plain_text(meta: str, expected: str) -> None:
    html = (f'<html><head>{meta}<meta name="citation_doi" content="10.5555/x.1">'
            '<meta name="citation_journal_title" content="Journal of &lt;i&gt;Plant&lt;/i&gt; Things">'
            '<meta name="citation_author" content="M&lt;sup&gt;c&lt;/sup&gt;Donald, Ann">'
            "</head><body></body></html>")
    article = scrape("https://pub.example/a", html)
    assert article.title == expected
    assert article.journal == "Journal of Plant Things"
    assert article.authors == ("McDonald, Ann",)
