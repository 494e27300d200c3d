"""Title matching: the same work is accepted, a search engine's best guess is not."""

from __future__ import annotations

import json

import pytest

from oahelper.models import Article, Candidate, WorkQuery
from oahelper.sources.match import choose, family_name, fold, same_work
from oahelper.resolve.query import work_query
from oahelper.sources.crossref import candidates_of
from tests.support.shared import require_shared


def crossref_hits(name: str) -> tuple[Candidate, ...]:
    body = json.loads((require_shared("crossref") / name).read_bytes())
    return candidates_of(body["message"])


def title(text: str, **kw) -> WorkQuery:
    return WorkQuery(kind="title", title=text, text=text, **kw)


@pytest.mark.parametrize("query, recording", [
    (title("Attention is All you Need", first_author="Ashish Vaswani", year=2017),
     "works-search_query.title+author-attention-is-all-you-need_rows-1_WRONG-MATCH.json"),
    (title("Attention is all you need"),
     "works-search_query.title+author-attention-is-all-you-need_rows-1_WRONG-MATCH.json"),
    (title("PaperQA: Retrieval-Augmented Generative Agent for Scientific Research"),
     "works-search_query.title-paperqa_rows-1_WRONG-MATCH.json"),
], ids=["attention+author+year", "attention", "paperqa"])
def test_crossrefs_recorded_wrong_matches_are_refused(query: WorkQuery, recording: str) -> None:
    hits = crossref_hits(recording)
    assert hits, "the recording has a (wrong) hit"
    assert choose(query, hits) is None


def test_crossrefs_recorded_right_match_is_accepted() -> None:
    hits = crossref_hits("works-search_query.title-augmenting-llms-chemistry-tools_rows-1.json")
    chosen = choose(title("Augmenting large language models with chemistry tools"), hits)
    assert chosen is not None and chosen.best.work.doi == "10.1038/s42256-024-00832-8"
    assert (chosen.match.by, chosen.match.query, chosen.match.score) == ("crossref", "title", 1.0)
    # with the author and year a page would give, too
    assert choose(title("Augmenting Large Language Models with Chemistry Tools.",
                        first_author="Bran, Andres M.", year=2023), hits) is not None


def hit(source: str, doi: str | None, t: str, year: int | None, authors=(), arxiv=None) -> Candidate:
    return Candidate(source=source, work=Article(doi=doi, title=t, year=year, authors=tuple(authors),
                                                 arxiv=arxiv))


def test_year_within_one_and_first_author_decide() -> None:
    q = title("Deep residual learning for image recognition", first_author="Kaiming He", year=2016)
    assert same_work(q, Article(title="Deep Residual Learning for Image Recognition", year=2015)) == 1.0
    assert same_work(q, Article(title="Deep Residual Learning for Image Recognition", year=2013)) is None
    assert same_work(q, Article(title="Deep residual learning for image recognition",
                                authors=("Someone Else",))) is None
    assert same_work(q, Article(title="Deep residual learning for image recognition",
                                authors=("He, K.",))) == 1.0
    assert same_work(q, Article(title="Deep residual learning for image classification")) is None


def test_a_publisher_doi_beats_the_preprint_and_the_agreeing_ids_are_kept() -> None:
    q = title("Augmenting large language models with chemistry tools")
    preprint = hit("openalex", "10.48550/arxiv.2304.05376", "Augmenting large language models with chemistry tools", 2023)
    published = hit("openalex", "10.1038/s42256-024-00832-8", "Augmenting large language models with chemistry tools", 2024)
    other = hit("crossref", "10.9999/another", "Augmenting large language models with chemistry tools", 2024)
    chosen = choose(q, [preprint, published, other])
    assert chosen is not None and chosen.best is published
    assert preprint in chosen.agreeing and other not in chosen.agreeing


def test_subtitles_and_markup() -> None:
    q = title("Nanometre-scale thermometry in a living cell")
    assert same_work(q, Article(title="Nanometre-scale <i>thermometry</i> in a living cell.")) == 1.0
    long_main = title("Quantum supremacy using a programmable superconducting processor")
    assert same_work(long_main, Article(
        title="Quantum supremacy using a programmable superconducting processor: a reply")) is not None
    assert same_work(title("Deep learning"), Article(title="Deep learning: a critical appraisal")) is None
    assert fold("Ünïcödé — “quotes”") == "unicode quotes"
    assert family_name("Schoenfeld JD") == "schoenfeld" and family_name("Vaswani, Ashish") == "vaswani"


def test_a_reference_is_checked_against_its_own_text() -> None:
    text = ("Vaswani A, Shazeer N, Parmar N, et al. Attention is all you need. "
            "Advances in Neural Information Processing Systems. 2017;30:5998-6008.")
    article, query, problem = work_query(text)
    assert problem is None and query is not None and query.kind == "reference"
    assert query.title == "Attention is all you need" and query.year == 2017
    assert family_name(query.first_author) == "vaswani"
    right = hit("semanticscholar", None, "Attention is All you Need", 2017, ["Ashish Vaswani"], "1706.03762")
    wrong = hit("crossref", "10.18653/v1/n18-2074", "Self-Attention with Relative Position Representations",
                2018, ["Peter Shaw"])
    chosen = choose(query, [wrong, right])
    assert chosen is not None and chosen.best is right and chosen.match.query == "reference"


@pytest.mark.parametrize("text, expected", [
    ("Smith J (2020) Some title. Nature 1:2. doi:10.1038/nature12373", {"doi": "10.1038/nature12373"}),
    ("Vaswani et al., arXiv:1706.03762 (2017)", {"arxiv": "1706.03762"}),
    ("Doe J. A study. J Things. 2001. PMID: 12345678", {"pmid": "12345678"}),
])
def test_a_reference_with_an_identifier_is_looked_up_by_it(text: str, expected: dict) -> None:
    article, query, problem = work_query(text)
    assert query is None and problem is None
    assert {k: getattr(article, k) for k in expected} == expected


@pytest.mark.parametrize("text, kind, wanted_title, year", [
    ("Attention is all you need", "title", "Attention is all you need", None),
    ("COVID-19 in 2020: a review of reviews", "title", "COVID-19 in 2020: a review of reviews", None),
    ('He, K., Zhang, X., Ren, S., & Sun, J. (2016). Deep residual learning for image recognition. '
     'In Proceedings of CVPR (pp. 770-778).', "reference", "Deep residual learning for image recognition", 2016),
    ('A. Vaswani et al., "Attention is all you need," in Proc. NeurIPS, 2017, pp. 5998–6008.',
     "reference", "Attention is all you need", 2017),
])
def test_titles_and_references_are_told_apart(text: str, kind: str, wanted_title: str, year) -> None:
    _, query, problem = work_query(text)
    assert problem is None and query is not None
    assert (query.kind, query.title, query.year) == (kind, wanted_title, year)


def test_too_short_to_search() -> None:
    _, query, problem = work_query("x")
    assert query is None and "too short" in problem


def test_a_hit_whose_title_is_a_whole_document_is_cut_and_refused() -> None:
    body = json.loads((require_shared("unpaywall-search") / "search_augmenting-llms-chemistry-tools.json")
                      .read_bytes())
    junk = body["results"][1]["response"]["title"]
    assert len(junk) > 100_000  # the recorded junk hit
    q = title("Augmenting large language models with chemistry tools")
    assert same_work(q, Article(title=junk)) is None
    right = body["results"][0]["response"]["title"]
    assert same_work(q, Article(title=right)) == 1.0
