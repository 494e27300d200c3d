"""Is this search hit the work the user meant? Pure functions, no I/O.

Search engines always return a best guess (Crossref answers the PaperQA title with a
JAMIA Open paper, "Attention is All you Need" with "Self-Attention with Relative
Position Representations"), so every hit is checked here and accepted only when

- its normalised title is close to the one asked for (``rapidfuzz`` ratio ≥ 0.90;
  for a pasted reference, the hit's title must appear in the reference text);
- its year is within one of the year asked for, when both are known (preprint,
  online-first and issue dates differ between sources);
- its first author's family name is the one asked for, when both are known.

Among accepted hits the one with a publisher DOI wins over a preprint, then the
higher score. Nothing accepted: no match, never the closest guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from oahelper.identifiers import doi_key
from oahelper.models import Article, Candidate, WorkQuery
from oahelper.text import plain

TITLE_THRESHOLD = 0.90
# A title without its subtitle ("Deep learning" for "Deep learning: a review") is
# accepted only when it is this close to the hit's main title and long enough to say
# something; the score is then discounted.
MAIN_TITLE_THRESHOLD = 0.95
MAIN_TITLE_MIN_WORDS = 4
MAIN_TITLE_DISCOUNT = 0.95
# A reference must contain the hit's title this well (partial ratio), and the title
# must be long enough not to turn up inside any text by chance.
REFERENCE_MIN_WORDS = 3
AUTHOR_THRESHOLD = 0.85
YEAR_SLACK = 1
ARXIV_DOI = "10.48550/arxiv."
_NON_WORD = re.compile(r"[^\w]+")
_INITIALS = re.compile(r"^[A-Z]{1,3}$")


@dataclass(frozen=True)
class Match:
    """How a search identified the article: ``article.match`` in the payload."""

    by: str
    query: str
    score: float

    def to_json(self) -> dict[str, Any]:
        return {"by": self.by, "query": self.query, "score": self.score}


@dataclass(frozen=True)
class Choice:
    """The accepted hit, the other hits that are the same work and agree with it
    (best first), and the match."""

    best: Candidate
    agreeing: tuple[Candidate, ...]
    match: Match


def fold(text: str | None) -> str:
    """Lower-case words without accents, markup or punctuation."""
    text = unicodedata.normalize("NFKD", plain(text or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", text.casefold()).replace("_", " ").split())


def family_name(author: str | None) -> str:
    """The family name in "Family, Given", "Given Family" or MEDLINE's "Family GH"."""
    text = plain(author or "")
    if "," in text:
        return fold(text.split(",", 1)[0])
    words = text.split()
    if len(words) > 1 and _INITIALS.match(words[-1]):
        return fold(" ".join(words[:-1]))
    return fold(words[-1]) if words else ""


def _ratio(a: str, b: str) -> float:
    return fuzz.ratio(a, b) / 100.0 if a and b else 0.0


# Longest title read: real titles are under 500 characters; a search hit whose "title"
# is a whole document (Unpaywall's search returned a 120 KB one) is cut, not compared
# character by character.
MAX_TITLE = 1000


def title_score(query: WorkQuery, title: str | None) -> float:
    """How well a hit's title matches what was asked (0–1)."""
    theirs = fold((title or "")[:MAX_TITLE])
    if not theirs:
        return 0.0
    if query.kind == "reference":
        if len(theirs.split()) < REFERENCE_MIN_WORDS:
            return 0.0
        inside = fuzz.partial_ratio(theirs, fold(query.text)) / 100.0 if len(theirs) <= len(
            fold(query.text)) else 0.0
        return max(inside, _ratio(fold(query.title), theirs))
    ours = fold(query.title)
    score = _ratio(ours, theirs)
    if score < TITLE_THRESHOLD and len(ours.split()) >= MAIN_TITLE_MIN_WORDS:
        for mine, other in ((ours, fold((title or "").split(":", 1)[0])),
                            (fold(query.title.split(":", 1)[0]), theirs)):
            if mine != ours or other != theirs:
                main = _ratio(mine, other)
                if main >= MAIN_TITLE_THRESHOLD:
                    score = max(score, main * MAIN_TITLE_DISCOUNT)
    return score


def same_author(wanted: str | None, authors: Sequence[str]) -> bool | None:
    """Whether the hit's first author is the one asked for (None: cannot tell)."""
    ours = family_name(wanted)
    theirs = family_name(authors[0]) if authors else ""
    if not ours or not theirs:
        return None
    return ours == theirs or _ratio(ours, theirs) >= AUTHOR_THRESHOLD or (
        ours in theirs.split() or theirs in ours.split())


def same_work(query: WorkQuery, work: Article) -> float | None:
    """The hit's score when it is the work asked for, else None."""
    score = title_score(query, work.title)
    if score < TITLE_THRESHOLD:
        return None
    if query.year and work.year and abs(query.year - work.year) > YEAR_SLACK:
        return None
    if same_author(query.first_author, work.authors) is False:
        return None
    return round(score, 3)


def is_preprint_doi(doi: str | None) -> bool:
    return bool(doi) and doi_key(doi or "").startswith(ARXIV_DOI)


def _agrees(best: Article, other: Article) -> bool:
    """Same work by the identifiers too: no conflicting publisher DOI or arXiv id."""
    if other.doi and best.doi and not is_preprint_doi(other.doi) and not is_preprint_doi(best.doi):
        if doi_key(other.doi) != doi_key(best.doi):
            return False
    return not (other.arxiv and best.arxiv and other.arxiv.casefold() != best.arxiv.casefold())


def choose(query: WorkQuery, candidates: Sequence[Candidate]) -> Choice | None:
    """The accepted hit among every source's candidates, or None."""
    scored = [(score, c) for c in candidates if (score := same_work(query, c.work)) is not None]
    if not scored:
        return None
    scored.sort(key=lambda sc: (is_preprint_doi(sc[1].work.doi) or not sc[1].work.doi,
                                -sc[0], sc[1].rank))
    score, best = scored[0]
    agreeing = (best, *(c for _, c in scored[1:] if _agrees(best.work, c.work)))
    return Choice(best, agreeing, Match(by=best.source, query=query.kind, score=score))
