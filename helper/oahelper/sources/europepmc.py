"""Europe PMC: PMID, PMCID or DOI → the other identifiers and the free full text.

``GET {base}/search?query=…&format=json&resultType=core``, where the query names one
identifier (``EXT_ID:123 AND SRC:MED``, ``PMCID:PMC123``, ``DOI:"10.…"``). A search
can return other records than the one asked for, so the record is taken only when it
carries that identifier. Availability codes ``OA`` (open access) and ``F`` (free to
read, e.g. an author manuscript) both mean a free copy; the Europe PMC PDF is
preferred. Without ``format=json`` Europe PMC answers XML: that is reported as a bad
answer, never parsed by guesswork.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import yarl

from oahelper.errors import SourceBadResponse
from oahelper.identifiers import doi_key, normalise_doi, normalise_pmcid, normalise_pmid
from oahelper.models import Article, Location, SourceAnswer
from oahelper.sources.base import SourceHealth
from oahelper.sources.http import Clock, Each, HttpSource, Reply, Shape, listed, mapping, one_of, require
from oahelper.sources.politeness import Gate
from oahelper.text import plain

NAME = "europepmc"
LABEL = "Europe PMC"
DEFAULT_BASE_URL = "https://www.ebi.ac.uk/europepmc/webservices/rest"
FREE_CODES = frozenset({"OA", "F"})
# Identifier kinds in the order asked: a PMID or PMCID the user gave stays the key
# after the DOI is learnt, so the answer is not asked for twice.
ASKED_BY = ("pmid", "pmcid", "doi")
# Every search answer in ../shared/fixtures/europepmc (all three: core, idlist, zero
# hits) has resultList.result, a list (empty for no hits) whose every record (25 in
# each of the other two) has an id. Its identifiers, full-text links and the rest are
# optional (the idlist records have no doi, one core record no fullTextUrlList).
SEARCH = Shape("a search answer", {"resultList": {"result": Each({"id": str})}})


def search_query(kind: str, value: str) -> str:
    """Europe PMC's query syntax for one identifier."""
    if kind == "pmid":
        return f"EXT_ID:{value} AND SRC:MED"
    if kind == "pmcid":
        return f"PMCID:{value}"
    return 'DOI:"' + value.replace('"', "") + '"'


def asked_identifier(article: Article) -> tuple[str, str] | None:
    """(kind, value) of the identifier Europe PMC is asked with, or None."""
    for kind in ASKED_BY:
        value = getattr(article, kind)
        if value:
            return kind, value
    return None


def _text(value: Any) -> str | None:
    return plain(value) or None if isinstance(value, str) else None


def _yes(value: Any) -> bool:
    return isinstance(value, str) and value == "Y"


def carries(record: Mapping[str, Any], kind: str, value: str) -> bool:
    """True when the record is the one with that identifier."""
    theirs = record.get(kind)
    if not isinstance(theirs, str):
        return False
    if kind == "doi":
        return doi_key(theirs) == doi_key(value)
    if kind == "pmcid":
        return normalise_pmcid(theirs) == normalise_pmcid(value)
    return normalise_pmid(theirs) == normalise_pmid(value)


