"""A malformed answer is ``source_bad_response``, never "ok" (issues 16 and 18).

Every adapter checks the shape its source's recordings show before it says "ok"
(``require`` in sources/http.py); anything else, any parse failure included, is an
"error" answer with code ``source_bad_response`` and a message naming the source. An
adapter's own bug is an "internal" error, never an answer. So one source reading junk
as "no copy" cannot turn a failed lookup into a confident "No free copy".

The junk comes from a real local server (tests/support/fakes/junk.py); the recorded
real answers keep parsing (the other test_source_* modules, and below).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from functools import cache
from typing import Any

import aiohttp
import pytest

from oahelper.engine.build import open_engine
from oahelper.errors import SourceBadResponse
from oahelper.identifiers import doi_key
from oahelper.models import Article, SourceAnswer, WorkQuery
from oahelper.sources import arxiv, crossref, europepmc, oab, openalex, semanticscholar, unpaywall
from oahelper.sources.arxiv import ArXiv
from oahelper.sources.crossref import Crossref
from oahelper.sources.europepmc import EuropePMC
from oahelper.sources.http import Reply
from oahelper.sources.oab import OpenAccessButton
from oahelper.sources.openalex import OpenAlex
from oahelper.sources.semanticscholar import SemanticScholar
from oahelper.sources.unpaywall import Unpaywall, sqt_records
from tests.support.fake_upstream import (
    BARE_404,
    GREEN_DOI,
    FakeUpstream,
    oab_answer,
    session,  # noqa: F401 (fixture)
    start_in,
    upstream,  # noqa: F401 (fixture)
)
from tests.support.fakes.junk import Junk, junk_upstream  # noqa: F401 (fixture)
from tests.support.shared import require_shared

DOI = "10.1038/srep16696"
EMAIL = "researcher@uni.edu"
TITLE = WorkQuery(kind="title", title="Augmenting large language models with chemistry tools")
Ask = Callable[[str, aiohttp.ClientSession], Awaitable[SourceAnswer]]

# Each way an adapter is asked, with the base URL it is given and how its messages name it.
ASKS: dict[str, tuple[Ask, str]] = {
    "unpaywall": (lambda base, s: Unpaywall(base, EMAIL).lookup(Article(doi=DOI), s, 5.0),
                  "Unpaywall"),
    "europepmc": (lambda base, s: EuropePMC(base).lookup(Article(pmid="40456789"), s, 5.0),
                  "Europe PMC"),
    "crossref": (lambda base, s: Crossref(base).lookup(Article(doi=DOI), s, 5.0), "Crossref"),
    "crossref search": (lambda base, s: Crossref(base).search(TITLE, s, 5.0), "Crossref"),
    "semanticscholar": (lambda base, s: SemanticScholar(base).lookup(Article(doi=DOI), s, 5.0),
                        "Semantic Scholar"),
    "semanticscholar match": (lambda base, s: SemanticScholar(base).search(TITLE, s, 5.0),
                              "Semantic Scholar"),
    "openalex": (lambda base, s: OpenAlex(base).lookup(Article(doi=DOI), s, 5.0), "OpenAlex"),
    "openalex search": (lambda base, s: OpenAlex(base).search(TITLE, s, 5.0), "OpenAlex"),
    "arxiv": (lambda base, s: ArXiv(base).lookup(Article(arxiv="1605.08386"), s, 5.0), "arXiv"),
    "arxiv search": (lambda base, s: ArXiv(base).search(TITLE, s, 5.0), "arXiv"),
    "oab": (lambda base, s: OpenAccessButton(base, None).lookup(Article(doi=DOI), s, 5.0),
            "Open Access Button"),
}
HTML_ERROR_PAGE = ("<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>"
                   "<body><h1>Service Unavailable</h1><p>The server is temporarily unable to "
                   "service your request.</p></body></html>\n")
# What no source may read as an answer, each sent with status 200.
JUNK: dict[str, tuple[bytes, str]] = {
    "a list": (b"[]", "application/json"),
    "a string": (b'"ok"', "application/json"),
    "null": (b"null", "application/json"),
    "a number": (b"200", "application/json"),
    "an empty object": (b"{}", "application/json"),
    "an error object": (b'{"message": "Internal server error"}', "application/json"),
    "invalid JSON": (b'{"doi": "10.1038/srep16696", "is_oa": tr', "application/json"),
    "JSON 200,000 levels deep": (b"[" * 200_000 + b"]" * 200_000, "application/json"),
    "objects 200,000 levels deep": (b'{"data":' * 200_000 + b"1" + b"}" * 200_000, "application/json"),
    "a number too long to convert": (b'{"data": ' + b"9" * 5000 + b"}", "application/json"),
    "an HTML error page": (HTML_ERROR_PAGE.encode(), "text/html"),
    "an empty body": (b"", "application/json"),
    "bytes that are not UTF-8": (b'{"data": "\xff\xfe"}', "application/json"),
}


async def ask(junk: tuple[Junk, str], session: aiohttp.ClientSession, name: str, body: bytes,
              *, status: int = 200, content_type: str = "application/json") -> SourceAnswer:
    fake, base = junk
    fake.send(body, status=status, content_type=content_type)
    call, _ = ASKS[name]
    answer = await call(base, session)
    assert fake.paths, "the adapter never asked the junk server"
    return answer


def assert_bad(answer: SourceAnswer, name: str, *words: str) -> None:
    label = ASKS[name][1]
    assert (answer.state, answer.error_code) == ("error", "source_bad_response"), answer
    assert answer.error is not None and label in answer.error, answer.error
    assert answer.locations == () and answer.candidates == ()
    for word in words:
        assert word in answer.error, answer.error


@pytest.mark.parametrize("junk_name", list(JUNK))
@pytest.mark.parametrize("name", list(ASKS))
async def test_junk_with_status_200_is_a_bad_response_of_every_source(
        junk_upstream, session, name: str, junk_name: str) -> None:
    body, content_type = JUNK[junk_name]
    assert_bad(await ask(junk_upstream, session, name, body, content_type=content_type), name)


@cache
def _raw(source: str, name: str) -> bytes:
    return (require_shared(source) / name).read_bytes()


def recorded(source: str, name: str) -> Any:
    return json.loads(_raw(source, name))


DROP = object()


def changed(body: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """``body`` with the field at ``path`` set to ``value`` (DROP: removed), copying only
    the objects and lists on the way (``body`` itself is left as it is)."""
    if not path:
        return value
    out = copy.copy(body)
    if len(path) == 1 and value is DROP:
        del out[path[0]]
    else:
        out[path[0]] = changed(body[path[0]], path[1:], value)
    return out


def epmc_core() -> Any:
    return recorded("europepmc", "search_query-cancer_resultType-core.json")


# (ask, the recorded answer it gets, a field changed in it, the words the message says).
BASES: dict[str, Callable[[], Any]] = {
    "unpaywall": lambda: recorded("unpaywall", "200_10.1038_nature12373.json"),
    "europepmc": epmc_core,
    "crossref": lambda: recorded("crossref", "works_10.1038_srep16696.json"),
    "crossref search": lambda: recorded(
        "crossref", "works-search_query.title-augmenting-llms-chemistry-tools_rows-1.json"),
    "semanticscholar": lambda: recorded("semanticscholar", "paper_DOI_10.1038_s42256-024-00832-8.json"),
    "semanticscholar match": lambda: recorded(
        "semanticscholar", "paper-search-match_augmenting-llms-chemistry-tools.json"),
    "openalex": lambda: recorded("openalex", "works_doi-url_10.1371_journal.pone.0000030.json"),
    "openalex search": lambda: recorded(
        "openalex", "works-search_filter-title.search-augmenting-llms-chemistry-tools.json"),
    "oab": lambda: oab_answer(FakeUpstream().recordings, {"doi": GREEN_DOI}),
}
WRONG: list[tuple[str, tuple[str | int, ...], Any, str]] = [
    ("unpaywall", ("doi",), DROP, "doi is missing"),
    ("unpaywall", ("is_oa",), DROP, "is_oa is missing"),
    ("unpaywall", ("is_oa",), "false", "is_oa is text, not true or false"),
    ("unpaywall", ("oa_status",), None, "oa_status is null, not text"),
    ("unpaywall", ("oa_locations",), DROP, "oa_locations is missing"),
    ("unpaywall", ("oa_locations",), {}, "oa_locations is an object, not a list"),
    ("unpaywall", ("oa_locations", 0), "https://dash.harvard.edu/x", "oa_locations[0] is text"),
    ("unpaywall", ("oa_locations", 1, "url"), DROP, "oa_locations[1].url is missing"),
    ("europepmc", ("resultList",), DROP, "resultList is missing"),
    ("europepmc", ("resultList",), [], "resultList is a list, not an object"),
    ("europepmc", ("resultList", "result"), {}, "resultList.result is an object, not a list"),
    ("europepmc", ("resultList", "result", 0), "40456789", "resultList.result[0] is text"),
    ("europepmc", ("resultList", "result", 3, "id"), 40456789, "resultList.result[3].id is a whole number"),
    ("crossref", ("message",), DROP, "message is missing"),
    ("crossref", ("message",), [], "message is a list, not an object"),
    ("crossref", ("message", "DOI"), DROP, "message.DOI is missing"),
    ("crossref", ("message", "DOI"), [DOI], "message.DOI is a list, not text"),
    ("crossref search", ("message", "items"), DROP, "message.items is missing"),
    ("crossref search", ("message", "items"), None, "message.items is null, not a list"),
    ("crossref search", ("message", "items", 0, "DOI"), DROP, "message.items[0].DOI is missing"),
    ("semanticscholar", ("paperId",), DROP, "paperId is missing"),
    ("semanticscholar", ("paperId",), 204160003, "paperId is a whole number, not text"),
    ("semanticscholar", ("externalIds",), DROP, "externalIds is missing"),
    ("semanticscholar", ("openAccessPdf",), None, "openAccessPdf is null, not an object"),
    ("semanticscholar", ("openAccessPdf", "url"), DROP, "openAccessPdf.url is missing"),
    ("semanticscholar match", ("data",), DROP, "data is missing"),
    ("semanticscholar match", ("data",), {}, "data is an object, not a list"),
    ("semanticscholar match", ("data", 0, "paperId"), True, "data[0].paperId is true or false"),
    ("openalex", ("id",), DROP, "id is missing"),
    ("openalex", ("locations",), None, "locations is null, not a list"),
    ("openalex", ("locations", 2, "is_oa"), "true", "locations[2].is_oa is text"),
    ("openalex search", ("results",), DROP, "results is missing"),
    ("openalex search", ("results", 1, "locations"), DROP, "results[1].locations is missing"),
    ("oab", ("data",), DROP, "data is missing"),
    ("oab", ("data",), [], "data is a list, not an object"),
]


@pytest.mark.parametrize(("name", "path", "value", "said"), WRONG,
                         ids=[f"{n}-{'.'.join(map(str, p))}-{'drop' if v is DROP else type(v).__name__}"
                              for n, p, v, _ in WRONG])
async def test_a_recorded_answer_with_a_required_field_missing_or_of_the_wrong_kind_is_bad(
        junk_upstream, session, name: str, path: tuple[str | int, ...], value: Any, said: str) -> None:
    body = json.dumps(changed(BASES[name](), path, value)).encode()
    assert_bad(await ask(junk_upstream, session, name, body), name, said)


@pytest.mark.parametrize("name", list(BASES))
async def test_the_same_recorded_answers_unchanged_are_ok(junk_upstream, session, name: str) -> None:
    body = BASES[name]()
    if name == "europepmc":  # the record asked for must be in it
        body = changed(body, ("resultList", "result", 0, "pmid"), "40456789")
    answer = await ask(junk_upstream, session, name, json.dumps(body).encode())
    assert answer.state == "ok" and answer.error is None, answer


@pytest.mark.parametrize(("name", "body", "said"), [
    # S2 leaves out what ``fields`` asked when it ignores it: paperId and title alone.
    ("semanticscholar", {"paperId": "c3cd4d2f", "title": "Augmenting large language models"},
     "externalIds is missing"),
    # A Crossref validation failure sent with status 200: its message is a list.
    ("crossref", "works_10.1371_journal.pone.0033693_query.author_400.json", "message is a list"),
    # OpenAlex's answer to select=open_access,doi is not a work.
    ("openalex", "works_doi-url_10.1002_wrna.1370_select-open_access.json", "id is missing"),
    # Unpaywall's Simple Query Tool wrapper is not a DOI record.
    ("unpaywall", "200_sqt-v2-dois_10.1037_018882.json", "doi is missing"),
])
async def test_real_answers_of_another_kind_are_not_read_as_the_one_asked_for(
        junk_upstream, session, name: str, body: Any, said: str) -> None:
    if isinstance(body, str):
        body = recorded(name, body)
    assert_bad(await ask(junk_upstream, session, name, json.dumps(body).encode()), name, said)


@pytest.mark.parametrize("name", ["semanticscholar", "semanticscholar match"])
async def test_a_404_is_not_found_only_in_the_shape_semantic_scholar_sends_it(
        junk_upstream, session, name: str) -> None:
    """S2's own 404 is a JSON error (recorded); an HTML 404 page is something else
    answering, not S2 saying it does not know the paper."""
    answer = await ask(junk_upstream, session, name, b'{"error":"Title match not found"}\n', status=404)
    assert answer.state == "not_found"
    assert_bad(await ask(junk_upstream, session, name, BARE_404.encode(), status=404,
                         content_type="text/html"), name)


@pytest.mark.parametrize("name", ["unpaywall", "crossref", "openalex"])
async def test_the_sources_whose_real_404_is_a_bare_page_still_say_not_found(
        junk_upstream, session, name: str) -> None:
    answer = await ask(junk_upstream, session, name, BARE_404.encode(), status=404, content_type="text/html")
    assert answer.state == "not_found" and answer.error is None


ATOM = "application/atom+xml"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
FEED_OPEN = ('<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
             "<opensearch:totalResults>1</opensearch:totalResults>")
FEED_HEAD = DECLARATION + FEED_OPEN
LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE feed [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'
                    for i in range(1, 10))
          + ']>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol9;</title></feed>')
BAD_XML: dict[str, str] = {
    "cut off": FEED_HEAD + "<entry><id>http://arxiv.org/abs/1605.08386v1</id><title>Heat",
    "billion laughs": LAUGHS,
    "an external entity": ('<?xml version="1.0"?>\n<!DOCTYPE feed [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                           '<feed xmlns="http://www.w3.org/2005/Atom"><title>&e;</title></feed>'),
    "a document type alone": DECLARATION + "<!DOCTYPE feed>\n" + FEED_OPEN + "</feed>",
    "an undeclared entity": FEED_HEAD + "<title>&nbsp;</title></feed>",
    "nested 200,000 deep": FEED_HEAD + "<x>" * 200_000 + "</x>" * 200_000 + "</feed>",
    "an RSS feed": '<?xml version="1.0"?><rss version="2.0"><channel><title>arXiv</title></channel></rss>',
    "an Atom feed without its count": '<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>',
    "an entry without an id": FEED_HEAD + "<entry><title>Heat-bath random walks</title></entry></feed>",
    "an entry whose id is not arXiv's": FEED_HEAD + "<entry><id>https://example.org/1605.08386</id></entry></feed>",
    "XHTML": '<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>Service Unavailable</h1></body></html>',
}


@pytest.mark.parametrize("xml_name", list(BAD_XML))
@pytest.mark.parametrize("name", ["arxiv", "arxiv search"])
async def test_xml_arxiv_cannot_or_must_not_read_is_a_bad_response(
        junk_upstream, session, name: str, xml_name: str) -> None:
    answer = await ask(junk_upstream, session, name, BAD_XML[xml_name].encode(), content_type=ATOM)
    assert_bad(answer, name)
    assert "lollol" not in answer.error and "root:" not in answer.error


async def test_a_400_that_is_not_arxivs_error_feed_is_a_bad_response(junk_upstream, session) -> None:
    assert_bad(await ask(junk_upstream, session, "arxiv", HTML_ERROR_PAGE.encode(), status=400,
                         content_type="text/html"), "arxiv")


# Every 200 recorded for each adapter, read by the pure function its adapter uses: the
# shape each requires is one every recording has (the comments at each shape say which).
def _recordings() -> Iterator[tuple[str, Callable[[], SourceAnswer]]]:
    folder = require_shared("unpaywall")
    reader = Unpaywall(None, EMAIL)
    for path in sorted(folder.glob("200_*.json")):
        body = json.loads(path.read_bytes())
        records = (list(sqt_records(body).values()) if "sqt" in path.name else
                   [] if "search" in path.name else [body])
        for record in records:
            yield path.name, lambda r=record: reader._read(Reply(200, {}, json.dumps(r).encode()))
    readers: dict[str, Callable[[Any], SourceAnswer]] = {
        "crossref/works_10.": lambda b: crossref.work_answer(b, doi_key(b["message"]["DOI"])),
        "crossref/works-search": crossref.search_answer,
        "semanticscholar/paper_DOI": semanticscholar.paper_answer,
        "semanticscholar/paper-search-match": semanticscholar.match_answer,
        "openalex/works_doi-url": openalex.work_answer,
        "openalex/works-search": openalex.search_answer,
        "europepmc/search": lambda b: europepmc.lookup_answer(b, "pmid", "40456789"),
    }
    for prefix, read in readers.items():
        source, start = prefix.split("/")
        for path in sorted(require_shared(source).glob(f"{start}*.json")):
            # Not the 400s and 404s, nor OpenAlex's answer to select= (two fields asked).
            if not any(mark in path.name for mark in ("_400", "_404", "select")):
                yield path.name, lambda p=path, r=read: r(json.loads(p.read_bytes()))


def test_every_recorded_answer_has_the_shape_its_adapter_requires() -> None:
    names = []
    for name, read in _recordings():
        answer = read()
        assert answer.state in ("ok", "not_found") and answer.error is None, name
        names.append(name)
    assert len(names) >= 25, names
    for path in sorted(require_shared("arxiv").glob("*.xml")):
        if "400" not in path.name:
            arxiv.parse_feed(path.read_bytes())


# Values a field of a recording is replaced with; "drop" removes it.
ODD_VALUES: list[Any] = [None, True, 7, "x", [], {}, ["x"], DROP]


def _paths(value: Any, at: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every field of a JSON value (the first item of each list stands for the rest)."""
    if at:
        yield at
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*at, key))
    elif isinstance(value, list) and value:
        yield from _paths(value[0], (*at, 0))


