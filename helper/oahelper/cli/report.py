"""Plain-text rendering of a lookup payload for the command line."""

from __future__ import annotations

from typing import Any

from oahelper.engine.merge import VERSION_WORDS

QUERY_WORDS = {"title": "title", "reference": "reference"}
# What opening a copy's link gave, in the words the popup uses too (docs/api.md).
LINK_WORDS = {
    "pdf": "PDF checked", "landing": "article page checked",
    "challenge": "the site asks your browser to prove it is human: open it",
    "consent": "the site asks your browser about cookies first: open it",
    "login": "link broken: it asks you to sign in", "paywall": "link broken: it leads to a paywall",
    "gone": "link broken: the page is gone", "wrong_article": "link broken: it gives another paper",
    "error": "could not be checked just now", "unchecked": "not checked",
}
BROKEN_LINKS = frozenset({"login", "paywall", "gone", "wrong_article"})


def link_words(link: dict[str, Any] | None) -> str:
    """"PDF checked 2026-12-08", "link broken: the page is gone", …"""
    state = (link or {}).get("state") or "unchecked"
    words = LINK_WORDS.get(state, state)
    when = (link or {}).get("checked_at")
    return f"{words} {when[:10]}" if when and state in ("pdf", "landing") else words


def _location_line(loc: dict[str, Any]) -> str:
    version = VERSION_WORDS.get(loc.get("version") or "", "version not stated")
    where = loc.get("repository") or loc.get("host_type") or "unknown host"
    licence = loc.get("license") or "no licence stated"
    found_by = ", ".join(loc.get("found_by") or [loc.get("source") or "?"])
    return f"{version} · {where} · {licence} · found by {found_by} · {link_words(loc.get('link'))}"


def _match_line(match: dict[str, Any]) -> str:
    """How a search identified the article, e.g. "Found by title (crossref, score 0.97)"."""
    what = QUERY_WORDS.get(match.get("query") or "", "search")
    return f"Found by {what} ({match.get('by')}, score {float(match.get('score') or 0):.2f})"


def render_payload(payload: dict[str, Any]) -> str:
    """What `oahelper lookup` prints without --json."""
    article = payload["article"]
    lines: list[str] = []
    if article.get("title"):
        lines.append(article["title"])
    cite = [article.get("doi") and f"doi:{article['doi']}", article.get("journal"),
            article.get("year") and str(article["year"])]
    if any(cite):
        lines.append(" · ".join(c for c in cite if c))
    if article.get("match"):
        lines.append(_match_line(article["match"]))
    status = payload["status"]
    badge = payload["badge"]
    if status == "not_article":
        lines.append("NOT AN ARTICLE: no DOI, PMID, arXiv id or citation metadata found.")
    elif status == "open":
        best = payload["best"]
        kind = f" ({payload['oa_status']})" if payload.get("oa_status") else ""
        lines.append(f"FREE{kind}: {_location_line(best)}")
        lines.append(f"  {best.get('pdf_url') or best['url']}")
    elif status == "closed":
        lines.append(f"NO FREE COPY: {badge['tooltip']}.")
    elif status == "not_found":
        lines.append(f"NOT FOUND: {badge['tooltip']}.")
    else:
        lines.append(f"UNKNOWN: {badge['tooltip']}")
    others = [loc for loc in payload["locations"] if loc is not payload.get("best")
              and loc != payload.get("best")]
    working = [loc for loc in others if (loc.get("link") or {}).get("state") not in BROKEN_LINKS]
    broken = [loc for loc in others if loc not in working]
    for heading, group in (("Other free copies:", working), ("Reported, but not working:", broken)):
        if group:
            lines.append(heading)
            lines += [f"  - {_location_line(loc)}\n    {loc['url']}" for loc in group]
    if payload.get("pending"):
        lines.append("Still being checked: " + ", ".join(payload["pending"])
                     + " (ask again in a moment for the full answer)")
    for action in payload.get("actions", []):
        lines.append(f"  → {action['label']}: {action['url']}")
    states = []
    for name, info in payload.get("sources", {}).items():
        extra = " cached" if info.get("cached") else ""
        extra += " stale" if info.get("stale") else ""
        extra += f" as of {info['as_of']}" if info.get("as_of") else ""
        state = f"{name} {info['state']}{extra} ({info.get('ms', 0)} ms)"
        if info.get("error"):
            state += f": {info['error']}"
        states.append(state)
    if states:
        lines.append("Sources: " + "; ".join(states))
    return "\n".join(lines)
