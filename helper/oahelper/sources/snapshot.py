"""The snapshot source: DOI lookups answered from your copy of the Unpaywall data feed.

A record of the feed is exactly what Unpaywall's API answers, so it is read by the same
``parse_unpaywall``; its copies are reported as found by ``snapshot``, and the answer
carries the snapshot's date (its newest record) so the user knows how fresh it is.
Nothing leaves the machine: this source works offline. It is off until a snapshot has
been imported (``oahelper snapshot import``); DuckDB is loaded only then.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp

from oahelper.errors import SnapshotError
from oahelper.identifiers import doi_key
from oahelper.models import Article, SourceAnswer
from oahelper.snapshot.status import SnapshotStatus, file_stamp
from oahelper.sources.base import SourceHealth
from oahelper.sources.unpaywall import parse_unpaywall

if TYPE_CHECKING:
    from oahelper.snapshot.store import SnapshotReader

NAME = "snapshot"


class Snapshot:
    """The local Unpaywall snapshot (Source protocol)."""

    name = NAME
    needs_network = False

    def __init__(self, path: Path, *, memory_limit: str | None = None, enabled: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.enabled = enabled
        self.memory_limit = memory_limit
        self._clock = clock
        self._reader: SnapshotReader | None = None
        self._last_error: str | None = None

    @property
    def reader(self) -> SnapshotReader:
        if self._reader is None:
            from oahelper.snapshot.store import SnapshotReader  # DuckDB, only once needed

            self._reader = SnapshotReader(self.path, memory_limit=self.memory_limit)
        return self._reader

    def cache_key(self, article: Article) -> str | None:
        # The file's stamp is part of the key: once an import has changed the
        # snapshot, no answer from before it is served from the cache.
        if not article.doi:
            return None
        return f"doi:{doi_key(article.doi)}@{file_stamp(self.path)}"

    def health(self) -> SourceHealth:
        present = self.path.exists()
        return SourceHealth(enabled=self.enabled and present, configured=present,
                            last_error=self._last_error, needs_network=False)

    def status(self) -> SnapshotStatus:
        """The snapshot's figures (a scan: call it in a thread)."""
        if not self.path.exists():
            return SnapshotStatus(path=self.path, present=False)
        return self.reader.status()

    async def lookup(self, article: Article, session: aiohttp.ClientSession,
                     timeout: float) -> SourceAnswer:
        started = self._clock()
        doi = article.doi
        if not doi:
            return SourceAnswer(source=NAME, state="skipped")
        try:
            # In a thread: the first call also imports DuckDB and opens the file.
            record, as_of = await asyncio.to_thread(lambda: self.reader.record(doi))
        except SnapshotError as exc:
            self._last_error = exc.message
            return SourceAnswer(source=NAME, state="error", error=exc.message,
                                error_code=exc.code, ms=self._ms(started))
        self._last_error = None
        if record is None:
            return SourceAnswer(source=NAME, state="not_found", as_of=as_of, ms=self._ms(started))
        oa_status, locations, metadata = parse_unpaywall(record, source=NAME)
        return SourceAnswer(source=NAME, state="ok", oa_status=oa_status, locations=locations,
                            metadata=metadata, as_of=as_of, ms=self._ms(started))

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()

    def _ms(self, started: float) -> int:
        return int((self._clock() - started) * 1000)
