"""The marks of each kind of answer a "free" link gives, as tables (README, "Link checks").

Every row names the recording in ``../shared/fixtures/links/`` it was read from
(SOURCES.md, "What the recordings say"); a row no recording shows says so and why it
is here. The tests hold each row to its recording: a row must fire on the file it
names. ``classify.py`` owns the order in which the tables are asked; this module is
only data. Text needles are lower case and are searched for in the lower-cased body;
each pattern is a plain literal or has bounded repetition only, so a search is linear
in the body's size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oahelper.models import LinkState


@dataclass(frozen=True)
class BodyMarker:
    """A pattern in the page's text that makes it ``state``.

    ``within``: only the first so many characters are searched (interstitials are
    small; a marker deep in a long page is something else). ``decides``: False for a
    row that only confirms another row of the same state. ``unless_article``: a page
    that carries the article's own metadata keeps being the article's page (a sign-in
    box in the site's header is no login wall).
    """

    state: LinkState
    pattern: re.Pattern[str]
    reason: str
    recording: str
    within: int | None = None
    decides: bool = True
    unless_article: bool = False


@dataclass(frozen=True)
class HeaderRule:
    """A response header whose value matches ``pattern`` makes the answer ``state``."""

    name: str
    pattern: re.Pattern[str]
    state: LinkState
    reason: str
    recording: str


@dataclass(frozen=True)
class UrlRule:
    """A final URL whose lower-cased host, path and query match every given pattern."""

    state: LinkState
    reason: str
    recording: str
    host: re.Pattern[str] | None = None
    path: re.Pattern[str] | None = None
    query: re.Pattern[str] | None = None


@dataclass(frozen=True)
class StatusRule:
    """A status in ``low..high`` makes the answer ``state`` (after the challenge rows:
    Cloudflare and Sucuri send their walls as 403 and 503)."""

    low: int
    high: int
    state: LinkState
    reason: str
    recording: str


def _lit(text: str) -> re.Pattern[str]:
    return re.compile(re.escape(text))


# Interstitials are a few kilobytes (the biggest recorded, Cloudflare's 2020 page, 23 KB).
CHALLENGE_WINDOW = 64 * 1024
# How many leading bytes may come before "%PDF-": readers accept junk there (a BOM,
# blank lines, a stray header) as Acrobat does, up to 1024 bytes.
PDF_MAGIC = b"%PDF-"
PDF_MAGIC_WITHIN = 1024

HEADER_RULES: tuple[HeaderRule, ...] = (
    # challenge_cloudflare-managed_codepen_403 and _politico_403: Cloudflare's own
    # verdict on the answer, cheaper and surer than any body marker.
    HeaderRule("cf-mitigated", re.compile(r"^\s*challenge\b", re.IGNORECASE), "challenge",
               "Cloudflare answered with a bot check (cf-mitigated: challenge)",
               "challenge_cloudflare-managed_codepen_403.html"),
)

CHALLENGE_MARKERS: tuple[BodyMarker, ...] = (
    # All five modern Cloudflare pages (codepen, politico, tandfonline, aps, acs).
    BodyMarker("challenge", _lit("window._cf_chl_opt"), "a Cloudflare bot check",
               "challenge_cloudflare-managed_tandfonline.html", CHALLENGE_WINDOW),
    # Legacy "I'm Under Attack" JS challenge (2015-2020).
    BodyMarker("challenge", _lit("cf-browser-verification"), "a Cloudflare browser check",
               "challenge_cloudflare-iuam-jschl_2020.html", CHALLENGE_WINDOW),
    BodyMarker("challenge", _lit('name="jschl_vc"'), "a Cloudflare browser check",
               "challenge_cloudflare-iuam-jschl_2020.html", CHALLENGE_WINDOW),
    # Cloudflare's CAPTCHA (reCAPTCHA) form posts here.
    BodyMarker("challenge", _lit("/cdn-cgi/l/chk_captcha"), "a Cloudflare CAPTCHA",
               "challenge_cloudflare-recaptcha_2019.html", CHALLENGE_WINDOW),
    # Sucuri CloudProxy: a variable of the obfuscated JS that sets the
    # sucuri_cloudproxy_uuid_… cookie (that name is inside its base64), nothing else.
    BodyMarker("challenge", _lit("sucuri_cloudproxy_js"), "a Sucuri bot check",
               "challenge_sucuri-waf_2019.html", CHALLENGE_WINDOW),
    # A Cloudflare firewall block (error 1006, IP banned): not free right now, but the
    # reader's browser is another address, so it counts like a challenge, never a 404.
    BodyMarker("challenge", _lit("used cloudflare to restrict access"),
               "a Cloudflare block (the reader's browser may pass)",
               "blocked_cloudflare-1006-access-denied.html", CHALLENGE_WINDOW),
)

STATUS_RULES: tuple[StatusRule, ...] = (
    # A 404's page can look normal (ustream: the site's marketing title): the status decides.
    StatusRule(404, 404, "gone", "not found (404)", "404_ustream_normal-looking-title.html"),
    # No recording: a 410 says the same as a 404, more firmly (composed in the tests).
    StatusRule(410, 410, "gone", "gone (410)", ""),
    # Google Drive: 401 with "Debes iniciar sesión para acceder a este contenido".
    StatusRule(401, 401, "login", "sign-in required (401)", "login_google-drive_401.html"),
    # Server errors that are no bot check (those rows come first) are not known yet.
    StatusRule(500, 599, "error", "server error", ""),
)

CONSENT_URLS: tuple[UrlRule, ...] = (
    # Google and YouTube redirect to consent.<site>/…?continue=<the asked URL>: the
    # language-independent mark (the pages themselves are localised).
    UrlRule("consent", "a cookie consent wall", "consent_google-maps_es_200.html",
            host=re.compile(r"^consent\."), query=re.compile(r"(?:^|&)continue=")),
)

LOGIN_URLS: tuple[UrlRule, ...] = (
    # snipplr: 302 to /login/ then 200; meetup: /login/?returnUri=…
    UrlRule("login", "redirected to a sign-in page", "login_snipplr_redirected-200.html",
            path=re.compile(r"(?:^|/)login(?:[/.;]|$)")),
    UrlRule("login", "redirected to a sign-in page", "login_meetup_redirected-200.html",
            query=re.compile(r"(?:^|&)returnuri=")),
    # Shibboleth IdP (St Andrews and KTH pages quoted in SOURCES.md, not copied: no licence).
    UrlRule("login", "redirected to an institutional sign-in (Shibboleth)", "",
            path=re.compile(r"/idp/profile/")),
)

PAYWALL_MARKERS: tuple[BodyMarker, ...] = (
    # ScienceDirect subscription articles: the access bar's button (3 and 5 times), ~100 KB in.
    BodyMarker("paywall", _lit("purchase pdf"), "the publisher sells the PDF (Purchase PDF)",
               "paywall_sciencedirect_purchase-pdf_1.html"),
    # ScienceDirect's entitlement record for the article itself; "openAccess":false
    # alone also sits in the records of recommended articles, so the whole object.
    BodyMarker("paywall", _lit('"access":{"openaccess":false,"openarchive":false}'),
               "the publisher's record says the article is not open access",
               "paywall_sciencedirect_purchase-pdf_2.html"),
    # Springer keeps citation_pdf_url on this page; "Buy article" is what says closed.
    BodyMarker("paywall", _lit("buy article"), "the publisher sells the article (Buy article)",
               "paywall_springer_buy-article_with-citation_pdf_url.html"),
    # An offer to sign in through a library sits beside the purchase buttons above, and
    # alone proves nothing (a free article's page may offer it too): it only confirms.
    BodyMarker("paywall", _lit("access through your institution"),
               "access through an institution only", "paywall_sciencedirect_purchase-pdf_1.html",
               decides=False),
    BodyMarker("paywall", _lit("log in via an institution"), "access through an institution only",
               "paywall_springer_buy-article_with-citation_pdf_url.html", decides=False),
)

LOGIN_MARKERS: tuple[BodyMarker, ...] = (
    # Shibboleth IdP "Loading Session Information" (St Andrews, quoted in SOURCES.md, not copied).
    BodyMarker("login", _lit("shib_idp_ls_"), "an institutional sign-in page (Shibboleth)", ""),
    BodyMarker("login", re.compile(r"<form[^>]{0,300}/idp/profile/"),
               "an institutional sign-in page (Shibboleth)", ""),
    # Google Drive's Spanish sign-in wall (it also comes with 401).
    BodyMarker("login", _lit("debes iniciar sesión para acceder a este contenido"),
               "a sign-in page", "login_google-drive_401.html"),
    # snipplr and meetup: a password field. Article pages may have one in a header
    # sign-in box, so only a page that is not the article's counts.
    BodyMarker("login", re.compile(r"""type\s{0,4}=\s{0,4}["']?password\b"""),
               "a sign-in page (password field)", "login_snipplr_redirected-200.html",
               unless_article=True),
)

