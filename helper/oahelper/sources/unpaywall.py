"""Unpaywall, the main source: ``GET {base}/v2/{doi}?email={email}``.

``parse_unpaywall`` reads a DOI object of any era the project has recordings of
(2020 pretty-printed, 2021–23 compact, the 2025 schema, hand-saved records): only
the fields are relied on, never key order or whitespace. ``Unpaywall`` is the
adapter: it never raises for upstream trouble, it answers with a ``SourceAnswer``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal, get_args
from urllib.parse import quote

import aiohttp
import yarl

from oahelper.errors import (
    OAHelperError,
    SourceConfigProblem,
    SourceError,
    SourceRateLimited,
    SourceThrottled,
)
from oahelper.identifiers import doi_key, is_placeholder_email
from oahelper.models import Article, Location, SourceAnswer, Version
from oahelper.sources.base import SourceHealth
from oahelper.sources.http import (
    Clock,
    Each,
    Reply,
    Shape,
    Sleep,
    decode_json,
    elapsed_ms,
    failed_answer,
    get_with_retries,
    json_or_none,
    one_of,
    read_exchange,
    require,
)
from oahelper.sources.politeness import Gate

NAME = "unpaywall"
DEFAULT_BASE_URL = "https://api.unpaywall.org"
SET_EMAIL = "oahelper config set unpaywall_email you@your-university.edu"
# Characters a DOI keeps raw in the path, as the recorded real request did
# (10.1641/0006-3568(2005)055%5B0851:POTAPF%5D2.0.CO;2); the rest is percent-encoded.
DOI_PATH_SAFE = "/():;"
VERSIONS = frozenset(get_args(Version))
HOST_TYPES: frozenset[Literal["publisher", "repository"]] = frozenset({"publisher", "repository"})
# What every DOI record Unpaywall sent has: all ten in ../shared/fixtures/unpaywall (the
# 2020 unpywall cache, the 2021-23 Penn State cassettes, the hand-saved closed record,
# the 2025 Simple Query Tool objects) carry the DOI, is_oa, oa_status and oa_locations,
# a list (empty when closed: 200_sqt-v2-dois_10.1037_018882.json) whose every entry (all
# 18 recorded) has a url. The rest (licence, version, dates, authors) is optional.
RECORD = Shape("a DOI record", {"doi": str, "is_oa": bool, "oa_status": str,
                                "oa_locations": Each({"url": str})})


def doi_path(doi: str) -> str:
    """The DOI as it goes in the URL path: brackets, ``#``, ``?``, spaces, ``%`` and
    non-ASCII percent-encoded; ``/ ( ) ; :`` raw."""
    return quote(doi, safe=DOI_PATH_SAFE)


def sqt_records(wrapper: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The DOI objects inside a Simple Query Tool answer (``POST /v2/dois``), by DOI;
    entries that report an upstream error instead of a record are left out."""
    results = wrapper.get("results")
    if not isinstance(results, Mapping):
        return {}
    return {doi: obj for doi, obj in results.items()
            if isinstance(obj, dict) and "error" not in obj and "oa_status" in obj}


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _year(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _authors(z_authors: Any) -> tuple[str, ...]:
    """"Given Family" for each z_authors entry (family alone when no given name)."""
    out: list[str] = []
    for person in z_authors if isinstance(z_authors, list) else ():
        if not isinstance(person, Mapping):
            continue
        parts = [_text(person.get("given")), _text(person.get("family"))]
        name = " ".join(p for p in parts if p)
        if name:
            out.append(name)
    return tuple(out)


def _location(raw: Any, source: str = NAME) -> Location | None:
    """One ``oa_locations`` entry; None when it has no URL at all."""
    if not isinstance(raw, Mapping):
        return None
    pdf_url = _text(raw.get("url_for_pdf"))
    url = pdf_url or _text(raw.get("url"))
    if url is None:
        return None
    return Location(
        url=url,
        source=source,
        pdf_url=pdf_url,
        landing_url=_text(raw.get("url_for_landing_page")),
        version=one_of(raw.get("version"), VERSIONS),
        license=_text(raw.get("license")),
        host_type=one_of(raw.get("host_type"), HOST_TYPES),
        repository=_text(raw.get("repository_institution")),
        evidence=_text(raw.get("evidence")),
        oa_date=_text(raw.get("oa_date")),  # absent before ~2021
        is_best=raw.get("is_best") is True,
        found_by=(source,),
    )


def parse_unpaywall(record: Mapping[str, Any], source: str = NAME
                    ) -> tuple[str | None, tuple[Location, ...], dict[str, Any]]:
    """(oa_status as Unpaywall says it, the free locations, Article fields it knows).
    The locations are reported by ``source`` (a copy of the data feed has its own name).

    ``oa_status`` is passed through untouched: real records have bronze with a
    licence and hybrid accepted manuscripts, so it is never recomputed here.
    """
    raw_locations = record.get("oa_locations")
    locations = tuple(loc for raw in (raw_locations if isinstance(raw_locations, list) else ())
                      if (loc := _location(raw, source)) is not None)
    metadata: dict[str, Any] = {
        "doi": _text(record.get("doi")),
        "title": _text(record.get("title")),
        "journal": _text(record.get("journal_name")),
        "year": _year(record.get("year")),
        "publisher": _text(record.get("publisher")),
        "authors": _authors(record.get("z_authors")),
    }
    return (_text(record.get("oa_status")), locations,
            {k: v for k, v in metadata.items() if v})


class Unpaywall:
    """The Unpaywall v2 adapter (Source protocol)."""

    name = NAME
    needs_network = True

    def __init__(self, base_url: str | None, email: str | None, *, max_retries: int = 2,
                 sleep: Sleep = asyncio.sleep, rng: random.Random | None = None,
                 clock: Clock = time.monotonic, enabled: bool = True,
                 gate: Gate | None = None) -> None:
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.enabled = enabled
        self.gate = gate
        self.email = (email or "").strip() or None
        self.max_retries = max_retries
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock = clock
        self._last_error: str | None = None
        self._refused: str | None = None  # Unpaywall's last 422, until a lookup succeeds

    def cache_key(self, article: Article) -> str | None:
        return f"doi:{doi_key(article.doi)}" if article.doi else None

    def request_url(self, doi: str) -> yarl.URL:
        """The exact URL asked; ``encoded=True`` so yarl sends our encoding unchanged."""
        email = quote(self.email or "", safe="")
        return yarl.URL(f"{self.base_url}/v2/{doi_path(doi)}?email={email}", encoded=True)

    def _email_problem(self) -> str | None:
        if not self.email:
            return f"Unpaywall needs your e-mail address and none is set: run `{SET_EMAIL}`"
        if is_placeholder_email(self.email):
            return (f"{self.email!r} is a placeholder, and Unpaywall refuses placeholder "
                    f"addresses: set your own with `{SET_EMAIL}`")
        return None

    def health(self) -> SourceHealth:
        """Configured means an e-mail is set, is no placeholder, and Unpaywall has not
        refused it since the last successful lookup."""
        problems = [p for p in (self._email_problem(), self._refused) if p] if self.enabled else []
        return SourceHealth(enabled=self.enabled, configured=not problems,
                            last_error=self._last_error, problems=problems)

    async def lookup(self, article: Article, session: aiohttp.ClientSession,
                     timeout: float) -> SourceAnswer:
        started = self._clock()
        if not self.enabled:
            return SourceAnswer(source=NAME, state="disabled")
        if not article.doi:
            return SourceAnswer(source=NAME, state="skipped")
        problem = self._email_problem()
        if problem is not None:
            return self._failed(SourceConfigProblem(problem), 0, started)
        exchange = await get_with_retries(
            session, self.request_url(article.doi), timeout=timeout,
            max_retries=self.max_retries, sleep=self._sleep, rng=self._rng,
            clock=self._clock, gate=self.gate)
        got = read_exchange(exchange, self._read, "Unpaywall")
        if isinstance(got, OAHelperError):
            return self._failed(got, exchange.calls, started)
        self._refused = None
        return replace(got, calls=exchange.calls, ms=elapsed_ms(started, self._clock))

    def _failed(self, error: OAHelperError, calls: int, started: float) -> SourceAnswer:
        if not isinstance(error, SourceThrottled):
            self._last_error = error.message
        return failed_answer(NAME, error, calls=calls, ms=elapsed_ms(started, self._clock))

    def _read(self, reply: Reply) -> SourceAnswer:
        """Turn the final reply into an answer, or raise the SourceError it means."""
        if reply.status == 200:
            record = require(decode_json(reply.body, "Unpaywall"), RECORD, "Unpaywall")
            oa_status, locations, metadata = parse_unpaywall(record)
            return SourceAnswer(source=NAME, state="ok", oa_status=oa_status,
                                locations=locations, metadata=metadata)
        if reply.status == 404:
            # A JSON error before 2025, a bare non-JSON page since: the body is not needed.
            return SourceAnswer(source=NAME, state="not_found")
        if reply.status == 422:
            self._refused = self._refusal(reply)
            raise SourceConfigProblem(self._refused)
        if reply.status == 429:
            wait = reply.retry_after
            later = f" (it asks to wait {wait:.0f} s)" if wait is not None else ""
            raise SourceRateLimited(f"Unpaywall is limiting requests (HTTP 429){later}",
                                    retry_after=wait)
        raise SourceError(f"Unpaywall answered HTTP {reply.status}")

    def _refusal(self, reply: Reply) -> str:
        """The config problem a 422 means, quoting Unpaywall's own message when it sent one."""
        said = ""
        body = json_or_none(reply.body)
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            said = f" ({body['message'].strip()})"
        return (f"Unpaywall refused the e-mail address {self.email!r}{said}: "
                f"set your own with `{SET_EMAIL}`")