FUZZED: dict[str, tuple[Callable[[], Any], Callable[[Any], Any]]] = {
    "unpaywall": (BASES["unpaywall"],
                  lambda b: Unpaywall(None, EMAIL)._read(Reply(200, {}, json.dumps(b).encode()))),
    "europepmc": (lambda: changed(epmc_core(), ("resultList", "result"), epmc_core()["resultList"]["result"][:1]),
                  lambda b: europepmc.lookup_answer(b, "pmid", europepmc_pmid())),
    "crossref": (BASES["crossref"], lambda b: crossref.work_answer(b, DOI)),
    "crossref search": (BASES["crossref search"], crossref.search_answer),
    "semanticscholar": (BASES["semanticscholar"], semanticscholar.paper_answer),
    "semanticscholar match": (BASES["semanticscholar match"], semanticscholar.match_answer),
    "openalex": (BASES["openalex"], openalex.work_answer),
    "oab": (lambda: changed(BASES["oab"](), ("data", "availability"),
                            [{"type": "article", "url": "https://example.org/a.pdf"}]), oab.parse_oab),
}


@pytest.mark.parametrize("name", list(FUZZED))
def test_any_field_of_a_recording_of_another_kind_is_missing_or_bad_never_a_crash(name: str) -> None:
    """Each field of a real answer, one at a time, set to each other kind of JSON value
    or removed: the adapter either answers (an optional field reads as missing) or says
    the answer is bad (a required one), and never raises anything else."""
    base, read = FUZZED[name]
    body = base()
    read(body)
    tried = bad = 0
    for path in _paths(body):
        for value in ODD_VALUES:
            tried += 1
            try:
                read(changed(body, path, value))
            except SourceBadResponse:
                bad += 1
    assert tried > 50 and 0 < bad < tried, (tried, bad)


