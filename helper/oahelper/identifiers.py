"""Scholarly identifiers: recognise, normalise and parse them from typed text.

Every normaliser takes what a page or a user wrote and returns the canonical
string, or None when the text is not that kind of identifier. They are pure and
idempotent: ``f(f(x)) == f(x)`` for every ``x`` where ``f(x)`` is not None.

- DOI: ``10.`` + 4–9 digit registrant + ``/`` + suffix, case kept as found;
  compare with :func:`doi_key`.
- PMID: digits. PMCID: ``PMC`` + digits. arXiv: the id without version.
- ISBN: checksum-checked, written as on the page (hyphens kept, ``x`` upper-cased,
  spaces turned into hyphens); compare with :func:`isbn_key`.
- E-mail: is an address one a person could read? Unpaywall refuses the ones that
  are not (:func:`email_problem`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import unquote

from oahelper.models import Article

# --- DOI -------------------------------------------------------------------

# A DOI suffix is printable: never whitespace, a control character, a lone
# surrogate (JSON-LD can escape one in; it cannot even be sent as UTF-8) or
# U+FFFD (a decoder's mark for bytes that made no sense, e.g. a NUL in a page).
_NOT_IN_DOI = r"\s\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffd"
_DOI_FULL = re.compile(rf"^10\.[0-9]{{4,9}}/[^{_NOT_IN_DOI}]+$")
# Where a DOI starts inside running text or a URL (the suffix runs to whitespace
# or a character that cannot end an attribute or sit in a URL path).
_DOI_IN_TEXT = re.compile(rf"10\.[0-9]{{4,9}}/[^{_NOT_IN_DOI}\"'<>]+")
# Prefixes people and pages put before a DOI; stripped repeatedly, longest first.
_DOI_PREFIXES = re.compile(
    r"(?:https?://)?(?:(?:dx\.|www\.)?doi\.org/|hdl\.handle\.net/)"
    r"|(?:urn:)?doi\s*+[:/]\s*+|info:doi/|doi\s++",
    re.IGNORECASE,
)
_TRAILING_PUNCT = ".,;:"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
# Clean-up rounds a DOI may need (each percent-decodes once more); text that still
# changes after that many is no DOI, and refusing it keeps the work linear.
_MAX_DOI_ROUNDS = 4


def _is_doi(text: str) -> bool:
    return bool(_DOI_FULL.match(text))


def _trim_doi_end(doi: str) -> str:
    """Drop trailing punctuation and closing brackets that have no opener."""
    unmatched = {closer: doi.count(closer) - doi.count(opener) for closer, opener in _CLOSERS.items()}
    end = len(doi)
    while end:
        last = doi[end - 1]
        if last in _TRAILING_PUNCT:
            end -= 1
        elif last in _CLOSERS and unmatched[last] > 0:
            unmatched[last] -= 1
            end -= 1
        else:
            break
    return doi[:end]


def _strip_prefixes(text: str) -> str:
    """``text`` without the DOI prefixes (and spaces) it starts with, found in one pass."""
    pos = len(text) - len(text.lstrip())
    while (prefix := _DOI_PREFIXES.match(text, pos)) is not None and prefix.end() > pos:
        pos = prefix.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return text[pos:].rstrip()


def _doi_step(text: str) -> str | None:
    """One pass of DOI clean-up; each change it makes shortens the text."""
    text = _strip_prefixes(text)
    if _PERCENT.search(text):
        decoded = unquote(text)
        # Decode only when the result still reads as a DOI on its own (a "%20"
        # turning into a space would cut the suffix short).
        if _is_doi(decoded) or not _is_doi(text):
            text = _strip_prefixes(decoded)
    words = text.split(maxsplit=1)
    text = words[0] if words else ""
    trimmed = _trim_doi_end(text)
    if _is_doi(trimmed):
        return trimmed
    return text if _is_doi(text) else None


def clean_doi(text: str) -> str | None:
    """``text`` itself when it is already a bare, clean DOI (``normalise_doi`` returns
    it unchanged), else None: the cheap test for the lines of a long list."""
    if _is_doi(text) and text[-1] not in _TRAILING_PUNCT and text[-1] not in _CLOSERS \
            and "%" not in text:
        return text
    return None


def normalise_doi(text: object) -> str | None:
    """The DOI in ``text`` (a bare DOI, ``doi:…``, a doi.org URL…), or None."""
    if not isinstance(text, str):
        return None
    if clean_doi(text) is not None:
        return text  # already bare and clean: what the steps below would return
    current = _doi_step(text)
    # Repeat until nothing changes, so the result is a fixed point (idempotent).
    for _ in range(_MAX_DOI_ROUNDS):
        if current is None:
            return None
        following = _doi_step(current)
        if following is None or following == current:
            return current
        current = following
    return None


def doi_key(doi: str) -> str:
    """The case-folded key to compare and cache DOIs by."""
    return (normalise_doi(doi) or doi.strip()).casefold()


def find_dois(text: str) -> Iterator[str]:
    """Every DOI written in running text or a URL, normalised, in page order."""
    for match in _DOI_IN_TEXT.finditer(text):
        doi = normalise_doi(match.group(0))
        if doi:
            yield doi


# --- PubMed, PMC, arXiv ------------------------------------------------------

_PMID = re.compile(r"^(?:pmid\s*[:=]?\s*)?0*([1-9][0-9]{0,8})$", re.IGNORECASE)
_PMCID = re.compile(r"^(?:pmcid\s*[:=]?\s*)?(?:pmc\s*)?0*([1-9][0-9]{0,9})$", re.IGNORECASE)
_ARXIV_PREFIX = re.compile(
    r"^(?:arxiv\s*:\s*|(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/)",
    re.IGNORECASE,
)
_ARXIV_NEW = re.compile(r"^([0-9]{4}\.[0-9]{4,5})(?:v[0-9]+)?(?:\.pdf)?/?$", re.IGNORECASE)
_ARXIV_OLD = re.compile(r"^([a-z][a-z-]*(?:\.[a-z]{2})?/[0-9]{7})(?:v[0-9]+)?(?:\.pdf)?/?$",
                        re.IGNORECASE)


def normalise_pmid(text: str) -> str | None:
    """A PubMed id as plain digits (``"PMID: 123"`` → ``"123"``), or None."""
    match = _PMID.match(text.strip()) if isinstance(text, str) else None
    return match.group(1) if match else None


def normalise_pmcid(text: str) -> str | None:
    """A PubMed Central id as ``PMC`` + digits (``"pmc 123"`` → ``"PMC123"``)."""
    match = _PMCID.match(text.strip()) if isinstance(text, str) else None
    return f"PMC{match.group(1)}" if match else None


def normalise_arxiv(text: object) -> str | None:
    """An arXiv id without version or prefix: ``1706.03762``, ``hep-th/9901001``."""
    if not isinstance(text, str):
        return None
    text = _ARXIV_PREFIX.sub("", text.strip(), count=1)
    match = _ARXIV_NEW.match(text)
    if match:
        ident = match.group(1)
        # Sequence numbers have 4 digits until 2014 (YYMM 0704–1412), 5 since 2015.
        wanted_digits = 5 if ident[:4] >= "1501" else 4
        return ident if len(ident) - 5 == wanted_digits else None
    match = _ARXIV_OLD.match(text)
    # Old-style archive names are lower case; the subject class keeps its case.
    return match.group(1)[0].lower() + match.group(1)[1:] if match else None


def arxiv_doi(arxiv_id: str) -> str:
    """The DataCite DOI arXiv registers for every paper."""
    return f"10.48550/arXiv.{arxiv_id}"


# --- ISBN --------------------------------------------------------------------

_ISBN_PREFIX = re.compile(r"^isbn(?:-1[03])?\s*:?\s*", re.IGNORECASE)
_ISBN_CHARS = re.compile(r"^[0-9][0-9 -]*[0-9Xx]$")


def _isbn_checksum_ok(digits: str) -> bool:
    if len(digits) == 10:
        values = [10 if c == "X" else int(c) for c in digits]
        if "X" in digits[:-1]:
            return False
        return sum((10 - i) * v for i, v in enumerate(values)) % 11 == 0
    if len(digits) == 13 and digits.isdigit():
        return sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(digits)) % 10 == 0
    return False


def isbn_key(isbn: str) -> str:
    """The ISBN's digits (and final X) alone, to compare ISBNs written differently."""
    return re.sub(r"[^0-9X]", "", isbn.upper())


