"""LinkChecker (links/check.py): opening a copy's link on a fake web.

The fake web (tests/support/fake_web.py) is a real local aiohttp server that plays
every host: names resolve to 127.0.0.1 through a fixed table (never real DNS) and the
checker's fetch session lists them in ``allow_private_hosts``, which is what that
setting is for. It serves the recordings of ../shared/fixtures/links (read in place)
with the statuses, headers and redirects SOURCES.md gives (the table of
test_links_classify.py), composed cases (redirect chains and loops, Range honoured or
ignored, slow, 503, landing pages whose PDF link works or is gone, another article's
PDF, PDFs over the cap) and pages of our own, so the checker is tested without
../shared too.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from oahelper.engine.cache import AsyncCache, Cache
from oahelper.links.check import (
    BROKEN_TTL,
    ERROR_TTL,
    WORKING_TTL,
    LinkChecker,
    MemoryLinkStore,
    lifetime,
)
from oahelper.links.verdict import LINK_STATES, ArticleRef
from oahelper.net import FetchPolicy, make_fetch_session
from tests.support.fake_web import FakeWeb, Handler, HostsResolver
from tests.support.shared import require_shared
from tests.test_links_classify import RECORDED, Recorded
from tests.test_links_classify import body as recorded_body
from tests.test_links_pdf import BODY, RECORDED_PDFS, minimal_pdf

Server = Callable[..., Awaitable[TestServer]]

OURS = ArticleRef("10.5555/oah.2024.001", "Soil carbon under long-term no-till farming: a meta-analysis")
OTHER = ArticleRef("10.5555/oah.2024.999", "Ocean acidification and the decline of coral reef calcifiers")
HTML = {"content-type": "text/html; charset=utf-8"}
PDF = {"content-type": "application/pdf"}
OUR_PDF = minimal_pdf([OURS.title or "", f"https://doi.org/{OURS.doi}", *BODY])
ARTICLE_META = ('<meta name="citation_title" content="Soil carbon under long-term no-till farming: '
                'a meta-analysis"><meta name="citation_doi" content="10.5555/oah.2024.001">')

OTHER_META = (f'<meta name="citation_title" content="{OTHER.title}">'
              f'<meta name="citation_doi" content="{OTHER.doi}">')


def page(head: str = "", body: str = "", title: str = "An article") -> bytes:
    return (f"<!doctype html><html><head><title>{title}</title>{head}</head>"
            f"<body>{body}</body></html>").encode()


def landing(pdf_url: str) -> bytes:
    return page(ARTICLE_META + f'<meta name="citation_pdf_url" content="{pdf_url}">',
                "<h1>Soil carbon under long-term no-till farming: a meta-analysis</h1>")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def web_(aiohttp_server: Server) -> FakeWeb:
    return await FakeWeb().start(aiohttp_server)


@asynccontextmanager
async def checker_for(web: FakeWeb, *, policy: FetchPolicy | None = None, store: Any = None,
                      clock: Clock | None = None, allow: bool = True,
                      **kw: Any) -> AsyncIterator[LinkChecker]:
    """A checker on ``web`` (its hosts allowed unless ``allow`` is False). Make it after
    the routes: the hosts table and the allow-list are fixed with the session."""
    policy = policy or FetchPolicy()
    clock = clock or Clock()
    async with make_fetch_session(policy, resolver=web.resolver(),
                                  allow_private_hosts=web.allow() if allow else frozenset()) as session:
        checker = LinkChecker(session, MemoryLinkStore(clock) if store is None else store,
                              policy=policy, clock=clock, **kw)
        try:
            yield checker
        finally:
            await checker.aclose()


# --- Every recorded answer, served as it was recorded --------------------------------

def serve_recorded(web: FakeWeb, case: Recorded, number: int) -> str:
    """Serve a recording under hosts of its own (its real names + ``.rN.test``, so two
    cases never share a URL) with its redirects as 302s; the URL to check."""
    def moved(url: str) -> str:
        parts = URL(url)
        return str(parts.with_host(f"{parts.host}.r{number}.test"))

    final = web.answer(moved(case.url), case.status, case.headers, recorded_body(case.file))
    chain = [web.url(moved(url)) for url in case.redirects if web.url(moved(url)) != final]
    for asked, then in itertools.pairwise([*chain, final]):
        web.redirect(asked, then)
    return chain[0] if chain else final


@pytest.mark.corpus
async def test_every_recorded_answer_gets_its_state_through_the_network(web_: FakeWeb) -> None:
    require_shared("links")
    urls = {case.file: serve_recorded(web_, case, n) for n, case in enumerate(RECORDED)}
    async with checker_for(web_) as checker:
        got = {case.file: await checker.check(urls[case.file], case.article) for case in RECORDED}
    wrong = {file: (checked.state, checked.verdict.reason) for file, checked in got.items()
             if checked.state != next(c.state for c in RECORDED if c.file == file)}
    assert wrong == {}
    # The hookem chain was followed hop by hop to its 404, the logins to their final URL.
    hookem = got["404_nginx_hookem_after-redirects.html"]
    assert hookem.verdict.final_url is not None and URL(hookem.verdict.final_url).path == "/"
    assert URL(got["login_snipplr_redirected-200.html"].verdict.final_url or "").path == "/login/"
    # PeerJ's and HAL's PDF links are absolute https URLs of hosts the fake web does not
    # play: the hop is not reached (no real DNS either) and the page stays ``landing``.
    peerj = got["landing_peerj_citation_pdf_url.html"].verdict
    assert peerj.pdf_url == "https://peerj.com/articles/4886.pdf" and "PDF link gave error" in peerj.reason


@pytest.mark.corpus
async def test_the_deep_paywall_marks_are_read_because_the_page_is_read_whole(web_: FakeWeb) -> None:
    require_shared("links")
    case = next(c for c in RECORDED if c.file.startswith("paywall_springer"))
    url = serve_recorded(web_, case, 0)
    async with checker_for(web_) as checker:
        checked = await checker.check(url, case.article)
    assert checked.state == "paywall" and len(recorded_body(case.file)) > 190_000


@pytest.mark.corpus
@pytest.mark.parametrize("name", RECORDED_PDFS)
async def test_recorded_pdfs_are_read_whole_and_their_first_page_checked(web_: FakeWeb, name: str) -> None:
    data = (require_shared("links") / name).read_bytes()
    url = web_.answer(f"http://repo.example.org/{name}", 200, PDF, data)
    async with checker_for(web_) as checker:
        mine = await checker.check(url, ArticleRef(*RECORDED_PDFS[name]))
    other = next(ref for other, ref in RECORDED_PDFS.items() if other != name)
    async with checker_for(web_) as checker:  # a new store: a new check
        theirs = await checker.check(url, ArticleRef(*other))
    assert mine.state == "pdf" and "not checked" not in mine.verdict.reason, mine.verdict.reason
    assert theirs.state == "wrong_article", theirs.verdict.reason


@pytest.mark.corpus
async def test_a_recorded_landing_page_whose_pdf_link_works_gives_the_pdf(web_: FakeWeb) -> None:
    # PeerJ's recorded page, its citation_pdf_url pointed at this fake web's copy of a
    # recorded PDF (the page's bytes otherwise as recorded).
    pdf_name = "pdf_10.1186_1472-6963-14-1.pdf"
    data = (require_shared("links") / pdf_name).read_bytes()
    pdf_url = web_.answer(f"http://peerj.example/articles/{pdf_name}", 200, PDF, data)
    recorded_page = recorded_body("landing_peerj_citation_pdf_url.html")
    assert recorded_page.count(b"https://peerj.com/articles/4886.pdf") >= 1
    url = web_.answer("http://peerj.example/articles/4886/", 200, HTML,
                      recorded_page.replace(b"https://peerj.com/articles/4886.pdf", pdf_url.encode()))
    peerj = next(c.article for c in RECORDED if c.file == "landing_peerj_citation_pdf_url.html")
    async with checker_for(web_) as checker:
        checked = await checker.check(url, peerj)
    # The page is PeerJ's article, the PDF behind its link another paper: the hop decides.
    assert checked.state == "wrong_article" and checked.verdict.final_url == pdf_url
    # An article known by PeerJ's DOI (the page) and that PDF's title (its first page).
    async with checker_for(web_) as checker:
        mine = await checker.check(url, ArticleRef(peerj.doi, RECORDED_PDFS[pdf_name][1]))
    assert mine.state == "pdf" and mine.verdict.final_url == pdf_url


# --- Composed cases, on pages of our own ------------------------------------------------

async def test_a_pdf_and_a_landing_page_whose_pdf_link_works(web_: FakeWeb) -> None:
    pdf_url = web_.answer("http://repo.test/files/1.pdf", 200, PDF, OUR_PDF)
    url = web_.answer("http://repo.test/record/1", 200, HTML, landing("/files/1.pdf"))
    async with checker_for(web_) as checker:
        direct = await checker.check(pdf_url, OURS)
        via_page = await checker.check(url, OURS)
    assert direct.state == "pdf" and "DOI" in direct.verdict.reason
    assert via_page.state == "pdf" and via_page.verdict.final_url == pdf_url
    assert web_.hits(pdf_url) == 1  # the hop found the PDF's verdict in the store


async def test_a_landing_page_whose_pdf_link_is_gone_stays_landing(web_: FakeWeb) -> None:
    web_.answer("http://repo.test/files/2.pdf", 404, HTML, page(title="Not found"))
    url = web_.answer("http://repo.test/record/2", 200, HTML, landing("/files/2.pdf"))
    async with checker_for(web_) as checker:
        checked = await checker.check(url, OURS)
    assert checked.state == "landing" and "PDF link gave gone" in checked.verdict.reason
    assert checked.verdict.final_url == url


async def test_a_pdf_of_another_article_is_wrong_article(web_: FakeWeb) -> None:
    url = web_.answer("http://repo.test/files/3.pdf", 200, PDF, OUR_PDF)
    page_url = web_.answer("http://repo.test/record/3", 200, HTML,
                           page(OTHER_META + '<meta name="citation_pdf_url" content="/files/3.pdf">'))
    async with checker_for(web_) as checker:
        assert (await checker.check(url, OTHER)).state == "wrong_article"
    async with checker_for(web_) as checker:  # the same through its landing page
        assert (await checker.check(page_url, OTHER)).state == "wrong_article"


async def test_the_pages_states_through_the_network(web_: FakeWeb) -> None:
    cases = {
        web_.answer("http://pub.test/gone", 410, HTML, page()): "gone",
        web_.answer("http://pub.test/missing", 404, HTML, page(ARTICLE_META)): "gone",
        web_.answer("http://pub.test/busy", 503, HTML, page(ARTICLE_META)): "error",
        web_.answer("http://pub.test/article", 200, HTML, page(ARTICLE_META)): "landing",
        web_.answer("http://pub.test/signin", 401, HTML, page()): "login",
        web_.answer("http://pub.test/chl", 403, {**HTML, "cf-mitigated": "challenge"}, page()): "challenge",
        web_.answer("http://pub.test/other", 200, HTML, page(OTHER_META)): "wrong_article",
        web_.answer("http://pub.test/empty", 200, HTML, b""): "error",
        web_.answer("http://pub.test/image", 200, {"content-type": "image/png"}, b"\x89PNG\r\n\x1a\n" * 10): "error",
    }
    web_.redirect("http://pub.test/old", web_.url("http://login.pub.test/login/?next=/article"))
    web_.answer("http://login.pub.test/login/?next=/article", 200, HTML,
                page(body='<form><input type="password" name="pw"></form>', title="Sign in"))
    cases[web_.url("http://pub.test/old")] = "login"
    async with checker_for(web_) as checker:
        report = await checker.check_all(cases, OURS)
    assert {url: report.links[url].state for url in cases} == cases
    assert report.pending == ()
    busy = report.links[web_.url("http://pub.test/busy")].verdict
    assert "503" in busy.reason


async def test_a_redirect_chain_is_followed_and_a_loop_or_a_long_chain_is_an_error(web_: FakeWeb) -> None:
    # A chain of 3 hops across two hosts, to the article's page.
    web_.redirect("http://a.test/doi/1", web_.url("http://b.test/hop/1"))
    web_.redirect("http://b.test/hop/1", "/hop/2")
    web_.redirect("http://b.test/hop/2", web_.url("http://a.test/article/1"))
    web_.answer("http://a.test/article/1", 200, HTML, page(ARTICLE_META))
    # A loop, and a chain longer than 5 hops.
    web_.redirect("http://a.test/loop/a", "/loop/b")
    web_.redirect("http://a.test/loop/b", "/loop/a")
    for n in range(8):
        web_.redirect(f"http://a.test/long/{n}", f"/long/{n + 1}")
    async with checker_for(web_) as checker:
        chain = await checker.check(web_.url("http://a.test/doi/1"), OURS)
        loop = await checker.check(web_.url("http://a.test/loop/a"), OURS)
        long = await checker.check(web_.url("http://a.test/long/0"), OURS)
    assert chain.state == "landing" and chain.verdict.final_url == web_.url("http://a.test/article/1")
    assert loop.state == "error" and "loop" in loop.verdict.reason
    assert long.state == "error" and "more redirects" in long.verdict.reason
    # Five redirects followed: six requests, the sixth answer (a redirect) kept, not followed.
    assert sum(1 for a in web_.asked if a.path.startswith("/long/")) == 6


def ranged(data: bytes, *, honour: bool, seen: list[str | None]) -> Handler:
    """A handler serving ``data`` as a PDF, answering Range with a 206 when ``honour``."""
    async def handler(request: web.Request) -> web.StreamResponse:
        asked = request.headers.get("Range")
        seen.append(asked)
        if honour and asked and asked.startswith("bytes=0-"):
            end = min(int(asked.removeprefix("bytes=0-")), len(data) - 1)
            return web.Response(status=206, body=data[:end + 1], headers={
                **PDF, "Content-Range": f"bytes 0-{end}/{len(data)}"})
        return web.Response(body=data, headers=PDF)
    return handler


@pytest.mark.parametrize("honour", [True, False], ids=["honours-range", "ignores-range"])
async def test_a_server_that_honours_range_and_one_that_ignores_it_give_the_same_verdicts(
        web_: FakeWeb, honour: bool) -> None:
    seen: list[str | None] = []
    big = OUR_PDF + b"%" + b"x" * 200_000 + b"\n"
    small_url = web_.route("http://cdn.test/small.pdf", ranged(OUR_PDF, honour=honour, seen=seen))
    big_url = web_.route("http://cdn.test/big.pdf", ranged(big, honour=honour, seen=seen))
    async with checker_for(web_, pdf_max_bytes=100_000) as checker:
        small = await checker.check(small_url, OURS)
        too_big = await checker.check(big_url, OURS)
    assert small.state == "pdf" and "DOI" in small.verdict.reason
    assert too_big.state == "pdf" and "too big" in too_big.verdict.reason and "pdf_max_mb" in too_big.verdict.reason
    # The checker asks for no more than it reads: the page cap, or the PDF cap, plus one.
    assert seen and all(asked == f"bytes=0-{5 * 2**20}" for asked in seen)


async def test_a_server_that_refuses_the_range_is_asked_again_without_it(web_: FakeWeb) -> None:
    seen: list[str | None] = []

    async def picky(request: web.Request) -> web.StreamResponse:
        seen.append(request.headers.get("Range"))
        if "Range" in request.headers:
            return web.Response(status=416, headers={"Content-Range": "bytes */0"})
        return web.Response(body=OUR_PDF, headers=PDF)

    url = web_.route("http://picky.test/a.pdf", picky)
    async with checker_for(web_) as checker:
        checked = await checker.check(url, OURS)
    assert checked.state == "pdf" and len(seen) == 2 and seen[1] is None


async def test_a_pdf_over_the_cap_is_pdf_unchecked_and_not_read_whole(web_: FakeWeb) -> None:
    total = 32 * 2**20
    sent = {"bytes": 0}

    async def endless(request: web.Request) -> web.StreamResponse:
        # Chunked: no Content-Length to tell the size, so the checker reads past its cap.
        resp = web.StreamResponse(headers=PDF)
        await resp.prepare(request)
        try:
            await resp.write(OUR_PDF)
            while sent["bytes"] < total:
                await resp.write(b"%" + b"x" * 65534 + b"\n")
                sent["bytes"] += 65536
        except (ConnectionResetError, ConnectionError):
            pass
        return resp

    declared = web_.answer("http://big.test/declared.pdf", 200, PDF, OUR_PDF + b"%" + b"x" * 300_000)
    streamed = web_.route("http://big.test/streamed.pdf", endless)
    async with checker_for(web_, pdf_max_bytes=200_000) as checker:
        by_length = await checker.check(declared, OURS)
        by_reading = await checker.check(streamed, OURS)
    for checked in (by_length, by_reading):
        assert checked.state == "pdf" and "too big" in checked.verdict.reason, checked.verdict.reason
    await asyncio.sleep(0.2)
    assert sent["bytes"] < total // 2  # the connection was dropped, not drained


async def test_a_slow_server_a_refused_connection_and_tls_to_a_plain_server_are_errors(
        web_: FakeWeb) -> None:
    slow = web_.answer("http://slow.test/article", 200, HTML, page(ARTICLE_META), delay=1.5)
    plain = web_.answer("http://plain.test/article", 200, HTML, page(ARTICLE_META))
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    policy = FetchPolicy(timeout=0.5)
    async with make_fetch_session(policy, resolver=web_.resolver(),
                                  allow_private_hosts=web_.allow() | {("127.0.0.1", closed_port)}) as session:
        checker = LinkChecker(session, MemoryLinkStore(), policy=policy)
        try:
            timed_out = await checker.check(slow, OURS)
            refused = await checker.check(f"http://127.0.0.1:{closed_port}/article", OURS)
            tls = await checker.check(str(URL(plain).with_scheme("https")), OURS)
        finally:
            await checker.aclose()
    assert timed_out.state == "error" and "did not answer within 0.5 s" in timed_out.verdict.reason
    assert refused.state == "error" and "could not reach" in refused.verdict.reason
    assert tls.state == "error", tls.verdict.reason


async def test_a_private_address_without_the_allow_list_is_an_error_and_nothing_is_sent(
        web_: FakeWeb) -> None:
    url = web_.answer("http://intranet.test/article", 200, HTML, page(ARTICLE_META))
    literal = web_.answer(f"http://127.0.0.1:{web_.port}/article", 200, HTML, page(ARTICLE_META))
    async with checker_for(web_, allow=False) as checker:
        by_name = await checker.check(url, OURS)
        by_address = await checker.check(literal, OURS)
        not_a_url = await checker.check("file:///etc/passwd", OURS)
    for checked in (by_name, by_address, not_a_url):
        assert checked.state == "error" and checked.verdict.reason.startswith("not opened"), checked
    assert "non-public" in by_name.verdict.reason and "non-public" in by_address.verdict.reason
    assert web_.asked == []


async def test_an_allowed_host_cannot_redirect_to_a_private_one_that_is_not(
        web_: FakeWeb, aiohttp_server: Server) -> None:
    other = await FakeWeb().start(aiohttp_server)
    target = other.answer("http://127.0.0.1/secret", 200, HTML, page(ARTICLE_META))
    url = web_.redirect("http://repo.test/go", target)
    async with checker_for(web_) as checker:
        checked = await checker.check(url, OURS)
    assert checked.state == "error" and "non-public" in checked.verdict.reason
    assert other.asked == [] and web_.hits(url) == 1


async def test_no_cookie_goes_back(web_: FakeWeb) -> None:
    first = web_.answer("http://wall.test/a", 200, {**HTML, "Set-Cookie": "CONSENT=PENDING+502; Path=/"},
                        page(ARTICLE_META))
    second = web_.answer("http://wall.test/b", 200, HTML, page(ARTICLE_META))
    async with checker_for(web_) as checker:
        await checker.check(first, OURS)
        await checker.check(second, OURS)
    assert [a.path for a in web_.asked] == ["/a", "/b"]
    assert all("Cookie" not in a.headers for a in web_.asked)


# --- One flight, two at once per host, bulk one a second ----------------------------------

async def test_a_hundred_checks_of_one_url_make_one_request(web_: FakeWeb) -> None:
    url = web_.answer("http://one.test/article", 200, HTML, page(ARTICLE_META), delay=0.2)
    async with checker_for(web_) as checker:
        got = await asyncio.gather(*(checker.check(url, OURS) for _ in range(100)))
    assert web_.hits() == 1 and {checked.state for checked in got} == {"landing"}


async def test_at_most_two_checks_at_once_per_host_and_hosts_in_parallel(web_: FakeWeb) -> None:
    urls = [web_.answer(f"http://{host}.test/article/{n}", 200, HTML, page(ARTICLE_META), delay=0.3)
            for host in ("left", "right") for n in range(5)]
    async with checker_for(web_) as checker:
        report = await checker.check_all(urls, OURS)
    assert {checked.state for checked in report.links.values()} == {"landing"}
    assert web_.most_at_once == {"left.test": 2, "right.test": 2}
    assert web_.most_at_once_anywhere > 2  # the limit is per host, not for the whole checker


async def test_bulk_checks_go_one_a_second_per_host(web_: FakeWeb) -> None:
    slow_host = [web_.answer(f"http://bulk.test/a/{n}", 200, HTML, page(ARTICLE_META)) for n in range(3)]
    other_host = [web_.answer(f"http://other.test/a/{n}", 200, HTML, page(ARTICLE_META)) for n in range(3)]
    async with checker_for(web_) as checker:
        await checker.check_all([*slow_host, *other_host], OURS, bulk=True)
    for host in ("bulk.test", "other.test"):
        times = sorted(a.at for a in web_.asked if a.host == host)
        assert len(times) == 3
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap >= 0.85 for gap in gaps), gaps  # 1 s apart, measured generously
    # Two hosts went side by side: the first of each within moments of each other.
    firsts = [min(a.at for a in web_.asked if a.host == host) for host in ("bulk.test", "other.test")]
    assert abs(firsts[0] - firsts[1]) < 0.5


async def test_interactive_checks_are_not_spaced(web_: FakeWeb) -> None:
    urls = [web_.answer(f"http://fast.test/a/{n}", 200, HTML, page(ARTICLE_META)) for n in range(4)]
    async with checker_for(web_) as checker:
        started = time.monotonic()
        await checker.check_all(urls, OURS)
    assert web_.hits() == 4 and time.monotonic() - started < 0.85


async def test_the_per_host_gates_are_bounded(web_: FakeWeb) -> None:
    urls = [web_.answer(f"http://h{n}.test/a", 200, HTML, page(ARTICLE_META)) for n in range(6)]
    async with checker_for(web_, max_hosts=3) as checker:
        await checker.check_all(urls, OURS)
        assert len(checker._hosts) <= 3


# --- The store: warm checks open nothing; lifetimes by state ---------------------------------

async def test_a_warm_check_opens_nothing(web_: FakeWeb) -> None:
    url = web_.answer("http://warm.test/article", 200, HTML, page(ARTICLE_META))
    clock = Clock()
    async with checker_for(web_, clock=clock) as checker:
        cold = await checker.check(url, OURS)
        warm = await checker.check(url, OURS)
        report = await checker.check_all([url], OURS, wait=0.5)
    assert web_.hits() == 1
    assert not cold.cached and warm.cached and warm.verdict == cold.verdict
    assert warm.checked_at == cold.checked_at == clock.now
    assert report.link(url) == {"state": "landing", "checked_at": "2027-01-15T08:00:00Z", "final_url": url}


def test_lifetimes_by_state() -> None:
    assert {state: lifetime(state) for state in LINK_STATES} == {
        "pdf": 7 * 86400, "landing": 7 * 86400, "challenge": 7 * 86400, "consent": 7 * 86400,
        "login": 86400, "paywall": 86400, "gone": 86400, "wrong_article": 86400,
        "error": 3600, "unchecked": None}


@pytest.mark.parametrize(("status", "body", "state", "ttl"), [
    (200, OUR_PDF, "pdf", WORKING_TTL),
    (404, page(), "gone", BROKEN_TTL),
    (503, page(), "error", ERROR_TTL),
])
async def test_a_verdict_lives_as_long_as_its_state_says(web_: FakeWeb, status: int, body: bytes,
                                                        state: str, ttl: float) -> None:
    url = web_.answer("http://ttl.test/x", status, PDF if status == 200 else HTML, body)
    clock = Clock()
    async with checker_for(web_, clock=clock) as checker:
        assert (await checker.check(url, OURS)).state == state
        clock.now += ttl - 1
        assert (await checker.check(url, OURS)).cached and web_.hits() == 1
        clock.now += 2
        again = await checker.check(url, OURS)
    assert not again.cached and web_.hits() == 2


async def test_verdicts_are_kept_in_the_cache_database(web_: FakeWeb, tmp_path: Path) -> None:
    url = web_.answer("http://db.test/x.pdf", 200, PDF, OUR_PDF)
    clock = Clock()
    cache = AsyncCache(tmp_path / "cache.sqlite3", clock)
    try:
        async with checker_for(web_, store=cache, clock=clock) as checker:
            first = await checker.check(url, OURS)
            assert (await checker.check(url, OURS)).cached  # at once: the write is still pending, or done
    finally:
        await cache.aclose()
    stored = Cache(tmp_path / "cache.sqlite3", clock).get_link(url)
    assert stored == (first.verdict, clock.now)
    cache = AsyncCache(tmp_path / "cache.sqlite3", clock)  # a new process: still warm
    try:
        async with checker_for(web_, store=cache, clock=clock) as checker:
            assert (await checker.check(url, OURS)).cached
    finally:
        await cache.aclose()
    assert web_.hits() == 1


# --- Waiting at most so long; the rest in the background -----------------------------------

async def test_check_all_waits_at_most_so_long_and_the_rest_finishes_in_the_background(
        web_: FakeWeb) -> None:
    fast = web_.answer("http://mix.test/fast", 200, HTML, page(ARTICLE_META))
    slow = web_.answer("http://mix.test/slow", 200, PDF, OUR_PDF, delay=0.6)
    async with checker_for(web_) as checker:
        first = await checker.check_all([fast, slow, fast, ""], OURS, wait=0.3)
        assert first.pending == (slow,) and set(first.links) == {fast}
        assert first.link(slow) == {"state": "unchecked", "checked_at": None, "final_url": None}
        assert checker.running() == {slow}
        await asyncio.sleep(1.0)  # the check finished alone and filled the store
        assert checker.running() == frozenset()
        second = await checker.check_all([fast, slow], OURS, wait=0.3)
    assert second.pending == () and second.links[slow].cached and second.links[slow].state == "pdf"
    assert web_.hits() == 2


async def test_a_cancelled_caller_leaves_the_check_running(web_: FakeWeb) -> None:
    url = web_.answer("http://bg.test/a", 200, HTML, page(ARTICLE_META), delay=0.3)
    async with checker_for(web_) as checker:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await checker.check(url, OURS)
        await asyncio.sleep(0.6)
        assert (await checker.check(url, OURS)).cached


async def test_aclose_cancels_the_checks_still_running(web_: FakeWeb) -> None:
    url = web_.answer("http://bg.test/slow", 200, HTML, page(ARTICLE_META), delay=2.0)
    async with checker_for(web_) as checker:
        report = await checker.check_all([url], OURS, wait=0.05)
        assert report.pending == (url,)
        started = time.monotonic()
        await checker.aclose()
        assert time.monotonic() - started < 1.0 and checker.running() == frozenset()
        with pytest.raises(RuntimeError):
            await checker.check(url, OURS)


async def test_a_session_not_made_for_pages_is_refused() -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValueError, match="make_fetch_session"):
            LinkChecker(session)


async def test_from_settings_reads_the_allow_list_and_the_pdf_cap(web_: FakeWeb, make_settings: Any) -> None:
    url = web_.answer(f"http://127.0.0.1:{web_.port}/a.pdf", 200, PDF, OUR_PDF + b"%" + b"x" * (2 * 2**20))
    settings = make_settings(allow_private_hosts=[f"127.0.0.1:{web_.port}"], pdf_max_mb=1)
    checker = LinkChecker.from_settings(settings, MemoryLinkStore())
    try:
        checked = await checker.check(url, OURS)
    finally:
        await checker.aclose()
    assert checker.session.closed
    assert checked.state == "pdf" and "over 1 MB" in checked.verdict.reason
    settings = make_settings()
    checker = LinkChecker.from_settings(settings, None)
    try:
        assert (await checker.check(url, OURS)).verdict.reason.startswith("not opened")
    finally:
        await checker.aclose()


def test_hosts_resolver_never_asks_real_dns() -> None:
    async def resolve() -> None:
        await HostsResolver({}).resolve("example.org")
    with pytest.raises(socket.gaierror):
        asyncio.run(resolve())


async def test_a_pdf_too_slow_to_arrive_whole_is_pdf_unchecked(web_: FakeWeb) -> None:
    async def trickle(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers=PDF)
        await resp.prepare(request)
        await resp.write(OUR_PDF[:2000])
        await asyncio.sleep(2.0)  # the rest never comes in time
        return resp

    url = web_.route("http://trickle.test/a.pdf", trickle)
    async with checker_for(web_, policy=FetchPolicy(timeout=1.0)) as checker:
        checked = await checker.check(url, OURS)
    assert checked.state == "pdf" and "did not arrive whole within 0.8 s" in checked.verdict.reason


async def test_a_landing_page_and_its_pdf_checked_together_download_the_pdf_once(web_: FakeWeb) -> None:
    pdf_url = web_.answer("http://repo.test/files/9.pdf", 200, PDF, OUR_PDF, delay=0.4)
    url = web_.answer("http://repo.test/record/9", 200, HTML, landing("/files/9.pdf"))
    async with checker_for(web_) as checker:
        report = await checker.check_all([url, pdf_url], OURS)
    assert report.links[url].state == report.links[pdf_url].state == "pdf"
    assert web_.hits(pdf_url) == 1  # the landing page's hop joined the PDF's own check


async def test_two_landing_pages_whose_pdf_links_name_each_other_do_not_wait_for_each_other(
        web_: FakeWeb) -> None:
    first = web_.answer("http://ring.test/a", 200, HTML, landing("/b"), delay=0.1)
    second = web_.answer("http://ring.test/b", 200, HTML, landing("/a"), delay=0.1)
    async with checker_for(web_) as checker:
        async with asyncio.timeout(5):
            report = await checker.check_all([first, second], OURS)
    assert {checked.state for checked in report.links.values()} == {"landing"}
