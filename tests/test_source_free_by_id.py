"""arXiv and PubMed Central ids prove a free copy on their own."""

from __future__ import annotations

from oahelper.models import Article
from oahelper.sources.free_by_id import FreeById, free_locations
from tests.support.daemon import start_daemon, upstream_server  # noqa: F401 (fixtures)


def test_an_arxiv_id_or_arxiv_doi_names_the_free_preprint() -> None:
    for article in (Article(arxiv="1706.03762"), Article(doi="10.48550/arXiv.1706.03762")):
        (loc,) = free_locations(article)
        assert loc.url == "https://arxiv.org/pdf/1706.03762"
        assert loc.landing_url == "https://arxiv.org/abs/1706.03762"
        assert loc.version == "submittedVersion" and loc.repository == "arXiv"


def test_a_pmcid_names_the_free_pmc_copy() -> None:
    (loc,) = free_locations(Article(doi="10.1093/nar/gks1195", pmcid="PMC3531190"))
    assert loc.url == "https://pmc.ncbi.nlm.nih.gov/articles/PMC3531190/"
    assert loc.repository == "PubMed Central"


def test_other_articles_are_skipped() -> None:
    assert free_locations(Article(doi="10.1038/nature12373")) == ()
    assert FreeById().cache_key(Article(doi="10.1038/nature12373")) is None


async def test_an_arxiv_paper_unpaywall_does_not_know_is_open(start_daemon) -> None:
    d = await start_daemon()
    p = await d.lookup_json({"doi": "arXiv:1706.03762"})
    assert p["sources"]["unpaywall"]["state"] == "not_found"  # DataCite DOIs are not in Unpaywall
    assert p["status"] == "open" and p["best"]["repository"] == "arXiv"
    assert p["best"]["pdf_url"] == "https://arxiv.org/pdf/1706.03762"