def normalise_isbn(text: object) -> str | None:
    """A valid ISBN-10 or ISBN-13 written as on the page, or None.

    Hyphens are kept where the page put them (spaces become hyphens, ``x``
    becomes ``X``); the checksum must hold.
    """
    if not isinstance(text, str):
        return None
    text = _ISBN_PREFIX.sub("", text.strip(), count=1).upper()
    if not _ISBN_CHARS.match(text):
        return None
    text = re.sub(r"[ -]+", "-", text)
    return text if _isbn_checksum_ok(isbn_key(text)) else None


# --- What a user types --------------------------------------------------------

_PMID_QUERY = re.compile(r"^pmid\s*[:\s]\s*([0-9]+)$", re.IGNORECASE)
_PMCID_QUERY = re.compile(r"^(?:pmcid\s*[:\s]\s*)?(pmc\s*[0-9]+)$", re.IGNORECASE)
_ARXIV_QUERY = re.compile(
    r"^(?:arxiv\s*:\s*|(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/)",
    re.IGNORECASE,
)


def _query_pmid(text: str) -> Article | None:
    match = _PMID_QUERY.match(text)
    pmid = normalise_pmid(match.group(1)) if match else None
    return Article(pmid=pmid) if pmid else None


def _query_pmcid(text: str) -> Article | None:
    match = _PMCID_QUERY.match(text)
    pmcid = normalise_pmcid(match.group(1)) if match else None
    return Article(pmcid=pmcid) if pmcid else None


