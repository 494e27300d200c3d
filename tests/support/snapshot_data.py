"""Unpaywall data-feed files made from the recorded real records, for tests and the benchmark.

No real snapshot fits here, so ``scripts/make-snapshot N`` writes N records in the
snapshot's format (one v2 DOI object per line, ``.jsonl`` or ``.jsonl.gz``) by varying
the real records recorded in ``../shared/fixtures/unpaywall`` and the project's own
``tests/fixtures/unpaywall``. Each generated record is a copy of one recorded record —
same keys, key order, nesting and era — with its values varied:

- the DOI: the recorded DOI of another template with its last digit run replaced by the
  record's number (unique per file, real registrant prefixes and odd characters kept);
- the year and dates: publication date, location ``updated``/``oa_date``, record ``updated``;
- the locations: URLs and ids (digit runs redrawn, the DOI swapped), some secondary
  locations dropped, licences drawn from those recorded for the same kind of copy;
- title and authors: words and names drawn from all recorded titles and ``z_authors``.

``oa_status``, ``is_oa``, ``best_oa_location`` and every other field stay consistent
with the template, so each line is a record Unpaywall could have sent. The statuses
follow ``STATUS_MIX`` (about half closed, as for recent years of Crossref DOIs); without
../shared only gold, green and closed templates exist and the mix is renormalised.

Record ``i``'s DOI, year and template of DOI depend only on ``i``; its content depends on
``(seed, i)``. So a *change file* is the same command with another seed and
``--updated-after``: records ``start…start+N-1`` come out with the DOIs of the base file
where the ranges overlap (now changed, and newer), and new DOIs past its end.

    scripts/make-snapshot 200000 -o snap.jsonl.gz
    scripts/make-snapshot 1000 --start 199500 --seed 2 --updated-after 2025-07-01 -o changes.jsonl
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import gzip
import json
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tests.support.shared import OWN_FIXTURES, shared_fixtures

# Share of each oa_status among generated records: a made-up mix near the one published
# for recent years of Crossref DOIs (Piwowar et al., "The state of OA", PeerJ 2018).
STATUS_MIX = {"closed": 0.50, "bronze": 0.14, "gold": 0.16, "green": 0.12, "hybrid": 0.08}
URL_FIELDS = ("url", "url_for_pdf", "url_for_landing_page", "pmh_id")
FIRST_YEAR, LAST_YEAR = 1965, 2025
LATEST = dt.datetime(2025, 6, 30)
# A digit run, or a percent escape (kept: "%20" must stay a space).
_DIGITS = re.compile(r"%[0-9A-Fa-f]{2}|\d+")
_LAST_DIGITS = re.compile(r"\d+(?=\D*$)")


@dataclass(frozen=True)
class Template:
    """One recorded DOI object, and how its JSON line is written (its era's separators)."""

    record: dict[str, Any]
    separators: tuple[str, str]

    @property
    def doi(self) -> str:
        return self.record["doi"]


def _doi_objects(path: Path) -> Iterator[tuple[dict[str, Any], bool]]:
    """The DOI objects in one recorded 200 body: the body itself, or those inside a
    Simple Query Tool wrapper; with whether that body was written compactly."""
    raw = path.read_text(encoding="utf-8")
    data = json.loads(raw)
    compact = '": ' not in raw  # the 2025 schema: no spaces at all
    if isinstance(data, dict) and isinstance(data.get("doi"), str) and "oa_locations" in data:
        yield data, compact
    results = data.get("results") if isinstance(data, dict) else None
    if isinstance(results, dict):
        for obj in results.values():
            if isinstance(obj, dict) and "oa_status" in obj and "oa_locations" in obj:
                yield obj, compact


def load_templates(folders: list[Path] | None = None) -> list[Template]:
    """Every recorded DOI object: the project's own fixtures and, when present, ../shared."""
    if folders is None:
        folders = [OWN_FIXTURES / "unpaywall"]
        shared = shared_fixtures()
        if shared is not None and (shared / "unpaywall").is_dir():
            folders.append(shared / "unpaywall")
    templates = []
    for folder in folders:
        for path in sorted(folder.glob("200_*.json")):
            for record, compact in _doi_objects(path):
                templates.append(Template(record, (",", ":") if compact else (", ", ": ")))
    return templates


@dataclass(frozen=True)
class Pools:
    """Values drawn from all recordings: title words, author names, licences."""

    title_words: tuple[str, ...]
    authors: tuple[dict[str, Any], ...]
    licences: dict[tuple[str, str], tuple[str | None, ...]]  # (oa_status, host_type) ->

    @classmethod
    def of(cls, templates: list[Template]) -> Pools:
        words: list[str] = []
        authors: list[dict[str, Any]] = []
        licences: dict[tuple[str, str], list[str | None]] = {}
        for t in templates:
            words += (t.record.get("title") or "").split()
            authors += [a for a in t.record.get("z_authors") or [] if isinstance(a, dict)]
            for loc in t.record.get("oa_locations") or []:
                key = (t.record.get("oa_status"), loc.get("host_type"))
                licences.setdefault(key, []).append(loc.get("license"))
        return cls(tuple(words), tuple(authors), {k: tuple(v) for k, v in licences.items()})


def _mix(rng: random.Random) -> int:
    return rng.getrandbits(32)


class Generator:
    """Makes record ``i`` of a generated snapshot (see the module docstring)."""

    def __init__(self, templates: list[Template] | None = None, seed: int = 1,
                 updated_after: dt.datetime | None = None) -> None:
        self.templates = templates if templates is not None else load_templates()
        if not self.templates:
            raise SystemExit("no recorded Unpaywall records found to vary")
        self.seed = seed
        self.updated_after = updated_after
        self.pools = Pools.of(self.templates)
        by_status: dict[str, list[Template]] = {}
        for t in self.templates:
            by_status.setdefault(t.record.get("oa_status") or "closed", []).append(t)
        self.by_status = by_status
        self.statuses = [s for s in STATUS_MIX if s in by_status]
        self.weights = [STATUS_MIX[s] for s in self.statuses]

    def identity(self, i: int) -> tuple[str, int]:
        """(DOI, year) of record ``i``: the same whatever the seed."""
        rng = random.Random(i)
        shape = self.templates[rng.randrange(len(self.templates))].doi
        prefix, _, suffix = shape.partition("/")
        match = _LAST_DIGITS.search(suffix)
        if match:
            number = str(i).zfill(len(match.group(0)))
            suffix = suffix[:match.start()] + number + suffix[match.end():]
        else:
            suffix = f"{suffix}.{i}"
        # Recent years weigh more, as they do in Crossref.
        year = LAST_YEAR - int((LAST_YEAR - FIRST_YEAR) * rng.random() ** 2)
        return f"{prefix}/{suffix}", year

    def record(self, i: int) -> tuple[dict[str, Any], Template]:
        """Record ``i`` and the template it varies."""
        doi, year = self.identity(i)
        rng = random.Random((self.seed << 40) ^ i)
        status = rng.choices(self.statuses, self.weights)[0]
        template = rng.choice(self.by_status[status])
        rec = copy.deepcopy(template.record)
        old_doi = template.doi
        published = min(dt.date(year, rng.randint(1, 12), rng.randint(1, 28)), LATEST.date())
        digits: dict[str, str] = {}

        def vary_url(value: Any) -> Any:
            if not isinstance(value, str):
                return value
            # The DOI inside a URL becomes the new DOI; the digits around it are redrawn,
            # the same recorded id getting the same new id within one record (PMC ids).
            parts = re.split(f"({re.escape(old_doi)})", value, flags=re.IGNORECASE)
            return "".join(
                (doi if part == old_doi else doi.lower()) if n % 2 else
                _DIGITS.sub(lambda m: m.group(0) if m.group(0)[0] == "%" else digits.setdefault(
                    m.group(0), "".join(rng.choice("0123456789") for _ in m.group(0))), part)
                for n, part in enumerate(parts))

        def when(earliest: dt.date) -> str:
            start = dt.datetime.combine(max(earliest, dt.date(2017, 1, 1)), dt.time())
            if self.updated_after:
                start = max(start, self.updated_after)
            end = max(LATEST, start + dt.timedelta(days=30))
            span = int((end - start).total_seconds())
            return (start + dt.timedelta(seconds=rng.randrange(span),
                                         microseconds=rng.randrange(1_000_000))).isoformat()

        locations = rec.get("oa_locations") or []
        kept = [loc for loc in locations if loc.get("is_best") or rng.random() < 0.7]
        by_url: dict[str | None, dict[str, Any]] = {}
        for loc in kept:
            original_url = loc.get("url")
            for name in URL_FIELDS:
                if name in loc:
                    loc[name] = vary_url(loc[name])
            if "updated" in loc:
                loc["updated"] = when(published)
            if loc.get("oa_date"):
                loc["oa_date"] = (published + dt.timedelta(days=rng.randrange(0, 900))).isoformat()
            choices = self.pools.licences.get((status, loc.get("host_type")))
            if choices:
                loc["license"] = rng.choice(choices)
            by_url[original_url] = loc
        rec["oa_locations"] = kept
        for name in ("best_oa_location", "first_oa_location"):
            old = rec.get(name)
            if isinstance(old, dict):
                best = next((loc for loc in kept if loc.get("is_best")), None)
                rec[name] = copy.deepcopy(by_url.get(old.get("url"), best))
        if "has_repository_copy" in rec and locations:
            rec["has_repository_copy"] = any(loc.get("host_type") == "repository" for loc in kept)

        rec["doi"] = doi
        if "doi_url" in rec:
            rec["doi_url"] = f"https://doi.org/{doi.lower()}"
        if "year" in rec:
            rec["year"] = year
        if "published_date" in rec:
            rec["published_date"] = published.isoformat()
        if "title" in rec and self.pools.title_words:
            rec["title"] = " ".join(rng.choices(self.pools.title_words, k=rng.randint(5, 16))).capitalize()
        if "z_authors" in rec and self.pools.authors:
            people = [dict(p) for p in rng.choices(self.pools.authors, k=rng.randint(1, 8))]
            for n, person in enumerate(people):
                if "sequence" in person:
                    person["sequence"] = "first" if n == 0 else "additional"
            rec["z_authors"] = people
        rec["updated"] = when(published)
        return rec, template

    def line(self, i: int) -> str:
        """Record ``i`` as one line of the feed (with its newline)."""
        rec, template = self.record(i)
        return json.dumps(rec, ensure_ascii=False, separators=template.separators) + "\n"


def open_output(path: str) -> IO[str]:
    """``-`` is stdout; ``.gz`` is gzip-compressed (level 6, as the gzip tool)."""
    if path == "-":
        return sys.stdout
    if path.endswith(".gz"):
        return gzip.open(path, "wt", encoding="utf-8", compresslevel=6)
    return open(path, "w", encoding="utf-8")


def write_snapshot(path: str | Path, n: int, *, start: int = 0, seed: int = 1,
                   updated_after: dt.datetime | None = None,
                   generator: Generator | None = None) -> Path:
    """Write records ``start … start+n-1`` to ``path``."""
    gen = generator or Generator(seed=seed, updated_after=updated_after)
    with open_output(str(path)) as out:
        for i in range(start, start + n):
            out.write(gen.line(i))
    return Path(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/make-snapshot",
        description="Write N Unpaywall snapshot records varied from the recorded real ones.")
    parser.add_argument("n", type=int, help="how many records")
    parser.add_argument("-o", "--out", default="-",
                        help="output file (.jsonl or .jsonl.gz); default: standard output")
    parser.add_argument("--start", type=int, default=0, help="number of the first record (default 0)")
    parser.add_argument("--seed", type=int, default=1,
                        help="content seed; another seed over the same numbers makes a change file")
    parser.add_argument("--updated-after", type=dt.datetime.fromisoformat,
                        help="every record's 'updated' falls after this date (for change files)")
    args = parser.parse_args(argv)
    write_snapshot(args.out, args.n, start=args.start, seed=args.seed,
                   updated_after=args.updated_after)
    return 0


if __name__ == "__main__":
    sys.exit(main())
