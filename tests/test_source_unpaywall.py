"""The Unpaywall adapter against the fake upstream serving real recordings."""

from __future__ import annotations

import json
import random
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from oahelper.models import Article
from oahelper.sources.http import parse_retry_after
from oahelper.identifiers import is_placeholder_email
from oahelper.sources.unpaywall import (
    Unpaywall,
    doi_path,
    parse_unpaywall,
    sqt_records,
)
from tests.support.fake_upstream import (
    BRACKET_DOI,
    CLOSED_DOI,
    GOLD_DOI,
    GREEN_DOI,
    MISSING_DOI,
    UNKNOWN_DOI,
    FakeUpstream,
    session,  # noqa: F401 (fixture)
    upstream,  # noqa: F401 (fixture)
)
from tests.support.shared import OWN_FIXTURES, require_shared

EMAIL = "reader@university.edu"
OWN = OWN_FIXTURES / "unpaywall"


class Sleeps:
    """An injected sleep that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_bytes())


def shared_record(name: str) -> dict[str, Any]:
    data = load(require_shared("unpaywall") / name)
    if "results" in data:  # a Simple Query Tool wrapper: its one DOI object
        (record,) = sqt_records(data).values()
        return record
    return data


# --- parse_unpaywall: pure, on every recorded era --------------------------------------

# file, oa_status, number of locations, best url, best version, best host, best licence
RECORDED = [
    ("200_10.1016_j.envint.2020.105730.json", "gold", 2,
     "https://doi.org/10.1016/j.envint.2020.105730", "publishedVersion", "publisher", "cc-by-nc-nd"),
    ("200_10.1038_nature12373.json", "green", 4,
     "https://dash.harvard.edu/bitstream/1/12285462/1/Nanometer-Scale%20Thermometry.pdf",
     "publishedVersion", "repository", None),
    ("200_10.1103_physreve.88.012814.json", "hybrid", 2,
     "https://link.aps.org/accepted/10.1103/PhysRevE.88.012814", "acceptedVersion", "publisher",
     "publisher-specific, author manuscript: "
     "http://link.aps.org/licenses/aps-default-accepted-manuscript-license"),
    ("200_10.1016_j.tmaid.2020.101663.json", "bronze", 2,
     "https://doi.org/10.1016/j.tmaid.2020.101663", "publishedVersion", "publisher", None),
    ("200_10.1016_j.jns.2020.116832.json", "bronze", 2,
     "https://doi.org/10.1016/j.jns.2020.116832", "publishedVersion", "publisher", None),
    ("200_10.1001_jamadermatol.2015.3091.json", "bronze", 2,
     "https://jamanetwork.com/journals/jamadermatology/articlepdf/2471551/doi150042.pdf",
     "publishedVersion", "publisher", None),
    ("200_10.1641_0006-3568_2005_055_0851_POTAPF_2.0.CO_2.json", "bronze", 1,
     "https://academic.oup.com/bioscience/article-pdf/55/10/851/26896247/55-10-851.pdf",
     "publishedVersion", "publisher", None),
    ("200_sqt-v2-dois_10.1016_j.cell.2007.11.019.json", "bronze", 3,
     "https://doi.org/10.1016/j.cell.2007.11.019", "publishedVersion", "publisher",
     "publisher-specific-oa"),
]


@pytest.mark.parametrize(("name", "status", "count", "url", "version", "host", "licence"),
                         RECORDED, ids=[r[0] for r in RECORDED])
def test_parse_keeps_unpaywalls_status_and_best_location(
        name: str, status: str, count: int, url: str, version: str, host: str,
        licence: str | None) -> None:
    oa_status, locations, _ = parse_unpaywall(shared_record(name))
    assert oa_status == status
    assert len(locations) == count
    best = [loc for loc in locations if loc.is_best]
    assert len(best) == 1
    assert (best[0].url, best[0].version, best[0].host_type, best[0].license) == (
        url, version, host, licence)
    assert all(loc.source == "unpaywall" for loc in locations)


@pytest.mark.parametrize("name", ["200_10.1016_s0962-1849_05_80014-9.json",
                                  "200_sqt-v2-dois_10.1037_018882.json"])
def test_parse_closed_records(name: str) -> None:
    oa_status, locations, metadata = parse_unpaywall(shared_record(name))
    assert oa_status == "closed"
    assert locations == ()
    assert metadata["title"]


def test_parse_green_2020_locations_and_metadata() -> None:
    _, locations, metadata = parse_unpaywall(shared_record("200_10.1038_nature12373.json"))
    dash, europepmc, pmc, arxiv = locations
    assert dash.repository == "Harvard University - Digital Access to Scholarship at Harvard (DASH)"
    assert dash.landing_url == "http://nrs.harvard.edu/urn-3:HUL.InstRepos:12285462"
    assert dash.evidence == "oa repository (via OAI-PMH doi match)"
    assert dash.oa_date is None  # the 2020 records have no oa_date at all
    # url is the PDF link when there is one, else the page
    assert europepmc.url == europepmc.pdf_url == "http://europepmc.org/articles/pmc4221854?pdf=render"
    assert pmc.pdf_url is None and pmc.url == "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC4221854"
    assert arxiv.version == "submittedVersion" and arxiv.repository == "arXiv.org"
    assert metadata == {
        "doi": "10.1038/nature12373", "title": "Nanometre-scale thermometry in a living cell",
        "journal": "Nature", "year": 2013, "publisher": "Springer Science and Business Media LLC",
        "authors": ("G. Kucsko", "P. C. Maurer", "N. Y. Yao", "M. Kubo", "H. J. Noh",
                    "P. K. Lo", "H. Park", "M. D. Lukin"),
    }


def test_parse_2025_object_has_oa_dates() -> None:
    _, locations, metadata = parse_unpaywall(
        shared_record("200_sqt-v2-dois_10.1016_j.cell.2007.11.019.json"))
    kyoto = [loc for loc in locations if loc.repository and "Kyoto" in loc.repository]
    assert kyoto[0].oa_date == "2022-09-13"
    assert kyoto[0].license == "other-oa"
    assert metadata["authors"][-1] == "Shinya Yamanaka"
    assert metadata["year"] == 2007


def test_parse_own_fixtures() -> None:
    status, locations, metadata = parse_unpaywall(load(OWN / "200_10.5555_oahelper.green.2013.json"))
    assert status == "green" and len(locations) == 3 and locations[0].is_best
    assert metadata["authors"] == ("Ada Fixture", "B. C. Recorder")
    status, locations, _ = parse_unpaywall(load(OWN / "200_10.5555_oahelper.gold.2024.json"))
    assert status == "gold"
    assert (locations[0].license, locations[0].oa_date) == ("cc-by", "2024-05-02")
    status, locations, metadata = parse_unpaywall(load(OWN / "200_10.5555_oahelper.closed.1997.json"))
    assert (status, locations, metadata["year"]) == ("closed", (), 1997)


def test_parse_does_not_invent_a_status() -> None:
    record = load(OWN / "200_10.5555_oahelper.gold.2024.json")
    del record["oa_status"]  # as in a later, test-edited copy of a recorded record
    status, locations, _ = parse_unpaywall(record)
    assert status is None and len(locations) == 2


def test_doi_path_encoding() -> None:
    assert doi_path(BRACKET_DOI) == "10.1641/0006-3568(2005)055%5B0851:POTAPF%5D2.0.CO;2"
    assert doi_path("10.1000/a#b?c d%e<f>") == "10.1000/a%23b%3Fc%20d%25e%3Cf%3E"
    assert doi_path("10.1016/S0009-2614(97)04014-1") == "10.1016/S0009-2614(97)04014-1"


@pytest.mark.parametrize(("email", "placeholder"), [
    ("you@example.org", True), ("test@example.com", True), ("a@lab.example", True),
    ("nobody", True), ("x@y.test", True), (EMAIL, False), ("test@lab.org", False),
])
def test_placeholder_emails(email: str, placeholder: bool) -> None:
    assert is_placeholder_email(email) is placeholder


def test_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7.0 and parse_retry_after("0.5") == 0.5
    now = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, format_datetime(now, usegmt=True)) == 30.0
    assert parse_retry_after(later, None, now) == 30.0
    for bad in ("soon", "nan", "inf", "-3", None):
        assert parse_retry_after(bad) is None


# --- the adapter against the fake upstream ---------------------------------------------

async def test_every_recorded_kind_through_the_adapter(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    require_shared("unpaywall")
    fake, base = upstream
    source = Unpaywall(base, EMAIL)
    for name, status, count, url, *_ in RECORDED:
        doi = shared_record(name)["doi"]
        answer = await source.lookup(Article(doi=doi), session, 5.0)
        assert (answer.state, answer.oa_status, len(answer.locations)) == ("ok", status, count)
        assert answer.calls == 1
        assert [loc.url for loc in answer.locations if loc.is_best] == [url]
    closed = await source.lookup(Article(doi="10.1037/018882"), session, 5.0)
    assert (closed.state, closed.oa_status, closed.locations) == ("ok", "closed", ())
    assert len(fake.requests) == len(RECORDED) + 1


async def test_own_fixtures_through_the_adapter(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    source = Unpaywall(base, EMAIL)
    green = await source.lookup(Article(doi=GREEN_DOI.upper()), session, 5.0)
    assert (green.state, green.oa_status) == ("ok", "green")
    assert green.metadata["journal"] == "Journal of Test Fixtures"
    gold = await source.lookup(Article(doi=GOLD_DOI), session, 5.0)
    assert gold.oa_status == "gold" and gold.locations[0].pdf_url.endswith("/pdf")
    closed = await source.lookup(Article(doi=CLOSED_DOI), session, 5.0)
    assert (closed.state, closed.oa_status, closed.locations) == ("ok", "closed", ())
    assert fake.requests[0]["query"] == {"email": EMAIL}
    assert source.health().configured and source.health().problems == []


async def test_bracket_doi_reaches_the_server_as_the_real_request_did(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    require_shared("unpaywall")
    fake, base = upstream
    answer = await Unpaywall(base, EMAIL).lookup(Article(doi=BRACKET_DOI), session, 5.0)
    assert answer.state == "ok" and answer.oa_status == "bronze"
    sent = fake.requests[0]
    assert sent["raw_path"] == (
        "/v2/10.1641/0006-3568(2005)055%5B0851:POTAPF%5D2.0.CO;2?email=reader%40university.edu")
    assert sent["doi"] == BRACKET_DOI


async def test_awkward_characters_are_encoded_once(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    doi = "10.5555/a#b?c d%25e"
    answer = await Unpaywall(base, EMAIL).lookup(Article(doi=doi), session, 5.0)
    assert answer.state == "not_found"
    assert fake.requests[0]["raw_path"].startswith("/v2/10.5555/a%23b%3Fc%20d%2525e?")
    assert fake.requests[0]["doi"] == doi


@pytest.mark.parametrize("doi", [MISSING_DOI, UNKNOWN_DOI])
async def test_json_and_bare_404_are_not_found(
        doi: str, upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    _, base = upstream
    source = Unpaywall(base, EMAIL)
    answer = await source.lookup(Article(doi=doi), session, 5.0)
    assert (answer.state, answer.error, answer.calls) == ("not_found", None, 1)
    assert source.health().last_error is None


async def test_recorded_404_dois(upstream: tuple[FakeUpstream, str],
                                 session: aiohttp.ClientSession) -> None:
    require_shared("unpaywall")
    _, base = upstream
    for doi in ("10.000/nodata", "10.000/doi1", "10.1234/invalid"):
        answer = await Unpaywall(base, EMAIL).lookup(Article(doi=doi), session, 5.0)
        assert answer.state == "not_found"


async def test_422_is_a_config_problem_with_the_remedy(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    source = Unpaywall(base, "test@lab.org")  # not reserved, but Unpaywall refuses it
    answer = await source.lookup(Article(doi=GREEN_DOI), session, 5.0)
    assert (answer.state, answer.error_code, answer.calls) == ("error", "source_config", 1)
    assert "oahelper config set unpaywall_email you@your-university.edu" in answer.error
    assert "Please use your own email address" in answer.error
    health = source.health()
    assert not health.configured
    assert health.problems == [answer.error]
    assert fake.calls_for(GREEN_DOI) == 1


@pytest.mark.parametrize("email", [None, "", "you@example.org"])
async def test_missing_or_placeholder_email_makes_no_call(
        email: str | None, upstream: tuple[FakeUpstream, str],
        session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    source = Unpaywall(base, email)
    answer = await source.lookup(Article(doi=GREEN_DOI), session, 5.0)
    assert (answer.state, answer.error_code, answer.calls) == ("error", "source_config", 0)
    assert "oahelper config set unpaywall_email" in answer.error
    assert fake.requests == []
    health = source.health()
    assert health.enabled and not health.configured
    assert len(health.problems) == 1


async def test_429_with_retry_after_then_success(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    fake.plan("429", retry_after=3, times=1)
    sleeps = Sleeps()
    answer = await Unpaywall(base, EMAIL, sleep=sleeps).lookup(Article(doi=GREEN_DOI), session, 10.0)
    assert (answer.state, answer.oa_status, answer.calls) == ("ok", "green", 2)
    assert sleeps.waits == [3.0]


async def test_retry_after_as_http_date(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    fake.plan("429", retry_after=format_datetime(datetime.now(UTC) + timedelta(seconds=5),
                                                 usegmt=True), times=1)
    sleeps = Sleeps()
    answer = await Unpaywall(base, EMAIL, sleep=sleeps).lookup(Article(doi=GREEN_DOI), session, 20.0)
    assert answer.state == "ok" and answer.calls == 2
    assert 3.5 <= sleeps.waits[0] <= 6.0


async def test_429_forever_gives_up_after_two_retries(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    fake.plan("429")
    sleeps = Sleeps()
    source = Unpaywall(base, EMAIL, sleep=sleeps, rng=random.Random(7))
    answer = await source.lookup(Article(doi=GREEN_DOI), session, 10.0)
    assert (answer.state, answer.error_code, answer.calls) == ("error", "source_rate_limited", 3)
    assert fake.calls_for(GREEN_DOI) == 3
    # exponential backoff with jitter when no Retry-After is given
    assert 0.5 <= sleeps.waits[0] <= 0.75 and 1.0 <= sleeps.waits[1] <= 1.5
    assert source.health().last_error == answer.error


async def test_retry_after_past_the_deadline_is_not_waited_for(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    fake.plan("429", retry_after=60)
    sleeps = Sleeps()
    answer = await Unpaywall(base, EMAIL, sleep=sleeps).lookup(Article(doi=GREEN_DOI), session, 5.0)
    assert (answer.error_code, answer.calls, sleeps.waits) == ("source_rate_limited", 1, [])
    assert "60 s" in answer.error


@pytest.mark.parametrize(("times", "state", "code"), [(2, "ok", None),
                                                    (None, "error", "source_error")])
async def test_500_is_retried_twice(
        times: int | None, state: str, code: str | None, upstream: tuple[FakeUpstream, str],
        session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    fake.plan("500", doi=GREEN_DOI, times=times)
    answer = await Unpaywall(base, EMAIL, sleep=Sleeps()).lookup(Article(doi=GREEN_DOI), session, 10.0)
    assert (answer.state, answer.error_code, answer.calls) == (state, code, 3)
    assert answer.error is None or "HTTP 500" in answer.error


async def test_garbage_200_is_a_bad_response_and_not_retried(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    fake.plan("garbage")
    answer = await Unpaywall(base, EMAIL, sleep=Sleeps()).lookup(Article(doi=GREEN_DOI), session, 5.0)
    assert (answer.state, answer.error_code, answer.calls) == ("error", "source_bad_response", 1)


@pytest.mark.parametrize("plan", [{"kind": "hang"}, {"delay": 30.0}])
async def test_a_silent_upstream_times_out_on_time(
        plan: dict[str, Any], upstream: tuple[FakeUpstream, str],
        session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    fake.plan(**plan)
    started = time.monotonic()
    answer = await Unpaywall(base, EMAIL, sleep=Sleeps()).lookup(Article(doi=GREEN_DOI), session, 0.4)
    assert (answer.state, answer.error_code, answer.calls) == ("error", "source_timeout", 1)
    assert time.monotonic() - started < 2.0  # the timeout is for everything, not per step
    assert "did not answer within 0.4 s" in answer.error


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_refused_is_a_plain_error(session: aiohttp.ClientSession) -> None:
    port = free_port()
    source = Unpaywall(f"http://127.0.0.1:{port}", EMAIL)
    answer = await source.lookup(Article(doi=GREEN_DOI), session, 5.0)
    assert (answer.state, answer.error_code, answer.calls) == ("error", "source_error", 1)
    assert answer.error.startswith(f"could not reach 127.0.0.1:{port}: ")
    assert "refused" in answer.error.lower()
    assert source.health().last_error == answer.error


async def test_unknown_host_is_a_plain_error(session: aiohttp.ClientSession) -> None:
    answer = await Unpaywall("http://api.unpaywall.invalid", EMAIL).lookup(
        Article(doi=GREEN_DOI), session, 15.0)
    assert answer.state == "error"
    assert answer.error.startswith("could not reach api.unpaywall.invalid: ")


async def test_no_doi_is_skipped_and_keys_are_case_folded(
        upstream: tuple[FakeUpstream, str], session: aiohttp.ClientSession) -> None:
    fake, base = upstream
    source = Unpaywall(base, EMAIL)
    answer = await source.lookup(Article(pmid="23903748", title="x"), session, 5.0)
    assert (answer.state, answer.calls, fake.requests) == ("skipped", 0, [])
    assert source.cache_key(Article(doi="10.1038/NATURE12373")) == "doi:10.1038/nature12373"
    assert source.cache_key(Article(pmid="1")) is None
