"""Fake Crossref REST ``/works``: the recorded works by DOI, the recorded searches.

``/works/{doi}``: the recorded work (``works_<doi>.json``), else the recorded 404 —
``Resource not found.`` as ``text/plain`` (2025–26). A field query beside a DOI gets the
recorded 400 validation failure. ``/works?query.bibliographic=…`` (or ``query.title``,
``query``): the recorded search whose title the query contains (the recordings were
made with ``query.title``; SOURCES.md: the answer's shape is the same for every
``query*`` parameter), else the recorded zero-hit answer; ``rows`` over 100 gets the
recorded 400. Every answer carries the rate-limit headers Crossref sent in 2026: the
polite pool (10 per 1 s, 3 at once) when a ``mailto`` is given, else the public pool
(5 per 1 s, 1 at once).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aiohttp import web

from oahelper.sources.match import fold
from tests.support.fakes.common import FAKE, read, recordings

NAME = "crossref"
NOT_FOUND = "works_10.1371_notarealdoi_404.txt"
FIELD_QUERY_WITH_DOI = "works_10.1371_journal.pone.0033693_query.author_400.json"
ROWS_TOO_MANY = "works-search_sample-200_400.json"
ZERO_HITS = "works-search_query.title-abs12032jsdafn_rows-1_0-hits.json"
# The recorded searches, by the title (or words) each was asked with (SOURCES.md).
SEARCHES = {
    "Augmenting large language models with chemistry tools":
        "works-search_query.title-augmenting-llms-chemistry-tools_rows-1.json",
    "PaperQA: Retrieval-Augmented Generative Agent for Scientific Research":
        "works-search_query.title-paperqa_rows-1_WRONG-MATCH.json",
    "Attention is All you Need":
        "works-search_query.title+author-attention-is-all-you-need_rows-1_WRONG-MATCH.json",
    "abs12032jsdafn": ZERO_HITS,
    "ecology": "works-search_query-ecology_rows-2.json",
}
POLITE = {"x-rate-limit-limit": "10", "x-rate-limit-interval": "1s", "x-concurrency-limit": "3",
          "x-api-pool": "polite"}
PUBLIC = {"x-rate-limit-limit": "5", "x-rate-limit-interval": "1s", "x-concurrency-limit": "1",
          "x-api-pool": "public"}


@cache
def works() -> dict[str, bytes]:
    """Recorded work bodies by case-folded DOI."""
    folder = recordings(NAME)
    found: dict[str, bytes] = {}
    for path in sorted(folder.glob("works_10.*.json")) if folder else ():
        body = path.read_bytes()
        message = json.loads(body).get("message")
        if isinstance(message, dict) and isinstance(message.get("DOI"), str):
            found[message["DOI"].casefold()] = body
    return found


def _pool(request: web.Request) -> dict[str, str]:
    polite = "mailto" in request.query or "mailto:" in request.headers.get("User-Agent", "")
    return POLITE if polite else PUBLIC


def _send(request: web.Request, body: bytes | None, status: int = 200,
          content_type: str = "application/json") -> web.Response:
    return web.Response(status=status, body=body or b"", content_type=content_type,
                        headers=_pool(request))


async def work(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    doi = request.match_info["doi"]
    fake.record_request(request, NAME, doi)
    planned = await fake.misbehaviour(doi, NAME)
    if planned is not None:
        return planned
    if any(k.startswith("query") for k in request.query):
        return _send(request, read(NAME, FIELD_QUERY_WITH_DOI), 400)
    body = works().get(doi.casefold())
    if body is None:
        return _send(request, read(NAME, NOT_FOUND), 404, "text/plain")
    return _send(request, body)


def search_file(text: str) -> str:
    """The recording of the search whose words the query contains (zero hits else)."""
    asked = f" {fold(text)} "
    for title, name in SEARCHES.items():
        if f" {fold(title)} " in asked:
            return name
    return ZERO_HITS


async def search(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    text = next((request.query[k] for k in ("query.bibliographic", "query.title", "query")
                 if k in request.query), "")
    fake.record_request(request, NAME, None)
    planned = await fake.misbehaviour(None, NAME)
    if planned is not None:
        return planned
    rows = request.query.get("rows", "20")
    if not rows.isdigit() or int(rows) > 100:
        return _send(request, read(NAME, ROWS_TOO_MANY), 400)
    return _send(request, read(NAME, search_file(text)))


def add_routes(app: web.Application, prefix: str) -> None:
    app.router.add_get(f"{prefix}/works", search)
    app.router.add_get(f"{prefix}/works/{{doi:.+}}", work)


def recorded_search(title: str) -> dict[str, Any] | None:
    """The parsed recording a title search is answered with (for tests)."""
    body = read(NAME, search_file(title))
    return json.loads(body) if body else None
