"""Running totals of an audit, for the summaries and the report's charts.

Counts only, updated row by row: the report's figures never need the rows in memory.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from oahelper.audit.rows import Row
from oahelper.engine.merge import VERSION_WORDS

NONE = "none"


@dataclass
class Tally:
    """What an audit found, counted."""

    total: int = 0
    status: Counter[str] = field(default_factory=Counter)
    oa_status: Counter[str] = field(default_factory=Counter)
    year_oa: Counter[tuple[str, str]] = field(default_factory=Counter)
    license: Counter[str] = field(default_factory=Counter)
    version_host: Counter[tuple[str, str]] = field(default_factory=Counter)
    cc_by_or_cc0: Counter[str] = field(default_factory=Counter)
    links: Counter[str] = field(default_factory=Counter)  # the best copy's link state

    def add(self, row: Row) -> None:
        self.total += 1
        self.status[row.status] += 1
        if row.link:
            self.links[row.link] += 1
        if row.status not in ("open", "closed"):
            return
        oa = row.oa_status or ("free (not in Unpaywall)" if row.is_free else "closed")
        self.oa_status[oa] += 1
        self.year_oa[(str(row.year) if row.year else "no year", oa)] += 1
        self.cc_by_or_cc0["yes" if row.cc_by_or_cc0 else "no"] += 1
        if row.is_free:
            self.license[row.license or "no licence stated"] += 1
            version = VERSION_WORDS.get(row.version or "", "version not stated")
            self.version_host[(version, row.host_type or "host not stated")] += 1

    @property
    def checked(self) -> int:
        """Entries with an answer: free or not."""
        return self.status["open"] + self.status["closed"]

    @property
    def free(self) -> int:
        return self.status["open"]

    def share_free(self) -> float | None:
        """Free among those with an answer (None when nothing was answered)."""
        return self.free / self.checked if self.checked else None

    def headline(self) -> str:
        """'23 of 41 references have a free copy (56%)' and what was not answered."""
        share = self.share_free()
        line = f"{self.free} of {self.total} references have a free copy"
        if share is not None and self.checked != self.total:
            line += f" ({share:.0%} of the {self.checked} with an answer)"
        elif share is not None:
            line += f" ({share:.0%})"
        rest = [f"{self.status[s]} {label}" for s, label in (
            ("not_found", "not found (no source knows them)"),
            ("unknown", "could not be checked"), ("no_identifier", "without an identifier"),
            ("unreadable", "unreadable")) if self.status[s]]
        return line + (f"; {', '.join(rest)}" if rest else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total, "free": self.free, "checked": self.checked,
            "share_free": self.share_free(), "status": dict(self.status),
            "oa_status": dict(self.oa_status), "license": dict(self.license),
            "cc_by_or_cc0": dict(self.cc_by_or_cc0), "links": dict(self.links),
            "year_oa": [{"year": y, "oa_status": o, "n": n} for (y, o), n in sorted(self.year_oa.items())],
            "version_host": [{"version": v, "host_type": h, "n": n}
                             for (v, h), n in sorted(self.version_host.items())],
        }


@dataclass
class AuditSummary:
    """What a report says besides its rows: the totals, what was read, how it ended."""

    tally: Tally
    inputs: list[str] = field(default_factory=list)  # "refs.bib (BibTeX)"
    notes: list[str] = field(default_factory=list)   # which CSV column was used, …
    interrupted: bool = False

    def to_json(self) -> dict[str, Any]:
        return self.tally.to_json() | {"inputs": self.inputs, "notes": self.notes,
                                       "interrupted": self.interrupted}
