"""Rules for sites that keep the article's identity out of the usual tags.

Each rule is a host (matched with its subdomains) and small functions reading
what that site embeds. They run only after the generic tiers found nothing, and
they read only the part of the page they need, found with a regular expression.

- arXiv: ``citation_arxiv_id`` (or the /abs/ URL) → the DataCite DOI 10.48550/arXiv.<id>.
- ScienceDirect: the page state JSON (``<script type="application/json"
  data-iso-key=…>``) holds ``article.doi`` and the author list.
- IEEE Xplore: ``xplGlobal.document.metadata = {…};`` holds ``doi`` and ``authors``.
- PubMed: the identifier list links the DOI (``data-ga-action="DOI"``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from oahelper.scrape.document import Page
from oahelper.scrape.identifiers import arxiv_doi, normalise_arxiv, normalise_doi
from oahelper.scrape.text import clean
from oahelper.scrape.urls import host_of, ids_from_url


def arxiv_id(page: Page) -> str | None:
    """The arXiv id from ``citation_arxiv_id``, else from an arxiv.org URL."""
    meta_id = normalise_arxiv(page.meta.first(("citation_arxiv_id",)) or "")
    return meta_id or ids_from_url(page.url).get("arxiv")


def _arxiv_doi(page: Page) -> str | None:
    ident = arxiv_id(page)
    return arxiv_doi(ident) if ident else None


# --- ScienceDirect ------------------------------------------------------------

_SCIENCEDIRECT_STATE = re.compile(
    r"<script\b[^>]*type=\"application/json\"[^>]*data-iso-key=[^>]*>(.*?)</script\s*>",
    re.IGNORECASE | re.DOTALL,
)


def _embedded_json(page: Page, pattern: re.Pattern[str]) -> dict[str, Any]:
    """The JSON object a site embeds (group 1 of ``pattern``), decoded once per page."""
    if pattern.pattern not in page.memo:
        match = pattern.search(page.text)
        try:
            data = json.loads(match.group(1)) if match else {}
        except ValueError:
            data = {}
        page.memo[pattern.pattern] = data if isinstance(data, dict) else {}
    return page.memo[pattern.pattern]


def _sciencedirect_state(page: Page) -> dict[str, Any]:
    return _embedded_json(page, _SCIENCEDIRECT_STATE)


def _sciencedirect_doi(page: Page) -> str | None:
    article = _sciencedirect_state(page).get("article")
    return normalise_doi(str(article.get("doi") or "")) if isinstance(article, dict) else None


def _element_text(node: Any, name: str) -> str:
    """Text of the first ``{"#name": name, "_": text}`` child in ScienceDirect's tree."""
    for child in node.get("$$", []) if isinstance(node, dict) else []:
        if isinstance(child, dict) and child.get("#name") == name:
            return clean(child.get("_"))
    return ""


def _sciencedirect_authors(page: Page) -> list[str]:
    content = (_sciencedirect_state(page).get("authors") or {}).get("content") or []
    names: list[str] = []
    for group in content:
        for node in group.get("$$", []) if isinstance(group, dict) else []:
            if isinstance(node, dict) and node.get("#name") == "author":
                name = " ".join(p for p in (_element_text(node, "given-name"),
                                            _element_text(node, "surname")) if p)
                if name:
                    names.append(name)
    return names


# --- IEEE Xplore --------------------------------------------------------------

_IEEE_METADATA = re.compile(r"xplGlobal\.document\.metadata\s*=\s*(\{.*?\});\s*(?:\n|</script)",
                            re.DOTALL)


def _ieee_metadata(page: Page) -> dict[str, Any]:
    return _embedded_json(page, _IEEE_METADATA)


def _ieee_doi(page: Page) -> str | None:
    return normalise_doi(str(_ieee_metadata(page).get("doi") or ""))


def _ieee_authors(page: Page) -> list[str]:
    authors = _ieee_metadata(page).get("authors") or []
    return [clean(a.get("name")) for a in authors if isinstance(a, dict) and clean(a.get("name"))]


# --- PubMed ---------------------------------------------------------------------

_PUBMED_DOI_LINK = re.compile(
    r"<a\b[^>]*href=\"https?://doi\.org/([^\"]+)\"[^>]*data-ga-action=\"DOI\"", re.IGNORECASE)


def _pubmed_doi(page: Page) -> str | None:
    match = _PUBMED_DOI_LINK.search(page.text)
    return normalise_doi(match.group(1)) if match else None


# --- The table ------------------------------------------------------------------

@dataclass(frozen=True)
class SiteRule:
    """What one site needs: its host and readers for the fields it hides."""

    host: str
    doi: Callable[[Page], str | None] | None = None
    authors: Callable[[Page], list[str]] | None = None


SITE_RULES: tuple[SiteRule, ...] = (
    SiteRule("sciencedirect.com", doi=_sciencedirect_doi, authors=_sciencedirect_authors),
    SiteRule("ieeexplore.ieee.org", doi=_ieee_doi, authors=_ieee_authors),
    SiteRule("pubmed.ncbi.nlm.nih.gov", doi=_pubmed_doi),
)


def _rules_for(page: Page) -> list[SiteRule]:
    hosts = {host_of(u) for u in (page.url, page.canonical) if u}
    return [rule for rule in SITE_RULES
            if any(h == rule.host or h.endswith("." + rule.host) for h in hosts)]


def site_doi(page: Page) -> str | None:
    """The DOI a site rule finds (arXiv's applies wherever its tag or URL is)."""
    for rule in _rules_for(page):
        doi = rule.doi(page) if rule.doi else None
        if doi:
            return doi
    return _arxiv_doi(page)


def site_authors(page: Page) -> list[str]:
    """The authors a site rule finds, or an empty list."""
    for rule in _rules_for(page):
        authors = rule.authors(page) if rule.authors else []
        if authors:
            return authors
    return []