CONSENT_MARKERS: tuple[BodyMarker, ...] = (
    # The wall's forms post to consent.google.es/save and consent.youtube.com/s; the
    # mark of a wall served at the content URL itself.
    BodyMarker("consent", re.compile(r"""<form[^>]{0,100}action\s{0,4}=\s{0,4}["']?https://consent\."""),
               "a cookie consent wall", "consent_youtube_es_200.html", unless_article=True),
)

# Searched for in the page's <title> (lower-cased, whitespace collapsed), and only on a
# page served 200 that does not name the article: a 404 is decided by its status.
SOFT_404_TITLES: tuple[BodyMarker, ...] = (
    # spreaker's title (recorded with a real 404; the soft 404 is composed from it).
    BodyMarker("gone", re.compile(r"\b(?:page|file|document|article|item) (?:was )?not found\b"),
               "a \"page not found\" page", "404_spreaker_page-not-found.html"),
    # nginx's "404 Not Found" (hookem) and Google's "Error 404 (No se ha encontrado.)!!1".
    BodyMarker("gone", re.compile(r"\b404\b"), "a \"404\" page", "404_nginx_hookem_after-redirects.html"),
    BodyMarker("gone", re.compile(r"^not found\b"), "a \"not found\" page", ""),
)

# The metadata that says which article a page is (docs/scraping.md's tiers 1-3, lower case).
DOI_META = ("citation_doi", "bepress_citation_doi", "dc.identifier.doi", "prism.doi", "doi",
            "dc.doi", "dc.identifier", "dcterms.identifier")
# A page whose citation title differs (and no DOI of ours) is another article's page.
TITLE_META = ("citation_title", "bepress_citation_title", "dc.title", "dcterms.title")
# Titles that only confirm (a site's home page has an og:title and a <title> too).
TITLE_HINTS = ("og:title", "twitter:title")
PDF_META = ("citation_pdf_url", "bepress_citation_pdf_url", "eprints.document_url")
