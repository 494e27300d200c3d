"""The works a page cites: read from citation_reference tags, or from the doi.org links
of its reference list, and kept out of the article's own fields."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from oahelper.scrape import scrape
from oahelper.scrape.references import MAX_REFERENCES, linked_references, reference_from_tag
from tests.support.processes import oahelper
from tests.support.shared import OWN_FIXTURES, require_shared

PAGES = OWN_FIXTURES / "pages"


def test_highwire_reference_fields_and_the_article_keeps_its_own_doi() -> None:
    article = scrape("https://journal.example/a", (PAGES / "highwire.html").read_bytes())
    assert article.doi == "10.9999/jmua.2019.0042"
    (ref,) = article.references
    assert (ref.doi, ref.title, ref.journal) == ("10.8888/old.1", "An older study", "Other Journal")
    assert article.journal != "Other Journal" and article.title != "An older study"


@pytest.mark.parametrize("content,expected", [
    ("citation_title=Occurrence; of a semicolon;citation_author=Z. Cheng;citation_author=Y. Shi;"
     "citation_journal_title=J Vet Med Sci;citation_publication_date=2007;",
     {"title": "Occurrence; of a semicolon", "authors": ["Z. Cheng", "Y. Shi"], "year": 2007,
      "journal": "J Vet Med Sci"}),
    ("citation_journal_title=Phys. Rev.; citation_author=A. Messiah; citation_volume=136; "
     "citation_doi=10.1103/PhysRev.136.B248; citation_id=CR4",
     {"doi": "10.1103/PhysRev.136.B248", "authors": ["A. Messiah"], "journal": "Phys. Rev."}),
    ("Wu, F. et al. A new coronavirus. Nature 579, 265–269 (2020). doi:10.1038/s41586-020-2008-3",
     {"doi": "10.1038/s41586-020-2008-3",
      "text": "Wu, F. et al. A new coronavirus. Nature 579, 265–269 (2020). doi:10.1038/s41586-020-2008-3"}),
    ("Vaswani A. Attention is all you need. arXiv:1706.03762v5; PMID: 123",
     {"arxiv": "1706.03762", "pmid": "123",
      "text": "Vaswani A. Attention is all you need. arXiv:1706.03762v5; PMID: 123"}),
])
def test_both_ways_publishers_write_a_reference(content: str, expected: dict) -> None:
    assert reference_from_tag(content).to_json() == expected


def test_doi_org_links_in_the_reference_list_when_there_are_no_tags() -> None:
    html = (PAGES / "article_references.html").read_bytes()
    assert scrape("https://journal.example/soil", html).references == ()
    refs = linked_references(html)
    assert [r.doi for r in refs] == ["10.5555/oahelper.gold.2024", "10.5555/oahelper.closed.1997"]
    assert refs[0].text.startswith("Alpha A (2019) On soils.")


def test_scrape_prints_the_references(isolated_home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
    tagged = oahelper(["scrape", str(PAGES / "highwire.html")], env)
    linked = oahelper(["scrape", str(PAGES / "article_references.html")], env)
    assert json.loads(tagged.stdout)["references"] == [
        {"doi": "10.8888/old.1", "title": "An older study", "journal": "Other Journal"}]
    assert [r["doi"] for r in json.loads(linked.stdout)["references"]] == [
        "10.5555/oahelper.gold.2024", "10.5555/oahelper.closed.1997"]


def test_real_pages_reference_lists() -> None:
    pages = require_shared("pages")

    def read(name: str) -> tuple:
        html = (pages / f"{name}.html").read_bytes()
        return scrape(None, html).references, linked_references(html)

    springer, _ = read("springer_1")
    assert len(springer) == 14  # expected.json: "14 citation_reference tags"
    assert "10.1103/PhysRev.136.B248" in [r.doi for r in springer]
    plos, _ = read("plos_1")
    assert plos[0].title == "Occurrence of reticuloendotheliosis in Chinese partridge"
    assert plos[0].year == 2007 and len(plos[0].authors) == 6
    biorxiv, _ = read("biorxiv_1")
    assert len(biorxiv) == 171 and biorxiv[0].text.startswith("Wu, F. et al.")
    pmc_tags, pmc_links = read("pmc_1")
    assert pmc_tags == () and "10.1093/nar/gkr1202" in [r.doi for r in pmc_links]
    for name in ("springer_1", "plos_1", "pmc_1"):
        html = (pages / f"{name}.html").read_bytes()
        own = scrape(None, html).doi
        assert own.casefold() not in {(r.doi or "").casefold() for r in linked_references(html)}


def test_a_page_of_a_hundred_thousand_reference_tags_parses_only_the_first_few_hundred() -> None:
    tag = '<meta name="citation_reference" content="citation_title=T; citation_doi=10.5555/x.{i}">\n'
    page = ("<html><head><meta name='citation_doi' content='10.5555/own'>"
            + "".join(tag.format(i=i) for i in range(100_000)) + "</head></html>")
    article = scrape(None, page)
    assert article.doi == "10.5555/own"
    assert len(article.references) == MAX_REFERENCES
    assert article.references[-1].doi == f"10.5555/x.{MAX_REFERENCES - 1}"
