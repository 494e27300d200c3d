"""``oahelper snapshot export --parquet DIR``: the snapshot as partitioned Parquet files
that another engine reads with the query of docs/scale.md."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

from oahelper.snapshot.importer import Importer
from tests.support.processes import oahelper
from tests.support.shared import REPO
from tests.support.snapshot_data import write_snapshot

AUDIT_SQL = REPO / "docs" / "scale" / "audit.sql"


def test_export_writes_every_record_in_hash_buckets_that_the_audit_query_reads(
        tmp_path: Path, isolated_home: Path) -> None:
    feed = write_snapshot(tmp_path / "snap.jsonl", 500)
    Importer(isolated_home / "data" / "snapshot.duckdb").run([str(feed)])
    out = tmp_path / "parquet"
    proc = oahelper(["snapshot", "export", "--parquet", str(out)], os.environ)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 500 records" in proc.stdout
    records = [json.loads(line) for line in feed.read_text().splitlines()]
    manifest = json.loads((out / "_oahelper.json").read_text())
    assert manifest["records"] == 500 and manifest["as_of"] == max(r["updated"] for r in records)[:10]
    folders = {p.name for p in out.iterdir() if p.is_dir()}
    assert len(folders) > 100 and all(f.startswith("doi_bucket=") for f in folders)
    assert oct(next(out.rglob("*.parquet")).stat().st_mode & 0o777) == "0o600"

    dois = tmp_path / "dois.csv"
    asked = [r["doi"].upper() for r in records[:40]] + ["10.5555/not.there"]
    dois.write_text("doi\n" + "\n".join(asked) + "\n")
    with duckdb.connect() as con:  # docs/scale.md's audit query, on DuckDB's views
        con.execute(f"CREATE VIEW snapshot AS SELECT * FROM read_parquet("
                    f"'{out}/*/*.parquet', hive_partitioning = true)")
        con.execute(f"CREATE VIEW dois AS SELECT * FROM read_csv('{dois}')")
        rows = [(doi, oa_status, free, best_url) for doi, oa_status, free, best_url, *_ in
                con.execute(AUDIT_SQL.read_text()).fetchall()]
        buckets_ok = con.execute("SELECT bool_and(doi_bucket = substr(md5(doi_key), 1, 2)) "
                                 "FROM snapshot").fetchone()[0]
        typed = con.execute(f"""SELECT len(oa_locations), oa_locations[1].url_for_landing_page,
                                       z_authors[1].family
                                FROM read_parquet('{out}/*/*.parquet') WHERE doi_key = ?""",
                            [records[0]["doi"].lower()]).fetchone()
    first_locations = records[0]["oa_locations"]
    assert typed == (len(first_locations), first_locations[0]["url_for_landing_page"]
                     if first_locations else None, records[0]["z_authors"][0]["family"])
    by_doi = {r["doi"].upper(): r for r in records[:40]}
    assert len(rows) == 41
    assert buckets_ok
    for doi, oa_status, free, best_url in rows:
        if doi == "10.5555/not.there":
            assert oa_status is None and free is False
            continue
        record = by_doi[doi]
        best = record["best_oa_location"] or {}
        assert (oa_status, free) == (record["oa_status"], record["is_oa"])
        assert best_url == (best.get("url_for_pdf") or best.get("url"))


def test_export_refuses_a_folder_that_holds_files(tmp_path: Path, isolated_home: Path) -> None:
    Importer(isolated_home / "data" / "snapshot.duckdb").run(
        [str(write_snapshot(tmp_path / "snap.jsonl", 5))])
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    proc = oahelper(["snapshot", "export", "--parquet", str(out)], os.environ)
    assert proc.returncode == 2 and "not an empty folder" in proc.stderr
    assert (out / "keep.txt").read_text() == "mine"
