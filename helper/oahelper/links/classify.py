"""What a copy's link really gives: ``classify(response, article) -> LinkVerdict``.

Pure: the network part (a GET with no cookies, redirects re-checked by the address
policy, the body read as far as the class needs) hands over a ``LinkResponse``; this
module decides by the bytes, not by the status line alone nor the Content-Type.
The questions are asked in the order of ``_STEPS``, the first answer wins; the
marks each question looks for are the tables of ``markers.py``.

For a PDF the network part does two calls: ``classify`` once (a verdict ``pdf``,
identity not checked), then, when ``pdf_body(response)`` gives the bytes, it reads
them under a budget (``pdf.read_first_page_async``) and classifies again with
``pdf=`` that reading. For ``landing`` it opens ``verdict.pdf_url`` one hop further
and combines the two with ``after_pdf_hop``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from urllib.parse import urljoin, urlsplit

from oahelper.identifiers import doi_key
from oahelper.links.markers import (
    CHALLENGE_MARKERS,
    CONSENT_MARKERS,
    CONSENT_URLS,
    HEADER_RULES,
    LOGIN_MARKERS,
    LOGIN_URLS,
    PAYWALL_MARKERS,
    PDF_MAGIC,
    PDF_MAGIC_WITHIN,
    SOFT_404_TITLES,
    STATUS_RULES,
    BodyMarker,
    UrlRule,
)
from oahelper.links.matching import same_title
from oahelper.links.page import PageFacts, decode, looks_like_markup
from oahelper.links.pdf import PDF_IDENTITY_MAX_BYTES, PdfReading, identify
from oahelper.links.verdict import ArticleRef, LinkResponse, LinkVerdict
from oahelper.models import LinkState

_TEXT_TYPES = ("text/", "application/xhtml", "application/xml")


def is_pdf(body: bytes) -> bool:
    """``%PDF-`` within the first 1024 bytes, with no markup before it (an HTML page
    that merely mentions "%PDF-" is no PDF)."""
    at = body.find(PDF_MAGIC, 0, PDF_MAGIC_WITHIN + len(PDF_MAGIC))
    return at >= 0 and b"<" not in body[:at]


def pdf_body(response: LinkResponse, max_bytes: int = PDF_IDENTITY_MAX_BYTES) -> bytes | None:
    """The PDF to read for the identity check: a whole PDF of at most ``max_bytes``."""
    body = response.body
    return body if is_pdf(body) and not response.truncated and len(body) <= max_bytes else None


@dataclass
class _Check:
    """One classification: the response, the article, and what is read from the body
    (decoded and parsed at most once, and only when a question needs it)."""

    response: LinkResponse
    article: ArticleRef
    pdf: PdfReading | None

    def verdict(self, state: LinkState, reason: str, pdf_url: str | None = None) -> LinkVerdict:
        if state != "pdf" and "pdf" in self.response.header("content-type").lower():
            reason += " (sent as application/pdf)"
        return LinkVerdict(state, reason, final_url=self.response.url, pdf_url=pdf_url)

    @cached_property
    def page(self) -> PageFacts | None:
        """The body as a page, when it is markup or text (None for an image, a zip…)."""
        body, content_type = self.response.body, self.response.header("content-type")
        if not body or not (looks_like_markup(body) or content_type.lower().startswith(_TEXT_TYPES)):
            return None
        return PageFacts(decode(body, content_type), self.response.url)

    @cached_property
    def meta_match(self) -> bool:
        """The page's metadata names the article: its DOI, or a title of the article."""
        page, article = self.page, self.article
        if page is None:
            return False
        if article.doi and doi_key(article.doi) in page.dois:
            return True
        return any(same_title(article.title, title) for title in (*page.meta_titles, *page.hint_titles))

    @cached_property
    def claims_other(self) -> bool:
        """The page's metadata says which article it is, and that is not ours."""
        page, article = self.page, self.article
        if page is None or self.meta_match:
            return False
        return bool((page.dois and article.doi) or (page.meta_titles and article.title))

    @cached_property
    def names_article(self) -> bool:
        """The page is the article's: its metadata says so, or (having none that says
        otherwise) it prints the article's DOI."""
        if self.meta_match:
            return True
        doi = self.article.doi
        return bool(self.page and doi and not self.claims_other and doi_key(doi) in self.page.lowered)


