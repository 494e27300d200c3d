"""JSON-LD: the work a page describes, and its fields.

A page may carry several JSON-LD blocks (breadcrumbs, the website, images, the
article). The *work nodes* are the top-level objects, the members of ``@graph``
and any ``mainEntity``, minus the types that never describe the work itself.
Nested values (``citation``, ``author``…) are not walked for identifiers, so the
works an article cites never pass for the article.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from bs4 import BeautifulSoup

from oahelper.identifiers import normalise_doi
from oahelper.text import clean

JsonNode = dict[str, Any]

# Types that are about something other than the work on the page.
_NOT_THE_WORK = frozenset({
    "BreadcrumbList", "ListItem", "WebSite", "Organization", "Person", "ImageObject",
    "SearchAction", "SiteNavigationElement", "Corporation", "NewsMediaOrganization",
})
_DOI_RESOLVERS = ("doi.org/", "dx.doi.org/")


def parse_blocks(tree: BeautifulSoup) -> list[Any]:
    """Every JSON-LD block that parses; broken ones are skipped."""
    blocks: list[Any] = []
    for script in tree.find_all("script"):
        raw = script.string or script.get_text()
        try:
            blocks.append(json.loads(raw, strict=False))
        except (ValueError, RecursionError):
            continue
    return blocks


def node_types(node: JsonNode) -> set[str]:
    """The node's ``@type`` values with any schema.org URL prefix removed."""
    raw = node.get("@type")
    types = raw if isinstance(raw, list) else [raw]
    return {t.rsplit("/", 1)[-1] for t in types if isinstance(t, str)}


def _candidates(value: Any) -> Iterator[JsonNode]:
    if isinstance(value, list):
        for item in value:
            yield from _candidates(item)
    elif isinstance(value, dict):
        yield value
        yield from _candidates(value.get("@graph"))
        yield from _candidates(value.get("mainEntity"))


def work_nodes(blocks: list[Any]) -> list[JsonNode]:
    """The nodes that describe the work itself, in page order."""
    return [node for block in blocks for node in _candidates(block)
            if not node_types(node) & _NOT_THE_WORK]


def texts(value: Any) -> list[str]:
    """Plain strings from a JSON-LD value: a string, a ``name``d object, or a list."""
    if isinstance(value, list):
        return [text for item in value for text in texts(item)]
    if isinstance(value, dict):
        if value.get("name"):
            return texts(value["name"])
        given, family = clean(value.get("givenName")), clean(value.get("familyName"))
        if given or family:
            return [" ".join(part for part in (given, family) if part)]
        return texts(value.get("@value"))
    text = clean(value) if isinstance(value, str) else ""
    return [text] if text else []


def container_name(value: Any) -> str | None:
    """The periodical an ``isPartOf`` chain leads to (issue → volume → journal)."""
    seen = 0
    while isinstance(value, (dict, list)) and seen < 8:
        seen += 1
        if isinstance(value, list):
            value = value[0] if value else None
            continue
        if "Periodical" in node_types(value) or not isinstance(value.get("isPartOf"), dict):
            names = texts(value.get("name"))
            return names[0] if names else None
        value = value["isPartOf"]
    return clean(value) or None


def dois(nodes: list[JsonNode]) -> Iterator[str]:
    """DOIs the work nodes give as ``identifier`` (a DOI, ``doi:…`` or doi.org URL),
    or as ``@id``/``sameAs`` doi.org URLs."""
    for node in nodes:
        for key in ("identifier", "@id", "sameAs"):
            for value in _identifier_values(node.get(key)):
                if key == "identifier" or any(r in value.lower() for r in _DOI_RESOLVERS):
                    doi = normalise_doi(value)
                    if doi:
                        yield doi


def _identifier_values(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from _identifier_values(item)
    elif isinstance(value, dict):
        # PropertyValue: {"propertyID": "doi", "value": "10.…"}
        if str(value.get("propertyID", "")).lower() == "doi" and value.get("value"):
            yield str(value["value"])
        elif value.get("@id"):
            yield str(value["@id"])
        elif value.get("url"):
            yield str(value["url"])
    elif isinstance(value, str):
        yield value
