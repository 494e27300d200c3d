"""Is this text about the article? DOI and title comparisons for pages and PDFs.

PDF text layers break a DOI over lines, hyphenate it, put spaces in it
(``C h a r l e s``), drop ligature glyphs ("Simplied" for "Simplified") and split
words ("Ra tes"); page titles carry the site's name. So titles are compared
*squeezed* (letters and digits only, case-folded, ligatures and accents undone) and
fuzzily (rapidfuzz); a DOI is matched letter by letter with any whitespace, soft
hyphen or hyphenated line break between the letters.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz import fuzz

from oahelper.identifiers import doi_key, find_dois

# Squeezed titles shorter than this ("Editorial", "Introduction") must match exactly:
# fuzzy scores of short strings against long text are high by chance.
MIN_FUZZY_TITLE = 20
# The recorded PDFs score 98-100 against their own titles and at most 60 against the
# other seven (test_links_pdf.py's test_title_scores_of_the_recorded_pdfs_are_far_apart).
TITLE_SCORE = 90.0
# The many dashes typesetters print for "-", and the soft hyphen they hide in words.
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"}
                        | {"\u00ad": None})
# Between two letters of a DOI: spaces and line breaks, and a hyphen that only
# breaks the line (a DOI's own hyphen is matched by its letter first, then this).
_DOI_GAP = r"\s*+(?:-[^\S\n]*+\n\s*+)?"


def squeeze(text: str) -> str:
    """Letters and digits only, case-folded; ``ﬁ`` → ``fi``, ``ö`` → ``o``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_DASHES)).casefold()
    return "".join(c for c in decomposed if c.isalnum())


def same_title(expected: str | None, found: str | None) -> bool:
    """Two titles of one work: equal when squeezed, or nearly (one may carry a site
    name or a subtitle the other lacks, at most twice as long plus a name's length)."""
    a, b = squeeze(expected or ""), squeeze(found or "")
    if not a or not b:
        return False
    short, long = sorted((a, b), key=len)
    if len(short) < MIN_FUZZY_TITLE:
        return a == b
    if len(long) > 2 * len(short) + MIN_FUZZY_TITLE:
        return False
    return fuzz.partial_ratio(short, long, score_cutoff=TITLE_SCORE) >= TITLE_SCORE


def title_in_text(title: str | None, text: str) -> bool:
    """``title`` written somewhere in ``text`` (a PDF's first page), squeezed."""
    wanted, haystack = squeeze(title or ""), squeeze(text)
    if not wanted or not haystack:
        return False
    if wanted in haystack:
        return True
    if len(wanted) < MIN_FUZZY_TITLE:
        return False
    return fuzz.partial_ratio(wanted, haystack, score_cutoff=TITLE_SCORE) >= TITLE_SCORE


@lru_cache(maxsize=256)
def _doi_pattern(doi: str) -> re.Pattern[str]:
    """``doi`` letter by letter with ``_DOI_GAP`` between; it must not run on into a
    longer DOI (``…14-1`` is not ``…14-10``)."""
    key = doi_key(doi).translate(_DASHES)
    end = r"(?!\d)" if key[-1].isdigit() else r"(?![^\W\d_])" if key[-1].isalpha() else ""
    return re.compile(r"(?<!\d)" + _DOI_GAP.join(map(re.escape, key)) + end, re.IGNORECASE)


def doi_in_text(doi: str | None, text: str) -> bool:
    """``doi`` printed in ``text``, however the text layer broke it."""
    if not doi or not doi_key(doi):
        return False
    return _doi_pattern(doi).search(text.translate(_DASHES)) is not None


def dois_in_text(text: str) -> set[str]:
    """The keys of the DOIs printed in ``text`` (as written, unbroken)."""
    return {doi_key(doi) for doi in find_dois(text.translate(_DASHES))}