def _query_arxiv(text: str) -> Article | None:
    ident = normalise_arxiv(text) if _ARXIV_QUERY.match(text) else None
    return Article(arxiv=ident, doi=arxiv_doi(ident)) if ident else None


def _query_doi(text: str) -> Article | None:
    doi = normalise_doi(text)
    return Article(doi=doi) if doi else None


# Tried in order; the first that recognises the text wins.
_QUERY_PARSERS: tuple[Callable[[str], Article | None], ...] = (
    _query_pmid, _query_pmcid, _query_arxiv, _query_doi,
)


def parse_query(text: str) -> Article | None:
    """What ``oahelper lookup …`` was given, as an Article with that identifier.

    Understands a bare DOI, a doi.org URL, ``doi:…``, ``pmid:123``/``PMID 123``,
    ``PMC123``, ``arXiv:1706.03762`` and arxiv.org/abs URLs. Anything else
    (a publisher URL, a title) gives None.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip()
    for parser in _QUERY_PARSERS:
        article = parser(text)
        if article is not None:
            return article
    return None


# --- E-mail ----------------------------------------------------------------

# RFC 2606/6761 names can never receive mail; "your-university.edu" is the example
# oahelper's own messages give, so pasting it unchanged must not pass for a real address.
RESERVED_DOMAINS = ("example.com", "example.org", "example.net", "your-university.edu")
RESERVED_TLDS = ("example", "test", "invalid", "localhost")
_SHAPE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def is_placeholder_email(email: str) -> bool:
    """True for an address that cannot be anybody's: no ``@``, or a reserved domain."""
    local, _, domain = email.strip().rpartition("@")
    domain = domain.lower().rstrip(".")
    if not local or not domain:
        return True
    if domain in RESERVED_DOMAINS or any(domain.endswith("." + d) for d in RESERVED_DOMAINS):
        return True
    return domain.rsplit(".", 1)[-1] in RESERVED_TLDS


def is_email_address(text: str) -> bool:
    """True for text shaped like an address: one ``@``, a dotted domain, no spaces."""
    return bool(_SHAPE.match(text.strip()))


def email_problem(email: str) -> str | None:
    """Why ``email`` will not do for Unpaywall, in plain words, or None."""
    if not is_email_address(email):
        return f"{email!r} is not an e-mail address"
    if is_placeholder_email(email):
        return f"{email!r} is a placeholder address, which Unpaywall refuses: give your own"
    return None
