"""Identifier normalisers and what `oahelper lookup` understands."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oahelper.models import Article
from oahelper.identifiers import (
    doi_key, find_dois, isbn_key, normalise_arxiv, normalise_doi, normalise_isbn,
    normalise_pmcid, normalise_pmid, parse_query,
)


@pytest.mark.parametrize(("text", "doi"), [
    ("10.1007/BF02727953", "10.1007/BF02727953"),
    ("doi:10.1007/BF02727953", "10.1007/BF02727953"),
    ("DOI: 10.1007/BF02727953", "10.1007/BF02727953"),
    ("info:doi/10.1103/PhysRevX.12.041027", "10.1103/PhysRevX.12.041027"),
    ("https://doi.org/10.7554/eLife.44753", "10.7554/eLife.44753"),
    ("http://dx.doi.org/10.1146/annurev-conmatphys-031214-014726",
     "10.1146/annurev-conmatphys-031214-014726"),
    ("doi.org/10.1000/xyz", "10.1000/xyz"),
    ("  10.1000/xyz.  ", "10.1000/xyz"),
    ("10.1000/xyz;", "10.1000/xyz"),
    # Percent-encoded, as in COinS and URLs.
    ("info%3Adoi%2F10.1103%2FPhysRevX.12.041027", "10.1103/PhysRevX.12.041027"),
    ("https://doi.org/10.1016%2FS0009-2614%2897%2904014-1", "10.1016/S0009-2614(97)04014-1"),
    # Balanced brackets belong to the DOI, an unbalanced closer does not.
    ("10.1016/S0009-2614(97)04014-1", "10.1016/S0009-2614(97)04014-1"),
    ("(see 10.1016/S0009-2614(97)04014-1)".split(" ", 1)[1], "10.1016/S0009-2614(97)04014-1"),
    ("10.1000/abc)", "10.1000/abc"),
    ("10.1000/a[1]].", "10.1000/a[1]"),
    ("10.1051/jphysrad:01955001606044400", "10.1051/jphysrad:01955001606044400"),
    ("10.1088/0026-1394/12/4/002", "10.1088/0026-1394/12/4/002"),
])
def test_normalise_doi_accepts_the_ways_dois_are_written(text: str, doi: str) -> None:
    assert normalise_doi(text) == doi


@pytest.mark.parametrize("text", [
    "10.1.1.123.4567",            # CiteSeerX id, not a DOI
    "10.123/abc",                 # registrant too short
    "10.1234567890/abc",          # registrant too long
    "10.1000/",                   # no suffix
    "https://example.org/10.1000/abc",  # a DOI inside some other URL is not a DOI value
    "publisher-id 788745",
    "",
    "doi:",
])
def test_normalise_doi_rejects_what_is_not_a_doi(text: str) -> None:
    assert normalise_doi(text) is None


def test_doi_case_is_kept_but_keys_compare_case_insensitively() -> None:
    assert normalise_doi("10.7554/eLife.44753") == "10.7554/eLife.44753"
    assert doi_key("https://doi.org/10.7554/ELIFE.44753") == doi_key("10.7554/eLife.44753")


def test_find_dois_reads_running_text() -> None:
    text = "as shown (doi:10.1000/one), and in https://doi.org/10.2000/two. Also 10.1.1.55.1"
    assert list(find_dois(text)) == ["10.1000/one", "10.2000/two"]


@given(st.text())
def test_normalise_doi_is_idempotent(text: str) -> None:
    once = normalise_doi(text)
    if once is not None:
        assert normalise_doi(once) == once


@given(st.from_regex(r"(doi:|https://doi\.org/)?10\.[0-9]{4,9}/[!-~]{1,30}[.,;:)\]]?", fullmatch=True))
def test_normalise_doi_is_idempotent_on_doi_shaped_text(text: str) -> None:
    once = normalise_doi(text)
    if once is not None:
        assert normalise_doi(once) == once
        assert once.startswith("10.")


@pytest.mark.parametrize(("text", "pmid"), [
    ("23193287", "23193287"), ("PMID: 23193287", "23193287"), ("pmid 23193287", "23193287"),
    ("PMC3531190", None), ("abc", None), ("0", None),
])
def test_normalise_pmid(text: str, pmid: str | None) -> None:
    assert normalise_pmid(text) == pmid


@pytest.mark.parametrize(("text", "pmcid"), [
    ("PMC3531190", "PMC3531190"), ("pmc3531190", "PMC3531190"), ("PMCID: PMC3531190", "PMC3531190"),
    ("3531190", "PMC3531190"), ("PMC", None), ("PMCabc", None),
])
def test_normalise_pmcid(text: str, pmcid: str | None) -> None:
    assert normalise_pmcid(text) == pmcid


@pytest.mark.parametrize(("text", "arxiv"), [
    ("1706.03762", "1706.03762"), ("1706.03762v7", "1706.03762"),
    ("arXiv:1706.03762v2", "1706.03762"), ("https://arxiv.org/abs/1706.03762v7", "1706.03762"),
    ("https://arxiv.org/pdf/2101.00001.pdf", "2101.00001"),
    ("hep-th/9901001", "hep-th/9901001"), ("arXiv:math.GT/0309136v1", "math.GT/0309136"),
    ("1706.0376", None), ("not an id", None),
])
def test_normalise_arxiv(text: str, arxiv: str | None) -> None:
    assert normalise_arxiv(text) == arxiv


@pytest.mark.parametrize(("text", "isbn"), [
    ("978-1-939133-31-1", "978-1-939133-31-1"),        # hyphens kept as written
    ("ISBN: 9781939133311", "9781939133311"),
    ("0-306-40615-2", "0-306-40615-2"),
    ("0 306 40615 2", "0-306-40615-2"),
    ("080442957x", "080442957X"),
    ("978-1-939133-31-2", None),                       # checksum wrong
    ("12345", None),
])
def test_normalise_isbn(text: str, isbn: str | None) -> None:
    assert normalise_isbn(text) == isbn


def test_isbn_key_ignores_hyphens() -> None:
    assert isbn_key("978-1-939133-31-1") == isbn_key("9781939133311")


@pytest.mark.parametrize(("query", "article"), [
    ("10.1038/nature12373", Article(doi="10.1038/nature12373")),
    ("https://doi.org/10.1038/nature12373", Article(doi="10.1038/nature12373")),
    ("doi:10.1038/nature12373", Article(doi="10.1038/nature12373")),
    ("pmid:23193287", Article(pmid="23193287")),
    ("PMID 23193287", Article(pmid="23193287")),
    ("PMC3531190", Article(pmcid="PMC3531190")),
    ("arXiv:1706.03762", Article(arxiv="1706.03762", doi="10.48550/arXiv.1706.03762")),
    ("https://arxiv.org/abs/1706.03762v5",
     Article(arxiv="1706.03762", doi="10.48550/arXiv.1706.03762")),
])
def test_parse_query_recognises_identifiers(query: str, article: Article) -> None:
    assert parse_query(query) == article


@pytest.mark.parametrize("query", [
    "https://www.nature.com/articles/nature12373",  # a page to fetch, not an identifier
    "Attention is all you need",
    "23193287",                                     # bare number: PMID or PMCID? ambiguous
    "", "   ",
])
def test_parse_query_leaves_everything_else_alone(query: str) -> None:
    assert parse_query(query) is None
