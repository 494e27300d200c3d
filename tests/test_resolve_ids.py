"""From a PMID or PMCID to the DOI and every free copy, through the daemon."""

from __future__ import annotations

import pytest

from tests.support.daemon import start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.payload import payload_problems
from tests.support.shared import require_shared

OA_PMID, OA_PMCID, OA_DOI = "40437959", "PMC12120539", "10.1002/hpja.70059"


@pytest.mark.parametrize("body", [{"doi": f"PMID {OA_PMID}"}, {"query": f"PMID: {OA_PMID}"},
                                  {"query": OA_PMCID}])
async def test_a_pmid_resolves_to_its_doi_and_europe_pmcs_free_pdf(start_daemon, body) -> None:
    require_shared("europepmc")
    d = await start_daemon()
    p = await d.lookup_json(body)
    assert payload_problems(p) == []
    assert p["status"] == "open"
    assert (p["article"]["doi"], p["article"]["pmid"], p["article"]["pmcid"]) == (OA_DOI, OA_PMID, OA_PMCID)
    assert "match" not in p["article"]  # the user gave the identifier
    assert p["best"]["pdf_url"] == f"https://europepmc.org/articles/{OA_PMCID}?pdf=render"
    assert p["best"]["found_by"] == ["europepmc"]
    # the DOI Europe PMC gave was looked up in Unpaywall too, in the same lookup
    assert d.upstream.calls_for(OA_DOI, "unpaywall") == 1
    assert p["sources"]["unpaywall"]["state"] == "not_found"
    # PubMed Central holds it as well (the PMCID proves it): a second location
    assert any(loc["repository"] == "PubMed Central" for loc in p["locations"])
    europepmc_calls = [r for r in d.upstream.requests if r["service"] == "europepmc"]
    assert len(europepmc_calls) == 1  # asked once, its answer reused for the DOI round


async def test_an_unknown_pmid_says_so(start_daemon) -> None:
    d = await start_daemon()
    p = await d.lookup_json({"doi": "PMID 1"})
    assert p["status"] == "not_found" and p["article"]["doi"] is None
    assert p["sources"]["europepmc"]["state"] == "not_found"
    assert p["sources"]["unpaywall"]["state"] == "skipped"
    assert p["badge"]["tooltip"] == "No source knows PMID 1: check it for typos"


async def test_europe_pmc_switched_off_is_never_asked(start_daemon) -> None:
    d = await start_daemon(disabled_sources="europepmc")
    p = await d.lookup_json({"doi": f"PMID {OA_PMID}"})
    assert p["sources"]["europepmc"]["state"] == "disabled"
    assert p["article"]["doi"] is None  # nobody else turned the PMID into a DOI
    assert p["sources"]["semanticscholar"]["state"] == "not_found"  # it was asked by PMID
    assert not [r for r in d.upstream.requests if r["service"] == "europepmc"]
