"""What can be said about a snapshot without opening it (no DuckDB needed): where its
file is, whether it changed, its size, and the status record the store fills in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def file_stamp(path: Path) -> str | None:
    """Changes whenever the database does (an import writes the file or its WAL);
    None when there is no file."""
    try:
        main = path.stat().st_mtime_ns
    except OSError:
        return None
    try:
        wal = Path(f"{path}.wal").stat().st_mtime_ns
    except OSError:
        wal = 0
    return f"{main}.{wal}"


def disk_bytes(path: Path) -> int:
    """The database file and its write-ahead log, in bytes."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}.wal")) if p.exists())


def human_bytes(n: int) -> str:
    """1.5 GiB, 300.0 KiB, 12 B."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@dataclass(frozen=True)
class SnapshotStatus:
    """What ``oahelper snapshot status``, ``/v1/status`` and ``doctor`` show.
    ``present`` False is the explicit "no snapshot imported" answer."""

    path: Path
    present: bool
    records: int = 0
    free: int = 0
    closed: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    newest: str | None = None        # the newest record's `updated` (ISO date)
    disk_bytes: int = 0
    staged: int = 0                   # read but not yet merged (an unfinished import)
    files: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "present": self.present, "records": self.records,
                "free": self.free, "closed": self.closed, "by_oa_status": dict(self.by_status),
                "newest_record": self.newest, "disk_bytes": self.disk_bytes,
                "staged_not_merged": self.staged, "files": list(self.files)}

    def summary(self) -> str:
        """One line: what doctor says about it."""
        share = f" ({self.free / self.records:.0%} free)" if self.records else ""
        return (f"{self.records:,} DOIs{share}, newest record {self.newest or 'none'}, "
                f"{human_bytes(self.disk_bytes)} in {self.path}")


