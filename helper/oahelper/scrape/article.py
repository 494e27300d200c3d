"""``scrape(url, html) -> Article``: the one entry point of the scraper."""

from __future__ import annotations

import re
from collections.abc import Callable

from oahelper.errors import ScrapeError
from oahelper.identifiers import arxiv_doi
from oahelper.models import Article
from oahelper.scrape import fields, masthead
from oahelper.scrape.challenge import is_challenge
from oahelper.scrape.decode import page_text
from oahelper.scrape.document import Page
from oahelper.scrape.doi_tiers import TAGGED_TIERS, find_doi
from oahelper.scrape.references import MAX_REFERENCES, tagged_references
from oahelper.scrape.sites import arxiv_id, site_authors
from oahelper.scrape.urls import doi_from_url, ids_from_url
from oahelper.scrape.vocab import REFERENCE_META_NAME, meta_is_read
from oahelper.text import plain

# More tags of one name than any real page has (a bioRxiv page has 262 author
# affiliations; a physics paper can have a few thousand authors: the first ones do).
MAX_TAGS_PER_NAME = 1000
# Tiers where Dublin Core named the DOI: such a page describes a scholarly work.
_DC_TIERS = frozenset({"dc_doi", "dc_identifier"})


def _from_url_only(url: str | None) -> Article:
    """What a bot-challenge page is trusted for: the identifiers in its address."""
    ids = ids_from_url(url)
    doi, tier = doi_from_url(url), "url"
    if not doi and ids.get("arxiv"):
        doi, tier = arxiv_doi(ids["arxiv"]), "site_rule"
    return Article(url=url, doi=doi, doi_tier=tier if doi else None, challenge=True,
                   pmid=ids.get("pmid"), pmcid=ids.get("pmcid"), arxiv=ids.get("arxiv"))


def _from_page(page: Page) -> Article:
    doi, tier = find_doi(page)
    # Without a title tag the page's <title> and its visible heading compete.
    title = fields.first_value(page, "title") or masthead.choose_title(page)
    citation_meta = fields.has_citation_meta(page) or tier in _DC_TIERS
    journal = fields.journal(page)
    highwire = any(name.startswith("citation_") for name in page.meta_names_seen)
    # Pages with only Dublin Core (Atypon and the like) title themselves
    # "Article title | Journal"; trust that only when their own tags named the DOI.
    if journal is None and title and not highwire and tier in TAGGED_TIERS:
        journal = fields.container_from_title_tag(page, title)
    authors = fields.authors(page) or tuple(site_authors(page)) or masthead.read(page).authors
    return Article(
        url=page.url or page.canonical,
        doi=doi,
        pmid=fields.pmid(page),
        pmcid=fields.pmcid(page),
        arxiv=arxiv_id(page),
        isbn=fields.isbns(page),
        # Plain text: publishers put inline markup in meta values (<i>Zea mays</i>,
        # CO<sub>2</sub>, even escaped as &lt;em&gt;); the matcher and the badge want words.
        title=plain(title) or None,
        # The visible masthead fills what no tag gave (pages with no tags at all).
        authors=tuple(name for a in authors if (name := plain(a))),
        journal=plain(journal or masthead.read(page).container) or None,
        year=fields.year(page, scholarly=citation_meta) or masthead.read(page).year,
        publisher=fields.publisher(page),
        pdf_url=fields.pdf_url(page),
        author_email=fields.author_email(page),
        doi_tier=tier,
        citation_meta=citation_meta,
        references=tagged_references(page.meta.contents([REFERENCE_META_NAME])),
    )


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def read_filter() -> Callable[[str], bool]:
    """Which meta tags get parsed: those an extractor reads, each name at most
    MAX_TAGS_PER_NAME times (the first MAX_REFERENCES reference tags): a page cannot
    make us parse a million copies of one tag."""
    left: dict[str, int] = {}

    def wanted(key: str) -> bool:
        if not meta_is_read(key):
            return False
        budget = MAX_REFERENCES if key == REFERENCE_META_NAME else MAX_TAGS_PER_NAME
        left[key] = left.get(key, budget) - 1
        return left[key] >= 0

    return wanted


def _from_text(url: str | None, text: str) -> Article:
    page = Page(url or None, text, wanted=read_filter())
    if is_challenge(page):
        return _from_url_only(url)
    return _from_page(page)


def scrape(url: str | None, html: str | bytes) -> Article:
    """Everything the page at ``url`` says about the article it shows.

    ``html`` may be text or bytes (decoded by ``decode.py``'s rules). Raises only
    :class:`ScrapeError`, for input that cannot be a page at all.
    """
    if url is not None and not isinstance(url, str):
        raise ScrapeError(f"page URL must be text, not {type(url).__name__}")
    text = page_text(html)
    try:
        try:
            return _from_text(url, text)
        except UnicodeEncodeError:
            # A lone surrogate (JavaScript cuts strings by UTF-16 unit, so outerHTML can
            # carry half an emoji) is unencodable for lxml: read it as U+FFFD. Only on
            # failure, since scanning every page first would cost ~17 ms a MB.
            return _from_text(url, _LONE_SURROGATE.sub("\ufffd", text))
    except ScrapeError:
        raise
    except Exception as exc:  # a parser or extractor bug must not take the daemon down
        raise ScrapeError(f"could not read the page: {type(exc).__name__}") from exc
