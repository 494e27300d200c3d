"""Fake OpenAlex ``/works``: recorded works by DOI, the recorded title search.

``/works/https://doi.org/{doi}``: the recorded work with that DOI; else the recorded
HTML 404 page (``text/html``), as OpenAlex sends it. ``/works?filter=title.search:…``:
the recorded search whose title is asked; else the recorded envelope with no results
(``meta.count`` 0; built from the recording). Every answer carries the daily-allowance
headers recorded in July 2026 for keyless calls (``X-RateLimit-Limit: 1000`` and a
``X-RateLimit-Remaining`` that counts down from 999). Told to (plan ``403``), it refuses
keyless calls with OpenAlex's documented JSON error envelope (not recorded).
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from aiohttp import web

from oahelper.sources.match import fold
from tests.support.fakes.common import FAKE, read, recordings

NAME = "openalex"
NOT_FOUND = "works_doi-url_10.1046_j.1365-2699.2003.00795_404.html"
SEARCH = "works-search_filter-title.search-augmenting-llms-chemistry-tools.json"
SEARCHES = {"Augmenting large language models with chemistry tools": SEARCH}
_DOI_URL = re.compile(r"^https?:/+(?:dx\.)?doi\.org/", re.I)
ALLOWANCE = 1000


@cache
def works() -> dict[str, bytes]:
    folder = recordings(NAME)
    found: dict[str, bytes] = {}
    for path in sorted(folder.glob("works_doi-url_*.json")) if folder else ():
        body = path.read_bytes()
        doi = json.loads(body).get("doi")
        if isinstance(doi, str):
            found.setdefault(_DOI_URL.sub("", doi).casefold(), body)
    return found


def _allowance(request: web.Request) -> dict[str, str]:
    fake = request.app[FAKE]
    used = sum(1 for r in fake.requests if r["service"] == NAME)
    return {"X-RateLimit-Limit": str(ALLOWANCE),
            "X-RateLimit-Remaining": str(max(0, ALLOWANCE - used)),
            "X-RateLimit-Credits-Used": "1", "X-RateLimit-Reset": "64147"}


async def work(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    doi = _DOI_URL.sub("", request.match_info["tail"])
    fake.record_request(request, NAME, doi)
    planned = await fake.misbehaviour(doi, NAME)
    if planned is not None:
        return planned
    body = works().get(doi.casefold())
    if body is None:
        return web.Response(status=404, body=read(NAME, NOT_FOUND) or b"", content_type="text/html",
                            charset="utf-8", headers=_allowance(request))
    return web.Response(body=body, content_type="application/json", headers=_allowance(request))


def empty_search() -> dict[str, Any]:
    body = read(NAME, SEARCH)
    envelope = json.loads(body) if body else {"meta": {}, "group_by": []}
    envelope["meta"] = {**envelope["meta"], "count": 0}
    envelope["results"] = []
    return envelope


async def search(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    fake.record_request(request, NAME, None)
    planned = await fake.misbehaviour(None, NAME)
    if planned is not None:
        return planned
    asked = request.query.get("filter", "").removeprefix("title.search:")
    name = next((f for t, f in SEARCHES.items() if fold(t) == fold(asked)), None)
    if name is None:
        return web.json_response(empty_search(), headers=_allowance(request))
    return web.Response(body=read(NAME, name), content_type="application/json",
                        headers=_allowance(request))


def add_routes(app: web.Application, prefix: str) -> None:
    app.router.add_get(f"{prefix}/works", search)
    app.router.add_get(f"{prefix}/works/{{tail:.+}}", work)
