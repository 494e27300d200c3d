"""Plain-text rendering of a lookup payload for the command line."""

from __future__ import annotations

from typing import Any

from oahelper.engine.merge import VERSION_WORDS

QUERY_WORDS = {"title": "title", "reference": "reference"}


def _location_line(loc: dict[str, Any]) -> str:
    version = VERSION_WORDS.get(loc.get("version") or "", "version not stated")
    where = loc.get("repository") or loc.get("host_type") or "unknown host"
    licence = loc.get("license") or "no licence stated"
    found_by = ", ".join(loc.get("found_by") or [loc.get("source") or "?"])
    return f"{version} · {where} · {licence} · found by {found_by}"


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
        lines.append(f"FREE ({payload.get('oa_status') or 'free'}): {_location_line(best)}")
        lines.append(f"  {best.get('pdf_url') or best['url']}")
        others = payload["locations"][1:]
        if others:
            lines.append("Other free copies:")
            lines += [f"  - {_location_line(loc)}\n    {loc['url']}" for loc in others]
    elif status == "closed":
        lines.append("NO FREE COPY found.")
    else:
        lines.append(f"UNKNOWN: {badge['tooltip']}")
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
