"""CSL-JSON: what Zotero, Mendeley, pandoc and citeproc export (an array of items).

Dates are ``{"date-parts": [[2013, 7, 31]]}`` (or a ``raw``/``literal`` string); names
are ``{"family", "given"}`` or ``{"literal"}``. A file that is not JSON is an error
naming its line; an item of the wrong shape is an unreadable entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from oahelper.audit.entries import Entry, make_entry, unreadable
from oahelper.errors import ReadingListError


def _name(person: Any) -> str | None:
    if not isinstance(person, dict):
        return None
    if person.get("literal"):
        return str(person["literal"])
    parts = [str(person[k]) for k in ("family", "given") if person.get(k)]
    return ", ".join(parts) or None


def _year(issued: Any) -> object:
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            return parts[0][0]
        return issued.get("raw") or issued.get("literal") or issued.get("season")
    return issued


def _item(name: str, index: int, item: dict[str, Any]) -> Entry:
    def text(key: str) -> object:
        value = item.get(key) if key in item else item.get(key.lower())
        return value if isinstance(value, (str, int)) else None

    authors = item.get("author") if isinstance(item.get("author"), list) else []
    return make_entry(
        name, str(item.get("id") or f"item {index}"), None, doi=text("DOI"),
        pmid=text("PMID"), pmcid=text("PMCID"), urls=(text("URL"),),
        title=text("title"), authors=tuple(_name(a) for a in authors),
        year=_year(item.get("issued")), journal=text("container-title"))


def read_csljson(text: str, name: str) -> Iterator[Entry]:
    """Every item of a CSL-JSON array (or of a single item object)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReadingListError(f"{name} line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    except RecursionError as exc:
        raise ReadingListError(f"{name}: JSON nested too deeply to be a reading list") from exc
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]  # some tools wrap the array
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ReadingListError(f"{name}: expected CSL-JSON, an array of items, not {type(data).__name__}")
    for index, item in enumerate(data, 1):
        if isinstance(item, dict):
            yield _item(name, index, item)
        else:
            yield unreadable(name, f"item {index}", None,
                             f"item {index} is a {type(item).__name__}, not a CSL-JSON object")