@cache
def europepmc_pmid() -> str:
    return str(epmc_core()["resultList"]["result"][0]["pmid"])


# Where each adapter reads an answer (to make it fail as a bug of ours would), the
# adapter on the fake upstream, and an article whose recorded answer reaches that code.
READERS: dict[str, tuple[Any, str, Callable[[str], Any], str, Article | None]] = {
    "unpaywall": (unpaywall, "parse_unpaywall", lambda b: Unpaywall(b, EMAIL), "", Article(doi=GREEN_DOI)),
    "europepmc": (europepmc, "record_answer", EuropePMC, "/europepmc", None),
    "crossref": (crossref, "record_answer", Crossref, "/crossref", Article(doi=DOI)),
    "semanticscholar": (semanticscholar, "record_answer", SemanticScholar, "/semanticscholar",
                        Article(doi="10.1038/s42256-024-00832-8")),
    "openalex": (openalex, "record_answer", OpenAlex, "/openalex", Article(doi="10.1371/journal.pone.0000030")),
    "arxiv": (arxiv, "parse_entry", ArXiv, "/arxiv", Article(arxiv="1605.08386")),
    "oab": (oab, "parse_oab", lambda b: OpenAccessButton(b, None), "/oab", Article(doi=GREEN_DOI)),
}


