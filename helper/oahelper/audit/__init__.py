"""Reading lists: which references have a free copy (``oahelper audit``, ``/v1/batch``).

``readers`` turn BibTeX, RIS, CSL-JSON, CSV and plain lists into ``Entry`` objects,
one per reference, streamed; ``runner`` looks each up through the daemon's own
``LookupService`` (cache, single flight, every source) a few at a time; ``rows`` turns
an answer into one report row; ``writers`` and ``html`` write the reports.
"""
