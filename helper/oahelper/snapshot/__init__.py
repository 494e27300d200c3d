"""Your own copy of the Unpaywall data feed, in DuckDB.

``schema`` (the record's typed columns), ``feed`` (reading plain/gzip files and stdin),
``importer`` (stage in batches, then merge: resumable upserts), ``store`` (opening the
file, reading a record, the status), ``command`` (the ``oahelper snapshot`` commands).
"""