def _url_parts(url: str) -> tuple[str, str, str]:
    """Host, path and query, lower-cased ("" for a URL that does not parse)."""
    try:
        parts = urlsplit(url.lower())
    except ValueError:  # "http://[::1" and the like: a Location header is a stranger's text
        return "", "", ""
    return parts.hostname or "", parts.path, parts.query


def _location(response: LinkResponse) -> str:
    """Where a redirect points, absolute ("" when it points nowhere that parses)."""
    try:
        return urljoin(response.url, response.header("location").strip())
    except ValueError:
        return ""


def _url_rule(rules: tuple[UrlRule, ...], url: str) -> UrlRule | None:
    host, path, query = _url_parts(url)
    for rule in rules:
        if all(pattern is None or pattern.search(value) for pattern, value in
               ((rule.host, host), (rule.path, path), (rule.query, query))):
            return rule
    return None


def _marker(table: tuple[BodyMarker, ...], text: str, names_article: bool) -> BodyMarker | None:
    """The first deciding row of ``table`` found in ``text``, or two confirming ones."""
    confirming: list[BodyMarker] = []
    for row in table:
        if row.unless_article and names_article:
            continue
        if row.pattern.search(text, 0, len(text) if row.within is None else row.within):
            if row.decides:
                return row
            confirming.append(row)
    return confirming[0] if len(confirming) >= 2 else None


# --- The questions, in order ------------------------------------------------------

def _unfinished_redirect(check: _Check) -> LinkVerdict | None:
    """The last answer is itself a redirect: the fetch stopped at its limit."""
    response = check.response
    if not 300 <= response.status < 400:
        return None
    target = _location(response) if response.header("location") else ""
    for url in filter(None, (target, response.url)):
        rule = _url_rule(LOGIN_URLS, url) or _url_rule(CONSENT_URLS, url)
        if rule:
            return check.verdict(rule.state, rule.reason)
    seen = {*response.redirects, response.url}
    if target in seen or len(seen) <= len(response.redirects):
        return check.verdict("error", "a redirect loop")
    return check.verdict("error", "more redirects than a link check follows")


def _pdf(check: _Check) -> LinkVerdict | None:
    if not is_pdf(check.response.body):
        return None
    # A reading handed in is the caller's: its own cap (the pdf_max_mb setting) decided.
    if check.response.truncated or (check.pdf is None and len(check.response.body) > PDF_IDENTITY_MAX_BYTES):
        return check.verdict("pdf", "a PDF too big to check which paper it is")
    if check.pdf is None:
        return check.verdict("pdf", "a PDF (which paper it is not checked yet)")
    if check.pdf.problem:
        return check.verdict("pdf", f"a PDF; which paper is unknown: {check.pdf.problem}")
    found = identify(check.pdf.text, check.article.doi, check.article.title)
    return check.verdict("wrong_article" if found.identity == "other" else "pdf", found.reason)


def _header(check: _Check) -> LinkVerdict | None:
    for rule in HEADER_RULES:
        if rule.pattern.search(check.response.header(rule.name)):
            return check.verdict(rule.state, rule.reason)
    return None


def _challenge(check: _Check) -> LinkVerdict | None:
    row = _marker(CHALLENGE_MARKERS, check.page.lowered, False) if check.page else None
    return check.verdict(row.state, row.reason) if row else None


def _status(check: _Check) -> LinkVerdict | None:
    status = check.response.status
    for rule in STATUS_RULES:
        if rule.low <= status <= rule.high:
            reason = rule.reason if rule.low == rule.high else f"{rule.reason} ({status})"
            return check.verdict(rule.state, reason)
    return None


