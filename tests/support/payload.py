"""What a well-formed /v1/lookup payload is (docs/api.md), as one checker that the
hostile-input, load and benchmark runs share."""

from __future__ import annotations

from typing import Any

from oahelper.models import ARTICLE_PAYLOAD_FIELDS
from oahelper.identifiers import normalise_doi

STATUSES = frozenset({"open", "closed", "not_found", "unknown", "not_article"})
OA_STATUSES = frozenset({"gold", "hybrid", "bronze", "green", "closed", None})
COLORS = frozenset({"gold", "hybrid", "bronze", "green", "closed", "unknown"})
SOURCE_STATES = frozenset({"ok", "not_found", "error", "disabled", "retired", "skipped", "rate_limited",
                           "paused"})
LINK_STATES = frozenset({"pdf", "landing", "challenge", "consent", "login", "paywall", "gone",
                         "wrong_article", "error", "unchecked"})
BROKEN_LINKS = frozenset({"login", "paywall", "gone", "wrong_article"})
VERSIONS = frozenset({"publishedVersion", "acceptedVersion", "submittedVersion", None})
ACTION_KINDS = frozenset({"email_author", "library"})
PAYLOAD_KEYS = frozenset({"api", "status", "oa_status", "article", "best", "locations", "badge",
                          "actions", "sources", "cached", "offline", "elapsed_ms", "references",
                          "pending"})
REFERENCE_KEYS = frozenset({"doi", "pmid", "arxiv", "title", "authors", "year", "journal", "text"})
LOCATION_KEYS = frozenset({"url", "pdf_url", "landing_url", "version", "license", "host_type",
                           "repository", "evidence", "oa_date", "source", "found_by", "link"})
BADGE_KEYS = frozenset({"show", "color", "text", "tooltip"})


def payload_problems(payload: Any) -> list[str]:
    """Everything wrong with one lookup payload (empty when it is well-formed)."""
    if not isinstance(payload, dict) or set(payload) != PAYLOAD_KEYS:
        return [f"payload keys {sorted(payload) if isinstance(payload, dict) else type(payload)}"]
    p = payload
    checks = [
        (p["api"] == 1, "api is not 1"),
        (p["status"] in STATUSES, f"status {p['status']!r}"),
        (p["oa_status"] in OA_STATUSES, f"oa_status {p['oa_status']!r}"),
        (isinstance(p["cached"], bool), "cached is not a bool"),
        (isinstance(p["offline"], bool), "offline is not a bool"),
        (isinstance(p["elapsed_ms"], int) and p["elapsed_ms"] >= 0, "elapsed_ms"),
        (isinstance(p["article"], dict)
         and set(p["article"]) - {"match"} == set(ARTICLE_PAYLOAD_FIELDS), "article keys"),
        (not isinstance(p["article"], dict) or "match" not in p["article"] or _match_ok(p["article"]["match"]),
         "article.match malformed"),
        (isinstance(p["locations"], list) and all(_location_ok(x) for x in p["locations"]),
         "a location is malformed"),
        (p["best"] is None or (_location_ok(p["best"]) and p["locations"][:1] == [p["best"]]),
         "best is not the first location"),
        ((p["status"] == "open") == any(_works(x) for x in p["locations"]),
         "open <=> a location whose link is not broken"),
        (p["best"] is None or _works(p["best"]), "best is a broken link"),
        (isinstance(p["pending"], list) and all(isinstance(x, str) for x in p["pending"]),
         "pending malformed"),
        (isinstance(p["badge"], dict) and set(p["badge"]) == BADGE_KEYS
         and p["badge"].get("color") in COLORS, "badge malformed"),
        (isinstance(p["badge"], dict) and p["badge"].get("show") is (p["status"] != "not_article"),
         "badge.show must be false exactly for not_article"),
        (isinstance(p["actions"], list) and all(
            isinstance(a, dict) and a.get("kind") in ACTION_KINDS and isinstance(a.get("url"), str)
            for a in p["actions"]), "actions malformed"),
        (isinstance(p["sources"], dict) and all(
            isinstance(s, dict) and s.get("state") in SOURCE_STATES for s in p["sources"].values()),
         "sources malformed"),
        (p["status"] != "not_article" or p["sources"] == {}, "not_article asked sources"),
        (isinstance(p["references"], list) and all(
            isinstance(r, dict) and r and set(r) <= REFERENCE_KEYS for r in p["references"]),
         "references malformed"),
    ]
    problems = [what for ok, what in checks if not ok]
    doi = p["article"].get("doi") if isinstance(p["article"], dict) else None
    if doi is not None and normalise_doi(doi) != doi:
        problems.append(f"article.doi {doi!r} is not a normalised DOI")
    return problems


def _location_ok(loc: Any) -> bool:
    return (isinstance(loc, dict) and set(loc) == LOCATION_KEYS and isinstance(loc["url"], str)
            and loc["version"] in VERSIONS and isinstance(loc["found_by"], list)
            and loc["source"] in loc["found_by"] and isinstance(loc["link"], dict)
            and loc["link"].get("state") in LINK_STATES)


def _works(loc: Any) -> bool:
    """A location whose link is not known to be broken."""
    return isinstance(loc, dict) and loc.get("link", {}).get("state") not in BROKEN_LINKS


def _match_ok(match: Any) -> bool:
    return (isinstance(match, dict) and set(match) == {"by", "query", "score"}
            and match["query"] in ("title", "reference")
            and isinstance(match["score"], float) and 0.0 <= match["score"] <= 1.0)
