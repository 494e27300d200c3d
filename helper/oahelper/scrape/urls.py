"""Identifiers carried by URLs: the page address, its canonical link, og:url.

These are the only things a bot-challenge page is trusted for: the address bar
was typed or followed by the user, not written by the interstitial.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from oahelper.identifiers import (
    normalise_arxiv,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
)

_DOI_START = re.compile(r"10\.\d{4,9}/")
# What publishers append to a DOI in their URLs: a view (/full, /abstract, .pdf…),
# a trailing slash, and a version (bioRxiv's "v3"), possibly several of these.
_VIEW_SUFFIX = re.compile(
    r"(?:[/.](?:full|abstract|abs|short|pdf|epdf|pdfdirect|meta|html?|xml|summary|"
    r"references|figures|fulltext|text|document|citation|suppl|supplemental|metrics|"
    r"info|tab-figures-data|article-info)|/)$",
    re.IGNORECASE,
)
_VERSION_SUFFIX = re.compile(r"(?<=\d)v\d{1,3}$")


# The longest view or version suffix: only the end of a path is searched for one.
_LONGEST_SUFFIX = 20
# Real addresses stack two or three ("/v2/full/"); past this many, the rest is kept.
_MAX_SUFFIXES = 8


def _strip_views(path: str) -> str:
    """``path`` without the views and versions it ends with (each searched for only
    near the end, and at most _MAX_SUFFIXES of them: a path of a million "/full"
    costs eight short looks)."""
    end = len(path)
    for _ in range(_MAX_SUFFIXES):
        stripped = end
        for suffix in (_VIEW_SUFFIX, _VERSION_SUFFIX):
            match = suffix.search(path, max(0, stripped - _LONGEST_SUFFIX), stripped)
            if match:
                stripped = match.start()
        if stripped == end:
            break
        end = stripped
    return path[:end]


def doi_from_url(url: str | None) -> str | None:
    """The DOI a URL's path or query names (``/doi/abs/10.1021/x``, ``?id=10.1371/y``)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    path = unquote(parts.path)
    start = _DOI_START.search(path)
    if start:
        doi = normalise_doi(_strip_views(path[start.start():]))
        if doi:
            return doi
    for _, value in parse_qsl(parts.query):
        if _DOI_START.search(value):
            doi = normalise_doi(_strip_views(value))
            if doi:
                return doi
    return None


# (host ends with, path pattern, normaliser, Article field): ids a URL spells out.
_URL_ID_RULES: tuple[tuple[str, re.Pattern[str], Callable[[str], str | None], str], ...] = (
    ("ncbi.nlm.nih.gov", re.compile(r"/articles/(PMC\d+)", re.I), normalise_pmcid, "pmcid"),
    ("europepmc.org", re.compile(r"/(?:article/PMC|abstract/PMC|articles)/(PMC\d+)", re.I),
     normalise_pmcid, "pmcid"),
    ("pubmed.ncbi.nlm.nih.gov", re.compile(r"^/(\d+)"), normalise_pmid, "pmid"),
    ("ncbi.nlm.nih.gov", re.compile(r"^/pubmed/(\d+)"), normalise_pmid, "pmid"),
    ("europepmc.org", re.compile(r"/(?:article|abstract)/MED/(\d+)", re.I), normalise_pmid, "pmid"),
    ("arxiv.org", re.compile(r"^/(?:abs|pdf|html)/(.+?)/?$"), normalise_arxiv, "arxiv"),
)


def ids_from_url(url: str | None) -> dict[str, str]:
    """PMCID, PMID and arXiv ids a URL spells out, by Article field name."""
    if not url:
        return {}
    try:
        parts = urlsplit(url)
    except ValueError:
        return {}
    host = (parts.hostname or "").lower()
    found: dict[str, str] = {}
    for suffix, pattern, normalise, field in _URL_ID_RULES:
        if field in found or not (host == suffix or host.endswith("." + suffix)):
            continue
        match = pattern.search(parts.path)
        value = normalise(match.group(1)) if match else None
        if value:
            found[field] = value
    return found


def host_of(url: str | None) -> str:
    """The URL's lower-case host name ("" when there is none)."""
    try:
        return (urlsplit(url).hostname or "").lower() if url else ""
    except ValueError:
        return ""
