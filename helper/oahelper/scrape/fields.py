"""The article's citation fields, each from the highest-precedence family that has it.

Families and names come from ``vocab.py``; this module only knows how to read a
family (meta tags or JSON-LD) and how to clean each field's value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from oahelper.identifiers import (
    isbn_key,
    normalise_isbn,
    normalise_pmcid,
    normalise_pmid,
)
from oahelper.scrape import jsonld
from oahelper.scrape.document import Page
from oahelper.scrape.issue_date import labelled_issue_year
from oahelper.scrape.urls import ids_from_url
from oahelper.scrape.vocab import (
    CITATION_DATE_FAMILIES,
    CITATION_PREFIXES,
    DC_SCHOLARLY_NAMES,
    FAMILY_ORDER,
    JSONLD_KEYS,
    META_NAMES,
    SCHOLARLY_JSONLD_TYPES,
)
from oahelper.text import absolute_url, clean, first_year


def _jsonld_values(page: Page, field: str) -> list[str]:
    """The field from the first work node that has it."""
    for node in page.jsonld:
        for key in JSONLD_KEYS.get(field, ()):
            if field == "journal":
                name = jsonld.container_name(node.get(key))
                values = [name] if name else []
            else:
                values = jsonld.texts(node.get(key))
            if values:
                return values
    return []


def family_candidates(page: Page, field: str) -> Iterator[tuple[str, list[str]]]:
    """The field's values family by family, highest precedence first, with the family."""
    names = META_NAMES.get(field, {})
    for family in FAMILY_ORDER:
        if family == "json_ld":
            values = _jsonld_values(page, field)
        else:
            values = page.meta.contents(names.get(family, ()))
        if values:
            yield family, values


def candidates(page: Page, field: str) -> Iterator[list[str]]:
    """The field's values family by family, highest precedence first."""
    return (values for _, values in family_candidates(page, field))


def first_value(page: Page, field: str) -> str | None:
    """The field's first value from the highest family that has one."""
    return next((values[0] for values in candidates(page, field)), None)


# --- <title> ------------------------------------------------------------------

# " | ", " - ", " – ", " — ", " :: ", " » ", " · " between a title and a site name.
_TITLE_SEPARATOR = re.compile(r"(\s+(?:\||-|–|—|::|»|·)\s+)")


def title_tag_parts(page: Page) -> list[str]:
    """``<title>`` split at separators, separators kept at odd indexes."""
    return _TITLE_SEPARATOR.split(page.title_tag or "")


def title_from_tag(page: Page) -> str | None:
    """``<title>`` without the site's name (a leading one when the page names its
    site, else the last segment)."""
    parts = title_tag_parts(page)
    if len(parts) < 3:
        return clean("".join(parts)) or None
    site_names = {s.casefold() for s in page.meta.contents(("og:site_name", "application-name"))}
    if parts[0].casefold() in site_names:
        return clean("".join(parts[2:])) or None
    return clean("".join(parts[:-2])) or None


def container_from_title_tag(page: Page, title: str) -> str | None:
    """The segment that follows the article's title in ``<title>``: on pages that
    have no Highwire tags (Atypon and the like) it is the journal's name."""
    parts = title_tag_parts(page)
    wanted = clean(title).casefold()
    # Separators start and end with whitespace, so the words of the parts before a
    # separator are the words of their join: grown part by part, not joined again
    # for every separator (a title of a thousand " | " would be quadratic).
    words: list[str] = []
    length = -1  # of " ".join(words).casefold()
    for end in range(1, len(parts) - 1, 2):
        for word in parts[end - 1].split():
            words.append(word)
            length += len(word.casefold()) + 1
        if length > len(wanted):
            return None
        if length == len(wanted) and " ".join(words).casefold() == wanted:
            return clean(parts[end + 1]) or None
        for word in parts[end].split():
            words.append(word)
            length += len(word.casefold()) + 1
    return None


# --- Fields -------------------------------------------------------------------

