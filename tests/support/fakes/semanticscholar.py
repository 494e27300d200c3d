"""Fake Semantic Scholar Graph API: recorded papers by identifier, recorded title matches.

``/graph/v1/paper/{DOI|ARXIV|PMID|PMCID}:{id}``: the recorded paper with that identifier
in ``externalIds`` (the recorded ``paper_DOI_*`` files, and the papers inside the
recorded matches); else the recorded 404 envelope ``{"error": "Paper with id … not
found"}`` naming the id asked. ``/graph/v1/paper/search/match?query=…``: the recorded
match whose title the query is; else the recorded 404 ``{"error":"Title match not
found"}``. No rate-limit headers (none were recorded).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aiohttp import web

from oahelper.sources.match import fold
from tests.support.fakes.common import FAKE, read, recordings

NAME = "semanticscholar"
NO_MATCH = "paper-search-match_abs12032jsdafn_404.json"
MATCHES = {"Augmenting large language models with chemistry tools":
           "paper-search-match_augmenting-llms-chemistry-tools.json",
           "PaperQA: Retrieval-Augmented Generative Agent for Scientific Research":
           "paper-search-match_paperqa.json"}
ID_KINDS = {"DOI": "DOI", "ARXIV": "ArXiv", "PMID": "PubMed", "PMCID": "PubMedCentral"}


@cache
def papers() -> tuple[dict[str, Any], ...]:
    folder = recordings(NAME)
    found: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")) if folder else ():
        body = json.loads(path.read_bytes())
        if "paperId" in body:
            found.append(body)
        found.extend(p for p in body.get("data") or () if isinstance(p, dict))
    return tuple(found)


def find(kind: str, value: str) -> dict[str, Any] | None:
    field = ID_KINDS.get(kind.upper())
    wanted = value.casefold().removeprefix("pmc") if kind.upper() == "PMCID" else value.casefold()
    for paper in papers():
        theirs = str((paper.get("externalIds") or {}).get(field) or "").casefold()
        if field and theirs and theirs == wanted:
            return paper
    return None


async def paper(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    ident = request.match_info["ident"]
    kind, _, value = ident.partition(":")
    fake.record_request(request, NAME, value or None)
    planned = await fake.misbehaviour(value or None, NAME)
    if planned is not None:
        return planned
    found = find(kind, value)
    if found is None:
        return web.json_response({"error": f"Paper with id {ident} not found"}, status=404)
    return web.json_response(found)


async def match(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    fake.record_request(request, NAME, None)
    planned = await fake.misbehaviour(None, NAME)
    if planned is not None:
        return planned
    asked = fold(request.query.get("query", ""))
    name = next((f for t, f in MATCHES.items() if fold(t) == asked), None)
    if name is None:
        return web.Response(status=404, body=read(NAME, NO_MATCH) or b'{"error":"Title match not found"}\n',
                            content_type="application/json")
    return web.Response(body=read(NAME, name), content_type="application/json")


def add_routes(app: web.Application, prefix: str) -> None:
    app.router.add_get(f"{prefix}/graph/v1/paper/search/match", match)
    app.router.add_get(f"{prefix}/graph/v1/paper/{{ident:.+}}", paper)
