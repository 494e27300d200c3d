"""Hostile pages and identifiers: property-based tests of ``scrape`` and the normalisers.

The daemon scrapes whatever HTML a browser tab hands it, so every page is input an
attacker (or a broken CMS) may have written. These properties must hold for all of
it: only ``ScrapeError`` escapes; a DOI that comes out is a real DOI (``10.`` + 4–9
digit registrant + ``/`` + a suffix of printable characters) and a fixed point of
``normalise_doi``; and a DOI the page does tag survives junk, deep nesting, huge
attributes, NUL bytes and wrong charsets around it.

Examples are derandomised (one fixed sequence per test) so CI failures reproduce,
and counts stay moderate so the file runs in seconds.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oahelper.errors import ScrapeError
from oahelper.models import Article
from oahelper.scrape import scrape
from oahelper.identifiers import (
    doi_key, find_dois, isbn_key, normalise_arxiv, normalise_doi, normalise_isbn,
    normalise_pmcid, normalise_pmid, parse_query,
)

# One profile for the whole file: reproducible, no example database, no per-example
# deadline (a few examples parse megabytes).
HOSTILE = settings(derandomize=True, database=None, deadline=None, max_examples=60,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEW = settings(HOSTILE, max_examples=8)

# --- What a DOI is ------------------------------------------------------------------

_DOI_GRAMMAR = re.compile(r"10\.[0-9]{4,9}/.+", re.DOTALL)
# Characters no DOI contains: controls, surrogates, the
# replacement character (a decoding failure, not text), and any kind of space.
_NEVER_IN_DOI = frozenset({"Cc", "Cs", "Zs", "Zl", "Zp"})


def assert_is_doi(doi: str) -> None:
    """``doi`` satisfies the DOI grammar and is what normalising it again gives."""
    assert _DOI_GRAMMAR.fullmatch(doi), repr(doi)
    bad = [c for c in doi if unicodedata.category(c) in _NEVER_IN_DOI or c == "\ufffd" or c.isspace()]
    assert not bad, f"{doi!r} contains {bad!r}"
    assert not doi.startswith("10.1.1."), doi  # CiteSeerX ids are not DOIs
    assert normalise_doi(doi) == doi, repr(doi)


def assert_sane(article: Article) -> None:
    """What any scraped article must satisfy, whatever the page was."""
    if article.doi is not None:
        assert_is_doi(article.doi)
    for value, normalise in ((article.pmid, normalise_pmid), (article.pmcid, normalise_pmcid),
                             (article.arxiv, normalise_arxiv)):
        if value is not None:
            assert normalise(value) == value, repr(value)
    for isbn in article.isbn:
        assert normalise_isbn(isbn) == isbn, repr(isbn)


def scrape_or_refuse(url: str | None, page: str | bytes) -> Article | None:
    """The article, or None when the scraper refused the page with ScrapeError (any
    other exception fails the test)."""
    try:
        article = scrape(url, page)
    except ScrapeError:
        return None
    assert_sane(article)
    return article


# Suffix characters: printable, not space; the last one a letter or digit so that no
# trailing-punctuation rule can apply to a DOI we expect back unchanged.
_SUFFIX_CHAR = st.characters(exclude_categories=("Cc", "Cs", "Cn", "Co", "Zs", "Zl", "Zp"),
                             exclude_characters="\ufffd")
_ALNUM = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@st.composite
def clean_dois(draw: st.DrawFn, alphabet: st.SearchStrategy[str] = _SUFFIX_CHAR) -> str:
    """A DOI that normalises to itself (real DOIs contain ``()[];:<>`` and non-ASCII)."""
    registrant = draw(st.from_regex(r"[0-9]{4,9}", fullmatch=True))
    body = draw(st.text(alphabet=alphabet, max_size=30))
    doi = f"10.{registrant}/{body}{draw(_ALNUM)}"
    return doi if normalise_doi(doi) == doi else f"10.{registrant}/{draw(_ALNUM)}"


# What DOIs are written in body text with: quotes and angle brackets end a DOI there.
_TEXT_SUFFIX_CHAR = st.one_of(_ALNUM, st.sampled_from("./-_()[];:"), _SUFFIX_CHAR.filter(
    lambda c: c not in "\"'<>&" and not c.isspace()))

# --- Building hostile pages --------------------------------------------------------

# Pieces of markup, broken and whole, that tag soup is made of. No DOI among them,
# and nothing that makes a bot-challenge page.
SOUP = (
    "<", ">", "</", "/>", "<meta", "<meta ", ' name="citation_title"', " content=", ' content="',
    '"', "'", "=", "<!--", "-->", "<!", "<?xml ", "<![CDATA[", "]]>", "<script>", "</script>",
    '<script type="application/ld+json">', "</script >", "<style>", "</style>", "<title>",
    "</title>", "<head>", "</head>", "<body>", "</body>", "<html>", "</html>", "<base href=",
    '<link rel="canonical" href="', '<span class="Z3988" title="', "rft_id=info:doi/", "{", "}",
    "[", "]", '"@id":', '"sameAs": "https://doi.org/', "&amp;", "&#0;", "&#x", "&", ";",
    "\x00", "\ufffd", "\ud7ff", "\u202e", "\r\n", "\t", " ", "doi:", "10.", "1234", "/",
    "https://doi.org/", "<div>", "</div>", "<p>", "<table><tr><td>", "<nav>", "<footer>",
    '<h2>References</h2>', '<meta name="dc.identifier" scheme="doi" content="',
)
SOUP_PIECES = st.one_of(st.sampled_from(SOUP), st.text(max_size=6))


def tagged_page(doi: str, title: str = "A title") -> str:
    """A page whose head tags ``doi`` with citation_doi (first thing in the head)."""
    return (f'<html><head><meta name="citation_doi" content="{html.escape(doi)}">'
            f'<meta name="citation_title" content="{html.escape(title)}">')


# --- 1. Anything at all ------------------------------------------------------------

@HOSTILE
@given(page=st.one_of(st.text(), st.binary()),
       url=st.one_of(st.none(), st.text(max_size=40), st.just("https://x.example.org/doi/10.1234/abc")))
def test_any_text_or_bytes_gives_an_article_or_a_scrape_error(page: str | bytes, url: str | None) -> None:
    scrape_or_refuse(url, page)


@HOSTILE
@given(pieces=st.lists(st.one_of(SOUP_PIECES, clean_dois()), max_size=80))
def test_tag_soup_gives_an_article_or_a_scrape_error(pieces: list[str]) -> None:
    page = "".join(pieces)
    scrape_or_refuse("https://journal.example.org/article/1", page)
    scrape_or_refuse(None, page.encode("utf-8", "surrogatepass"))


@HOSTILE
@given(doi=clean_dois(), junk=st.lists(SOUP_PIECES, max_size=60))
def test_a_tagged_doi_survives_any_junk_after_it(doi: str, junk: list[str]) -> None:
    article = scrape_or_refuse(None, tagged_page(doi) + "".join(junk))
    assert article is not None and article.doi == doi


# --- 2. Deep nesting ------------------------------------------------------------------

NESTING_TAGS = ("div", "span", "table", "b", "i", "a", "p", "ul", "li", "section", "font", "td")


def nested(depth: int, tags: list[str], inner: str, closed: bool) -> str:
    """``inner`` wrapped ``depth`` levels deep in ``tags`` (round-robin)."""
    opening = "".join(f"<{tags[i % len(tags)]}>" for i in range(depth))
    closing = "".join(f"</{tags[i % len(tags)]}>" for i in reversed(range(depth))) if closed else ""
    return opening + inner + closing


@FEW
@given(doi=clean_dois(), depth=st.integers(1_000, 6_000),
       tags=st.lists(st.sampled_from(NESTING_TAGS), min_size=1, max_size=4),
       closed=st.booleans())
def test_thousands_deep_nesting_around_the_tag_or_the_one_body_doi(
        doi: str, depth: int, tags: list[str], closed: bool) -> None:
    # Tagged: the nesting sits in the head before the tag and fills the body.
    page = ("<html><head>" + nested(depth, tags, "", closed)
            + tagged_page(doi)[len("<html><head>"):] + "</head><body>"
            + nested(depth, tags, "text", closed))
    article = scrape_or_refuse(None, page)
    assert article is not None and article.doi == doi
    # Untagged: the page's one DOI is written at the bottom of the nesting.
    written = doi if _is_plain(doi) else "10.4444/deep.1"
    page = "<html><head></head><body>" + nested(depth, tags, f"DOI: {html.escape(written)}", closed)
    article = scrape_or_refuse(None, page)
    assert article is not None and article.doi == written


def _is_plain(doi: str) -> bool:
    return all(c.isalnum() or c in "./-_" for c in doi)


@FEW
@given(depth=st.integers(1_000, 50_000), opener=st.sampled_from(["[", '{"a":', '{"@graph":[']))
def test_deeply_nested_json_ld_is_refused_quietly(depth: int, opener: str) -> None:
    closer = {"[": "]", '{"a":': "}", '{"@graph":[': "]}"}[opener]
    block = opener * depth + "1" + closer * depth
    page = (f'<html><head><script type="application/ld+json">{block}</script>'
            '<meta name="citation_doi" content="10.5555/deep.json"></head>')
    article = scrape_or_refuse(None, page)
    assert article is not None and article.doi == "10.5555/deep.json"


# --- 3. Huge attributes -----------------------------------------------------------------

# Where a megabytes-long attribute value sits: (markup before the tagged DOI,
# attribute inside the DOI's own tag).
HUGE_PLACES = {
    "other meta": ('<meta name="description" content="{x}">', ""),
    "unquoted": ("<meta name=description content={x}>", ""),
    "own tag": ("", ' data-x="{x}"'),
    "title": ("<title>{x}</title>", ""),
    "comment": ("<!-- {x} -->", ""),
    "link": ('<link rel="alternate" href="https://x.example.org/{x}">', ""),
}


@FEW
@given(doi=clean_dois(), megabytes=st.integers(1, 4), place=st.sampled_from(sorted(HUGE_PLACES)),
       filler=st.sampled_from(["x", "\"'", "<>", "&amp;", "é", "\x00", "10.1234/"]))
def test_megabyte_attributes_do_not_hide_the_tagged_doi(
        doi: str, megabytes: int, place: str, filler: str) -> None:
    value = html.escape(filler) * (megabytes * 1024 * 1024 // len(html.escape(filler)))
    before, inside = (part.replace("{x}", value) for part in HUGE_PLACES[place])
    page = (f"<html><head>{before}<meta name=\"citation_doi\"{inside} "
            f"content=\"{html.escape(doi)}\"></head><body></body></html>")
    article = scrape_or_refuse(None, page)
    assert article is not None and article.doi == doi


# --- 4. Encodings ------------------------------------------------------------------------

# Encodings in which ASCII bytes mean ASCII characters, as in a browser.
ASCII_COMPATIBLE = ("utf-8", "cp1252", "latin-1", "iso-8859-2", "iso-8859-5", "koi8-r",
                    "shift_jis", "euc-jp", "gb18030", "big5", "euc-kr", "mac-roman", "cp1251")
# What pages declare: real labels, aliases browsers remap, labels of encodings in
# which ASCII is not ASCII, Python codecs that are no text encoding, and nonsense.
DECLARED = ASCII_COMPATIBLE + ("utf-16", "UTF-16LE", "unicode", "us-ascii", "ebcdic-cp-us", "cp037",
                               "utf-32", "punycode", "rot13", "base64", "hex", "zlib", "idna",
                               "undefined", "unicode_escape", "utf-7", "x-no-such-charset", "")
DECLARATIONS = (
    '<meta charset="{c}">',
    '<meta http-equiv="Content-Type" content="text/html; charset={c}">',
    "<meta charset={c}>",
)


def declaration(template: str, charset: str) -> str:
    return template.replace("{c}", charset)


@HOSTILE
@given(charset=st.sampled_from(ASCII_COMPATIBLE), template=st.sampled_from(DECLARATIONS),
       title=st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=20),
       doi=clean_dois(alphabet=_ALNUM))
def test_a_declared_charset_that_is_right_reads_the_title_exactly(
        charset: str, template: str, title: str, doi: str) -> None:
    try:
        page = (f"<html><head>{declaration(template, charset)}{tagged_page(doi, title)[12:]}"
                "</head></html>").encode(charset)
    except UnicodeEncodeError:
        page = (f"<html><head>{declaration(template, charset)}{tagged_page(doi)[12:]}"
                "</head></html>").encode(charset)
        title = "A title"
    article = scrape_or_refuse(None, page)
    assert article is not None
    assert (article.doi, article.title) == (doi, title)


@HOSTILE
@given(declared=st.sampled_from(DECLARED), actual=st.sampled_from(ASCII_COMPATIBLE),
       template=st.sampled_from(DECLARATIONS), title=st.text(max_size=20),
       junk=st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"<", b"").replace(b">", b"")),
                     min_size=1, max_size=8),
       doi=clean_dois(alphabet=_ALNUM))
def test_wrong_charsets_and_mixed_bytes_keep_the_ascii_doi(
        declared: str, actual: str, template: str, title: str, junk: list[bytes], doi: str) -> None:
    # Declared one thing, written in another, with stray bytes (NULs, invalid
    # sequences, other encodings) between the tags: the ASCII DOI still reads.
    parts = [f"<html><head>{declaration(template, declared)}".encode("ascii", "replace"),
             f'<meta name="citation_title" content="{html.escape(title)}">'.encode(actual, "replace"),
             f'<meta name="citation_doi" content="{doi}">'.encode("ascii"),
             "<title>Überschrift – 标题</title></head><body>".encode()]
    page = b"".join(p + junk[i % len(junk)] for i, p in enumerate(parts))
    article = scrape_or_refuse("https://journal.example.org/a/1", page)
    assert article is not None and article.doi == doi


@HOSTILE
@given(doi=clean_dois(alphabet=_ALNUM), encoding=st.sampled_from(["utf-16-le", "utf-16-be", "utf-32"]),
       bom=st.booleans())
def test_utf16_and_utf32_pages_never_crash_and_read_with_a_bom(doi: str, encoding: str, bom: bool) -> None:
    text = tagged_page(doi) + "</head></html>"
    marks = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-32": b""}
    page = (marks[encoding] if bom else b"") + text.encode(encoding)
    article = scrape_or_refuse(None, page)
    if bom and encoding != "utf-32":
        assert article is not None and article.doi == doi


# --- 5. NUL bytes ------------------------------------------------------------------------

@HOSTILE
@given(doi=clean_dois(), nuls=st.lists(st.integers(0, 6), max_size=8))
def test_nul_bytes_between_and_inside_other_tags_do_not_hide_the_doi(doi: str, nuls: list[int]) -> None:
    pieces = ["<html>", "<head>", '<meta name="description" content="a\x00b">', "<title>T</title>",
              f'<meta name="citation_doi" content="{html.escape(doi)}">', "</head>", "<body>"]
    for slot in nuls:  # a NUL before piece ``slot``
        pieces[slot] = "\x00" + pieces[slot]
    page = "".join(pieces)
    for variant in (page, page.encode("utf-8")):
        article = scrape_or_refuse(None, variant)
        assert article is not None and article.doi == doi


@HOSTILE
@given(doi=clean_dois(alphabet=_ALNUM), at=st.integers(0, 40),
       bad=st.sampled_from(["\x00", "&#0;", "\x01", "&#1;", "\x7f", "\ufffd", "&#xfffd;", "\x1b"]),
       where=st.sampled_from(["meta", "body"]))
def test_a_control_character_inside_a_doi_never_comes_out_in_one(
        doi: str, at: int, bad: str, where: str) -> None:
    cut = min(at, len(doi))
    written = doi[:cut] + bad + doi[cut:]
    page = (f'<html><head><meta name="citation_doi" content="{written}"></head></html>' if where == "meta"
            else f"<html><head></head><body><p>DOI: {written}</p></body></html>")
    scrape_or_refuse(None, page)  # whatever DOI comes out passes assert_is_doi


@HOSTILE
@given(doi=clean_dois(alphabet=_ALNUM), at=st.integers(0, 40),
       escape=st.sampled_from(["\\ud800", "\\udfff", "\\u0000", "\\u0007", "\\ufffd", "\\u2028"]))
def test_an_escape_in_json_ld_never_comes_out_in_a_doi(doi: str, at: int, escape: str) -> None:
    # JSON can escape a lone surrogate in, which no DOI has and UTF-8 cannot even send.
    cut = min(at, len(doi))
    block = ('{"@type": "ScholarlyArticle", "sameAs": "https://doi.org/'
             + doi[:cut] + escape + doi[cut:] + '"}')
    scrape_or_refuse(None, f'<html><head><script type="application/ld+json">{block}</script></head></html>')


HALF = "\ud83d"  # the first half of an emoji, alone
HALF_EMOJI_PAGES = {
    "title": ('<html><head><meta name="citation_doi" content="10.5555/emoji.1">'
              f'<meta name="citation_title" content="Smile {HALF}"></head></html>'),
    "attribute": ('<html><head><meta name="citation_doi" content="10.5555/emoji.1">'
                  f'<link rel="alternate" href="https://x.example.org/{HALF}"></head></html>'),
    "body": f"<html><head></head><body><p>DOI: 10.5555/emoji.1. Tweet: {HALF}</p></body></html>",
}


@pytest.mark.parametrize("where", sorted(HALF_EMOJI_PAGES))
def test_half_an_emoji_anywhere_does_not_make_a_page_unreadable(where: str) -> None:
    article = scrape_or_refuse(None, HALF_EMOJI_PAGES[where])
    assert article is not None and article.doi == "10.5555/emoji.1"


# --- 6. DOIs in every place a page tags them --------------------------------------------

def _coins(doi: str) -> str:
    return f'<span class="Z3988" title="ctx_ver=Z39.88-2004&amp;rft_id=info:doi/{quote(doi, safe="")}"></span>'


# Where a page writes its DOI (how, and the tier scrape must report).
CARRIERS = {
    "citation_doi": (lambda d: f'<meta name="citation_doi" content="{html.escape(d)}">', "citation_doi"),
    "bepress": (lambda d: f'<meta name="bepress_citation_doi" content="doi:{html.escape(d)}">', "citation_doi"),
    "dc scheme": (lambda d: f'<meta name="DC.Identifier" scheme="doi" content="{html.escape(d)}">', "dc_doi"),
    "prism": (lambda d: f'<meta name="prism.doi" content="https://doi.org/{html.escape(d)}">', "dc_doi"),
    "dc plain": (lambda d: f'<meta name="dcterms.identifier" content="info:doi/{html.escape(d)}">',
                 "dc_identifier"),
    "json-ld": (lambda d: '<script type="application/ld+json">' + json.dumps(
        {"@context": "https://schema.org", "@type": "ScholarlyArticle",
         "sameAs": f"https://doi.org/{d}"}).replace("</", "<\\/") + "</script>", "json_ld"),
    "coins": (lambda d: "</head><body>" + _coins(d), "coins"),
}


@HOSTILE
@given(doi=clean_dois(), carrier=st.sampled_from(sorted(CARRIERS)))
def test_random_dois_come_back_from_every_carrier(doi: str, carrier: str) -> None:
    write, tier = CARRIERS[carrier]
    article = scrape_or_refuse(None, f"<html><head>{write(doi)}</head><body></body></html>")
    assert article is not None
    assert (article.doi, article.doi_tier) == (doi, tier)


@HOSTILE
@given(doi=clean_dois(alphabet=_TEXT_SUFFIX_CHAR),
       before=st.sampled_from(["DOI: ", "doi:", "https://doi.org/", "(", "see "]),
       after=st.sampled_from(["", ".", ",", "; ", " and more", "\n"]))
def test_the_one_doi_in_a_body_comes_back(doi: str, before: str, after: str) -> None:
    expected = normalise_doi(doi)
    text = html.escape(f"{before}{doi}{after}")
    article = scrape_or_refuse(None, f"<html><head></head><body><p>{text}</p></body></html>")
    assert article is not None and article.doi == expected == doi


# --- 7. The identifier normalisers -------------------------------------------------------

# Ways people and pages write a DOI around the DOI itself.
DOI_PREFIXES = ("", "doi:", "DOI: ", "doi ", "info:doi/", "urn:doi:", "https://doi.org/",
                "http://dx.doi.org/", "doi.org/", "https://www.doi.org/", " ", "doi:https://doi.org/")
DOI_TRAILERS = ("", ".", ",", ";", ":", " ", "\t", ".,", " and 10.9999/other", "\n(2019)")
JUNK_AROUND = st.text(alphabet=st.sampled_from("%()[]{}.,;:/ \t\x00\x01\ufffd\u200bd0i:oxX"), max_size=6)


@HOSTILE
@given(text=st.one_of(
    st.text(),
    st.from_regex(r"10\.\d{4,9}/\w{1,5}", fullmatch=True),  # \d: any script's digits
    st.tuples(JUNK_AROUND, st.sampled_from(DOI_PREFIXES), clean_dois(), JUNK_AROUND).map("".join),
    st.tuples(st.sampled_from(DOI_PREFIXES), clean_dois().map(lambda d: quote(d, safe="/:")),
              JUNK_AROUND).map("".join),
))
def test_every_normalised_doi_is_a_doi_and_a_fixed_point(text: str) -> None:
    doi = normalise_doi(text)
    if doi is not None:
        assert_is_doi(doi)
        assert doi_key(doi) == doi_key(text) == doi_key(doi.upper().lower())
    for found in find_dois(text):
        assert_is_doi(found)


@HOSTILE
@given(doi=clean_dois(), prefix=st.sampled_from(DOI_PREFIXES), trailer=st.sampled_from(DOI_TRAILERS),
       encoded=st.booleans())
def test_a_doi_comes_back_from_every_way_of_writing_it(
        doi: str, prefix: str, trailer: str, encoded: bool) -> None:
    written = quote(doi, safe="/") if encoded else doi
    assert normalise_doi(prefix + written + trailer) == doi


@st.composite
def written_isbns(draw: st.DrawFn) -> tuple[str, str]:
    """(an ISBN as a page might write it, its digits): checksum right, hyphens or
    spaces anywhere between digits, an optional ``ISBN:`` prefix."""
    if draw(st.booleans()):
        body = draw(st.from_regex(r"97[89][0-9]{9}", fullmatch=True))
        check = str(-sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(body)) % 10)
    else:
        body = draw(st.from_regex(r"[0-9]{9}", fullmatch=True))
        value = -sum((10 - i) * int(c) for i, c in enumerate(body)) % 11
        check = "X" if value == 10 else str(value)
    digits = body + check
    separators = draw(st.lists(st.sampled_from(["", "", "-", " "]), min_size=len(digits) - 1,
                               max_size=len(digits) - 1))
    written = digits[0] + "".join(s + c for s, c in zip(separators, digits[1:]))
    prefix = draw(st.sampled_from(["", "ISBN ", "ISBN: ", "isbn-13:", "ISBN-10 "]))
    return prefix + (written.lower() if draw(st.booleans()) else written), digits


@HOSTILE
@given(case=written_isbns())
def test_a_valid_isbn_comes_back_with_its_digits(case: tuple[str, str]) -> None:
    written, digits = case
    isbn = normalise_isbn(written)
    assert isbn is not None and isbn_key(isbn) == digits
    assert normalise_isbn(isbn) == isbn


# Shaped inputs, so that the normalisers' accepting paths are exercised too.
SHAPED = {
    normalise_pmid: r"(PMID|pmid|Pmid)?[:= ]{0,2}0{0,3}[0-9]{1,11}",
    normalise_pmcid: r"(PMCID|pmcid)?[:= ]{0,2}(PMC|pmc|Pmc)? ?0{0,3}[0-9]{1,12}",
    normalise_arxiv: r"(arXiv:|arxiv: |https://arxiv\.org/abs/|export\.arxiv\.org/pdf/)?"
                     r"([0-9]{4}\.[0-9]{4,5}|[a-zA-Z-]{2,10}(\.[A-Za-z]{2})?/[0-9]{7})(v[0-9]{1,2})?(\.pdf|/)?",
    normalise_isbn: r"(ISBN|isbn)?(-1[03])?:? ?[0-9][0-9 -]{8,16}[0-9Xx]",
}
# What each normaliser's output looks like.
OUTPUT_SHAPE = {
    normalise_pmid: re.compile(r"[1-9][0-9]*"),
    normalise_pmcid: re.compile(r"PMC[1-9][0-9]*"),
    normalise_arxiv: re.compile(r"[0-9]{4}\.[0-9]{4,5}|[a-z][a-zA-Z-]*(\.[A-Za-z]{2})?/[0-9]{7}"),
    normalise_isbn: re.compile(r"[0-9][0-9-]*[0-9X]"),
}


@HOSTILE
@given(data=st.data(), normalise=st.sampled_from(sorted(SHAPED, key=lambda f: f.__name__)))
def test_pmid_pmcid_arxiv_isbn_normalisers_are_idempotent_and_well_formed(data: st.DataObject, normalise) -> None:
    text = data.draw(st.one_of(st.text(), st.from_regex(SHAPED[normalise], fullmatch=True)))
    once = normalise(text)
    if once is not None:
        assert OUTPUT_SHAPE[normalise].fullmatch(once), (normalise.__name__, text, once)
        assert normalise(once) == once, (normalise.__name__, text, once)
        assert normalise(f"  {once}\t") == once  # surrounding space never matters


@HOSTILE
@given(text=st.one_of(st.text(), st.tuples(st.sampled_from(["pmid:", "PMC", "arXiv:", "doi:", ""]),
                                           st.text(alphabet="0123456789./v", max_size=14)).map("".join)))
def test_parse_query_gives_none_or_normalised_identifiers(text: str) -> None:
    article = parse_query(text)
    if article is None:
        return
    assert article.is_article
    assert_sane(article)
