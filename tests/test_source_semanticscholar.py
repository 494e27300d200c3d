"""Semantic Scholar against the fake serving its recordings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oahelper.models import Article, WorkQuery
from oahelper.sources.semanticscholar import SemanticScholar, free_locations, metadata_of
from tests.support.fake_upstream import (
    FakeUpstream,
    session,  # noqa: F401 (fixture)
    upstream,  # noqa: F401 (fixture)
)
from tests.support.shared import require_shared


def paper(name: str) -> dict[str, Any]:
    return json.loads((require_shared("semanticscholar") / name).read_bytes())


def s2(upstream: tuple[FakeUpstream, str], **kw: Any) -> SemanticScholar:
    return SemanticScholar(upstream[1] + "/semanticscholar", kw.pop("api_key", None), **kw)


def test_hybrid_pdf_and_the_copies_its_identifiers_prove() -> None:
    rec = paper("paper_DOI_10.1038_s42256-024-00832-8.json")
    nature, arxiv, pmc = free_locations(rec)
    assert (nature.url, nature.host_type, nature.version, nature.license) == (
        "https://www.nature.com/articles/s42256-024-00832-8.pdf", "publisher", "publishedVersion", "cc-by")
    assert arxiv.url == "https://arxiv.org/pdf/2304.05376" and arxiv.source == "semanticscholar"
    assert pmc.repository == "PubMed Central" and "PMC11116106" in pmc.url
    meta = metadata_of(rec)
    assert (meta["doi"], meta["arxiv"], meta["pmid"], meta["pmcid"]) == (
        "10.1038/s42256-024-00832-8", "2304.05376", "38799228", "PMC11116106")


def test_empty_string_pdf_url_is_no_copy() -> None:
    assert free_locations(paper("paper_DOI_10.1023_a-1007154515475.json")) == ()
    # an arXiv paper with "" as its PDF: the arXiv id still proves the preprint
    (only,) = free_locations(paper("paper_DOI_10.48550_arxiv.2312.07559.json"))
    assert only.url == "https://arxiv.org/pdf/2312.07559"


def test_bronze_has_no_licence() -> None:
    (pnas,) = free_locations(paper("paper_DOI_10.1073_pnas.1414271111.json"))[:1]
    assert pnas.host_type == "publisher" and pnas.license is None


async def test_lookup_by_doi_and_by_arxiv_id(upstream, session) -> None:
    require_shared("semanticscholar")
    fake, _ = upstream
    source = s2(upstream, api_key="k3y")
    by_doi = await source.lookup(Article(doi="10.1038/s42256-024-00832-8"), session, 5.0)
    assert by_doi.state == "ok" and by_doi.metadata["arxiv"] == "2304.05376"
    assert fake.requests[-1]["path"] == "/semanticscholar/graph/v1/paper/DOI:10.1038/s42256-024-00832-8"
    assert fake.requests[-1]["headers"]["x-api-key"] is True and "k3y" not in json.dumps(fake.requests)
    by_arxiv = await source.lookup(Article(arxiv="2312.07559"), session, 5.0)
    assert by_arxiv.state == "ok" and by_arxiv.metadata["doi"] == "10.48550/arXiv.2312.07559"
    assert source.health().key == "set" and s2(upstream).health().key == "not set"


async def test_unknown_paper_and_no_title_match_are_not_found(upstream, session) -> None:
    require_shared("semanticscholar")
    source = s2(upstream)
    assert (await source.lookup(Article(doi="10.1101/2024.04.01.587366"), session, 5.0)).state == "not_found"
    missing = await source.search(WorkQuery(kind="title", title="abs12032jsdafn"), session, 5.0)
    assert missing.state == "not_found" and missing.candidates == ()


async def test_title_match_finds_the_arxiv_only_paper(upstream, session) -> None:
    require_shared("semanticscholar")
    answer = await s2(upstream).search(WorkQuery(
        kind="title", title="PaperQA: Retrieval-Augmented Generative Agent for Scientific Research"),
        session, 5.0)
    (hit,) = answer.candidates
    assert hit.work.arxiv == "2312.07559" and hit.work.year == 2023
    assert hit.answer is not None and hit.answer.locations[0].url == "https://arxiv.org/pdf/2312.07559"


async def test_a_refused_key_is_a_config_problem(upstream, session) -> None:
    fake, _ = upstream
    fake.plan("403", service="semanticscholar")
    source = s2(upstream, api_key="bad")
    answer = await source.lookup(Article(doi="10.1038/s42256-024-00832-8"), session, 5.0)
    assert answer.state == "error" and answer.error_code == "source_config"
    assert "oahelper keys set semanticscholar" in source.health().problems[0]