def _final_url(check: _Check) -> LinkVerdict | None:
    rule = _url_rule(CONSENT_URLS, check.response.url) or _url_rule(LOGIN_URLS, check.response.url)
    return check.verdict(rule.state, rule.reason) if rule else None


def _not_a_page(check: _Check) -> LinkVerdict | None:
    if check.page is not None:
        return None
    if not check.response.body:
        return check.verdict("error", f"an empty answer ({check.response.status})")
    content_type = check.response.header("content-type").split(";")[0].strip() or "no content type"
    sent_as = "" if "pdf" in content_type.lower() else f" ({content_type})"  # verdict() says it
    return check.verdict("error", f"neither a PDF nor a web page{sent_as}")


def _other_article(check: _Check) -> LinkVerdict | None:
    if not check.claims_other:
        return None
    return check.verdict("wrong_article", "the page is another article's (its DOI or title differs)")


def _home_page(check: _Check) -> LinkVerdict | None:
    """Redirected from a deep link to the site's home page: the article is not there
    (hookem's article URL did this, then answered 404; answered 200 it is a soft 404)."""
    if check.names_article:
        return None
    asked = check.response.redirects[0] if check.response.redirects else check.response.url
    _, asked_path, _ = _url_parts(asked)
    _, path, query = _url_parts(check.response.url)
    if asked_path.strip("/") and not path.strip("/") and not query:
        return check.verdict("gone", "the link redirects to the site's home page")
    return None


def _walls(check: _Check) -> LinkVerdict | None:
    """Paywall, sign-in and consent marks in the page, read whole (paywall marks sit
    100-190 KB into the recorded ScienceDirect and Springer pages)."""
    assert check.page is not None  # _not_a_page answered otherwise
    for table in (PAYWALL_MARKERS, LOGIN_MARKERS, CONSENT_MARKERS):
        row = _marker(table, check.page.lowered, check.names_article)
        if row:
            return check.verdict(row.state, row.reason)
    return None


def _landing(check: _Check) -> LinkVerdict | None:
    if not check.names_article:
        return None
    pdf_url = check.page.pdf_url if check.page else None
    reason = "the article's page; its PDF link is checked next" if pdf_url else \
        "the article's page (it names no PDF)"
    return check.verdict("landing", reason, pdf_url)


def _refused(check: _Check) -> LinkVerdict | None:
    status = check.response.status
    return check.verdict("error", f"refused ({status}) with no sign of why") if status >= 400 else None


def _soft_404(check: _Check) -> LinkVerdict | None:
    title = check.page.title.lower() if check.page else ""
    row = _marker(SOFT_404_TITLES, title, False) if title else None
    return check.verdict(row.state, row.reason) if row else None


_STEPS: tuple[Callable[[_Check], LinkVerdict | None], ...] = (
    _unfinished_redirect, _pdf, _header, _challenge, _status, _final_url, _not_a_page,
    _other_article, _home_page, _walls, _landing, _refused, _soft_404,
)


def classify(response: LinkResponse, article: ArticleRef, pdf: PdfReading | None = None) -> LinkVerdict:
    """The link's state, by the bytes; ``pdf`` is the first page read from the body
    when it is a PDF (see the module docstring)."""
    check = _Check(response, article, pdf)
    for step in _STEPS:
        verdict = step(check)
        if verdict is not None:
            return verdict
    return check.verdict("error", "a page that names neither the article's DOI nor its title")


def after_pdf_hop(landing: LinkVerdict, hop: LinkVerdict) -> LinkVerdict:
    """A landing page's verdict with what its PDF link gave: the PDF's own verdict when
    it is one (or another paper's), else the landing page stays ``landing``."""
    if hop.state in ("pdf", "wrong_article"):
        return hop
    return replace(landing, reason=f"{landing.reason}; the PDF link gave {hop.state}: {hop.reason}")
