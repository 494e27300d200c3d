"""``oahelper snapshot export --parquet DIR``: the snapshot as Parquet, for a cluster.

The records go out with the same typed, nested columns as in DuckDB, plus ``doi_key``
(the lower-cased DOI that joins are made on) and ``doi_bucket``: the first two hex
digits of ``md5(doi_key)``, a Hive-style partition (``DIR/doi_bucket=3f/…parquet``).
256 buckets of even size let Spark SQL, Trino or DuckDB read the files in parallel, and
any engine that has ``md5`` (all three) can compute a DOI's bucket itself. The
snapshot's date and figures are written beside them in ``_oahelper.json`` (names
starting with ``_`` are skipped by Parquet readers). docs/scale.md has the queries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from oahelper import __version__
from oahelper.errors import ConfigError, SnapshotError
from oahelper.snapshot.schema import RECORD_NAMES, TYPED_FIELD_LIST
from oahelper.snapshot.store import connect, count, private_files

BUCKET = "substr(md5(key), 1, 2)"
MANIFEST = "_oahelper.json"


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    records: int
    files: int
    bytes: int
    as_of: str | None


def export_parquet(db: Path, folder: Path, *, memory_limit: str | None = None) -> ExportResult:
    """Write every record of the snapshot at ``db`` under ``folder`` (new or empty)."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ConfigError(f"{folder} is not an empty folder: export into a new one")
    con = connect(db, read_only=True, memory_limit=memory_limit)
    try:
        as_of_row = con.execute("SELECT value FROM meta WHERE name = 'as_of'").fetchone()
        records = count(con, "SELECT count(*) FROM records")
        target = str(folder).replace("'", "''")
        with private_files():  # the files and folders, like everything oahelper writes
            folder.mkdir(parents=True, exist_ok=True)
            con.execute(f"""
                COPY (SELECT {BUCKET} AS doi_bucket, key AS doi_key, {TYPED_FIELD_LIST}
                      FROM records)
                TO '{target}' (FORMAT parquet, PARTITION_BY (doi_bucket), COMPRESSION zstd,
                               FILENAME_PATTERN 'part-{{i}}')""")
    except duckdb.Error as exc:
        raise SnapshotError(f"the export to {folder} failed: {exc}") from exc
    finally:
        con.close()
    files = sorted(folder.rglob("*.parquet"))
    as_of = as_of_row[0] if as_of_row else None
    with private_files():
        (folder / MANIFEST).write_text(json.dumps({
            "written_by": f"oahelper {__version__} (duckdb {duckdb.__version__})",
            "as_of": as_of, "records": records, "files": len(files),
            "partitioned_by": {"doi_bucket": "substr(md5(doi_key), 1, 2)"},
            "join_on": {"doi_key": "lower(doi)"},
            "columns": ["doi_bucket", "doi_key", *RECORD_NAMES],
        }, indent=2) + "\n", encoding="utf-8")
    return ExportResult(folder, records, len(files), sum(f.stat().st_size for f in files), as_of)
