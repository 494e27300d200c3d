"""``POST /v1/batch``: what a client may send, checked and turned into entries.

The body is ``{"items": [...]}`` with at most ``MAX_ITEMS`` items. An item is a string
(an identifier or a whole reference, as in a plain list) or an object with the fields
of a reference as ``oahelper scrape`` prints them (``doi``, ``pmid``, ``pmcid``,
``arxiv``, ``title``, ``authors``, ``year``, ``journal``, ``text``) and an optional
``key`` to name it. Anything else is a 400 before any lookup starts.
"""

from __future__ import annotations

from typing import Any

from oahelper.audit.entries import Entry, make_entry
from oahelper.audit.readers.lines import entry_from_text
from oahelper.errors import BadRequest

# "A few hundred": a long reference list; a whole library belongs in `oahelper audit`.
MAX_ITEMS = 500
MAX_TEXT = 2000
MAX_AUTHORS = 100
TEXT_FIELDS = ("doi", "pmid", "pmcid", "arxiv", "title", "journal", "text", "key")
SOURCE = "batch"


def _text(item: dict[str, Any], name: str, where: str) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and name in ("pmid",):
        value = str(value)
    if not isinstance(value, str):
        raise BadRequest(f"{where}: '{name}' must be a string")
    if len(value) > MAX_TEXT:
        raise BadRequest(f"{where}: '{name}' is longer than {MAX_TEXT} characters")
    return value


def _entry(index: int, item: object) -> Entry:
    where = f"items[{index}]"
    if isinstance(item, str):
        if len(item) > MAX_TEXT:
            raise BadRequest(f"{where} is longer than {MAX_TEXT} characters")
        return entry_from_text(SOURCE, f"item {index + 1}", None, item.strip())
    if not isinstance(item, dict):
        raise BadRequest(f"{where} must be a string or an object")
    fields = {name: _text(item, name, where) for name in TEXT_FIELDS}
    authors = item.get("authors") or []
    if not isinstance(authors, list) or len(authors) > MAX_AUTHORS or not all(
            isinstance(a, str) and len(a) <= MAX_TEXT for a in authors):
        raise BadRequest(f"{where}: 'authors' must be a list of at most {MAX_AUTHORS} strings")
    year = item.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, (int, str))):
        raise BadRequest(f"{where}: 'year' must be a number or a string")
    return make_entry(SOURCE, fields["key"] or f"item {index + 1}", None, doi=fields["doi"],
                      pmid=fields["pmid"], pmcid=fields["pmcid"], arxiv=fields["arxiv"],
                      title=fields["title"], authors=tuple(authors), year=year,
                      journal=fields["journal"], text=fields["text"])


def batch_entries(data: dict[str, Any]) -> list[Entry]:
    """The entries a /v1/batch body asks about, or the BadRequest that says what is wrong."""
    items = data.get("items")
    if not isinstance(items, list):
        raise BadRequest("send {\"items\": [...]}: identifiers, references or reference objects")
    if not items:
        raise BadRequest("'items' is empty")
    if len(items) > MAX_ITEMS:
        raise BadRequest(f"at most {MAX_ITEMS} items per batch (got {len(items)}); "
                         "for a longer list use `oahelper audit`")
    return [_entry(i, item) for i, item in enumerate(items)]
