"""classify(): every recorded answer of ../shared/fixtures/links, cases composed from
recorded parts where a class has no recording, and small pages of our own.

Statuses, headers and final URLs are those SOURCES.md quotes for each recording;
where it says "not recorded", the test names what it assumes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oahelper.links import markers
from oahelper.links.classify import after_pdf_hop, classify, is_pdf, pdf_body
from oahelper.links.markers import BodyMarker
from oahelper.links.pdf import PdfReading, first_page_text
from oahelper.links.verdict import LINK_STATES, ArticleRef, LinkResponse, LinkVerdict
from tests.support.shared import require_shared
from tests.test_links_pdf import BODY, RECORDED_PDFS, minimal_pdf

PEERJ = ArticleRef("10.7717/peerj.4886",
                   "Reef fish communities are spooked by scuba surveys and may take hours to recover")
SD_1 = ArticleRef("10.1016/j.comptc.2018.10.004", "Chemical bonding without orbitals")
SD_2 = ArticleRef("10.1016/j.rsma.2022.102530", "Genetic monitoring of the critically endangered "
                  "leatherback turtle (Dermochelys coriacea) in the South West Atlantic")
SPRINGER = ArticleRef("10.1007/s10924-010-0192-1",
                      "In Vitro Cytotoxicity of Amylose-Based Bioplastic for Packaging Applications")
HAL = ArticleRef(None, "Global discharging methods for coloring problems in graphs")
HTML = {"content-type": "text/html; charset=utf-8"}
CLOUDFLARE_403 = {"content-type": "text/html; charset=UTF-8", "server": "cloudflare"}


@dataclass(frozen=True)
class Recorded:
    """One recorded answer: the status, headers and URLs SOURCES.md gives for it."""

    file: str
    state: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: dict(HTML))
    url: str = "https://example.org/article/1"
    redirects: tuple[str, ...] = ()
    article: ArticleRef = PEERJ


RECORDED: tuple[Recorded, ...] = (
    Recorded("challenge_cloudflare-managed_codepen_403.html", "challenge", 403,
             {**CLOUDFLARE_403, "cf-mitigated": "challenge"}, "https://codepen.io/Zhouzi/pen/JoRazP",
             ("http://codepen.io/Zhouzi/pen/JoRazP",)),
    Recorded("challenge_cloudflare-managed_politico_403.html", "challenge", 403,
             {**CLOUDFLARE_403, "cf-mitigated": "challenge"},
             "https://www.politico.com/story/2013/12/presidents-barack-obama-george-w-bush-second-term-101314.html"),
    # Not recorded: served as Cloudflare serves these (403), without cf-mitigated, so the body decides.
    Recorded("challenge_cloudflare-managed_tandfonline.html", "challenge", 403, CLOUDFLARE_403,
             "https://www.tandfonline.com/doi/full/10.1080/00268976.2013.788745",
             article=ArticleRef("10.1080/00268976.2013.788745")),
    Recorded("challenge_cloudflare-managed_aps.html", "challenge", 403, CLOUDFLARE_403,
             "https://journals.aps.org/prl/abstract/10.1103/PhysRevLett.122.145901",
             article=ArticleRef("10.1103/PhysRevLett.122.145901")),
    Recorded("challenge_cloudflare-noninteractive_acs.html", "challenge", 403, CLOUDFLARE_403,
             "https://pubs.acs.org/doi/10.1021/jp003647e", article=ArticleRef("10.1021/jp003647e")),
    # The repositories' harnesses: 503 for the JS challenges, 403 for the CAPTCHA, 500 for the block.
    Recorded("challenge_cloudflare-iuam-jschl_2020.html", "challenge", 503, CLOUDFLARE_403),
    Recorded("challenge_cloudflare-recaptcha_2019.html", "challenge", 403, CLOUDFLARE_403),
    Recorded("blocked_cloudflare-1006-access-denied.html", "challenge", 500, CLOUDFLARE_403, "https://site.com/"),
    Recorded("challenge_sucuri-waf_2019.html", "challenge", 503),
    Recorded("login_google-drive_401.html", "login", 401, {**HTML, "server": "GSE"},
             "https://drive.google.com/file/d/0B2rwN8wAbVSWbmFJdUdnV2VSTTg/view"),
    Recorded("login_snipplr_redirected-200.html", "login", 200, {**CLOUDFLARE_403},
             "https://snipplr.com/login/",
             ("https://snipplr.com/view/72914/better-html-5-basic-starter-template",)),
    Recorded("login_meetup_redirected-200.html", "login", 200, HTML,
             "https://www.meetup.com/login/?returnUri=https%3A%2F%2Fwww.meetup.com%2Fes%2Fgpul-labs%2Fevents"
             "%2F248885422%2F", ("https://www.meetup.com/es/gpul-labs/events/248885422/",)),
    # Not recorded: what a publisher page comes with (200).
    Recorded("paywall_sciencedirect_purchase-pdf_1.html", "paywall",
             url="https://www.sciencedirect.com/science/article/pii/S2210271X18305656", article=SD_1),
    Recorded("paywall_sciencedirect_purchase-pdf_2.html", "paywall",
             url="https://www.sciencedirect.com/science/article/abs/pii/S2352485522001888", article=SD_2),
    Recorded("paywall_springer_buy-article_with-citation_pdf_url.html", "paywall",
             url="https://link.springer.com/article/10.1007/s10924-010-0192-1", article=SPRINGER),
    Recorded("consent_google-maps_es_200.html", "consent", 200, {**HTML, "server": "ESF"},
             "https://consent.google.es/ml?continue=https://www.google.es/maps/place/Tordoia,+A+Coru%C3%B1a",
             ("https://www.google.es/maps/place/Tordoia,+A+Coru%C3%B1a",)),
    Recorded("consent_youtube_es_200.html", "consent", 200,
             {**HTML, "set-cookie": "CONSENT=PENDING+502; expires=Fri, 01-Jan-2038 00:00:00 GMT"},
             "https://consent.youtube.com/m?continue=https%3A%2F%2Fwww.youtube.com%2Fchannel%2F"
             "UCuZeHD5SGecQomz2pVDHGzg&gl=ES&m=0&pc=yt&uxe=23983172&hl=es&src=1",
             ("https://www.youtube.com/channel/UCuZeHD5SGecQomz2pVDHGzg",)),
    Recorded("landing_peerj_citation_pdf_url.html", "landing", url="https://peerj.com/articles/4886/"),
    Recorded("landing_repository_hal-theses_with-file.html", "landing",
             url="https://theses.hal.science/tel-02083632v1", article=HAL),
    Recorded("404_nginx_hookem_after-redirects.html", "gone", 404,
             {"content-type": "text/html", "server": "Varnish"}, "https://eu.hookem.com/",
             ("https://www.hookem.com/story/texas-shortstop-joe-baker-arrested-public-intoxication/",
              "https://eu.hookem.com/story/texas-shortstop-joe-baker-arrested-public-intoxication/")),
    Recorded("404_spreaker_page-not-found.html", "gone", 404, HTML,
             "https://www.spreaker.com/user/angelclark/angel-clark-ice-cream-tocos"),
    Recorded("404_ustream_normal-looking-title.html", "gone", 404, HTML,
             "http://www.ustream.tv/channel/red-shoes-billiards-60803-camera-1"),
    Recorded("404_google-consent_error-page.html", "gone", 404, {**HTML, "server": "ESF"},
             "https://consent.google.es/ml?continue=https://www.google.es/maps"),
)
# Each recorded PDF, served as a PDF (not recorded: 200 application/pdf), checked
# against its own article: see test_links_pdf.py for why each is its paper.
PDF_HEADERS = {"content-type": "application/pdf"}


@cache
def body(file: str) -> bytes:
    return (require_shared("links") / file).read_bytes()


def response(case: Recorded, **changes: object) -> LinkResponse:
    values: dict[str, object] = {"url": case.url, "status": case.status, "headers": case.headers,
                                 "body": body(case.file), "redirects": case.redirects}
    values.update(changes)
    return LinkResponse(**values)  # type: ignore[arg-type]


def recorded(file: str) -> Recorded:
    return next(case for case in RECORDED if case.file == file)


@pytest.mark.corpus
@pytest.mark.parametrize("case", RECORDED, ids=lambda case: case.file.removesuffix(".html"))
def test_every_recorded_answer_gets_its_state(case: Recorded) -> None:
    verdict = classify(response(case), case.article)
    assert verdict.state == case.state, verdict.reason
    assert verdict.final_url == case.url


@pytest.mark.corpus
def test_every_recording_of_the_folder_is_in_the_tables_of_this_suite() -> None:
    files = {path.name for path in require_shared("links").iterdir() if path.suffix in (".html", ".pdf")}
    assert files == {case.file for case in RECORDED} | set(RECORDED_PDFS)


@pytest.mark.corpus
def test_landing_pages_give_their_pdf_link_absolute() -> None:
    peerj = classify(response(recorded("landing_peerj_citation_pdf_url.html")), PEERJ)
    assert peerj.pdf_url == "https://peerj.com/articles/4886.pdf"
    hal = classify(response(recorded("landing_repository_hal-theses_with-file.html")), HAL)
    assert hal.pdf_url == "https://theses.hal.science/tel-02083632/document"  # no ".pdf" in it


@pytest.mark.corpus
def test_springer_is_a_paywall_although_it_has_citation_pdf_url() -> None:
    case = recorded("paywall_springer_buy-article_with-citation_pdf_url.html")
    verdict = classify(response(case), SPRINGER)
    assert verdict.state == "paywall" and "Buy article" in verdict.reason


@pytest.mark.corpus
@pytest.mark.parametrize("file", ["paywall_sciencedirect_purchase-pdf_1.html",
                                  "paywall_springer_buy-article_with-citation_pdf_url.html"])
def test_paywall_marks_deep_in_the_page_are_read(file: str) -> None:
    """The marks sit 100-190 KB in: the first 64 KiB alone would say "landing"."""
    case = recorded(file)
    first_64k = response(case, body=body(file)[:64 * 1024], truncated=True)
    assert classify(first_64k, case.article).state == "landing"
    assert classify(response(case), case.article).state == "paywall"


@pytest.mark.corpus
@pytest.mark.parametrize("file", ["landing_peerj_citation_pdf_url.html",
                                  "paywall_springer_buy-article_with-citation_pdf_url.html",
                                  "landing_repository_hal-theses_with-file.html"])
def test_the_page_of_another_article_is_wrong_article(file: str) -> None:
    other = ArticleRef("10.1016/j.comptc.2018.10.004", "Chemical bonding without orbitals")
    verdict = classify(response(recorded(file)), other)
    assert verdict.state == "wrong_article", verdict.reason


@pytest.mark.corpus
@pytest.mark.parametrize("name", RECORDED_PDFS)
def test_recorded_pdfs_are_pdfs_of_their_article_and_wrong_for_another(name: str) -> None:
    data = body(name)
    served = LinkResponse("https://repository.example.org/file.pdf", 200, PDF_HEADERS, data)
    reading = PdfReading(text=first_page_text(data))
    doi, title = RECORDED_PDFS[name]
    assert pdf_body(served) == data
    assert classify(served, ArticleRef(doi, title)).state == "pdf"  # before the identity check
    assert classify(served, ArticleRef(doi, title), reading).state == "pdf"
    other = next(ref for other, ref in RECORDED_PDFS.items() if other != name)
    assert classify(served, ArticleRef(*other), reading).state == "wrong_article"


# --- Every marker row fires on the recording it names -------------------------------

# The rows with no recording (Shibboleth's, quoted in SOURCES.md from an unlicensed
# page) are held by test_shibboleth_idp_page_is_a_login_wall below.
RECORDED_MARKERS = [row for row in (*markers.CHALLENGE_MARKERS, *markers.PAYWALL_MARKERS,
                                    *markers.LOGIN_MARKERS, *markers.CONSENT_MARKERS) if row.recording]


@pytest.mark.corpus
@pytest.mark.parametrize("row", RECORDED_MARKERS, ids=lambda row: f"{row.state}-{row.recording[:-5]}")
def test_every_body_marker_is_in_the_recording_it_names(row: BodyMarker) -> None:
    text = body(row.recording).decode("utf-8", "replace").lower()
    assert row.pattern.search(text, 0, row.within or len(text)), row.recording


@pytest.mark.corpus
def test_every_url_header_status_and_title_row_holds_on_its_recording() -> None:
    for rule in (*markers.CONSENT_URLS, *markers.LOGIN_URLS):
        if rule.recording:
            verdict = classify(response(recorded(rule.recording)), PEERJ)
            assert verdict.state == rule.state and verdict.reason == rule.reason, rule
    for header in markers.HEADER_RULES:
        assert classify(response(recorded(header.recording)), PEERJ).reason == header.reason
    for status in markers.STATUS_RULES:
        if status.recording:
            case = recorded(status.recording)
            assert status.low <= case.status <= status.high
            assert classify(response(case), PEERJ).state == status.state
    for title in markers.SOFT_404_TITLES:
        if title.recording:  # recorded with a real 404: served 200 here, the title decides
            case = recorded(title.recording)
            assert classify(response(case, status=200, redirects=()), PEERJ).reason == title.reason


# --- Composed from recorded parts (no recording of these classes exists) -------------

@dataclass(frozen=True)
class Composed:
    """A recorded body served otherwise (``changes``), for a class with no recording."""

    name: str
    file: str
    changes: dict[str, object]
    state: str
    reason: str  # a piece of the verdict's reason


HOOKEM = recorded("404_nginx_hookem_after-redirects.html")
COMPOSED: tuple[Composed, ...] = (
    # Soft 404: Spreaker's "Page not found" page (recorded with 404) served 200.
    Composed("soft-404", "404_spreaker_page-not-found.html", {"status": 200}, "gone", "not found"),
    # Soft 404: hookem's recorded chain (article URL -> eu.hookem.com/) ending in a 200
    # home page: the ustream page, an ordinary site page that names no article.
    Composed("home-page", "404_ustream_normal-looking-title.html",
             {"status": 200, "url": HOOKEM.url, "redirects": HOOKEM.redirects}, "gone", "home page"),
    # HTML sent as application/pdf: PeerJ's landing page and the T&F challenge.
    Composed("html-as-pdf-landing", "landing_peerj_citation_pdf_url.html", {"headers": PDF_HEADERS},
             "landing", "sent as application/pdf"),
    Composed("html-as-pdf-challenge", "challenge_cloudflare-managed_tandfonline.html",
             {"headers": PDF_HEADERS}, "challenge", "Cloudflare"),
    # A plain 5xx: nginx's recorded bare page (hookem's) served with 502: no bot check.
    Composed("plain-502", "404_nginx_hookem_after-redirects.html", {"status": 502}, "error", "502"),
    # 410: ustream's normal-looking page (recorded with 404) served with 410.
    Composed("410", "404_ustream_normal-looking-title.html", {"status": 410}, "gone", "410"),
    # Google Maps' recorded wall served 200 at the asked URL (no redirect to consent.*).
    Composed("consent-at-content-url", "consent_google-maps_es_200.html",
             {"url": recorded("consent_google-maps_es_200.html").redirects[0], "redirects": ()},
             "consent", "consent"),
)


@pytest.mark.corpus
@pytest.mark.parametrize("case", COMPOSED, ids=lambda case: case.name)
def test_composed_cases(case: Composed) -> None:
    original = recorded(case.file)
    verdict = classify(response(original, **case.changes), original.article)
    assert verdict.state == case.state and case.reason in verdict.reason, verdict.reason


@pytest.mark.corpus
def test_composed_redirect_loop_last_hop() -> None:
    # hookem's two recorded hops, going round: the fetch stops at its 5 redirects with
    # a 302 in hand (empty body, as redirects are).
    first, second = HOOKEM.redirects
    loop = LinkResponse(second, 302, {"location": first}, b"",
                        redirects=(first, second, first, second, first))
    verdict = classify(loop, PEERJ)
    assert verdict.state == "error" and "loop" in verdict.reason
    # The same loop through snipplr's recorded sign-in path is a login wall.
    via_login = LinkResponse(first, 302, {"location": "https://snipplr.com/login/"}, b"",
                             redirects=(first, "https://snipplr.com/login/") * 2 + (first,))
    assert classify(via_login, PEERJ).state == "login"


# --- Pages of our own (no ../shared needed) -----------------------------------------

OURS = ArticleRef("10.5555/oah.2024.001", "Soil carbon under long-term no-till farming: a meta-analysis")


def page(head: str = "", body: str = "", title: str = "") -> bytes:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
            f"<body>{body}</body></html>").encode()


ARTICLE_META = ('<meta name="citation_title" content="Soil carbon under long-term no-till farming: '
                'a meta-analysis"><meta name="citation_doi" content="10.5555/OAH.2024.001">')


def ok(data: bytes, url: str = "https://journal.example.org/article/1", **kw: object) -> LinkVerdict:
    return classify(LinkResponse(url, 200, kw.pop("headers", HTML), data, **kw), OURS)  # type: ignore[arg-type]


def test_a_landing_page_gives_its_pdf_link_resolved_against_the_final_url() -> None:
    verdict = ok(page(ARTICLE_META + '<meta name="citation_pdf_url" content="../pdf/1.pdf">'))
    assert verdict.state == "landing"
    assert verdict.pdf_url == "https://journal.example.org/pdf/1.pdf"
    alternate = ok(page(ARTICLE_META + '<link rel="alternate" type="application/pdf" href="/x.pdf">'))
    assert alternate.pdf_url == "https://journal.example.org/x.pdf"
    assert ok(page(ARTICLE_META)).pdf_url is None


def test_a_landing_page_by_title_or_by_the_doi_in_its_text() -> None:
    assert ok(page(title=f"{OURS.title} | Repository")).state == "landing"
    repository = page(body="<p>Published version: <a href='https://doi.org/10.5555/oah.2024.001'>link</a></p>")
    assert ok(repository).state == "landing"


def test_another_articles_page_is_wrong_even_when_it_cites_ours() -> None:
    other = page('<meta name="citation_doi" content="10.5555/other.7"><meta name="citation_title" '
                 'content="Something else">', "<li>doi:10.5555/oah.2024.001</li>")
    assert ok(other).state == "wrong_article"


def test_a_version_with_its_own_doi_and_our_title_is_the_article() -> None:
    # A repository (Zenodo, a preprint server) gives the copy a DOI of its own.
    version = page('<meta name="citation_doi" content="10.5281/zenodo.123"><meta name="citation_title" '
                   'content="Soil carbon under long-term no-till farming: a meta-analysis">')
    assert ok(version).state == "landing"


def test_a_password_field_is_a_login_wall_only_on_a_page_that_is_not_the_articles() -> None:
    form = '<form action="/session"><input type="password" name="pw"></form>'
    assert ok(page(ARTICLE_META, form)).state == "landing"
    assert ok(page(body=form, title="Sign in")).state == "login"


def test_shibboleth_idp_page_is_a_login_wall() -> None:
    # The markers SOURCES.md quotes from the (unlicensed, not copied) St Andrews IdP page.
    idp = page(body='<form action="/idp/profile/cas/login?execution=e1s1" method="post">'
                    '<input type="hidden" name="shib_idp_ls_supported" value=""></form>')
    sso = "https://idp.example.ac.uk/idp/profile/SAML2/Redirect/SSO?execution=e1s1"
    assert ok(idp, url=sso).state == "login"
    assert ok(idp).state == "login"


def test_the_pdf_magic_may_follow_junk_but_not_markup() -> None:
    pdf = minimal_pdf(["Soil carbon under long-term no-till farming: a meta-analysis", *BODY])
    assert is_pdf(b"\xef\xbb\xbf\r\n" + pdf) and is_pdf(b" " * 1000 + pdf)
    assert not is_pdf(b" " * 1100 + pdf)
    assert not is_pdf(page(body="<pre>%PDF-1.4</pre>"))
    served = LinkResponse("https://x.example/a.pdf", 200, {"content-type": "application/octet-stream"},
                          b"\n\n" + pdf)
    assert classify(served, OURS, PdfReading(text=first_page_text(pdf))).state == "pdf"


def test_a_pdf_is_a_pdf_whatever_the_content_type_and_a_big_one_is_not_read() -> None:
    pdf = minimal_pdf(["x"])
    assert ok(pdf, headers={"content-type": "text/html"}).state == "pdf"
    cut = LinkResponse("https://x.example/a.pdf", 200, PDF_HEADERS, pdf, truncated=True)
    assert pdf_body(cut) is None
    assert "too big" in classify(cut, OURS).reason


def test_an_unreadable_pdf_is_still_a_pdf_with_the_reason() -> None:
    served = LinkResponse("https://x.example/a.pdf", 200, PDF_HEADERS, b"%PDF-1.4 junk")
    verdict = classify(served, OURS, PdfReading(problem="reading the PDF took longer than 5 s"))
    assert verdict.state == "pdf" and "took longer" in verdict.reason


def test_headers_are_case_insensitive() -> None:
    challenge = LinkResponse("https://x.example/", 403, {"CF-Mitigated": "challenge"}, b"")
    assert classify(challenge, OURS).state == "challenge"
    assert challenge.header("cf-mitigated") == "challenge"


def test_answers_that_are_no_page() -> None:
    assert ok(b"").state == "error"
    png = ok(b"\x89PNG\r\n\x1a\n" + bytes(100), headers={"content-type": "image/png"})
    assert png.state == "error" and "image/png" in png.reason
    html_as_pdf = ok(b"\x00\x01binary", headers={"content-type": "application/pdf"})
    assert html_as_pdf.state == "error" and "sent as application/pdf" in html_as_pdf.reason


def test_statuses_without_marks() -> None:
    assert classify(LinkResponse("https://x.example/a", 404, HTML, page(ARTICLE_META)), OURS).state == "gone"
    assert classify(LinkResponse("https://x.example/a", 503, HTML, page()), OURS).state == "error"
    assert classify(LinkResponse("https://x.example/a", 403, HTML, page()), OURS).state == "error"
    # A 403 whose page is the article's (and no wall) shows the reader the article.
    article_403 = LinkResponse("https://x.example/a", 403, HTML, page(ARTICLE_META))
    assert classify(article_403, OURS).state == "landing"


def test_a_location_that_does_not_parse_is_no_crash() -> None:
    broken = LinkResponse("https://x.example/a", 302, {"location": "http://[::1"}, b"",
                          redirects=("https://x.example/b",) * 5)
    assert classify(broken, OURS).state == "error"


def test_more_redirects_than_allowed_without_a_loop_is_an_error() -> None:
    chain = tuple(f"https://x.example/{n}" for n in range(5))
    last = LinkResponse("https://x.example/5", 301, {"location": "/6"}, b"", redirects=chain)
    verdict = classify(last, OURS)
    assert verdict.state == "error" and "more redirects" in verdict.reason


def test_a_page_that_names_nothing_is_not_known() -> None:
    verdict = ok(page(body="<p>Welcome to our site</p>", title="Welcome"))
    assert verdict.state == "error" and not verdict.broken and not verdict.works


def test_charsets_from_the_header_and_the_page_decode_the_title() -> None:
    ref = ArticleRef(None, "Étude des sols: carbone organique à long terme")
    latin = ("<html><head><meta http-equiv='Content-Type' content='text/html; charset=iso-8859-1'>"
             "<meta name='citation_title' content='Étude des sols: carbone organique à long terme'>"
             "</head></html>").encode("latin-1")
    assert classify(LinkResponse("https://x.example/", 200, {}, latin), ref).state == "landing"
    labelled = LinkResponse("https://x.example/", 200, {"content-type": "text/html; charset=latin-1"},
                            latin.replace(b"iso-8859-1", b"utf-8"))
    assert classify(labelled, ref).state == "landing"
    broken = LinkResponse("https://x.example/", 200, {"content-type": "text/html; charset=no-such"},
                          latin + b"\xff\xfe\x00")
    assert classify(broken, ref).state == "landing"


def test_after_the_pdf_hop() -> None:
    landing = LinkVerdict("landing", "the article's page", "https://x.example/a", "https://x.example/a.pdf")
    pdf = LinkVerdict("pdf", "the PDF prints the article's DOI", "https://x.example/a.pdf")
    assert after_pdf_hop(landing, pdf) == pdf
    wrong = LinkVerdict("wrong_article", "another DOI", "https://x.example/a.pdf")
    assert after_pdf_hop(landing, wrong) == wrong
    for state in ("challenge", "login", "paywall", "gone", "error"):
        combined = after_pdf_hop(landing, LinkVerdict(state, "why", "https://x.example/a.pdf"))
        assert combined.state == "landing" and combined.pdf_url == landing.pdf_url
        assert state in combined.reason


def test_the_link_object_of_the_api() -> None:
    verdict = LinkVerdict("landing", "why", "https://x.example/a")
    assert verdict.to_json("2026-12-07T10:00:00Z") == {
        "state": "landing", "checked_at": "2026-12-07T10:00:00Z", "final_url": "https://x.example/a"}


# --- Linear in the body's size -------------------------------------------------------

def _cpu(make: Callable[[int], bytes], size: int) -> float:
    data = make(size)
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        classify(LinkResponse("https://x.example/a", 200, HTML, data), OURS)
        best = min(best, time.process_time() - started)
    return max(best, 0.001)


HOSTILE_PAGES: dict[str, Callable[[int], bytes]] = {
    "forms-never-closed": lambda n: page(body="<form action=" * (n // 13)),
    "type-equals": lambda n: page(body="type = " * (n // 7)),
    "deep-nesting": lambda n: page(body="<div>" * (n // 5)),
    "meta-tags": lambda n: page("<meta name='citation_doi' content='10.5555/x'>" * (n // 46)),
    "doi-starts": lambda n: page(body="10.5555/" * (n // 8)),
    "charset-words": lambda n: b"<meta charset=" * (n // 14),
}


@pytest.mark.parametrize("make", HOSTILE_PAGES.values(), ids=HOSTILE_PAGES.keys())
def test_work_grows_linearly_with_a_hostile_page(make: Callable[[int], bytes]) -> None:
    """Eight times the page, eight times the work (quadratic would be 64): the bound
    sits between, as in test_scrape_linear.py. CPU time, best of three; no speed figure."""
    small, big = _cpu(make, 100_000), _cpu(make, 800_000)
    assert big <= 24 * small, f"{small * 1000:.1f} ms → {big * 1000:.1f} ms"


# --- Never a crash -------------------------------------------------------------------

_PIECES = st.sampled_from([
    "<meta name='citation_doi' content='", "<meta name=citation_title content=", "'>", "<title>", "</title>",
    "%PDF-", "<form action=https://consent.", "type=password", "10.5555/oah.2024.001", "Buy article",
    "window._cf_chl_opt", "<", ">", "\"", "\x00", "é", "\ufffd", "<meta charset=utf-16>", "&#0;",
])


_BODIES = st.one_of(st.binary(max_size=2000),
                    st.lists(_PIECES, max_size=40).map(lambda pieces: "".join(pieces).encode()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(status=st.integers(100, 599), body=_BODIES,
       headers=st.dictionaries(st.sampled_from(["content-type", "Location", "CF-Mitigated", "x"]),
                               st.text(max_size=40), max_size=3),
       url=st.text(max_size=40).map(lambda path: f"https://x.example/{path}"),
       redirects=st.lists(st.text(max_size=20), max_size=6))
def test_any_answer_gets_a_state_and_never_an_exception(status: int, body: bytes, headers: dict[str, str],
                                                        url: str, redirects: list[str]) -> None:
    verdict = classify(LinkResponse(url, status, headers, body, redirects=tuple(redirects)), OURS)
    assert verdict.state in LINK_STATES and verdict.reason
