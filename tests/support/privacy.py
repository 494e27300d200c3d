"""What each upstream may be sent, as one checker the privacy tests share.

An upstream request may carry identifiers (DOI, PMID, PMCID, arXiv id) and the
configured e-mail, in the places each service takes them, and nothing else; a title
search (only when there is no identifier) may carry the title, first author and year.
``what_is_wrong`` says why a logged request of the fake upstream carries more.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

DOI = re.compile(r"^10\.\d{4,9}/\S+$")
PMID = re.compile(r"^\d{1,9}$")
PMCID = re.compile(r"^PMC\d{1,9}$")
IDENTIFIER = {"doi": DOI, "pmid": PMID, "pmcid": PMCID}
# Unpaywall: the DOI in the path, the e-mail in the query. OAB-compatible: one
# identifier in the query.
UNPAYWALL_PATH = re.compile(r"^/v2/(?P<doi>.+)$")
OAB_PATHS = {"oab": "/oab/availability", "oab-retired": "/oab-retired/availability"}
# Europe PMC: one identifier in its query syntax, and fixed parameters.
EUROPEPMC_QUERY = {"pmid": re.compile(r"^EXT_ID:(\d{1,9}) AND SRC:MED$"),
                   "pmcid": re.compile(r"^PMCID:(PMC\d{1,9})$"),
                   "doi": re.compile(r'^DOI:"(10\.\d{4,9}/\S+)"$')}
EUROPEPMC_FIXED = {"format": "json", "resultType": "core", "pageSize": "5"}
ARXIV_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})$")
ARXIV_SEARCH = re.compile(r'^ti:"(?P<title>[^"]+)"(?: AND au:(?P<author>\S+))?$')
# What a title search may carry besides the title, first author and year (fixed values).
SEARCH_FIXED_KEYS = {"crossref": {"rows", "select", "mailto"}, "arxiv": {"max_results"},
                     "semanticscholar": {"fields"}, "openalex": {"per-page", "mailto", "api_key"}}
# Where each search source puts the words of a title search.
SEARCH_WORDS = {"crossref": ("query.bibliographic", "query.author"), "arxiv": ("search_query",),
                "semanticscholar": ("query",), "openalex": ("filter",)}
S2_PAPER = re.compile(r"^/semanticscholar/graph/v1/paper/(?P<kind>DOI|ARXIV|PMID|PMCID):(?P<value>.+)$")
OPENALEX_WORK = re.compile(r"^/openalex/works/https:/+doi\.org/(?P<doi>10\..+)$")


def europepmc_identifier(query: dict[str, str]) -> tuple[str, str] | None:
    """(kind, value) of the identifier a Europe PMC query names, or None."""
    for kind, pattern in EUROPEPMC_QUERY.items():
        match = pattern.match(query.get("query", ""))
        if match:
            return kind, match.group(1)
    return None


def search_words(request: dict[str, Any]) -> list[str] | None:
    """The words a title search request sent (title, author, year), or None when the
    request is no title search."""
    service, query = request["service"], request["query"]
    if service == "crossref" and request["path"] == "/crossref/works":
        return [query[k] for k in SEARCH_WORDS["crossref"] if k in query]
    if service == "arxiv" and "search_query" in query:
        return [query["search_query"]]
    if service == "semanticscholar" and request["path"].endswith("/search/match"):
        return [query.get("query", "")]
    if service == "openalex" and request["path"] == "/openalex/works":
        return [query.get("filter", "").removeprefix("title.search:")]
    return None


def identifiers_in(request: dict[str, Any]) -> list[tuple[str, str]]:
    """The identifiers one upstream request names."""
    service, query = request["service"], request["query"]
    if service in ("unpaywall", "crossref"):
        return [("doi", request["doi"])] if request["doi"] else []
    if service == "europepmc":
        found = europepmc_identifier(query)
        return [found] if found else []
    if service == "arxiv":
        return [("arxiv", query["id_list"])] if "id_list" in query else []
    if service == "semanticscholar":
        match = S2_PAPER.match(request["path"])
        kinds = {"DOI": "doi", "ARXIV": "arxiv", "PMID": "pmid", "PMCID": "pmcid"}
        return [(kinds[match["kind"]], match["value"])] if match else []
    if service == "openalex":
        return [("doi", request["doi"])] if request["doi"] else []
    return [(name, value) for name, value in query.items()]


def what_is_wrong(request: dict[str, Any], email: str) -> str | None:
    """Why one logged upstream request carries more than identifiers and the e-mail,
    or None when it carries only those."""
    service, path, query = request["service"], request["path"], request["query"]
    if request["headers"].get("referer") is not None:
        return "it carries a Referer"
    if service == "unpaywall":
        match = UNPAYWALL_PATH.match(path)
        raw_path, _, _ = request["raw_path"].partition("?")
        if not match or not DOI.match(match["doi"]) or unquote(raw_path) != path:
            return "its path is not /v2/<DOI>"
        if query != {"email": email}:
            return "its query is not just the configured e-mail"
        return None
    if service in OAB_PATHS:
        if path != OAB_PATHS[service]:
            return f"its path is not {OAB_PATHS[service]}"
        if len(query) != 1 or not all(k in IDENTIFIER and IDENTIFIER[k].match(v)
                                      for k, v in query.items()):
            return "its query is not one identifier"
        return None
    if service == "europepmc":
        if path != "/europepmc/search":
            return "its path is not Europe PMC's /search"
        rest = {k: v for k, v in query.items() if k != "query"}
        if rest != EUROPEPMC_FIXED or europepmc_identifier(query) is None:
            return "its query is not one identifier in Europe PMC's syntax"
        return None
    if service == "crossref":
        if path.startswith("/crossref/works/"):
            doi = path.removeprefix("/crossref/works/")
            if not DOI.match(doi) or query not in ({}, {"mailto": email}):
                return "it is not /works/<DOI> with the e-mail alone"
            return None
        return _search_is_wrong(request, email)
    if service == "arxiv":
        if path != "/arxiv/query":
            return "its path is not arXiv's /query"
        if "id_list" in query:
            if set(query) != {"id_list", "max_results"} or not ARXIV_ID.match(query["id_list"]):
                return "its query is not one arXiv id"
            return None
        return _search_is_wrong(request, email)
    if service == "semanticscholar":
        if S2_PAPER.match(path):
            return None if set(query) == {"fields"} else "its query is not the fields asked for"
        if path != "/semanticscholar/graph/v1/paper/search/match":
            return "its path is not a paper or a title match"
        return _search_is_wrong(request, email)
    if service == "openalex":
        if path.startswith("/openalex/works/"):
            if not OPENALEX_WORK.match(path) or set(query) - {"mailto", "api_key"} or (
                    query.get("mailto", email) != email):
                return "it is not /works/<doi.org URL> with the e-mail (and key) alone"
            return None
        if not query.get("filter", "").startswith("title.search:"):
            return "its OpenAlex search is not a title search"
        return _search_is_wrong(request, email)
    return f"it went to an unexpected place ({service})"


def _search_is_wrong(request: dict[str, Any], email: str) -> str | None:
    """A title search: only the words and the fixed parameters of that search source."""
    service, query = request["service"], request["query"]
    words = set(SEARCH_WORDS.get(service, ()))
    if not words & set(query) or set(query) - words - SEARCH_FIXED_KEYS.get(service, set()):
        return f"it is no title search {service} takes"
    if query.get("mailto", email) != email:
        return "it carries an e-mail other than the configured one"
    if service == "arxiv" and not ARXIV_SEARCH.match(query["search_query"]):
        return "its arXiv search is not a title (and author) search"
    return None
