"""DOIs in the visible body: the last resort (DOI tier 8).

A body is full of other works' DOIs (references, related articles, the journal's
own badge), so the caller accepts the result only when exactly one distinct DOI
is left after removing what is not the article's own text: scripts, styles,
navigation, footers and reference lists.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

from oahelper.scrape.document import head_end
from oahelper.scrape.identifiers import find_dois, normalise_doi

# Cheap test before parsing: no DOI-shaped text, nothing to do.
_ANY_DOI = re.compile(r"10\.\d{4,9}/")
_NOT_CONTENT_TAGS = ("script", "style", "noscript", "template", "nav", "footer", "iframe")
_NOT_CONTENT_ROLES = frozenset({"navigation", "contentinfo", "doc-bibliography"})
# A class or id token naming a reference list ("references", "ref-list",
# "c-article-references", "bibliography"…), matched per token.
REFERENCE_TOKEN = re.compile(
    r"(?:^|[-_])(?:references?|ref-?list|refs|reflist|bibliography|bibliographie|"
    r"works-cited|literature-cited)(?:$|[-_])",
    re.IGNORECASE,
)
REFERENCE_HEADING = re.compile(
    r"^\s*(?:\d+\.?\s*)?(?:references?|bibliography|works cited|literature cited|"
    r"références|literatur)\s*:?\s*$",
    re.IGNORECASE,
)
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _is_reference_list(tag: Tag) -> bool:
    if str(tag.get("role", "")).lower() in _NOT_CONTENT_ROLES:
        return True
    tokens = list(tag.get("class") or []) + [str(tag.get("id") or "")]
    return any(REFERENCE_TOKEN.search(token) for token in tokens if token)


def _drop_after_reference_heading(heading: Tag) -> None:
    """Remove a "References" heading and what follows it up to the next heading
    of the same or a higher level."""
    level = int(heading.name[1])
    sibling = heading.next_sibling
    heading.decompose()
    while sibling is not None:
        following = sibling.next_sibling
        if isinstance(sibling, Tag) and sibling.name in _HEADINGS and int(sibling.name[1]) <= level:
            break
        sibling.extract()
        sibling = following


def _strip_non_content(soup: BeautifulSoup) -> None:
    for tag in soup.find_all(_NOT_CONTENT_TAGS):
        tag.decompose()
    for tag in soup.find_all(_is_reference_list):
        if not tag.decomposed:
            tag.decompose()
    for heading in soup.find_all(_HEADINGS):
        if not heading.decomposed and REFERENCE_HEADING.match(heading.get_text(" ")):
            _drop_after_reference_heading(heading)


def body_dois(text: str) -> list[str]:
    """Every DOI left in the body's own text and doi.org links, in page order."""
    start = head_end(text)
    if not _ANY_DOI.search(text, start):
        return []
    soup = BeautifulSoup(text[start:], "lxml")
    _strip_non_content(soup)
    found = list(find_dois(soup.get_text(" ")))
    for link in soup.find_all("a", href=True):
        href = str(link["href"])
        if "doi.org/" in href.lower():
            doi = normalise_doi(href)
            if doi:
                found.append(doi)
    return found
