"""The audit in bulk: a reading list's DOIs answered from the snapshot by one join.

``SnapshotPrepass`` is the audit runner's pre-pass. For each chunk of entries (up to
``CHUNK``, so a list of that size is one query) it loads the chunk's DOIs as a table,
joins it with the snapshot's records in one query, and hands back, per DOI, the
function that makes an entry's report row. The rows are what the per-item lookup would
have written from the snapshot's answer — the same ``parse_unpaywall`` and
``rank_locations`` make them, without the rest of a lookup (cache, single flight,
payload), and tests/test_snapshot_bulk.py checks the two agree record by record.

Entries it does not answer go through the per-item lookups (the network sources, unless
offline): DOIs the snapshot lacks, and entries that also have an arXiv id or PMCID (the
identifier rules add a copy of their own). Offline, a DOI the snapshot
lacks is answered too: no other source would be asked.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from oahelper.audit.entries import Entry
from oahelper.audit.rows import CC_BY_OR_CC0, Row, row_from_fields
from oahelper.engine.merge import no_source_knows, rank_locations
from oahelper.errors import SnapshotError
from oahelper.models import Article
from oahelper.snapshot.store import SnapshotReader
from oahelper.sources.unpaywall import parse_unpaywall

log = logging.getLogger(__name__)

CHUNK = 200_000
NAME = "snapshot"

QUERY = """
WITH asked AS (SELECT DISTINCT unnest($dois) AS doi)
SELECT a.doi, r.oa_status, r.title, r.year, r.journal_name, r.oa_locations
FROM asked a JOIN records r ON r.key = lower(a.doi)
"""


def _snapshot_row(hit: tuple[Any, ...], sources: str, entry: Entry) -> Row | None:
    """The entry's row from its record (None: look it up after all): the record read by
    ``parse_unpaywall`` and its copies ranked by ``rank_locations``, as a lookup would."""
    if entry.pmcid or entry.arxiv:
        return None  # the identifier rules add a copy of their own: look it up
    _, oa_status, title, year, journal, raw_locations = hit
    oa_status, locations, meta = parse_unpaywall(
        {"oa_status": oa_status, "title": title, "year": year, "journal_name": journal,
         "oa_locations": json.loads(raw_locations) if raw_locations else []}, source=NAME)
    ranked = rank_locations(locations) if locations else []
    best = ranked[0] if ranked else None
    return row_from_fields(
        entry, status="open" if ranked else "closed", oa_status=oa_status,
        title=meta.get("title"), year=meta.get("year"), journal=meta.get("journal"),
        best_url=best.url if best else None, link=best.link.state if best else None,
        version=best.version if best else None,
        license=best.license if best else None, host_type=best.host_type if best else None,
        free_copies=len(ranked),
        cc_by_or_cc0=any((loc.license or "").lower() in CC_BY_OR_CC0 for loc in ranked),
        sources=sources)


def _absent_row(sources: str, entry: Entry) -> Row | None:
    """Offline, a DOI the snapshot lacks: no source knows it (as the lookup would say)."""
    if entry.pmcid or entry.arxiv:
        return None
    return row_from_fields(entry, status="not_found", free_copies=0, sources=sources,
                           problem=no_source_knows(Article(doi=entry.doi), typed=True))


class BulkAnswers(Mapping[str, Callable[[Entry], "Row | None"]]):
    """A chunk's answers by lookup key. Each row is made when its entry asks, so a
    chunk of 200,000 holds 200,000 small tuples, not as many functions (allocating
    those costs more in garbage-collector passes than making the rows)."""

    def __init__(self, hits: dict[str, tuple[Any, ...]], absent: set[str], sources: str) -> None:
        self._hits = hits
        self._absent = absent - hits.keys()
        self._sources = sources

    def __getitem__(self, key: str) -> Callable[[Entry], Row | None]:
        hit = self._hits.get(key)
        if hit is not None:
            return partial(_snapshot_row, hit, self._sources)
        if key in self._absent:
            return partial(_absent_row, self._sources)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        yield from self._hits
        yield from self._absent

    def __len__(self) -> int:
        return len(self._hits) + len(self._absent)


class SnapshotPrepass:
    """The audit runner's pre-pass over the snapshot (see the module docstring)."""

    def __init__(self, reader: SnapshotReader, *, offline: bool) -> None:
        self.reader = reader
        self.offline = offline
        self.answered = 0          # entries answered from a record of the snapshot
        self.as_of: str | None = None

    def join(self, dois: list[str]) -> tuple[list[tuple[Any, ...]], str | None]:
        """The snapshot's columns for every DOI of ``dois`` it holds (one query)."""
        return self.reader.query(QUERY, {"dois": dois})

    async def __call__(self, chunk: Sequence[Entry]) -> Mapping[str, Callable[[Entry], Row | None]]:
        dois = sorted({entry.doi for entry in chunk if entry.doi and entry.identified_by == "doi"})
        if not dois:
            return {}
        try:
            rows, as_of = await asyncio.to_thread(self.join, dois)
        except SnapshotError as exc:
            log.warning("the snapshot could not answer in bulk: %s", exc.message)
            return {}  # the per-item lookups report the snapshot's problem too
        self.as_of = as_of
        hits = {f"doi:{row[0].casefold()}": row for row in rows}
        absent = {f"doi:{doi.casefold()}" for doi in dois} - hits.keys() if self.offline else set()
        self.answered += sum(1 for e in chunk if e.doi and not (e.pmcid or e.arxiv)
                             and e.lookup_key in hits)
        return BulkAnswers(hits, absent, f"{NAME} ({as_of})" if as_of else NAME)
