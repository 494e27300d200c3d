"""The works a page cites: its reference list, kept apart from the article's own fields.

Read from the ``citation_reference`` meta tags first. Publishers write them two ways:
Highwire-style fields (``citation_title=…; citation_author=…; citation_doi=…``) or a
whole formatted reference (bioRxiv); both are kept as the tag gives them. A page with
no such tags gives the doi.org links found in its reference list (a container whose
class or id says references/bibliography, or the part after a "References" heading).

Pure, and linear in the page's size. The tags are read with the rest of the page's
meta tags (``scrape`` fills ``Article.references``); the reference list in the body is
read, with lxml, only when asked for (``oahelper scrape``), since it costs a parse of
the whole body.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from oahelper.identifiers import find_dois, normalise_arxiv, normalise_doi, normalise_pmid
from oahelper.models import Reference
from oahelper.scrape.body import REFERENCE_HEADING, REFERENCE_TOKEN
from oahelper.scrape.decode import page_text
from oahelper.scrape.document import head_end
from oahelper.text import clean, first_year

# More than any article cites; past it a page is not a reference list we can use.
MAX_REFERENCES = 500
_FIELD = re.compile(r";\s*(?=citation_[a-z_]+\s*=)", re.IGNORECASE)
_KEY_VALUE = re.compile(r"^\s*(citation_[a-z_]+)\s*=\s*(.*?)\s*;?\s*$", re.IGNORECASE | re.DOTALL)
_ARXIV_IN_TEXT = re.compile(r"arXiv\s*:\s*([0-9]{4}\.[0-9]{4,5}|[a-z-]+(?:\.[A-Z]{2})?/[0-9]{7})",
                            re.IGNORECASE)
_PMID_IN_TEXT = re.compile(r"\bPMID\s*:?\s*(\d{1,9})\b")
_YEAR_KEYS = ("citation_publication_date", "citation_date", "citation_year", "citation_online_date")
_JOURNAL_KEYS = ("citation_journal_title", "citation_conference_title", "citation_book_title",
                 "citation_inbook_title", "citation_series_title")


def _from_fields(content: str) -> Reference:
    """``citation_title=…; citation_author=…; …`` (values may hold ``;`` themselves)."""
    fields: dict[str, list[str]] = {}
    for part in _FIELD.split(content):
        match = _KEY_VALUE.match(part)
        if match and clean(match.group(2)):
            fields.setdefault(match.group(1).lower(), []).append(clean(match.group(2)))

    def first(*keys: str) -> str | None:
        return next((fields[k][0] for k in keys if k in fields), None)

    year = first(*_YEAR_KEYS)
    return Reference(
        doi=normalise_doi(first("citation_doi") or ""),
        pmid=normalise_pmid(first("citation_pmid") or ""),
        arxiv=normalise_arxiv(first("citation_arxiv_id") or ""),
        title=first("citation_title"),
        authors=tuple(fields.get("citation_author", ())),
        year=first_year(year) if year else None,
        journal=first(*_JOURNAL_KEYS))


def _from_text(text: str) -> Reference:
    """A formatted reference: the identifiers written in it, and the text itself."""
    arxiv = _ARXIV_IN_TEXT.search(text)
    pmid = _PMID_IN_TEXT.search(text)
    return Reference(doi=next(find_dois(text), None),
                     arxiv=normalise_arxiv(arxiv.group(1)) if arxiv else None,
                     pmid=pmid.group(1) if pmid else None, text=text)


def reference_from_tag(content: str) -> Reference | None:
    """One ``citation_reference`` tag's content, read."""
    content = clean(content)
    if not content:
        return None
    if "citation_" in content and _KEY_VALUE.match(_FIELD.split(content)[0]):
        return _from_fields(content)
    return _from_text(content)


def tagged_references(contents: list[str]) -> tuple[Reference, ...]:
    """The ``citation_reference`` tags' contents, read (at most ``MAX_REFERENCES``)."""
    found = (reference_from_tag(content) for content in contents[:MAX_REFERENCES])
    return tuple(ref for ref in found if ref is not None)


# Candidates first by XPath (in C), then the exact token rules of body.py in Python:
# walking every element of a 1 MB page in Python would cost ~100 ms.
_CANDIDATES = etree.XPath(
    "//*[@role='doc-bibliography' or contains(translate(@class, 'REFBIL', 'refbil'), 'ref')"
    " or contains(translate(@class, 'REFBIL', 'refbil'), 'bibl')"
    " or contains(translate(@id, 'REFBIL', 'refbil'), 'ref')"
    " or contains(translate(@id, 'REFBIL', 'refbil'), 'bibl')"
    " or contains(@class, 'cited') or contains(@id, 'cited')]"
    " | //h1 | //h2 | //h3 | //h4 | //h5 | //h6")


# What lxml.html's ``text_content`` evaluates (the stubs give the elements of an lxml.html
# tree as plain ``_Element``, without it).
_STRING = etree.XPath("string()")


def _text_content(element: etree._Element) -> str:
    """The text inside ``element``, its descendants' included."""
    text = _STRING(element)
    return text if isinstance(text, str) else ""


def _reference_containers(body: etree._Element) -> list[etree._Element]:
    """Elements holding a reference list: by class/id/role, or after a "References" heading."""
    found: list[etree._Element] = []
    candidates = _CANDIDATES(body)
    for element in candidates if isinstance(candidates, list) else ():
        if not isinstance(element, etree._Element):  # the XPath selects elements only
            continue
        if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            parent = element.getparent()
            if REFERENCE_HEADING.match(_text_content(element)) and parent is not None:
                found.append(parent)
            continue
        tokens = [*(element.get("class") or "").split(), element.get("id") or ""]
        if (element.get("role") or "").lower() == "doc-bibliography" or any(
                REFERENCE_TOKEN.search(t) for t in tokens if t):
            found.append(element)
    # Keep the outermost containers only: a list inside a "references" section once.
    outer = set(found)
    return [e for e in found if not any(a in outer for a in e.iterancestors())]


def _linked(text: str) -> list[Reference]:
    """doi.org links inside the page's reference list, one reference per list item."""
    start = head_end(text)
    if "doi.org/" not in text[start:].lower():
        return []
    body = lxml.html.fromstring(text[start:] or "<p></p>")
    found: list[Reference] = []
    seen: set[str] = set()
    for container in _reference_containers(body):
        for link in container.iter("a"):
            href = link.get("href") or ""
            doi = normalise_doi(href) if "doi.org/" in href.lower() else None
            if not doi or doi.casefold() in seen:
                continue
            seen.add(doi.casefold())
            item = next((a for a in link.iterancestors() if a.tag == "li"), link)
            found.append(Reference(doi=doi, text=clean(_text_content(item))[:1000] or None))
    return found


def linked_references(html: str | bytes) -> tuple[Reference, ...]:
    """The doi.org links of the page's reference list (for pages without
    ``citation_reference`` tags; this parses the whole body, so the lookup path,
    which must stay fast, does not call it)."""
    try:
        return tuple(_linked(page_text(html))[:MAX_REFERENCES])
    except (etree.ParserError, ValueError):  # an empty or unparsable body: no list
        return ()
