"""Europe PMC against the fake serving its recorded records; PMID → DOI → free copies."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from oahelper.models import Article
from oahelper.sources.europepmc import (
    EuropePMC,
    free_locations,
    metadata_of,
    parse_europepmc,
    search_query,
)
from tests.support.fake_upstream import (
    FakeUpstream,
    session,  # noqa: F401 (fixture)
    upstream,  # noqa: F401 (fixture)
)
from tests.support.shared import require_shared

CORE = "search_query-cancer_resultType-core.json"
OA_PMID, OA_PMCID, OA_DOI = "40437959", "PMC12120539", "10.1002/hpja.70059"
MANUSCRIPT_PMID = "39709208"   # "free" (F): an author manuscript in Europe PMC
CLOSED_PMID = "39709209"       # subscription only


def recorded() -> dict[str, Any]:
    return json.loads((require_shared("europepmc") / CORE).read_bytes())


def record(pmid: str) -> dict[str, Any]:
    return next(r for r in recorded()["resultList"]["result"] if r.get("pmid") == pmid)


def base_of(upstream: tuple[FakeUpstream, str]) -> str:
    return upstream[1] + "/europepmc"


# --- pure parsing ----------------------------------------------------------------------

def test_open_access_record_gives_the_pdf_and_the_other_identifiers() -> None:
    rec = record(OA_PMID)
    (loc,) = free_locations(rec)
    assert loc.url == loc.pdf_url == f"https://europepmc.org/articles/{OA_PMCID}?pdf=render"
    assert loc.landing_url == f"https://europepmc.org/articles/{OA_PMCID}"
    assert (loc.host_type, loc.repository, loc.version, loc.license) == (
        "repository", "Europe PMC", "publishedVersion", "cc-by-nc-nd")
    meta = metadata_of(rec)
    assert (meta["doi"], meta["pmid"], meta["pmcid"]) == (OA_DOI, OA_PMID, OA_PMCID)
    assert meta["year"] == 2025 and meta["authors"] and not meta["title"].endswith(".")


def test_free_author_manuscript_counts_and_the_free_publisher_link_too() -> None:
    europe_pmc, publisher = free_locations(record(MANUSCRIPT_PMID))
    assert europe_pmc.version == "acceptedVersion" and europe_pmc.license is None
    assert europe_pmc.pdf_url == "https://europepmc.org/articles/PMC12124214?pdf=render"
    assert publisher.host_type == "publisher"
    assert publisher.url == "https://doi.org/10.1016/s0140-6736(24)02716-8"


def test_subscription_only_record_has_no_free_copy() -> None:
    assert free_locations(record(CLOSED_PMID)) == ()


def test_a_record_is_taken_only_when_it_carries_the_identifier_asked_for() -> None:
    body = recorded()
    assert parse_europepmc(body, "pmid", OA_PMID)["pmcid"] == OA_PMCID
    assert parse_europepmc(body, "doi", OA_DOI.upper())["pmid"] == OA_PMID
    assert parse_europepmc(body, "pmcid", OA_PMCID.lower())["pmid"] == OA_PMID
    # 25 records came back for "cancer": none of them is PMID 1
    assert parse_europepmc(body, "pmid", "1") is None
    empty = json.loads((require_shared("europepmc") / "search_query-asdkfjhasdkfjh_0-hits.json").read_bytes())
    assert parse_europepmc(empty, "pmid", OA_PMID) is None


def test_query_syntax_per_identifier() -> None:
    assert search_query("pmid", "123") == "EXT_ID:123 AND SRC:MED"
    assert search_query("pmcid", "PMC9") == "PMCID:PMC9"
    assert search_query("doi", '10.1/a"b') == 'DOI:"10.1/ab"'


# --- the adapter against the fake --------------------------------------------------------

@pytest.mark.parametrize("article", [Article(pmid=OA_PMID), Article(pmcid=OA_PMCID),
                                     Article(doi=OA_DOI.upper())], ids=["pmid", "pmcid", "doi"])
async def test_lookup_by_each_identifier(upstream, session: aiohttp.ClientSession,
                                         article: Article) -> None:
    require_shared("europepmc")
    fake, _ = upstream
    answer = await EuropePMC(base_of(upstream)).lookup(article, session, 5.0)
    assert answer.state == "ok" and answer.calls == 1
    assert answer.metadata["doi"] == OA_DOI and answer.metadata["pmcid"] == OA_PMCID
    assert answer.locations[0].pdf_url.endswith("?pdf=render")
    sent = fake.requests[-1]["query"]
    assert sent["format"] == "json" and sent["resultType"] == "core"


async def test_unknown_identifier_is_not_found(upstream, session: aiohttp.ClientSession) -> None:
    answer = await EuropePMC(base_of(upstream)).lookup(Article(pmid="1"), session, 5.0)
    assert answer.state == "not_found" and answer.locations == ()


async def test_nothing_to_ask_with_is_skipped_and_off_is_disabled(upstream, session) -> None:
    assert (await EuropePMC(base_of(upstream)).lookup(Article(title="x"), session, 5.0)).state == "skipped"
    off = EuropePMC(base_of(upstream), enabled=False)
    assert (await off.lookup(Article(pmid=OA_PMID), session, 5.0)).state == "disabled"
    assert off.health().enabled is False
    fake, _ = upstream
    assert fake.requests == []


async def test_xml_instead_of_json_is_a_clear_error(upstream, session) -> None:
    fake, base = upstream
    fake.plan("xml", service="europepmc")
    source = EuropePMC(base_of(upstream))
    answer = await source.lookup(Article(pmid=OA_PMID), session, 5.0)
    assert answer.state == "error" and answer.error_code == "source_bad_response"
    assert "XML" in answer.error and "format=json" in answer.error
    assert source.health().last_error == answer.error


async def test_the_fake_answers_xml_without_format_json(upstream, session) -> None:
    _, base = upstream
    async with session.get(f"{base}/europepmc/search", params={"query": "PMCID:PMC1"}) as resp:
        assert resp.status == 200 and resp.content_type == "application/xml"
        assert (await resp.text()).startswith("<?xml")


@pytest.mark.parametrize("kind, code", [("500", "source_error"), ("garbage", "source_bad_response")])
async def test_failures_are_errors_not_exceptions(upstream, session, kind: str, code: str) -> None:
    fake, _ = upstream
    fake.plan(kind, service="europepmc")
    answer = await EuropePMC(base_of(upstream)).lookup(Article(pmid=OA_PMID), session, 5.0)
    assert answer.state == "error" and answer.error_code == code
