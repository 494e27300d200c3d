"""arXiv: an arXiv id → the preprint and the publisher DOI; a title → preprints.

``GET {base}/query?id_list=…`` and ``GET {base}/query?search_query=ti:"…"``, answered in
Atom. Not found is HTTP 200 with no ``<entry>``; a malformed id is HTTP 400 whose body
is still a feed with one error entry. ``<arxiv:doi>`` is the publisher's DOI, there only
when the authors registered one: with it the published version is looked up too.
arXiv's terms allow one request every three seconds on one connection
(``politeness.py``), so arXiv is asked by id only to learn that DOI: the preprint itself
is proved free by its id alone (``free_by_id``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import yarl

from oahelper.errors import SourceBadResponse, SourceError
from oahelper.identifiers import normalise_arxiv, normalise_doi
from oahelper.models import Article, Location, SourceAnswer, WorkQuery
from oahelper.sources.base import SourceHealth
from oahelper.sources.free_by_id import arxiv_id, has_publisher_doi
from oahelper.sources.http import Clock, HttpSource, Reply, decode_xml, hits_answer
from oahelper.sources.match import family_name, fold
from oahelper.sources.politeness import Gate
from oahelper.text import first_year, plain

NAME = "arxiv"
DEFAULT_BASE_URL = "https://export.arxiv.org/api"
SEARCH_RESULTS = 5
NS = {"atom": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom",
      "opensearch": "http://a9.com/-/spec/opensearch/1.1/"}
_ABS_ID = re.compile(r"arxiv\.org/abs/(.+?)(?:v\d+)?$")
FEED = f"{{{NS['atom']}}}feed"
# Characters that would break arXiv's query syntax inside a quoted phrase.
_QUERY_UNSAFE = re.compile(r"[^\w\s-]+")


def _text(node: Any, path: str) -> str | None:
    found = node.find(path, NS)
    return plain(found.text) or None if found is not None and found.text else None


def entries(body: bytes) -> Iterator[Any]:
    """The ``<entry>`` elements of an Atom feed; anything else is a bad response.

    Every feed in ../shared/fixtures/arxiv (all six, the zero-result and the HTTP 400
    ones included) is an Atom ``<feed>`` that says ``<opensearch:totalResults>``, so a
    feed without that count is not arXiv saying it has nothing."""
    feed = decode_xml(body, "arXiv")
    if feed.tag != FEED:
        raise SourceBadResponse("arXiv sent XML that is not an Atom feed")
    if not (_text(feed, "opensearch:totalResults") or "").isdigit():
        raise SourceBadResponse("arXiv sent a feed without opensearch:totalResults")
    return iter(feed.findall("atom:entry", NS))


def error_of(entry: Any) -> str | None:
    """The message of arXiv's error entry (``…/api/errors#…``), else None."""
    ident = _text(entry, "atom:id") or ""
    return (_text(entry, "atom:summary") or "error") if "/api/errors" in ident else None


def parse_entry(entry: Any) -> SourceAnswer | None:
    """One entry as the source's answer about that preprint (None for an error entry).
    Every other recorded entry's ``<id>`` is the preprint's abstract URL
    (``http://arxiv.org/abs/1605.08386v1``); an entry without one is a bad response."""
    if error_of(entry) is not None:
        return None
    said = _text(entry, "atom:id") or ""
    match = _ABS_ID.search(said)
    ident = normalise_arxiv(match.group(1)) if match else None
    if ident is None:
        raise SourceBadResponse(f"arXiv sent an entry whose id is not an arXiv abstract URL: {said[:60]!r}")
    pdf = next((link.get("href") for link in entry.findall("atom:link", NS)
                if link.get("title") == "pdf" and (link.get("href") or "").startswith("http")),
               f"https://arxiv.org/pdf/{ident}")
    pdf = pdf.replace("http://", "https://", 1)
    authors = tuple(name for a in entry.findall("atom:author", NS)
                    if (name := _text(a, "atom:name")))
    doi = normalise_doi(_text(entry, "arxiv:doi") or "")
    metadata: dict[str, Any] = {
        "arxiv": ident, "doi": doi, "title": _text(entry, "atom:title"), "authors": authors,
        "year": first_year(_text(entry, "atom:published") or ""),
    }
    location = Location(url=pdf, source=NAME, pdf_url=pdf,
                        landing_url=f"https://arxiv.org/abs/{ident}", version="submittedVersion",
                        host_type="repository", repository="arXiv", evidence="arXiv preprint")
    return SourceAnswer(source=NAME, state="ok", locations=(location,),
                        metadata={k: v for k, v in metadata.items() if v})


