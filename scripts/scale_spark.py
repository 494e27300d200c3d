"""docs/scale/audit.sql on Spark SQL, for docs/scale.md's figures (not a dependency).

    python3 -m venv /tmp/spark && /tmp/spark/bin/pip install pyspark   # Java 17 needed
    /tmp/spark/bin/python scripts/scale_spark.py PARQUET_DIR DOIS.csv OUT_DIR [--cores 2]

Runs the query in a local Spark session (``local[cores]``) over the Parquet export and a
CSV list with a ``doi`` column, writes the rows as CSV under OUT_DIR, and prints the
seconds the session took to start and the query (with writing its result) took.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pyspark.sql import SparkSession

QUERY = Path(__file__).resolve().parents[1] / "docs" / "scale" / "audit.sql"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("parquet")
    parser.add_argument("dois")
    parser.add_argument("out")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    spark = (SparkSession.builder.master(f"local[{args.cores}]").appName("oahelper-audit")
             .config("spark.ui.enabled", "false").config("spark.driver.memory", "2g")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    ready = time.perf_counter()
    spark.read.parquet(args.parquet).createOrReplaceTempView("snapshot")
    spark.read.option("header", "true").csv(args.dois).createOrReplaceTempView("dois")
    query = "\n".join(line for line in QUERY.read_text().splitlines() if not line.startswith("--"))
    spark.sql(query).write.mode("overwrite").option("header", "true").csv(args.out)
    done = time.perf_counter()
    rows = spark.read.option("header", "true").csv(args.out).count()
    print(f"spark local[{args.cores}]: session {ready - started:.1f} s, audit query and its "
          f"CSV {done - ready:.1f} s, {rows:,} rows")
    spark.stop()


if __name__ == "__main__":
    main()
