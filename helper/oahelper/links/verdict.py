"""What a link check reads and what it says: the data of ``classify`` (docs/api.md, "Link states").

``LinkResponse`` is what the network part hands over (the last hop's status, headers,
URL and body, and the URLs before it); ``ArticleRef`` what the copy should be;
``LinkVerdict`` the answer: one of the link states, a short reason for people, and for
a ``landing`` page the PDF link to open one hop further.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_args

from oahelper.models import LinkState

LINK_STATES: tuple[LinkState, ...] = get_args(LinkState)
# Challenge and consent walls are passed by the reader's own browser (docs/api.md).
WORKING_STATES: frozenset[LinkState] = frozenset({"pdf", "landing", "challenge", "consent"})
BROKEN_STATES: frozenset[LinkState] = frozenset({"login", "paywall", "gone", "wrong_article"})


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names lower-cased; a name sent twice (aiohttp's multidict lists both in
    its items) keeps both values, joined as HTTP joins them."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


@dataclass(frozen=True)
class LinkResponse:
    """The last answer of a link check.

    ``url`` is the final URL (after redirects); ``redirects`` the URLs asked before it,
    the link itself first. ``body`` is what was read, ``truncated`` says reading
    stopped at a cap. ``headers`` may be any mapping (aiohttp's multidict too); it is
    kept with lower-case names, so ``header()`` is case-insensitive.
    """

    url: str
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    truncated: bool = False
    redirects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _lower_keys(self.headers))
        object.__setattr__(self, "redirects", tuple(self.redirects))

    def header(self, name: str) -> str:
        """The header's value, "" when absent."""
        return self.headers.get(name.lower(), "")


@dataclass(frozen=True)
class ArticleRef:
    """The article a copy should be: its DOI and title, either may be unknown."""

    doi: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class LinkVerdict:
    """A link's state, why (one short sentence), the final URL, and for ``landing``
    the PDF link candidate (``citation_pdf_url`` resolved against the final URL)."""

    state: LinkState
    reason: str
    final_url: str | None = None
    pdf_url: str | None = None

    @property
    def works(self) -> bool:
        return self.state in WORKING_STATES

    @property
    def broken(self) -> bool:
        """Broken copies stay listed, marked, and are never ``best``."""
        return self.state in BROKEN_STATES

    def to_json(self, checked_at: str | None) -> dict[str, Any]:
        """The Location's ``link`` object of the API (docs/api.md)."""
        return {"state": self.state, "checked_at": checked_at, "final_url": self.final_url}

    def to_store(self) -> dict[str, str | None]:
        """Everything the verdict says, for a store of verdicts (``from_store`` reads it)."""
        return {"state": self.state, "reason": self.reason, "final_url": self.final_url,
                "pdf_url": self.pdf_url}

    @classmethod
    def from_store(cls, data: Any) -> LinkVerdict:
        """A verdict ``to_store`` wrote; ValueError for anything else (a damaged row)."""
        if not isinstance(data, dict) or data.get("state") not in LINK_STATES:
            raise ValueError("not a stored link verdict")
        reason, final_url, pdf_url = data.get("reason"), data.get("final_url"), data.get("pdf_url")
        if not isinstance(reason, str) or not all(v is None or isinstance(v, str) for v in (final_url, pdf_url)):
            raise ValueError("not a stored link verdict")
        return cls(data["state"], reason, final_url, pdf_url)
