"""Pure merge: the sources' answers about one article → the lookup payload.

Ranking and badges follow DESIGN section 3. ``oa_status`` is Unpaywall's own field and
is never recomputed from licences.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from oahelper import API_VERSION
from oahelper.models import Article, Location, SourceAnswer

VERSION_RANK = {"publishedVersion": 0, "acceptedVersion": 1, "submittedVersion": 2}
HOST_RANK = {"publisher": 0, "repository": 1}
VERSION_WORDS = {"publishedVersion": "published version", "acceptedVersion": "accepted manuscript",
                 "submittedVersion": "preprint"}

# What the badge says for each colour; {where} is filled from the best copy.
BADGE_TEXT = {
    "gold": ("Free (gold OA)", "Free to read: published open access{where}"),
    "hybrid": ("Free (hybrid)", "Free to read: open licence in a subscription journal{where}"),
    "bronze": ("Free (bronze)", "Free to read at the publisher, without an open licence{where}"),
    "green": ("Free copy", "A free copy is in a repository{where}"),
    "closed": ("No free copy", "No free legal copy found{why}"),
    "unknown": ("Unknown", "Could not check for a free copy{why}"),
}


def url_key(url: str) -> str:
    """De-duplication key: scheme-less, lower-case host, no trailing slash."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.netloc.lower()}{path}{query}"


def _rank(loc: Location) -> tuple[int, int, int, int, int]:
    return (
        0 if loc.is_best else 1,
        VERSION_RANK.get(loc.version or "", 3),
        HOST_RANK.get(loc.host_type or "", 2),
        0 if loc.pdf_url else 1,
        0 if loc.url.startswith("https://") else 1,
    )


def is_web_url(url: str | None) -> bool:
    return url is not None and urlsplit(url.strip()).scheme.lower() in ("http", "https")


def _web_links_only(loc: Location) -> Location | None:
    """The location with only http(s) links: they become links on the user's page,
    where a ``javascript:`` URL from a misbehaving upstream would run."""
    if not is_web_url(loc.url):
        return None
    return replace(loc, pdf_url=loc.pdf_url if is_web_url(loc.pdf_url) else None,
                   landing_url=loc.landing_url if is_web_url(loc.landing_url) else None)


def rank_locations(locations: Iterable[Location]) -> list[Location]:
    """Web links only, best first; the first of each URL (in rank order) wins."""
    seen: set[str] = set()
    ranked: list[Location] = []
    safe = (checked for loc in locations if (checked := _web_links_only(loc)) is not None)
    for loc in sorted(safe, key=_rank):
        key = url_key(loc.url)
        if key not in seen:
            seen.add(key)
            ranked.append(loc)
    return ranked


def enrich(article: Article, answers: Sequence[SourceAnswer]) -> Article:
    """Fill the article's empty fields from what the sources know about it."""
    for answer in answers:
        if answer.metadata:
            known = {k: v for k, v in answer.metadata.items() if k in Article.__dataclass_fields__}
            for name in ("authors", "isbn"):
                if name in known:
                    known[name] = tuple(known[name] or ())
            article = article.merged_with(Article(**known))
    return article


def decide_status(article: Article, answers: Sequence[SourceAnswer],
                  locations: Sequence[Location], page_problem: str | None = None) -> str:
    if not article.is_article:
        # A page we could not read is not known to be "not an article".
        return "unknown" if page_problem else "not_article"
    if locations:
        return "open"
    if any(a.answered for a in answers):
        return "closed"
    return "unknown"


def _oa_status(answers: Sequence[SourceAnswer]) -> str | None:
    for answer in answers:
        if answer.source == "unpaywall" and answer.answered:
            return answer.oa_status
    return None


def _why_unknown(answers: Sequence[SourceAnswer], page_problem: str | None) -> str:
    if page_problem:
        return f": {page_problem}"
    reasons = [f"{a.source}: {a.error}" for a in answers if a.error]
    if not reasons:
        if any(a.state == "skipped" for a in answers):
            return (": no enabled source can look up an article without a DOI (a PMID or "
                    "PMCID needs an Open Access Button-compatible service: setting oab_url)")
        return ": no source is enabled"
    return ": " + "; ".join(reasons)


