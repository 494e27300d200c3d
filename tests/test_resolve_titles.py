"""From a title or a pasted reference to the article, through the daemon and the CLI."""

from __future__ import annotations

import json

from tests.support.daemon import start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import upstream_env
from tests.support.payload import payload_problems
from tests.support.processes import fake_upstream, oahelper
from tests.support.shared import require_shared

AUGMENTING = "Augmenting large language models with chemistry tools"
AUGMENTING_DOI = "10.1038/s42256-024-00832-8"
PAPERQA = "PaperQA: Retrieval-Augmented Generative Agent for Scientific Research"


async def test_a_title_is_found_checked_and_looked_up(start_daemon) -> None:
    require_shared("crossref")
    d = await start_daemon()
    p = await d.lookup_json({"query": AUGMENTING})
    assert payload_problems(p) == []
    assert p["article"]["doi"] == AUGMENTING_DOI
    assert p["article"]["match"]["query"] == "title" and p["article"]["match"]["score"] == 1.0
    assert p["article"]["match"]["by"] in ("crossref", "semanticscholar", "openalex", "arxiv")
    # the identifier round asked the other sources about the DOI found
    assert d.upstream.calls_for(AUGMENTING_DOI, "unpaywall") == 1
    assert p["sources"]["unpaywall"]["state"] in ("ok", "not_found")


async def test_crossrefs_wrong_guess_for_attention_is_refused_never_shown(start_daemon) -> None:
    require_shared("crossref")
    d = await start_daemon(disabled_sources="arxiv")
    p = await d.lookup_json({"query": "Attention is All you Need"})
    assert p["status"] == "not_found" and p["article"]["doi"] is None and "match" not in p["article"]
    assert p["badge"]["tooltip"].startswith("No article matches this title")
    assert p["sources"]["crossref"]["state"] == "ok"  # it answered: with the wrong paper
    assert [r for r in d.upstream.requests if r["service"] == "unpaywall"] == []


async def test_a_page_with_a_title_but_no_identifier_is_searched(start_daemon) -> None:
    require_shared("crossref")
    d = await start_daemon()
    html = (f'<html><head><meta name="citation_title" content="{AUGMENTING}">'
            '<meta name="citation_author" content="Bran, Andres M.">'
            '<meta name="citation_date" content="2024/05/08"></head><body></body></html>')
    p = await d.lookup_json({"url": "https://conference.example.org/paper/17", "html": html})
    assert p["article"]["doi"] == AUGMENTING_DOI and p["article"]["match"]["query"] == "title"
    searches = [r for r in d.upstream.requests if r["service"] == "crossref" and r["doi"] is None]
    assert searches and searches[0]["query"]["query.bibliographic"] == f"{AUGMENTING} 2024"
    assert searches[0]["query"]["query.author"] == "Bran, Andres M."
    assert "conference.example.org" not in json.dumps(d.upstream.requests)


async def test_a_second_title_lookup_asks_no_upstream(start_daemon) -> None:
    require_shared("crossref")
    d = await start_daemon()
    first = await d.lookup_json({"query": AUGMENTING})
    calls = len(d.upstream.requests)
    second = await d.lookup_json({"query": AUGMENTING})
    assert len(d.upstream.requests) == calls and second["cached"] is True
    assert second["article"]["doi"] == first["article"]["doi"]
    assert second["article"]["match"] == first["article"]["match"]


def test_cli_lookup_of_a_title_says_how_it_was_found(tmp_path) -> None:
    require_shared("crossref")
    env = {"OAHELPER_HOME": str(tmp_path / "home"), "OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu"}
    with fake_upstream(env) as base:
        proc = oahelper(["lookup", AUGMENTING], env | upstream_env(base))
        wrong = oahelper(["lookup", "PaperQA: Retrieval-Augmented Generative Agent for Scientific "
                                    "Research", "--json"], env | upstream_env(base) | {
                                        "OAHELPER_DISABLED_SOURCES": "semanticscholar,arxiv"})
    assert "Found by title" in proc.stdout and f"doi:{AUGMENTING_DOI}" in proc.stdout
    payload = json.loads(wrong.stdout)
    assert payload["status"] == "not_found" and payload["article"]["doi"] is None
    assert wrong.returncode == 1


async def test_an_arxiv_only_paper_found_by_title_ends_open_with_the_arxiv_pdf(start_daemon) -> None:
    require_shared("semanticscholar")
    d = await start_daemon()
    p = await d.lookup_json({"query": PAPERQA})
    assert payload_problems(p) == []
    assert p["status"] == "open" and p["article"]["arxiv"] == "2312.07559"
    assert p["article"]["match"]["by"] == "semanticscholar"  # Crossref's guess was refused
    assert p["best"]["url"] == "https://arxiv.org/pdf/2312.07559"
    assert "semanticscholar" in p["best"]["found_by"] and "free_by_id" in p["best"]["found_by"]


async def test_every_source_that_reports_a_copy_is_named(start_daemon) -> None:
    require_shared("openalex")
    d = await start_daemon()
    p = await d.lookup_json({"query": AUGMENTING})
    nature = next(loc for loc in p["locations"] if "nature.com" in loc["url"])
    assert {"crossref", "semanticscholar", "openalex"} <= set(nature["found_by"])
    arxiv = next(loc for loc in p["locations"] if "arxiv.org" in loc["url"])
    assert {"semanticscholar", "free_by_id"} <= set(arxiv["found_by"])
    # one search round, then one identifier round: no source asked twice
    per_source: dict[str, int] = {}
    for r in d.upstream.requests:
        per_source[r["service"]] = per_source.get(r["service"], 0) + 1
    assert all(n == 1 for n in per_source.values()), per_source


async def test_a_preprint_found_by_title_is_not_asked_of_arxiv_twice(start_daemon) -> None:
    """arXiv was searched in this lookup; asking it again by id would only learn a DOI
    that this lookup would not look up, after waiting out arXiv's 3 s between requests."""
    require_shared("semanticscholar")
    d = await start_daemon(timeout=8.0)  # the default: room to wait for arXiv's next slot
    p = await d.lookup_json({"query": PAPERQA})
    assert p["status"] == "open" and p["best"]["url"] == "https://arxiv.org/pdf/2312.07559"
    arxiv = [r["query"] for r in d.upstream.requests if r["service"] == "arxiv"]
    assert [("search_query" in q, "id_list" in q) for q in arxiv] == [(True, False)], arxiv
    assert p["sources"]["arxiv"]["state"] == "not_found"  # what its title search said


async def test_a_title_right_after_another_does_not_wait_for_arxivs_next_slot(start_daemon) -> None:
    """arXiv was asked a moment ago (one request every 3 s): the search goes on without it
    once the sources free to ask have found the article, and says why."""
    require_shared("semanticscholar")
    d = await start_daemon(timeout=8.0)  # the default: room to wait for arXiv's next slot
    await d.lookup_json({"query": AUGMENTING})
    p = await d.lookup_json({"query": PAPERQA})
    assert p["status"] == "open" and p["article"]["match"]["by"] == "semanticscholar"
    arxiv = p["sources"]["arxiv"]
    assert arxiv["state"] == "skipped" and "not waited for" in arxiv["error"], arxiv
    assert "one request every 3 s" in arxiv["error"]
