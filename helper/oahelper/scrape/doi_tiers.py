"""Finding the article's DOI: eight tiers, highest first (docs/scraping.md).

The first tier that has an answer wins, so the body (tier 8, full of reference
DOIs) is never scanned while any tag names a DOI. Each tier is a small function
from the page to a DOI or None; ``DOI_TIERS`` is the ordered table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from oahelper.identifiers import doi_key, normalise_doi
from oahelper.scrape import jsonld
from oahelper.scrape.body import body_dois
from oahelper.scrape.document import MemoKey, Page
from oahelper.scrape.sites import site_doi
from oahelper.scrape.urls import doi_from_url
from oahelper.scrape.vocab import DC_IDENTIFIER_NAMES, DOI_CITATION_NAMES, DOI_QUALIFIED_NAMES


def _distinct(dois: Iterable[str | None]) -> list[str]:
    """DOIs in first-seen order, one per case-folded key."""
    seen: dict[str, str] = {}
    for doi in dois:
        if doi and doi_key(doi) not in seen:
            seen[doi_key(doi)] = doi
    return list(seen.values())


def _page_urls(page: Page) -> list[str]:
    return [u for u in (page.url, page.canonical, page.og_url) if u]


_URL_DOI_KEYS: MemoKey[frozenset[str]] = MemoKey("url_doi_keys")


def _url_doi_keys(page: Page) -> frozenset[str]:
    """The keys of the DOIs the page URL, canonical link and og:url spell out (read
    once per page: a page may tag thousands of DOIs)."""
    return page.remembered(_URL_DOI_KEYS, lambda: frozenset(
        doi_key(doi) for doi in map(doi_from_url, _page_urls(page)) if doi))


def _matches_page(doi: str, page: Page) -> bool:
    """The DOI is spelled out in the page URL, canonical link or og:url."""
    return doi_key(doi) in _url_doi_keys(page)


def _choose(dois: Iterable[str | None], page: Page, *, need_match: bool) -> str | None:
    """One DOI from several candidates: the only one, else the one the page URL
    names, else (for tags the publisher wrote about this page) the first."""
    distinct = _distinct(dois)
    if len(distinct) <= 1:
        return distinct[0] if distinct else None
    matching = [doi for doi in distinct if _matches_page(doi, page)]
    if matching:
        return matching[0]
    return None if need_match else distinct[0]


def citation_tier(page: Page) -> str | None:
    """1. ``citation_doi`` / ``bepress_citation_doi``."""
    values = [v.content for name in DOI_CITATION_NAMES for v in page.meta.values(name)]
    return _choose((normalise_doi(v) for v in values), page, need_match=False)


def qualified_tier(page: Page) -> str | None:
    """2. Tags that say they hold a DOI: ``dc.identifier scheme=doi``, ``prism.doi``,
    ``meta name=doi``, ``<meta id="DOI">``…"""
    values = [v.content for name in DC_IDENTIFIER_NAMES for v in page.meta.values(name)
              if v.scheme == "doi"]
    values += [v.content for name in DOI_QUALIFIED_NAMES for v in page.meta.values(name)]
    return _choose((normalise_doi(v) for v in values), page, need_match=False)


def dc_identifier_tier(page: Page) -> str | None:
    """3. Unqualified ``dc.identifier`` whose value is a DOI (other schemes skipped)."""
    values = [v.content for name in DC_IDENTIFIER_NAMES for v in page.meta.values(name)
              if v.scheme is None]
    return _choose((normalise_doi(v) for v in values), page, need_match=False)


def jsonld_tier(page: Page) -> str | None:
    """4. JSON-LD ``identifier``/``@id``/``sameAs`` of the work itself."""
    return _choose(jsonld.dois(page.jsonld), page, need_match=False)


def url_tier(page: Page) -> str | None:
    """5. A DOI in the page URL, then the canonical link, then og:url."""
    for url in _page_urls(page):
        doi = doi_from_url(url)
        if doi:
            return doi
    return None


_COINS_DOI = re.compile(r"^(?:info:doi/|https?://(?:dx\.)?doi\.org/)", re.IGNORECASE)


def coins_tier(page: Page) -> str | None:
    """6. COinS spans' ``rft_id=info:doi/…``; several different ones must match the URL."""
    found: list[str | None] = []
    for span in page.tree.find_all("span", title=True):
        for key, value in parse_qsl(str(span["title"])):
            if key == "rft_id" and _COINS_DOI.match(value):
                found.append(normalise_doi(value))
    return _choose(found, page, need_match=True)


def site_tier(page: Page) -> str | None:
    """7. Rules for sites that hide the DOI (arXiv, ScienceDirect, IEEE, PubMed)."""
    return site_doi(page)


def body_tier(page: Page) -> str | None:
    """8. Visible body text and doi.org links, only when exactly one DOI remains."""
    distinct = _distinct(body_dois(page.text))
    return distinct[0] if len(distinct) == 1 else None


@dataclass(frozen=True)
class DoiTier:
    """One rule: the name reported as ``Article.doi_tier`` and its function."""

    name: str
    find: Callable[[Page], str | None]


DOI_TIERS: tuple[DoiTier, ...] = (
    DoiTier("citation_doi", citation_tier),
    DoiTier("dc_doi", qualified_tier),
    DoiTier("dc_identifier", dc_identifier_tier),
    DoiTier("json_ld", jsonld_tier),
    DoiTier("url", url_tier),
    DoiTier("coins", coins_tier),
    DoiTier("site_rule", site_tier),
    DoiTier("body_text", body_tier),
)
# Tiers whose DOI the page's own metadata states (not guessed from URL or text).
TAGGED_TIERS = frozenset({"citation_doi", "dc_doi", "dc_identifier", "json_ld", "coins"})


def find_doi(page: Page) -> tuple[str | None, str | None]:
    """The article's DOI and the name of the tier that found it."""
    for tier in DOI_TIERS:
        doi = tier.find(page)
        if doi:
            return doi, tier.name
    return None, None