def _authors(record: Mapping[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    for person in listed(mapping(record.get("authorList")).get("author")):
        if not isinstance(person, Mapping):
            continue
        first, last = _text(person.get("firstName")), _text(person.get("lastName"))
        name = f"{first} {last}" if first and last else _text(person.get("fullName"))
        if name:
            out.append(name)
    return tuple(out)


def _year(record: Mapping[str, Any]) -> int | None:
    year = record.get("pubYear")
    return int(year) if isinstance(year, str) and year.isdigit() else None


def _licence(value: Any) -> str | None:
    """"cc by-nc-nd" → "cc-by-nc-nd", as Unpaywall writes licences."""
    text = _text(value)
    return text.lower().replace(" ", "-") if text else None


def metadata_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """The Article fields a record gives (identifiers included)."""
    journal = mapping(mapping(record.get("journalInfo")).get("journal")).get("title")
    title = _text(record.get("title"))
    fields: dict[str, Any] = {
        "doi": normalise_doi(_text(record.get("doi")) or ""),
        "pmid": normalise_pmid(_text(record.get("pmid")) or ""),
        "pmcid": normalise_pmcid(_text(record.get("pmcid")) or ""),
        # MEDLINE ends every title with a full stop; the article's title has none.
        "title": title[:-1] if title and title.endswith(".") and not title.endswith("..") else title,
        "journal": _text(journal),
        "year": _year(record),
        "authors": _authors(record),
    }
    return {k: v for k, v in fields.items() if v}


def free_locations(record: Mapping[str, Any]) -> tuple[Location, ...]:
    """The free copies a record lists: Europe PMC's own (HTML and PDF as one copy,
    the PDF preferred) and free copies at other sites (e.g. the publisher's DOI link)."""
    entries = listed(mapping(record.get("fullTextUrlList")).get("fullTextUrl"))
    free = [e for e in entries
            if isinstance(e, Mapping) and one_of(e.get("availabilityCode"), FREE_CODES) is not None
            and isinstance(e.get("url"), str) and e["url"].strip()]
    manuscript = any(_yes(record.get(k)) for k in ("authMan", "epmcAuthMan", "nihAuthMan"))
    licence = _licence(record.get("license"))
    out: list[Location] = []
    own = {_text(e.get("documentStyle")): e["url"].strip() for e in free if e.get("site") == "Europe_PMC"}
    if own:
        pdf, page = own.get("pdf"), own.get("html")
        is_oa = any(e.get("availabilityCode") == "OA" for e in free if e.get("site") == "Europe_PMC")
        out.append(Location(
            url=pdf or page or next(iter(own.values())), source=NAME, pdf_url=pdf,
            landing_url=page, host_type="repository", repository="Europe PMC",
            version="acceptedVersion" if manuscript else ("publishedVersion" if is_oa else None),
            license=licence if is_oa else None,
            evidence="Europe PMC: open access" if is_oa else "Europe PMC: free to read"))
    for entry in free:
        site = entry.get("site")
        if site == "Europe_PMC":
            continue
        at_publisher = site == "DOI"
        out.append(Location(
            url=entry["url"].strip(), source=NAME,
            pdf_url=entry["url"].strip() if entry.get("documentStyle") == "pdf" else None,
            host_type="publisher" if at_publisher else "repository",
            repository=None if at_publisher else _text(site),
            version="publishedVersion" if at_publisher else None,
            evidence=f"Europe PMC: {'open access' if entry.get('availabilityCode') == 'OA' else 'free to read'}"
                     f"{' at the publisher' if at_publisher else ''}"))
    return tuple(out)


def parse_europepmc(body: Any, kind: str, value: str) -> Mapping[str, Any] | None:
    """The record with identifier ``kind``=``value`` in a search answer, or None."""
    results = require(body, SEARCH, LABEL)["resultList"]["result"]
    return next((record for record in results if carries(record, kind, value)), None)


def record_answer(record: Mapping[str, Any]) -> SourceAnswer:
    """The source's answer for one record."""
    return SourceAnswer(source=NAME, state="ok", locations=free_locations(record),
                        metadata=metadata_of(record))


def lookup_answer(body: Any, kind: str, value: str) -> SourceAnswer:
    """The answer for the JSON of a search's 200 that asked for ``kind``=``value``."""
    record = parse_europepmc(body, kind, value)
    return record_answer(record) if record else SourceAnswer(source=NAME, state="not_found")


class EuropePMC(HttpSource):
    """The Europe PMC adapter (Source protocol)."""

    name = NAME
    label = LABEL

    def __init__(self, base_url: str | None = None, *, enabled: bool = True,
                 gate: Gate | None = None, clock: Clock = time.monotonic) -> None:
        super().__init__(base_url or DEFAULT_BASE_URL, gate=gate, enabled=enabled, clock=clock)

    def cache_key(self, article: Article) -> str | None:
        asked = asked_identifier(article)
        if asked is None:
            return None
        kind, value = asked
        return f"doi:{doi_key(value)}" if kind == "doi" else f"{kind}:{value.casefold()}"

    def health(self) -> SourceHealth:
        return SourceHealth(enabled=self.enabled, configured=True, last_error=self._last_error)

    def request_url(self, kind: str, value: str) -> yarl.URL:
        return yarl.URL(f"{self.base_url}/search").with_query(
            query=search_query(kind, value), format="json", resultType="core", pageSize="5")

    async def lookup(self, article: Article, session: aiohttp.ClientSession,
                     timeout: float) -> SourceAnswer:
        asked = asked_identifier(article)
        if not self.enabled:
            return SourceAnswer(source=NAME, state="disabled")
        if asked is None:
            return SourceAnswer(source=NAME, state="skipped")
        kind, value = asked

        def read(reply: Reply) -> SourceAnswer:
            if reply.status != 200:
                raise self.unexpected(reply)
            if reply.body.lstrip()[:1] == b"<" and b"<responseWrapper" in reply.body[:200]:
                raise SourceBadResponse("Europe PMC sent XML instead of JSON "
                                        "(the request lacked format=json)")
            return lookup_answer(self.json_body(reply), kind, value)

        return await self.ask(session, self.request_url(kind, value), timeout, read)
