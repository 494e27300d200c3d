"""OpenAlex against the fake serving its recordings."""

from __future__ import annotations

import json
from typing import Any

from oahelper.models import Article, WorkQuery
from oahelper.sources.politeness import Politeness
from oahelper.sources.openalex import OpenAlex, metadata_of, record_answer
from tests.support.fake_upstream import (
    FakeUpstream,
    session,  # noqa: F401 (fixture)
    upstream,  # noqa: F401 (fixture)
)
from tests.support.shared import require_shared

EMAIL = "reader@university.edu"


def work(name: str) -> dict[str, Any]:
    return json.loads((require_shared("openalex") / name).read_bytes())


def openalex(upstream: tuple[FakeUpstream, str], **kw: Any) -> OpenAlex:
    return OpenAlex(upstream[1] + "/openalex", kw.pop("api_key", None), EMAIL, **kw)


def test_gold_work_lists_every_open_location() -> None:
    answer = record_answer(work("works_doi-url_10.1371_journal.pone.0000030.json"))
    urls = [loc.url for loc in answer.locations]
    assert urls[0] == "https://journals.plos.org/plosone/article/file?id=10.1371/journal.pone.0000030&type=printable"
    assert answer.locations[0].host_type == "publisher" and answer.locations[0].license == "cc-by"
    assert any(loc.repository == "Figshare" for loc in answer.locations)
    assert all("pubmed.ncbi" not in u and "citeseerx" not in u for u in urls)  # is_oa false
    assert answer.oa_status is None  # Unpaywall's field only
    meta = metadata_of(work("works_doi-url_10.1371_journal.pone.0000030.json"))
    assert meta["doi"] == "10.1371/journal.pone.0000030" and meta["pmid"] == "17183658"
    assert meta["year"] == 2006 and meta["journal"] == "PLoS ONE"


def test_closed_work_has_no_location_even_with_a_pmc_listing() -> None:
    assert record_answer(work("works_doi-url_10.1016_j.ejphar.2015.03.018.json")).locations == ()


async def test_lookup_sends_key_and_email_and_reads_the_allowance(upstream, session) -> None:
    require_shared("openalex")
    fake, _ = upstream
    gate = Politeness().gate("openalex")
    source = openalex(upstream, api_key="s3cret", gate=gate)
    answer = await source.lookup(Article(doi="10.1101/097196"), session, 5.0)
    assert answer.state == "ok" and answer.locations[0].pdf_url.endswith(".full.pdf")
    sent = fake.requests[-1]
    assert sent["path"] == "/openalex/works/https:/doi.org/10.1101/097196" or sent["path"].endswith(
        "doi.org/10.1101/097196")
    assert sent["query"] == {"api_key": True, "mailto": EMAIL} and "s3cret" not in json.dumps(fake.requests)
    assert gate.blocked_until <= gate.now()  # allowance left: nothing blocked


async def test_html_404_is_not_found(upstream, session) -> None:
    require_shared("openalex")
    answer = await openalex(upstream).lookup(Article(doi="10.1046/j.1365-2699.2003.00795"), session, 5.0)
    assert answer.state == "not_found"


async def test_keyless_refusal_says_a_key_is_needed(upstream, session) -> None:
    fake, _ = upstream
    fake.plan("403", service="openalex")
    source = openalex(upstream)
    answer = await source.lookup(Article(doi="10.1101/097196"), session, 5.0)
    assert answer.state == "error" and answer.error_code == "source_config"
    health = source.health()
    assert health.key == "needed" and "oahelper keys set openalex" in health.problems[0]


async def test_title_search_returns_both_versions(upstream, session) -> None:
    require_shared("openalex")
    answer = await openalex(upstream).search(WorkQuery(
        kind="title", title="Augmenting large language models with chemistry tools"), session, 5.0)
    dois = [c.work.doi for c in answer.candidates]
    assert dois == ["10.1038/s42256-024-00832-8", "10.48550/arxiv.2304.05376"]
    nothing = await openalex(upstream).search(WorkQuery(kind="title", title="No such title here"), session, 5.0)
    assert nothing.state == "not_found"
