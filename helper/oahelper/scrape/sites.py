"""Rules for sites that keep the article's identity out of the usual tags.

Each rule is a host (matched with its subdomains) and small functions reading
what that site embeds. They run only after the generic tiers found nothing, and
they read only the part of the page they need, in one forward pass.

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

from oahelper.identifiers import arxiv_doi, normalise_arxiv, normalise_doi
from oahelper.scrape.document import CLOSERS, MemoKey, NextMatch, Page, element_content, tag_spans
from oahelper.scrape.urls import host_of, ids_from_url
from oahelper.text import clean

_DECODER = json.JSONDecoder()


def arxiv_id(page: Page) -> str | None:
    """The arXiv id from ``citation_arxiv_id``, else from an arxiv.org URL."""
    meta_id = normalise_arxiv(page.meta.first(("citation_arxiv_id",)) or "")
    return meta_id or ids_from_url(page.url).get("arxiv")


def _arxiv_doi(page: Page) -> str | None:
    ident = arxiv_id(page)
    return arxiv_doi(ident) if ident else None


# --- ScienceDirect ------------------------------------------------------------

_SCRIPT_OPENER = re.compile(r"<script\b", re.IGNORECASE)
_JSON_TYPE = re.compile(r"""type\s*=\s*["']?application/json\b""", re.IGNORECASE)
_SCIENCEDIRECT_STATE: MemoKey[dict[str, Any]] = MemoKey("sciencedirect")


def _sciencedirect_state(page: Page) -> dict[str, Any]:
    """The page state: the first ``<script type="application/json" data-iso-key=…>``."""
    def read_once() -> dict[str, Any]:
        closers = NextMatch(CLOSERS["script"], page.text)
        for start, stop in tag_spans(page.text, _SCRIPT_OPENER):
            tag = page.text[start:stop]
            if "data-iso-key" in tag.lower() and _JSON_TYPE.search(tag):
                content = element_content(page.text, stop, closers)
                return _json_object(content[0] if content else "")
        return {}

    return page.remembered(_SCIENCEDIRECT_STATE, read_once)


def _json_object(text: str, start: int = 0) -> dict[str, Any]:
    """The JSON object at ``start`` in ``text`` (what follows it is ignored), or {}."""
    try:
        data, _ = _DECODER.raw_decode(text, start)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


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

_IEEE_METADATA = re.compile(r"xplGlobal\.document\.metadata\s*+=\s*+(?=\{)")
_IEEE_METADATA_KEY: MemoKey[dict[str, Any]] = MemoKey("ieee")


def _ieee_metadata(page: Page) -> dict[str, Any]:
    """The object assigned to ``xplGlobal.document.metadata`` (the first assignment)."""
    def read_once() -> dict[str, Any]:
        found = _IEEE_METADATA.search(page.text)
        return _json_object(page.text, found.end()) if found else {}

    return page.remembered(_IEEE_METADATA_KEY, read_once)


def _ieee_doi(page: Page) -> str | None:
    return normalise_doi(str(_ieee_metadata(page).get("doi") or ""))


def _ieee_authors(page: Page) -> list[str]:
    authors = _ieee_metadata(page).get("authors") or []
    return [clean(a.get("name")) for a in authors if isinstance(a, dict) and clean(a.get("name"))]


# --- PubMed ---------------------------------------------------------------------

_LINK_OPENER = re.compile(r"<a\b", re.IGNORECASE)
_DOI_HREF = re.compile(r'href\s*=\s*"https?://doi\.org/([^"]+)"', re.IGNORECASE)


def _pubmed_doi(page: Page) -> str | None:
    """The DOI of the link marked ``data-ga-action="DOI"``."""
    for start, stop in tag_spans(page.text, _LINK_OPENER):
        tag = page.text[start:stop]
        if 'data-ga-action="DOI"' in tag:
            href = _DOI_HREF.search(tag)
            return normalise_doi(href.group(1)) if href else None
    return None


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
