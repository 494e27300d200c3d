"""An Open Access Button-compatible ``/availability`` service.

The public service was shut down on 2025-11-18: ``/availability`` now answers 404
with the body ``404`` and the other endpoints 410 with a plain sentence. So the
adapter is off unless a base URL is configured, and a retired service is reported
as ``retired`` and left alone for a day instead of failing on every page.
Privacy: only identifiers (DOI, PMID, PMCID) are sent, never a page URL or title.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import yarl

from oahelper.errors import OAHelperError, SourceError, SourceRetired
from oahelper.identifiers import doi_key
from oahelper.models import Article, Location, SourceAnswer
from oahelper.sources.base import SourceHealth
from oahelper.sources.http import (
    Clock,
    Reply,
    Shape,
    decode_json,
    elapsed_ms,
    failed_answer,
    get_with_retries,
    listed,
    read_exchange,
    require,
)
from oahelper.sources.politeness import Gate

NAME = "oab"
LABEL = "the Open Access Button service"
RETIRED_BACKOFF = 24 * 3600.0
# The identifiers asked with, in order of preference (the query parameter names).
IDENTIFIERS = ("doi", "pmid", "pmcid")
log = logging.getLogger(__name__)
# No OAB answer was ever recorded (../shared/fixtures has none); the historic answer the
# fake serves (tests/support/fake_upstream.py, ``oab_answer``) is {"data": {…}}, and only
# that object is required: what is in it (``availability``…) is read as optional.
ANSWER = Shape("an availability answer", {"data": dict})


def parse_oab(body: Any) -> tuple[Location, ...]:
    """The free copies in a historic ``/availability`` answer: ``data.availability``
    entries of type "article". ``requests``, ``accepts``, ``meta`` and the 2020+
    top-level ``v2`` object say nothing about free copies and are ignored."""
    data = require(body, ANSWER, LABEL)["data"]
    out: list[Location] = []
    for entry in listed(data.get("availability")):
        if not isinstance(entry, Mapping) or entry.get("type") != "article":
            continue
        url = entry.get("url")
        if isinstance(url, str) and url.strip():
            out.append(Location(url=url.strip(), source=NAME))
    return tuple(out)


def identifier(article: Article) -> tuple[str, str] | None:
    """(query parameter, value) for the best identifier the article has, or None."""
    for name in IDENTIFIERS:
        value = getattr(article, name)
        if value:
            return name, value
    return None


class OpenAccessButton:
    """The OAB-compatible ``/availability`` adapter (Source protocol)."""

    name = NAME
    needs_network = True

    def __init__(self, base_url: str | None, api_key: str | None, *,
                 clock: Clock = time.monotonic, gate: Gate | None = None) -> None:
        self.base_url = (base_url or "").strip().rstrip("/") or None
        self._api_key = api_key or None
        self.gate = gate
        self._clock = clock
        self._retired_until: float | None = None
        self._retired_why: str | None = None
        self._warned = False
        self._last_error: str | None = None

    def cache_key(self, article: Article) -> str | None:
        found = identifier(article)
        if found is None:
            return None
        name, value = found
        return f"doi:{doi_key(value)}" if name == "doi" else f"{name}:{value.casefold()}"

    @property
    def retired(self) -> bool:
        """The service said it was shut down less than a day ago."""
        return self._retired_until is not None and self._clock() < self._retired_until

    def health(self) -> SourceHealth:
        enabled = self.base_url is not None
        problems = []
        if self.retired:
            problems.append(f"{self._retired_why}; remove the OAB base URL "
                            "(OAHELPER_OAB_URL) from your settings")
        return SourceHealth(enabled=enabled, configured=enabled, retired=self.retired,
                            last_error=self._last_error, problems=problems,
                            key=("set" if self._api_key else "not set") if enabled else None)

    async def lookup(self, article: Article, session: aiohttp.ClientSession,
                     timeout: float) -> SourceAnswer:
        started = self._clock()
        if self.base_url is None:
            return SourceAnswer(source=NAME, state="disabled")
        found = identifier(article)
        if found is None:
            return SourceAnswer(source=NAME, state="skipped")
        if self.retired:
            return SourceAnswer(source=NAME, state="retired", error=self._retired_why,
                                error_code=SourceRetired.code)
        url = yarl.URL(f"{self.base_url}/availability").with_query({found[0]: found[1]})
        headers = {"x-apikey": self._api_key} if self._api_key else {}
        exchange = await get_with_retries(session, url, timeout=timeout, headers=headers,
                                          max_retries=0, clock=self._clock, gate=self.gate)
        ms = elapsed_ms(started, self._clock)
        got = read_exchange(exchange, lambda reply: self._read(reply, found), LABEL)
        if isinstance(got, SourceRetired):
            return SourceAnswer(source=NAME, state="retired", error=got.message,
                                error_code=got.code, calls=exchange.calls, ms=ms)
        if isinstance(got, OAHelperError):
            self._last_error = got.message
            return failed_answer(NAME, got, calls=exchange.calls, ms=ms)
        self._retired_until = None
        return dataclasses.replace(got, calls=exchange.calls, ms=ms)

    def _read(self, reply: Reply, asked: tuple[str, str]) -> SourceAnswer:
        """The answer a 200 gives, or the SourceError the status means."""
        if reply.status == 200:
            locations = parse_oab(decode_json(reply.body, LABEL))
            return SourceAnswer(source=NAME, state="ok" if locations else "not_found",
                                locations=locations)
        if reply.status in (404, 410):
            self._retire(reply.status)
            raise SourceRetired(self._retired_why or "")
        if reply.status == 400:
            raise SourceError(f"the Open Access Button service refused the identifier "
                              f"{asked[0]}={asked[1]} (HTTP 400)")
        raise SourceError(f"the Open Access Button service answered HTTP {reply.status}")

    def _retire(self, status: int) -> None:
        """Remember the shutdown for a day; warn once per process, not once per page."""
        self._retired_until = self._clock() + RETIRED_BACKOFF
        self._retired_why = (f"the Open Access Button service at {self.base_url} has been "
                             f"shut down (HTTP {status})")
        self._last_error = self._retired_why
        if not self._warned:
            self._warned = True
            log.warning("%s; not asking it again for a day", self._retired_why)