def _why_closed(answers: Sequence[SourceAnswer]) -> str:
    if all(a.state == "not_found" for a in answers if a.answered):
        return ": no source knows this identifier (check it for typos)"
    return ""


def make_badge(status: str, oa_status: str | None, best: Location | None,
               answers: Sequence[SourceAnswer], page_problem: str | None = None) -> dict[str, Any]:
    if status == "not_article":
        return {"show": False, "color": "unknown", "text": "", "tooltip": "Not an article page"}
    if status == "open":
        color = oa_status if oa_status in BADGE_TEXT and oa_status != "closed" else "green"
    else:
        color = status
    text, tooltip = BADGE_TEXT[color]
    where = ""
    if best is not None:
        host = best.repository or urlsplit(best.url).netloc
        version = VERSION_WORDS.get(best.version or "", "")
        where = f" ({', '.join(x for x in (version, host, best.license) if x)})"
    why = ""
    if status == "unknown":
        why = _why_unknown(answers, page_problem)
    elif status == "closed":
        why = _why_closed(answers)
    return {"show": True, "color": color, "text": text,
            "tooltip": tooltip.format(where=where, why=why)}


def citation_line(article: Article) -> str:
    authors = ", ".join(article.authors[:3]) + (" et al" if len(article.authors) > 3 else "")
    parts = [authors, f"({article.year})" if article.year else "", article.title or "",
             article.journal or "", f"https://doi.org/{article.doi}" if article.doi else article.url or ""]
    return ". ".join(p for p in parts if p)


def openurl(base: str, article: Article) -> str:
    """An OpenURL 1.0 (KEV) link to the user's library resolver."""
    params: list[tuple[str, str]] = [("ctx_ver", "Z39.88-2004"),
                                     ("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal")]
    ids = [("info:doi/", article.doi), ("info:pmid/", article.pmid)]
    params += [("rft_id", prefix + value) for prefix, value in ids if value]
    fields = [("rft.atitle", article.title), ("rft.jtitle", article.journal),
              ("rft.date", str(article.year) if article.year else None),
              ("rft.au", article.authors[0] if article.authors else None)]
    params += [(k, v) for k, v in fields if v]
    params += [("rft.isbn", isbn) for isbn in article.isbn[:1]]
    sep = "&" if "?" in base else "?"
    return base + sep + urlencode(params)


def make_actions(article: Article, openurl_base: str | None) -> list[dict[str, str]]:
    """What the user can do when no free copy was found."""
    actions: list[dict[str, str]] = []
    if article.author_email:
        subject = f"Request for a copy: {article.title or article.doi or 'your article'}"
        body = ("Dear author,\n\nI could not find a free copy of your article and would be "
                "grateful for one for my research:\n\n" + citation_line(article) + "\n\nThank you.")
        url = f"mailto:{article.author_email}?subject={quote(subject)}&body={quote(body)}"
        actions.append({"kind": "email_author", "url": url,
                        "label": f"Ask the author for a copy ({article.author_email})"})
    if openurl_base:
        actions.append({"kind": "library", "url": openurl(openurl_base, article),
                        "label": "Find it through your library"})
    return actions


def build_payload(article: Article, answers: Sequence[SourceAnswer], *,
                  openurl_base: str | None = None, elapsed_ms: int = 0,
                  page_problem: str | None = None) -> dict[str, Any]:
    """The lookup payload of DESIGN section 3. ``page_problem`` says why the page
    itself could not be read (the daemon fetching it failed)."""
    article = enrich(article, answers)
    locations = rank_locations(loc for a in answers for loc in a.locations) \
        if article.is_article else []
    status = decide_status(article, answers, locations, page_problem)
    oa_status = _oa_status(answers) if status != "not_article" else None
    best = locations[0] if locations else None
    actions = make_actions(article, openurl_base) if status in ("closed", "unknown") else []
    return {
        "api": API_VERSION,
        "status": status,
        "oa_status": oa_status,
        "article": article.to_payload(),
        "best": best.to_json() if best else None,
        "locations": [loc.to_json() for loc in locations],
        "badge": make_badge(status, oa_status, best, answers, page_problem),
        "actions": actions,
        "sources": {a.source: a.to_state_json() for a in answers},
        "cached": bool(answers) and all(a.cached for a in answers if a.answered)
                  and any(a.answered for a in answers),
        "elapsed_ms": elapsed_ms,
    }
