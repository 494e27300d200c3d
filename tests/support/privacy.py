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


def europepmc_identifier(query: dict[str, str]) -> tuple[str, str] | None:
    """(kind, value) of the identifier a Europe PMC query names, or None."""
    for kind, pattern in EUROPEPMC_QUERY.items():
        match = pattern.match(query.get("query", ""))
        if match:
            return kind, match.group(1)
    return None


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
    return f"it went to an unexpected place ({service})"
