"""Fake Europe PMC REST ``/search``: the recorded core records, found by identifier.

Europe PMC is a search engine: the identifier queries oahelper sends
(``EXT_ID:123 AND SRC:MED``, ``PMCID:PMC123``, ``DOI:"10.…"``) were not recorded one by
one, so this fake answers them from the 25 records of the recorded core search
(``search_query-cancer_resultType-core.json``), each served as recorded, inside the
recorded envelope (``version``, ``hitCount``, ``request``, ``resultList``; the zero-hit
recording shows the envelope of an empty answer). Without ``format=json`` the real
service answers XML; no XML body was recorded, so the fake sends a minimal
``<responseWrapper>`` (built, not recorded) with ``application/xml`` — enough for the
adapter to show it refuses to guess.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from aiohttp import web

from tests.support.fakes.common import FAKE, read

NAME = "europepmc"
CORE = "search_query-cancer_resultType-core.json"
_QUERIES = (
    (re.compile(r"^EXT_ID:(\d+)\s+AND\s+SRC:MED$", re.I), "pmid"),
    (re.compile(r"^PMCID:(PMC\d+)$", re.I), "pmcid"),
    (re.compile(r'^DOI:"?([^"]+)"?$', re.I), "doi"),
)
XML_ANSWER = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              "<responseWrapper><version>6.9</version><hitCount>0</hitCount>"
              "<resultList/></responseWrapper>")


@cache
def records() -> tuple[dict[str, Any], ...]:
    body = read(NAME, CORE)
    return tuple(json.loads(body)["resultList"]["result"]) if body else ()


def find(query: str) -> tuple[str | None, list[dict[str, Any]]]:
    """(the identifier asked, the records carrying it)."""
    for pattern, kind in _QUERIES:
        match = pattern.match(query.strip())
        if match:
            wanted = match.group(1).casefold()
            return match.group(1), [r for r in records()
                                    if str(r.get(kind) or "").casefold() == wanted]
    return None, []


async def search(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    query = request.query.get("query", "")
    ident, found = find(query)
    fake.record_request(request, NAME, ident)
    planned = await fake.misbehaviour(ident, NAME)
    if planned is not None:
        return planned
    if request.query.get("format") != "json":
        return web.Response(text=XML_ANSWER, content_type="application/xml")
    envelope = {
        "version": "6.9", "hitCount": len(found),
        "request": {"queryString": query, "resultType": request.query.get("resultType", "lite"),
                    "cursorMark": "%2A", "pageSize": int(request.query.get("pageSize", 25)),
                    "sort": "", "synonym": False},
        "resultList": {"result": found},
    }
    return web.json_response(envelope)


def add_routes(app: web.Application, prefix: str) -> None:
    app.router.add_get(f"{prefix}/search", search)
