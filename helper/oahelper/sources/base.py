"""The interface every open-access source implements.

Adding a source is one new module: a pure ``parse_…`` function for the upstream's
JSON and a class with the attributes and methods below. Adapters never raise for
upstream trouble: they return a ``SourceAnswer`` whose ``state`` says what happened,
so one source down still gives an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import aiohttp

from oahelper.models import Article, SourceAnswer


@dataclass
class SourceHealth:
    """What ``/v1/status`` and ``oahelper doctor`` show for one source."""

    enabled: bool
    configured: bool
    retired: bool = False
    last_error: str | None = None
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"enabled": self.enabled, "configured": self.configured,
                "retired": self.retired, "last_error": self.last_error,
                "problems": list(self.problems)}


class Source(Protocol):
    """One upstream that knows where free copies live."""

    name: str

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
