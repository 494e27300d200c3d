"""The interface every open-access source implements.

Adding a source is one new module: a pure ``parse_…`` function for the upstream's
answer and a class with the attributes and methods below (``HttpSource`` in
``sources/http.py`` holds what every HTTP adapter shares), and one row in
``sources/registry.py``. Adapters never raise for upstream trouble: they return a
``SourceAnswer`` whose ``state`` says what happened, so one source down still gives
an answer. An answer is "ok" only once it has the shape the source's recordings show
(``require`` and a ``Shape`` per answer kind, in ``sources/http.py``): anything else is
an "error" (``source_bad_response``), never a confident "no copy".

A source that can find an article by its title also implements ``SearchSource``; the
resolver (``oahelper/resolve/``) asks those and checks every hit itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import aiohttp

from oahelper.models import Article, SourceAnswer, WorkQuery

# What a source's key is: None (it takes none), "set", "not set" (optional, absent)
# or "needed" (the upstream refused to answer without one).
KeyState = str | None


@dataclass
class SourceHealth:
    """What ``/v1/status`` and ``oahelper doctor`` show for one source."""

    enabled: bool
    configured: bool
    retired: bool = False
    last_error: str | None = None
    problems: list[str] = field(default_factory=list)
    needs_network: bool = True
    key: KeyState = None

    def to_json(self) -> dict[str, object]:
        return {"enabled": self.enabled, "configured": self.configured,
                "retired": self.retired, "last_error": self.last_error,
                "problems": list(self.problems), "needs_network": self.needs_network,
                "key": self.key}


class Source(Protocol):
    """One upstream that knows where free copies live.

    ``needs_network`` is False for sources that answer from this machine alone
    (identifiers that prove a free copy, a local snapshot): an offline mode asks
    only those.
    """

    name: str
    needs_network: bool

    def cache_key(self, article: Article) -> str | None:
        """The identifier this source would be asked with, e.g. ``doi:10.1038/…``
        (case-folded), or None when the article has nothing this source can use."""
        ...

    def health(self) -> SourceHealth:
        """Enabled/configured/retired state and the last problem seen."""
        ...

    async def lookup(self, article: Article, session: aiohttp.ClientSession,
                     timeout: float) -> SourceAnswer:
        """Ask the upstream about ``article`` within ``timeout`` seconds in all
        (retries included). Never raises for upstream failures."""
        ...


class SearchSource(Source, Protocol):
    """A source that can also find works by title (or a pasted reference)."""

    def search_key(self, query: WorkQuery) -> str | None:
        """The cache key of this search, or None when this source cannot search it."""
        ...

    async def search(self, query: WorkQuery, session: aiohttp.ClientSession,
                     timeout: float) -> SourceAnswer:
        """The works the upstream returns for ``query`` as ``candidates`` (unchecked:
        search engines always return a best guess). Never raises for upstream trouble."""
        ...


def can_search(source: Source) -> bool:
    """True for sources that implement ``SearchSource``."""
    return callable(getattr(source, "search", None)) and callable(getattr(source, "search_key", None))
