"""The Unpaywall record as DuckDB stores it: the v2 DOI object's fields, typed.

A record of the data feed is exactly the object ``GET /v2/{doi}`` returns, so the
snapshot keeps those fields under their own names, nested as Unpaywall nests them
(``best_oa_location`` a struct). Typed columns compress to a fraction of the JSON text
and let a query read ``oa_status`` or ``best_oa_location.license`` without parsing JSON.
The three lists of structs (``oa_locations``, ``oa_locations_embargoed``, ``z_authors``)
are kept as their JSON text instead: reading one typed list of structs back for a single
DOI costs DuckDB milliseconds (at 2,000,000 records ``oa_locations`` alone took 3.6 ms of
a 6.8 ms record, ``z_authors`` 0.7), its text a fraction of one. The Parquet export
makes them typed again. A row read back is a dict with the same keys, so ``parse_unpaywall``
reads it like an API answer.

Fields outside this table are not kept (Unpaywall documents no others for data
standard 2). A value of the wrong JSON type is stored as NULL, and a field the record
lacked reads back as None, as an explicit ``null`` does.
"""

from __future__ import annotations

import json

SCHEMA_VERSION = "2"

# One oa_location (Unpaywall's "OA Location object"); oa_date since ~2021.
LOCATION: tuple[tuple[str, str], ...] = (
    ("updated", "VARCHAR"), ("url", "VARCHAR"), ("url_for_pdf", "VARCHAR"),
    ("url_for_landing_page", "VARCHAR"), ("evidence", "VARCHAR"), ("license", "VARCHAR"),
    ("version", "VARCHAR"), ("host_type", "VARCHAR"), ("is_best", "BOOLEAN"),
    ("pmh_id", "VARCHAR"), ("endpoint_id", "VARCHAR"), ("repository_institution", "VARCHAR"),
    ("oa_date", "VARCHAR"),
)
# One z_authors entry (Crossref's author object as Unpaywall passes it on).
AUTHOR: tuple[tuple[str, str], ...] = (
    ("given", "VARCHAR"), ("family", "VARCHAR"), ("name", "VARCHAR"), ("sequence", "VARCHAR"),
    ("ORCID", "VARCHAR"), ("authenticated-orcid", "BOOLEAN"),
    ("affiliation", "STRUCT(name VARCHAR)[]"),
)


def struct(fields: tuple[tuple[str, str], ...]) -> str:
    """A DuckDB STRUCT type with these (name, type) fields."""
    return "STRUCT(" + ", ".join(f'"{name}" {kind}' for name, kind in fields) + ")"


_LOC = struct(LOCATION)
# The DOI object, in the 2025 schema's field order.
RECORD: tuple[tuple[str, str], ...] = (
    ("doi", "VARCHAR"), ("doi_url", "VARCHAR"), ("title", "VARCHAR"), ("genre", "VARCHAR"),
    ("is_paratext", "BOOLEAN"), ("published_date", "VARCHAR"), ("year", "INTEGER"),
    ("journal_name", "VARCHAR"), ("journal_issns", "VARCHAR"), ("journal_issn_l", "VARCHAR"),
    ("journal_is_oa", "BOOLEAN"), ("journal_is_in_doaj", "BOOLEAN"), ("publisher", "VARCHAR"),
    ("is_oa", "BOOLEAN"), ("oa_status", "VARCHAR"), ("has_repository_copy", "BOOLEAN"),
    ("best_oa_location", _LOC), ("first_oa_location", _LOC), ("oa_locations", "JSON"),
    ("oa_locations_embargoed", "JSON"), ("updated", "TIMESTAMP"),
    ("data_standard", "INTEGER"), ("z_authors", "JSON"),
)
RECORD_TYPE = struct(RECORD)
RECORD_NAMES = tuple(name for name, _ in RECORD)
FIELD_LIST = ", ".join(f'"{name}"' for name in RECORD_NAMES)
JSON_FIELDS = frozenset(name for name, kind in RECORD if kind == "JSON")
# The fields parse_unpaywall reads: what a lookup fetches (the rest is for queries).
LOOKUP_FIELDS = ("doi", "title", "journal_name", "year", "publisher", "z_authors",
                 "oa_status", "oa_locations")
# The columns as typed Parquet: the lists parsed from their JSON (a key a record lacks,
# such as oa_date before 2021, becomes NULL).
_SHAPES = {"oa_locations": LOCATION, "oa_locations_embargoed": LOCATION, "z_authors": AUTHOR}


def _typed(name: str) -> str:
    if name not in JSON_FIELDS:
        return f'"{name}"'
    shape = json.dumps([{k: v if "STRUCT" not in v else [{"name": "VARCHAR"}]
                         for k, v in _SHAPES[name]}]).replace("'", "''")
    return f"from_json(\"{name}\", '{shape}') AS \"{name}\""


TYPED_FIELD_LIST = ", ".join(_typed(name) for name in RECORD_NAMES)

# ``key`` is the lower-cased DOI (what lookups and joins compare); ``file_id`` and
# ``line`` say where the record was read, so a wrong record can be traced to its line.
# (``key`` is NULL in staging for a record without a usable DOI, until it is reported.)
_COLUMNS = ("key VARCHAR, "
            + ", ".join(f'"{name}" {kind}' for name, kind in RECORD)
            + ", file_id INTEGER NOT NULL, line BIGINT NOT NULL")

DDL = f"""
CREATE TABLE IF NOT EXISTS records ({_COLUMNS});
CREATE TABLE IF NOT EXISTS staging ({_COLUMNS});
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,          -- as given on the command line
    fingerprint VARCHAR,            -- size + SHA-256 of the first MiB; NULL for stdin
    offset_done BIGINT NOT NULL,    -- bytes of the (decompressed) text staged so far
    lines_done BIGINT NOT NULL,
    records BIGINT NOT NULL,        -- records staged from it
    bad_lines BIGINT NOT NULL,
    started TIMESTAMP NOT NULL,
    staged TIMESTAMP,               -- read to its end
    merged TIMESTAMP                -- its records are in `records`
);
CREATE TABLE IF NOT EXISTS meta (name VARCHAR PRIMARY KEY, value VARCHAR);
"""
INDEX = "CREATE INDEX IF NOT EXISTS records_key ON records (key)"
