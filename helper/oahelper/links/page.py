"""A link's HTML answer as text and as the few facts the classifier reads.

The body is decoded as the page reader decodes pages (scrape/decode.py) and parsed at most once with
lxml; ``PageFacts`` holds what comes out of that one tree: the page's DOIs and
titles from its metadata, its <title>, and the PDF link it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import lxml.etree
import lxml.html

from oahelper.identifiers import doi_key, normalise_doi
from oahelper.links.markers import DOI_META, PDF_META, TITLE_HINTS, TITLE_META
from oahelper.scrape.decode import decode_html, decode_labelled
from oahelper.text import absolute_url, clean

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
# What an HTML (or XHTML) answer starts with, after blanks; searched in the first bytes.
_MARKUP = re.compile(rb"<(?:!doctype|html|head|body|title|meta|script|!--|\?xml|div|form)\b",
                     re.IGNORECASE)
_SNIFF_WINDOW = 1024
_DOI_SCHEMES = frozenset({None, "doi"})
# A meta tag is filed under every name it carries (docs/scraping.md: ``<meta id="DOI">`` too).
_NAME_ATTRIBUTES = ("name", "property", "itemprop", "id")


def decode(body: bytes, content_type: str) -> str:
    """The body as text, by the browser's rules the page reader follows
    (scrape/decode.py): the header's charset when the Encoding Standard knows it,
    else the page's own declaration or BOM, else UTF-8; bad bytes replaced."""
    header = _HEADER_CHARSET.search(content_type)
    text = decode_labelled(body, header.group(1) if header else None)
    return text if isinstance(text, str) else decode_html(body)


def looks_like_markup(body: bytes) -> bool:
    """The first bytes are HTML or XML markup (what a browser would render as a page)."""
    return _MARKUP.search(body, 0, _SNIFF_WINDOW) is not None


def _parse(text: str) -> lxml.html.HtmlElement | None:
    """The page's tree, or None for what lxml finds no document in."""
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, no_network=True)
    try:
        return lxml.html.document_fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return None


@dataclass(frozen=True)
class MetaTag:
    name: str
    content: str
    scheme: str | None


class PageFacts:
    """The facts of one HTML answer, each read once from one parsed tree.

    ``url`` resolves the PDF link. ``text`` is the decoded page; ``lowered`` the same,
    lower-cased, for the marker tables."""

    def __init__(self, text: str, url: str) -> None:
        self.text, self.url = text, url

    @cached_property
    def lowered(self) -> str:
        return self.text.lower()

    @cached_property
    def _tree(self) -> lxml.html.HtmlElement | None:
        return _parse(self.text)

    @cached_property
    def _meta(self) -> tuple[MetaTag, ...]:
        if self._tree is None:
            return ()
        tags: list[MetaTag] = []
        for element in self._tree.iter("meta"):
            content = clean(element.get("content"))
            scheme = (element.get("scheme") or "").strip().lower() or None
            names = {(element.get(attr) or "").strip().lower() for attr in _NAME_ATTRIBUTES}
            tags.extend(MetaTag(name, content, scheme) for name in sorted(names) if name and content)
        return tuple(tags)

    def meta(self, names: tuple[str, ...]) -> list[MetaTag]:
        wanted = frozenset(names)
        return [tag for tag in self._meta if tag.name in wanted]

    @cached_property
    def dois(self) -> frozenset[str]:
        """The keys of the DOIs the page's metadata gives itself (DC identifiers with
        another scheme, or that are no DOI, such as HAL's URLs, do not count)."""
        found = (normalise_doi(tag.content) for tag in self.meta(DOI_META) if tag.scheme in _DOI_SCHEMES)
        return frozenset(doi_key(doi) for doi in found if doi)

    @cached_property
    def meta_titles(self) -> tuple[str, ...]:
        """The titles the page's citation metadata gives."""
        return tuple(tag.content for tag in self.meta(TITLE_META))

    @cached_property
    def title(self) -> str:
        """The <title>, whitespace collapsed ("" when there is none)."""
        element = self._tree.find(".//title") if self._tree is not None else None
        return clean(element.text_content()) if element is not None else ""

    @cached_property
    def hint_titles(self) -> tuple[str, ...]:
        """Titles that only confirm: og:title, twitter:title and the <title>."""
        hints = tuple(tag.content for tag in self.meta(TITLE_HINTS))
        return (*hints, self.title) if self.title else hints

    @cached_property
    def pdf_url(self) -> str | None:
        """The PDF the page names: ``citation_pdf_url`` (or kin), else a
        ``<link rel=alternate type=application/pdf>``, absolute against ``url``."""
        for tag in self.meta(PDF_META):
            if url := absolute_url(tag.content, self.url):
                return url
        if self._tree is not None:
            for link in self._tree.iter("link"):
                if (link.get("type") or "").strip().lower() == "application/pdf" and \
                        "alternate" in (link.get("rel") or "").lower().split():
                    if url := absolute_url(link.get("href"), self.url):
                        return url
        return None
