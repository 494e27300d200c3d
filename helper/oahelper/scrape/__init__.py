"""Reading a page: identifiers and citation fields out of (url, html).

Pure: no I/O. ``scrape`` is the entry point; the identifier normalisers and
``parse_query`` live in ``oahelper.identifiers``. See docs/scraping.md.
"""

from oahelper.scrape.article import scrape

__all__ = ["scrape"]