def authors(page: Page) -> tuple[str, ...]:
    """The authors as the page writes them, from the highest family that lists any."""
    for values in candidates(page, "authors"):
        # Old Highwire pages pack every author into one "citation_authors" tag.
        names = [clean(n) for value in values for n in value.split(";")]
        names = [n for n in names if n]
        if names:
            return tuple(names)
    return ()


def journal(page: Page) -> str | None:
    """The container: journal, proceedings or book title (never an abbreviation)."""
    return first_value(page, "journal")


def year(page: Page, scholarly: bool = True) -> int | None:
    """The first family's date that holds a year. Only Highwire and bepress
    dates are written as the citation's date; below them, on a ``scholarly``
    page, a date the page labels as the issue's beats the others, which are
    often the e-pub date (``issue_date.py``)."""
    def issue_year() -> int | None:
        return labelled_issue_year(page.text) if scholarly else None

    for family, values in family_candidates(page, "date"):
        found = next((y for y in map(first_year, values) if y), None)
        if found:
            return found if family in CITATION_DATE_FAMILIES else issue_year() or found
    return issue_year()


def publisher(page: Page) -> str | None:
    """The publisher (or report/thesis institution)."""
    return first_value(page, "publisher")


def pdf_url(page: Page) -> str | None:
    """The PDF link, absolute: a citation tag, else ``<link rel=alternate type=pdf>``."""
    for values in candidates(page, "pdf_url"):
        for value in values:
            url = absolute_url(value, page.base_url)
            if url:
                return url
    return page.link_href("alternate", "application/pdf")


# "name{at}host", "name [at] host", "name(at)host" → name@host
_EMAIL_OBFUSCATION = re.compile(r"\s*[\[{(]\s*at\s*[\]})]\s*", re.IGNORECASE)
_EMAIL_DOT = re.compile(r"\s*[\[{(]\s*dot\s*[\]})]\s*", re.IGNORECASE)
# local@domain, one "@", no spaces; the domain must have a dot inside it (checked apart:
# a pattern that backtracks over the dots is quadratic in a long value).
_EMAIL = re.compile(r"[^@\s]++@[^@\s]++")


def author_email(page: Page) -> str | None:
    """The first ``citation_author_email`` (the corresponding author), de-obfuscated."""
    for values in candidates(page, "author_email"):
        for value in values:
            email = _EMAIL_DOT.sub(".", _EMAIL_OBFUSCATION.sub("@", value))
            email = email.removeprefix("mailto:")
            if _EMAIL.fullmatch(email) and "." in email.partition("@")[2][1:-1]:
                return email
    return None


def isbns(page: Page) -> tuple[str, ...]:
    """Valid ISBNs as the page writes them, one per number."""
    found: dict[str, str] = {}
    for values in candidates(page, "isbn"):
        for value in values:
            isbn = normalise_isbn(value)
            if isbn and isbn_key(isbn) not in found:
                found[isbn_key(isbn)] = isbn
    return tuple(found.values())


def pmid(page: Page) -> str | None:
    """The PubMed id from ``citation_pmid``, else from a PubMed URL."""
    value = normalise_pmid(first_value(page, "pmid") or "")
    return value or _from_urls(page, "pmid")


def pmcid(page: Page) -> str | None:
    """The PMC id from ``citation_pmcid``, else from a PMC URL or canonical link."""
    value = normalise_pmcid(first_value(page, "pmcid") or "")
    return value or _from_urls(page, "pmcid")


def _from_urls(page: Page, field: str) -> str | None:
    for url in (page.url, page.canonical):
        value = ids_from_url(url).get(field)
        if value:
            return value
    return None


def has_citation_meta(page: Page) -> bool:
    """The page describes a scholarly work in its metadata (not merely a web page)."""
    names = page.meta_names_seen
    if any(name.startswith(CITATION_PREFIXES) or name in DC_SCHOLARLY_NAMES for name in names):
        return True
    return any(jsonld.node_types(node) & SCHOLARLY_JSONLD_TYPES for node in page.jsonld)
