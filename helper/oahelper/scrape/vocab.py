"""Which meta tags and JSON-LD keys say what: the scraper's vocabulary.

A field is read from the first *family* (in ``FAMILY_ORDER``) that has a value,
and within a family from the first name listed that has one. Names are matched
case-insensitively against a meta tag's ``name``, ``property``, ``itemprop`` and
``id``. To teach the scraper a new tag, add its name here.

Deliberately absent: ``citation_journal_abbrev`` (an abbreviation or even a site
code, never the journal's name), ``dc.source`` (free text such as "Journal 1977 37:1" or a URL) and
``description``/``keywords`` (often stale copies from another article).
"""

from __future__ import annotations

# Highest precedence first. "json_ld" is read from <script type=application/ld+json>,
# "microdata" from schema.org itemprop meta tags, the rest from meta tags.
FAMILY_ORDER = ("highwire", "bepress", "dublin_core", "json_ld", "microdata", "opengraph")
# Families whose date tags are written as the citation's own date; the others'
# dates are often the e-pub date (Atypon's dc.Date), see issue_date.py.
CITATION_DATE_FAMILIES = frozenset({"highwire", "bepress"})

META_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "title": {
        "highwire": ("citation_title",),
        "bepress": ("bepress_citation_title", "eprints.title", "prism.title"),
        "dublin_core": ("dc.title", "dcterms.title"),
        "microdata": ("headline",),
        "opengraph": ("og:title", "twitter:title"),
    },
    "authors": {
        "highwire": ("citation_author", "citation_authors"),
        "bepress": ("bepress_citation_author", "eprints.creators_name"),
        "dublin_core": ("dc.creator", "dcterms.creator", "dc.contributor",
                        "dcterms.contributor"),
    },
    "journal": {
        "highwire": ("citation_journal_title", "citation_conference_title",
                     "citation_inbook_title", "citation_book_title", "citation_series_title"),
        "bepress": ("bepress_citation_journal_title", "eprints.publication",
                    "prism.publicationname"),
        "dublin_core": ("dc.relation.ispartof", "dcterms.ispartof",
                        "dc.citation.journaltitle"),
    },
    "date": {
        "highwire": ("citation_publication_date", "citation_date", "citation_cover_date",
                     "citation_year", "citation_online_date"),
        "bepress": ("bepress_citation_date", "bepress_citation_publication_date",
                    "eprints.date", "prism.publicationdate", "prism.coverdate"),
        "dublin_core": ("dc.date.issued", "dcterms.issued", "dc.issued", "dc.date",
                        "dcterms.date", "dcterms.created", "dc.date.created"),
        "microdata": ("datepublished",),
        "opengraph": ("article:published_time",),
    },
    "publisher": {
        "highwire": ("citation_publisher", "citation_technical_report_institution",
                     "citation_dissertation_institution"),
        "bepress": ("bepress_citation_publisher", "eprints.publisher", "prism.publisher"),
        "dublin_core": ("dc.publisher", "dcterms.publisher"),
    },
    "pdf_url": {
        "highwire": ("citation_pdf_url",),
        "bepress": ("bepress_citation_pdf_url", "eprints.document_url"),
    },
    "author_email": {
        "highwire": ("citation_author_email",),
        "bepress": ("bepress_citation_author_email",),
    },
    "isbn": {
        "highwire": ("citation_isbn",),
        "bepress": ("bepress_citation_isbn", "eprints.isbn", "prism.isbn"),
    },
    "pmid": {"highwire": ("citation_pmid",)},
    "pmcid": {"highwire": ("citation_pmcid",)},
    "arxiv": {"highwire": ("citation_arxiv_id",)},
}

# JSON-LD properties per field, read from the article's own node.
JSONLD_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("headline", "name"),
    "authors": ("author", "creator"),
    "journal": ("isPartOf",),
    "date": ("datePublished", "dateCreated"),
    "publisher": ("publisher",),
    "isbn": ("isbn",),
}

# DOI tiers 1–3 (docs/scraping.md): the meta names each tier reads.
DOI_CITATION_NAMES = ("citation_doi", "bepress_citation_doi")
DOI_QUALIFIED_NAMES = ("dc.identifier.doi", "prism.doi", "doi", "dc.doi")
DC_IDENTIFIER_NAMES = ("dc.identifier", "dcterms.identifier")

# A page "has citation metadata" when it carries any tag with these prefixes...
CITATION_PREFIXES = ("citation_", "bepress_citation_", "eprints.", "prism.")
# ...or Dublin Core that only scholarly records use (a news site's plain
# dc.title/dc.identifier do not count).
DC_SCHOLARLY_NAMES = ("dc.relation.ispartof", "dcterms.ispartof", "dcterms.bibliographiccitation",
                      "dc.citation.volume", "dc.citation.issue", "dc.citation.spage",
                      "dc.citation.journaltitle")
# JSON-LD types that describe a scholarly work.
SCHOLARLY_JSONLD_TYPES = frozenset({
    "ScholarlyArticle", "MedicalScholarlyArticle", "Thesis", "Chapter", "Report",
})

# Other tags the scraper reads outside the field tables. ``citation_reference`` (the
# works the article cites) goes to Article.references only, never to its own fields.
REFERENCE_META_NAME = "citation_reference"
OTHER_META_NAMES = ("og:url", "og:site_name", "application-name", "og:type", REFERENCE_META_NAME)


def _all_meta_names() -> frozenset[str]:
    names: set[str] = set(DOI_CITATION_NAMES + DOI_QUALIFIED_NAMES + DC_IDENTIFIER_NAMES)
    names.update(DC_SCHOLARLY_NAMES, OTHER_META_NAMES)
    for families in META_NAMES.values():
        for family_names in families.values():
            names.update(family_names)
    return frozenset(names)


READ_META_NAMES = _all_meta_names()


def meta_is_read(key: str) -> bool:
    """True for a (lower-cased) meta name some extractor reads."""
    return key in READ_META_NAMES