def parse_feed(body: bytes) -> list[SourceAnswer]:
    """Every preprint in a feed; an error entry raises ``SourceError`` with its words."""
    found: list[SourceAnswer] = []
    for entry in entries(body):
        said = error_of(entry)
        if said is not None:
            raise SourceError(f"arXiv refused the request: {said}")
        answer = parse_entry(entry)
        if answer is not None:
            found.append(answer)
    return found


def search_query(query: WorkQuery) -> str:
    """arXiv's query syntax: the title as a phrase, and the first author's family name."""
    title = " ".join(_QUERY_UNSAFE.sub(" ", query.title).split())
    terms = [f'ti:"{title}"']
    family = family_name(query.first_author)
    if family:
        terms.append(f"au:{family.split()[-1]}")
    return " AND ".join(terms)


class ArXiv(HttpSource):
    """The arXiv adapter (Source and SearchSource protocols)."""

    name = NAME
    label = "arXiv"

    def __init__(self, base_url: str | None = None, *, enabled: bool = True,
                 gate: Gate | None = None, clock: Clock = time.monotonic) -> None:
        # No retries: a retry inside arXiv's 3-second spacing would only queue behind it.
        super().__init__(base_url or DEFAULT_BASE_URL, gate=gate, enabled=enabled,
                         max_retries=0, clock=clock)

    def cache_key(self, article: Article) -> str | None:
        """Asked by arXiv id only while the publisher DOI is not known (it is what
        arXiv adds; the preprint PDF needs no call)."""
        ident = arxiv_id(article)
        return f"arxiv:{ident.casefold()}" if ident and not has_publisher_doi(article) else None

    def search_key(self, query: WorkQuery) -> str | None:
        return f"search:{fold(query.title)}|{fold(family_name(query.first_author))}"

    def health(self) -> SourceHealth:
        return SourceHealth(enabled=self.enabled, configured=True, last_error=self._last_error)

    def id_url(self, ident: str) -> yarl.URL:
        return yarl.URL(f"{self.base_url}/query").with_query(id_list=ident, max_results="1")

    def search_url(self, query: WorkQuery) -> yarl.URL:
        return yarl.URL(f"{self.base_url}/query").with_query(
            search_query=search_query(query), max_results=str(SEARCH_RESULTS))

    def _read_feed(self, reply: Reply) -> list[SourceAnswer]:
        if reply.status in (200, 400):  # a 400 is a feed holding one error entry
            return parse_feed(reply.body)
        raise self.unexpected(reply)

    async def lookup(self, article: Article, session: aiohttp.ClientSession,
                     timeout: float) -> SourceAnswer:
        if not self.enabled:
            return SourceAnswer(source=NAME, state="disabled")
        ident = arxiv_id(article)
        if ident is None or self.cache_key(article) is None:
            return SourceAnswer(source=NAME, state="skipped")

        def read(reply: Reply) -> SourceAnswer:
            found = [a for a in self._read_feed(reply) if a.metadata.get("arxiv") == ident]
            return found[0] if found else SourceAnswer(source=NAME, state="not_found")

        return await self.ask(session, self.id_url(ident), timeout, read, headers={
            "Accept": "application/atom+xml"})

    async def search(self, query: WorkQuery, session: aiohttp.ClientSession,
                     timeout: float) -> SourceAnswer:
        if not self.enabled:
            return SourceAnswer(source=NAME, state="disabled")

        def read(reply: Reply) -> SourceAnswer:
            return hits_answer(NAME, self._read_feed(reply))

        return await self.ask(session, self.search_url(query), timeout, read,
                              headers={"Accept": "application/atom+xml"})
