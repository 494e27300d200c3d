"""Meta tags as a lookup table: lower-cased name → values in page order.

A tag is filed under every name it carries in ``name``, ``property``,
``itemprop`` or ``id`` (``<meta id="DOI">`` on D-Lib, ``itemprop`` microdata,
``property`` for OpenGraph), matched case-insensitively.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bs4 import BeautifulSoup

from oahelper.text import clean

_NAME_ATTRIBUTES = ("name", "property", "itemprop", "id")


@dataclass(frozen=True)
class MetaValue:
    """One meta tag's content and its Dublin Core ``scheme`` (lower-cased), if any."""

    content: str
    scheme: str | None = None


class MetaTable:
    """The page's meta tags by name."""

    def __init__(self, tree: BeautifulSoup) -> None:
        self._by_name: dict[str, list[MetaValue]] = {}
        for tag in tree.find_all("meta"):
            attrs = tag.attrs
            content = clean(attrs.get("content"))
            if not content:
                continue
            scheme = attrs.get("scheme")
            value = MetaValue(content, scheme.strip().lower() if isinstance(scheme, str) else None)
            names = {str(attrs[attr]).strip().lower() for attr in _NAME_ATTRIBUTES
                     if attrs.get(attr)}
            for name in names:
                self._by_name.setdefault(name, []).append(value)

    def values(self, name: str) -> list[MetaValue]:
        """Every tag filed under ``name`` (lower case), in page order."""
        return self._by_name.get(name, [])

    def contents(self, names: Iterable[str]) -> list[str]:
        """The contents of the first name in ``names`` that has any."""
        for name in names:
            found = self._by_name.get(name)
            if found:
                return [value.content for value in found]
        return []

    def first(self, names: Iterable[str]) -> str | None:
        """The first content under the first name in ``names`` that has one."""
        found = self.contents(names)
        return found[0] if found else None
