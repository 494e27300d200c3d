"""Fake arXiv API ``/query``: recorded Atom feeds, and their entries found by id.

A request whose ``id_list`` or ``search_query`` was recorded gets that feed verbatim.
Any other well-formed id gets the entries of the recorded feeds with that id (the
search recording holds ten papers, six with a publisher DOI), inside the envelope of
the recorded zero-result feed with ``totalResults`` set — built from recorded parts, as
arXiv drops unknown ids silently (recorded: two ids asked, one entry back). A malformed
id gets the recorded HTTP 400 feed with its error entry; a search nothing was recorded
for gets the zero-result feed. The content type is not recorded; arXiv serves
``application/atom+xml``.
"""

from __future__ import annotations

import re
from functools import cache

from aiohttp import web

from oahelper.identifiers import normalise_arxiv
from tests.support.fakes.common import FAKE, read, recordings

NAME = "arxiv"
ATOM = "application/atom+xml"
EMPTY = "query_id_list-0000.0000_0-results.xml"
BAD_ID = "query_id_list-abc_400.xml"
RECORDED_IDS = {"1605.08386": "query_id_list-1605.08386.xml",
                "astro-ph/0601001": "query_id_list-astro-ph_0601001.xml",
                "0808.05394,1707.08567": "query_id_list-0808.05394_1707.08567_one-missing.xml",
                "0000.0000": EMPTY}
RECORDED_SEARCHES = {"testing": "query_search_query-testing_max_results-10.xml"}
_ENTRY = re.compile(r"  <entry>.*?</entry>\n", re.S)
_ENTRY_ID = re.compile(r"<id>https?://arxiv\.org/abs/([^<]+?)(?:v\d+)?</id>")


@cache
def entries() -> dict[str, str]:
    """Every recorded entry's text, by arXiv id."""
    folder = recordings(NAME)
    found: dict[str, str] = {}
    for path in sorted(folder.glob("query_*.xml")) if folder else ():
        for entry in _ENTRY.findall(path.read_text(encoding="utf-8")):
            match = _ENTRY_ID.search(entry)
            if match:
                found.setdefault(match.group(1).casefold(), entry)
    return found


def feed_of(found: list[str]) -> bytes:
    """The recorded empty feed holding ``found`` entries."""
    empty = (read(NAME, EMPTY) or b"").decode("utf-8")
    head = empty.replace("<opensearch:totalResults>0</", f"<opensearch:totalResults>{len(found)}</")
    return head.replace("</feed>", "".join(found) + "</feed>").encode("utf-8")


def _atom(body: bytes | None, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body or b"", content_type=ATOM)


async def query(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    ids = request.query.get("id_list", "")
    words = request.query.get("search_query", "")
    fake.record_request(request, NAME, ids or None)
    planned = await fake.misbehaviour(ids or None, NAME)
    if planned is not None:
        return planned
    if ids in RECORDED_IDS:
        return _atom(read(NAME, RECORDED_IDS[ids]))
    if ids:
        asked = [i.strip() for i in ids.split(",")]
        if any(normalise_arxiv(i) is None for i in asked):
            return _atom(read(NAME, BAD_ID), 400)
        known = entries()
        return _atom(feed_of([known[i.casefold()] for i in asked if i.casefold() in known]))
    if words in RECORDED_SEARCHES:
        return _atom(read(NAME, RECORDED_SEARCHES[words]))
    return _atom(feed_of([]))


def add_routes(app: web.Application, prefix: str) -> None:
    app.router.add_get(f"{prefix}/query", query)
