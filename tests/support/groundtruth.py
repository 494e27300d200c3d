"""Scoring scrape() against a ground-truth file (the shared pages' expected.json).

Used by the corpus tests and ``scripts/corpus_score.py`` so both judge alike.
Comparison rules, chosen so that a difference a reader would not call a
difference does not count:

- text (title, container): Unicode NFKC, whitespace runs collapsed (NBSP and
  thin spaces included), case-folded.
- a person's name: the same words in any order once punctuation is dropped, so
  "Leinaas, J. M." equals "J. M. Leinaas" (pages and truth order names differently).
- year: any 4-digit year the expected text names ("2013 (issue; epub 2012-11-26)"
  accepts 2013 and 2012).
- DOI: case-insensitive; identifiers and PDF links: exact, ISBN by digits.
A field whose expected value is null is not scored, except the DOI: a page
whose truth is "no DOI" must give none.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oahelper.models import Article
from oahelper.identifiers import doi_key, isbn_key

_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_WORD = re.compile(r"\w+")


def same_text(got: str | None, expected: str) -> bool:
    """Equal after NFKC, whitespace collapsing and case folding."""
    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()
    return got is not None and norm(got) == norm(expected)


def same_name(got: str | None, expected: str) -> bool:
    """The same name words, in any order."""
    def words(text: str) -> list[str]:
        return sorted(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))
    return got is not None and words(got) == words(expected)


def same_year(got: int | None, expected: str) -> bool:
    """``got`` is one of the years the expected text names."""
    return got is not None and str(got) in _YEAR.findall(expected)


@dataclass(frozen=True)
class Check:
    """One scored field: where the truth lives and how to compare."""

    field: str
    expected: Callable[[dict[str, Any]], Any]
    right: Callable[[Article, Any], bool]


def _doi_right(article: Article, expected: str | None) -> bool:
    if expected is None:
        return article.doi is None
    return article.doi is not None and doi_key(article.doi) == doi_key(expected)


def _other_id(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda entry: (entry.get("other_ids") or {}).get(name)


CHECKS: tuple[Check, ...] = (
    Check("doi", lambda e: e["doi"], _doi_right),
    Check("title", lambda e: e.get("title"), lambda a, x: same_text(a.title, x)),
    Check("first_author", lambda e: e.get("first_author"),
          lambda a, x: same_name(a.authors[0] if a.authors else None, x)),
    Check("year", lambda e: e.get("year"), lambda a, x: same_year(a.year, x)),
    Check("container", lambda e: e.get("container"), lambda a, x: same_text(a.journal, x)),
    Check("pdf_url", lambda e: e.get("pdf_url"), lambda a, x: a.pdf_url == x),
    Check("pmid", _other_id("pmid"), lambda a, x: a.pmid == x),
    Check("pmcid", _other_id("pmcid"), lambda a, x: a.pmcid == x),
    Check("arxiv", _other_id("arxiv"), lambda a, x: a.arxiv == x),
    Check("isbn", _other_id("isbn"),
          lambda a, x: any(isbn_key(i) == isbn_key(x) for i in a.isbn)),
)
CHECKS_BY_FIELD = {check.field: check for check in CHECKS}


def scored(entry: dict[str, Any], field: str) -> bool:
    """The truth gives this field a value to score (the DOI is always scored)."""
    return field == "doi" or CHECKS_BY_FIELD[field].expected(entry) is not None


def is_right(entry: dict[str, Any], field: str, article: Article) -> bool:
    """The article gets this field right by the rules above."""
    check = CHECKS_BY_FIELD[field]
    return check.right(article, check.expected(entry))


def load_truth(pages_dir: Path) -> list[dict[str, Any]]:
    """The entries of ``expected.json`` in ``pages_dir``."""
    return json.loads((pages_dir / "expected.json").read_text(encoding="utf-8"))