@pytest.mark.parametrize("name", list(READERS))
async def test_an_adapters_own_bug_is_an_internal_error_never_an_answer(
        upstream, session, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
        name: str) -> None:
    module, function, make, prefix, article = READERS[name]
    if name not in ("unpaywall", "oab"):  # those two are served from our own fixtures
        require_shared(name)

    def bug(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("'NoneType' object is not subscriptable")

    monkeypatch.setattr(module, function, bug)
    adapter = make(upstream[1] + prefix)
    with caplog.at_level(logging.ERROR, logger="oahelper.sources.http"):
        answer = await adapter.lookup(article or Article(pmid=europepmc_pmid()), session, 5.0)
    assert (answer.state, answer.error_code) == ("error", "internal"), answer
    assert answer.locations == () and answer.calls == 1
    assert "internal error" in (answer.error or "") and adapter.health().last_error == answer.error
    (logged,) = [r for r in caplog.records if "adapter failed" in r.getMessage()]
    assert logged.exc_info is not None and logged.exc_info[0] is TypeError


async def test_unpaywall_failing_and_semantic_scholar_sending_junk_is_unknown_not_closed(
        aiohttp_server, junk_upstream, make_settings, keystore) -> None:
    """The issue's case: before, S2's junk read as "ok, no copy" and the badge said
    "No free copy" though no source could answer. docs/api.md says ``unknown``."""
    fake, base = await start_in(aiohttp_server)
    fake.plan("400", service="unpaywall")
    junk, junk_base = junk_upstream
    junk.send(b'{"message": "Internal server error"}')
    settings = make_settings(unpaywall_url=base, semanticscholar_url=junk_base, unpaywall_email=EMAIL,
                             timeout=3.0, disabled_sources="europepmc,crossref,openalex,arxiv,free_by_id")
    async with open_engine(settings, keystore=keystore) as built:
        payload = await built.service.lookup_article(Article(doi=GREEN_DOI))
    s2 = payload["sources"]["semanticscholar"]
    assert (s2["state"], s2["error_code"]) == ("error", "source_bad_response"), s2
    assert payload["sources"]["unpaywall"]["state"] == "error"
    assert payload["status"] == "unknown" and payload["badge"]["color"] == "unknown", payload["badge"]
