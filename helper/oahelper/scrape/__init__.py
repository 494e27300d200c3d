"""Reading a page: identifiers and citation fields out of (url, html).

Pure: no I/O. ``scrape`` is the entry point; ``identifiers`` holds the
normalisers and ``parse_query`` for what a user types. See DESIGN.md §5.
"""

from oahelper.scrape import identifiers
from oahelper.scrape.article import scrape

__all__ = ["identifiers", "scrape"]
