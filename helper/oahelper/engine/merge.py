"""Pure merge: the sources' answers about one article → the lookup payload.

Ranking and badges follow docs/api.md ("POST /v1/lookup"). ``oa_status`` is Unpaywall's
own field and is never recomputed from licences. What the payload says is only what is
known: a copy counts as free while its link is not known to be broken (a broken one
stays listed, marked, never the best); "not found" (no source knows the identifier, no
article matches the title) is not "closed"; a source still being asked is ``pending``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from oahelper import API_VERSION
from oahelper.models import LINK_TIER, Article, LinkCheck, Location, SourceAnswer

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
    "not_found": ("Not found", "{why}"),
    "unknown": ("Unknown", "Could not check for a free copy{why}"),
}
# A not-found article gets the grey badge: it says nothing about a paywall.
BADGE_COLOR = {"not_found": "unknown"}


# An http(s) URL urlsplit has nothing to clean up or check in (ASCII, no tab or line
# break, no brackets in the host): its host, path and query, read as urlsplit reads them
# (the fragment first, then the query) without its cost, paid for every address of
# every copy (over a million in a large audit).
_PLAIN_URL = re.compile(r"https?://([^/?#\[\]\t\r\n]*)(/[^?#\t\r\n]*)?(?:\?([^#\t\r\n]*))?"
                        r"(?:#[^\t\r\n]*)?")


def url_key(url: str) -> str:
    """De-duplication key: scheme-less, lower-case host, no trailing slash."""
    url = url.strip()
    plain = _PLAIN_URL.fullmatch(url) if url.isascii() else None
    if plain is not None:
        netloc, path, query = plain.group(1, 2, 3)
    else:
        netloc, path, query = urlsplit(url)[1:4]
    return f"{netloc.lower()}{(path or '').rstrip('/')}{f'?{query}' if query else ''}"


# One copy, several addresses: sources write the same arXiv, PubMed Central, Europe PMC
# or DOI link in different forms (abs or pdf, with or without version, old or new PMC
# host, PMC id in either case, ?pdf=render). Each pattern turns them into one key.
SAME_COPY = (
    (re.compile(r"^(?:export\.|www\.)?arxiv\.org/(?:abs|pdf)/(.+?)(?:v\d+)?(?:\.pdf)?$", re.I), "arxiv:{}"),
    (re.compile(r"^(?:www\.ncbi\.nlm\.nih\.gov/pmc|pmc\.ncbi\.nlm\.nih\.gov)/articles/(pmc\d+)(?:/pdf.*)?$",
                re.I), "pmc:{}"),
    (re.compile(r"^(?:www\.)?europepmc\.org/(?:articles|pmc/articles)/(pmc\d+)(?:\?pdf=render)?$", re.I),
     "europepmc:{}"),
    (re.compile(r"^(?:dx\.)?doi\.org/(10\..+)$", re.I), "doi:{}"),
)


def copy_key(url: str) -> str:
    """The key two addresses of one copy share (``url_key`` when no rule applies)."""
    key = url_key(unquote(url)) if "%2F" in url or "%2f" in url else url_key(url)
    for pattern, form in SAME_COPY:
        match = pattern.match(key)
        if match:
            return form.format(match.group(1).casefold())
    return key


def _copy_keys(loc: Location) -> set[str]:
    # url is often pdf_url itself: each address is keyed once.
    return {copy_key(u) for u in {loc.url, loc.pdf_url, loc.landing_url} if u}


def _rank(loc: Location) -> tuple[int, int, int, int, int, int]:
    return (
        LINK_TIER[loc.link.state],
        0 if loc.is_best else 1,
        VERSION_RANK.get(loc.version or "", 3),
        HOST_RANK.get(loc.host_type or "", 2),
        0 if loc.pdf_url else 1,
        0 if loc.url.startswith("https://") else 1,
    )


def is_web_url(url: str | None) -> bool:
    if url is None:
        return False
    url = url.strip()
    if url.startswith(("https://", "http://")):  # nearly every URL: no parse needed
        return True
    return urlsplit(url).scheme.lower() in ("http", "https")


def _web_links_only(loc: Location) -> Location | None:
    """The location with only http(s) links: they become links on the user's page,
    where a ``javascript:`` URL from a misbehaving upstream would run."""
    if not is_web_url(loc.url):
        return None
    pdf_ok = loc.pdf_url is None or is_web_url(loc.pdf_url)
    landing_ok = loc.landing_url is None or is_web_url(loc.landing_url)
    if pdf_ok and landing_ok:
        return loc
    return replace(loc, pdf_url=loc.pdf_url if pdf_ok else None,
                   landing_url=loc.landing_url if landing_ok else None)


# Fields the shown report of a copy takes from another source's report when it lacks them.
_FILLABLE = ("pdf_url", "landing_url", "version", "license", "host_type", "repository",
             "evidence", "oa_date")


def _combine(group: list[Location], order: dict[str, int]) -> Location:
    """One copy reported by several sources: the best-ranked report, its gaps filled
    from the others, naming every source that reported it."""
    shown = group[0]
    filled = {name: value for name in _FILLABLE if getattr(shown, name) is None
              for value in [next((getattr(o, name) for o in group[1:] if getattr(o, name)), None)]
              if value is not None}
    found_by = tuple(sorted({s for loc in group for s in (loc.found_by or (loc.source,))},
                            key=lambda s: order.get(s, len(order))))
    if not filled and found_by == shown.found_by:
        return shown  # already as shown (a copy one source reported, and said so)
    return _with(shown, found_by=found_by, **filled)


def _with(loc: Location, **changes: Any) -> Location:
    """``dataclasses.replace`` for a Location, without its walk over the fields on every
    call (the merge makes one per copy: half a million for a large audit)."""
    return Location(**(vars(loc) | changes))


def rank_locations(locations: Iterable[Location]) -> list[Location]:
    """Web links only, one per copy, best first. Reports of the same copy (sharing an
    address, see ``copy_key``) become one location whose ``found_by`` names every source
    that reported it, in the order the sources were given."""
    safe = [checked for loc in locations if (checked := _web_links_only(loc)) is not None]
    if len(safe) < 2:  # one copy: nothing to group (most records of the snapshot)
        return [_combine(safe, {safe[0].source: 0})] if safe else []
    order: dict[str, int] = {}
    for loc in safe:
        order.setdefault(loc.source, len(order))
    groups: list[list[Location]] = []
    group_of: dict[str, int] = {}
    for loc in sorted(safe, key=_rank):
        keys = _copy_keys(loc)
        hits = sorted({group_of[k] for k in keys if k in group_of})
        if hits:
            index = hits[0]
            for other in hits[1:]:  # this report links two groups: one copy after all
                groups[index].extend(groups[other])
                groups[other] = []
                group_of.update({k: index for k, g in group_of.items() if g == other})
            groups[index].append(loc)
        else:
            index = len(groups)
            groups.append([loc])
        group_of.update({k: index for k in keys})
    combined = [_combine(sorted(g, key=_rank), order) for g in groups if g]
    return sorted(combined, key=_rank)


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
                  locations: Sequence[Location], page_problem: str | None = None, *,
                  no_match: bool = False) -> str:
    """open, closed, not_found, unknown or not_article (docs/api.md). ``no_match``: the
    search sources answered and none found the typed title or reference."""
    if not article.is_article and not no_match:
        # A page we could not read is not known to be "not an article".
        return "unknown" if page_problem else "not_article"
    if any(not loc.link.broken for loc in locations):
        return "open"
    if locations:  # copies were reported, and every link is broken
        return "closed"
    pending = any(a.pending for a in answers)
    if no_match:
        return "unknown" if pending else "not_found"
    if not article.identifiers:
        return "unknown"
    # A source that knows the article and has no free copy settles it. "Not found"
    # from every source that answered settles it only when none failed: Europe PMC
    # not knowing a DOI says little while Unpaywall could not be asked. A source our
    # politeness limit kept waiting did not fail, but its answer is still to come.
    if any(a.state == "ok" for a in answers):
        return "closed"
    if any(a.answered for a in answers) and not any(_failed(a) for a in answers) and not pending:
        return "not_found"
    return "unknown"


def _failed(answer: SourceAnswer) -> bool:
    """The source was asked and could not answer, or is paused after failing."""
    return answer.state in ("error", "paused")


# Who may say ``oa_status`` (Unpaywall's own field), most current first: the live API,
# then the local copy of its data feed.
OA_STATUS_FROM = ("unpaywall", "snapshot")


def _oa_status(answers: Sequence[SourceAnswer]) -> str | None:
    by_source = {a.source: a for a in answers if a.state == "ok"}
    return next((by_source[name].oa_status for name in OA_STATUS_FROM if name in by_source), None)


def _why_unknown(answers: Sequence[SourceAnswer], page_problem: str | None) -> str:
    if page_problem:
        return f": {page_problem}"
    reasons = [f"{a.source}: {a.error}" for a in answers if a.error]
    if not reasons:
        if any(a.state == "skipped" for a in answers):
            return (": the page names no identifier (DOI, PMID, PMCID, arXiv id) and no "
                    "title to search for")
        return ": no source is enabled"
    return ": " + "; ".join(reasons)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _why_closed(locations: Sequence[Location]) -> str:
    if locations:  # reported, but none of their links works
        reported = _plural(len(locations), "free copy was", "free copies were")
        links = "its link doesn't" if len(locations) == 1 else "their links don't"
        return f": {reported} reported, but {links} work"
    return ""


ID_WORDS = {"doi": "DOI", "pmid": "PMID", "pmcid": "PMCID", "arxiv": "arXiv id", "isbn": "ISBN"}


def no_source_knows(article: Article, typed: bool) -> str:
    """"No source knows DOI 10.…: check it for typos" (or, for an identifier read off
    a publisher's page: it may be too new to be indexed yet)."""
    kind, value = next(iter(article.identifiers.items()), ("identifier", ""))
    said = f"No source knows {ID_WORDS.get(kind, kind)} {value}"
    return said + (": check it for typos" if typed else ": it may be too new to be indexed yet")


def _why_not_found(article: Article, no_match: str | None, typed: bool) -> str:
    """Who does not know the identifier, or the search's own words for a title."""
    if no_match:
        return no_match[0].upper() + no_match[1:]
    return no_source_knows(article, typed)


def make_badge(status: str, oa_status: str | None, best: Location | None,
               answers: Sequence[SourceAnswer], page_problem: str | None = None, *,
               locations: Sequence[Location] = (), article: Article | None = None,
               typed: bool = False, no_match: bool = False) -> dict[str, Any]:
    if status == "not_article":
        return {"show": False, "color": "unknown", "text": "", "tooltip": "Not an article page"}
    if status == "open":
        color = oa_status if oa_status in BADGE_TEXT and oa_status not in ("closed", "not_found") \
            else "green"
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
        why = _why_closed(locations)
    elif status == "not_found":
        why = _why_not_found(article or Article(), page_problem, typed)
    still = [a.error for a in answers if a.pending and a.error]
    if status == "unknown" and no_match and still:
        why = ": still searching"
    if still:  # a source's answer is still to come: the badge says so, and is asked again
        tooltip += " (" + "; ".join(still) + ")"
    return {"show": True, "color": BADGE_COLOR.get(color, color), "text": text,
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
                  page_problem: str | None = None,
                  match: dict[str, Any] | None = None, no_match: bool = False,
                  typed: bool = False, links: Mapping[str, LinkCheck] | None = None,
                  pending: Sequence[str] = ()) -> dict[str, Any]:
    """The lookup payload of docs/api.md. ``page_problem`` says why the page or
    the typed text could not be read or identified (the daemon could not fetch the
    page; no article matches the title: then ``no_match``). ``match`` says how a search
    identified it; ``typed``: the user typed the identifier (a typo is likely).
    ``links``: what each copy's link gave, by URL; ``pending``: work still going on
    besides the sources' own (``"links"``)."""
    article = enrich(article, answers)
    reported = (loc for a in answers for loc in a.locations)
    if links:
        reported = (_with(loc, link=links[loc.url]) if loc.url in links else loc for loc in reported)
    locations = rank_locations(reported) if article.is_article else []
    status = decide_status(article, answers, locations, page_problem, no_match=no_match)
    oa_status = _oa_status(answers) if status != "not_article" else None
    best = locations[0] if locations and not locations[0].link.broken else None
    actions = make_actions(article, openurl_base) if status in ("closed", "unknown") else []
    article_json = article.to_payload()
    if match is not None:
        article_json["match"] = match
    still = sorted({a.source for a in answers if a.pending} | set(pending))
    return {
        "api": API_VERSION,
        "status": status,
        "oa_status": oa_status,
        "article": article_json,
        "best": best.to_json() if best else None,
        "locations": [loc.to_json() for loc in locations],
        "badge": make_badge(status, oa_status, best, answers, page_problem, locations=locations,
                            article=article, typed=typed, no_match=no_match),
        "actions": actions,
        "sources": {a.source: a.to_state_json() for a in answers},
        "pending": still,
        "cached": bool(answers) and all(a.cached for a in answers if a.answered)
                  and any(a.answered for a in answers),
        "elapsed_ms": elapsed_ms,
    }
