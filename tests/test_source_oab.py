"""The Open Access Button-compatible adapter against working and retired fake services."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from oahelper.errors import SourceBadResponse
from oahelper.models import Article, Location
from oahelper.sources.oab import OpenAccessButton, parse_oab
from tests.support.fake_upstream import (
    CLOSED_DOI,
    GREEN_DOI,
    FakeUpstream,
    oab_answer,
    session,  # noqa: F401 (fixture)
    upstream,  # noqa: F401 (fixture)
)

GREEN_URL = "https://repository.example.org/bitstream/1/4242/1/oahelper-green.pdf"
DAY = 24 * 3600


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_parse_historic_answer() -> None:
    # The historic shape README ("Sources") quotes, with a data entry and the 2020+ "v2" object beside it.
    body = {"data": {"availability": [{"type": "data", "url": "https://data.example.org/set"},
                                      {"type": "article", "url": "https://repo.example.org/a.pdf"}],
                     "requests": [{"type": "article", "_id": "abc", "ucreated": True,
                                   "usupport": False}],
                     "accepts": [], "meta": {"article": {"doi": "10.1/x"}, "data": {},
                                             "cache": True, "refresh": 0},
                     "match": "10.1/x"},
            "v2": {}}
    assert parse_oab(body) == (Location(url="https://repo.example.org/a.pdf", source="oab"),)
    nothing = oab_answer(FakeUpstream().recordings, {"doi": "10.5555/nothing"})
    assert parse_oab(nothing) == ()
    # the retired service's body `404` is valid JSON, but not an answer
    with pytest.raises(SourceBadResponse):
        parse_oab(404)


async def test_disabled_without_a_base_url(session: aiohttp.ClientSession) -> None:
    source = OpenAccessButton(None, "key")
    answer = await source.lookup(Article(doi=GREEN_DOI), session, 5.0)
    assert (answer.state, answer.calls) == ("disabled", 0)
    assert not source.health().enabled
    assert OpenAccessButton("", None).health().enabled is False


async def test_working_service_finds_the_free_copy(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    source = OpenAccessButton(f"{base}/oab", None)
    answer = await source.lookup(Article(doi=GREEN_DOI, url="https://publisher.example.org/a",
                                         title="A secret reading list item"), session, 5.0)
    assert (answer.state, answer.calls) == ("ok", 1)
    assert answer.locations == (Location(url=GREEN_URL, source="oab"),)
    # only the identifier leaves the machine: no page URL, no title
    assert fake.requests[0]["query"] == {"doi": GREEN_DOI}
    assert fake.requests[0]["headers"]["x-apikey"] is False
    health = source.health()
    assert health.enabled and health.configured and not health.retired


async def test_nothing_available_is_not_found(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    _, base = upstream
    answer = await OpenAccessButton(f"{base}/oab", None).lookup(
        Article(doi=CLOSED_DOI), session, 5.0)
    assert (answer.state, answer.locations) == ("not_found", ())


async def test_pmid_and_pmcid_when_there_is_no_doi(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    source = OpenAccessButton(f"{base}/oab", None)
    await source.lookup(Article(pmid="23903748", pmcid="PMC4221854", url="https://x.org/p"),
                        session, 5.0)
    await source.lookup(Article(pmcid="PMC4221854", title="t"), session, 5.0)
    assert [r["query"] for r in fake.requests] == [{"pmid": "23903748"}, {"pmcid": "PMC4221854"}]
    skipped = await source.lookup(Article(url="https://x.org/p", title="only a title"), session, 5.0)
    assert (skipped.state, len(fake.requests)) == ("skipped", 2)
    assert source.cache_key(Article(doi="10.1/ABC", pmid="1")) == "doi:10.1/abc"
    assert source.cache_key(Article(pmcid="PMC42")) == "pmcid:pmc42"
    assert source.cache_key(Article(title="t")) is None


async def test_api_key_header_only_when_a_key_is_given(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    await OpenAccessButton(f"{base}/oab", "s3cret").lookup(Article(doi=GREEN_DOI), session, 5.0)
    await OpenAccessButton(f"{base}/oab", None).lookup(Article(doi=GREEN_DOI), session, 5.0)
    await OpenAccessButton(f"{base}/oab", "").lookup(Article(doi=GREEN_DOI), session, 5.0)
    assert [r["headers"]["x-apikey"] for r in fake.requests] == [True, False, False]


async def test_retired_service_is_asked_once_a_day_and_warned_about_once(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession,
        caplog: pytest.LogCaptureFixture) -> None:
    fake, base = upstream
    clock = Clock()
    source = OpenAccessButton(f"{base}/oab-retired", None, clock=clock)
    with caplog.at_level(logging.WARNING, logger="oahelper.sources.oab"):
        first = await source.lookup(Article(doi=GREEN_DOI), session, 5.0)
        assert (first.state, first.error_code, first.calls) == ("retired", "source_retired", 1)
        assert "shut down (HTTP 404)" in first.error
        clock.now += DAY - 1
        again = await source.lookup(Article(doi=CLOSED_DOI), session, 5.0)
        assert (again.state, again.calls) == ("retired", 0)
        assert len(fake.requests) == 1
        assert source.health().retired
        assert "OAHELPER_OAB_URL" in source.health().problems[0]
        clock.now += 2
        assert not source.health().retired
        later = await source.lookup(Article(doi=CLOSED_DOI), session, 5.0)
        assert (later.state, later.calls) == ("retired", 1)
    assert len(fake.requests) == 2
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


async def test_410_text_means_retired(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    fake.plan("410text")
    source = OpenAccessButton(f"{base}/oab", None)
    answer = await source.lookup(Article(doi=GREEN_DOI), session, 5.0)
    assert (answer.state, answer.calls) == ("retired", 1)
    assert "HTTP 410" in answer.error
    assert source.health().retired


@pytest.mark.parametrize(("kind", "code", "words"), [
    ("503", "source_error", "HTTP 503"),
    ("500", "source_error", "HTTP 500"),
    ("garbage", "source_bad_response", "not JSON"),
    ("400", "source_error", "refused the identifier doi=" + GREEN_DOI),
])
async def test_failures_are_errors_without_retirement(
        kind: str, code: str, words: str, upstream: tuple[FakeUpstream, str],
        session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    fake.plan(kind)
    source = OpenAccessButton(f"{base}/oab", None)
    answer = await source.lookup(Article(doi=GREEN_DOI), session, 5.0)
    assert (answer.state, answer.error_code, answer.calls) == ("error", code, 1)
    assert words in answer.error
    assert not source.health().retired
    assert source.health().last_error == answer.error
    fake.clear()
    recovered = await source.lookup(Article(doi=GREEN_DOI), session, 5.0)
    assert recovered.state == "ok"


async def test_hang_times_out(upstream: tuple[FakeUpstream, str],
                              session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    fake.plan("hang")
    answer = await OpenAccessButton(f"{base}/oab", None).lookup(Article(doi=GREEN_DOI),
                                                                session, 0.3)
    assert (answer.state, answer.error_code) == ("error", "source_timeout")
