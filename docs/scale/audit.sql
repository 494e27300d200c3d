-- The audit of a DOI list against the Unpaywall snapshot's Parquet export
-- (oahelper snapshot export --parquet DIR), one row per listed DOI.
-- `dois` is the list (a column named doi), `snapshot` the exported records; both are
-- views each engine defines over its files (docs/scale.md). The same text runs on
-- DuckDB, Spark SQL and Trino.
SELECT d.doi,
       s.oa_status,
       coalesce(s.is_oa, false)                                         AS free,
       coalesce(s.best_oa_location.url_for_pdf, s.best_oa_location.url) AS best_url,
       s.best_oa_location.version                                       AS version,
       s.best_oa_location.license                                       AS license,
       s.best_oa_location.host_type                                     AS host_type,
       s.updated                                                        AS record_updated
FROM dois AS d
LEFT JOIN snapshot AS s
  ON s.doi_key = lower(trim(d.doi))
