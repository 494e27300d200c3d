"""The resolver: what the user has → an identified article, as a reusable service.

It asks sources through an injected ``Ask`` (the lookup service's cached, single-flight,
deadline-keeping call), so the daemon, the CLI and a reading-list audit share one
path and one politeness. One round at most: either the identifier sources (Europe PMC
for a PMID/PMCID, arXiv for an arXiv id, in parallel) or the search sources (title or
reference, in parallel; a search source still waiting for its politeness slot is not
waited for once the others have found the article); what they said is handed on as
``known`` answers so the identifier round that follows does not ask them again.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from oahelper.identifiers import normalise_arxiv, normalise_doi
from oahelper.models import Article, SourceAnswer, WorkQuery
from oahelper.sources.base import SearchSource, Source, can_search
from oahelper.sources.free_by_id import ARXIV_DOI_PREFIX, arxiv_id, has_publisher_doi
from oahelper.sources.match import Choice, Match, choose

# Ask one source about an article (lookup) and give (cache key, answer).
AskLookup = Callable[[Source, Article], Awaitable[tuple[str | None, SourceAnswer]]]
# Ask one search source about a query and give its answer (with candidates).
AskSearch = Callable[[SearchSource, WorkQuery], Awaitable[SourceAnswer]]
# Seconds until a source's politeness limit lets its next request go (0: at once), and
# the limit in words ("one request every 3 s").
Busy = Callable[[Source], tuple[float, str]]
# Sources that turn one identifier into the others, and which identifier each needs.
CONVERTERS = {"europepmc": ("pmid", "pmcid"), "arxiv": ("arxiv",)}
# Search sources whose lookup by identifier only converts identifiers (the copy itself
# is proved by the id: free_by_id). Once searched in a lookup, they are not asked again
# by the identifier round: what they would add (arXiv: the publisher DOI) would not be
# looked up, and arXiv allows one request every 3 s.
CONVERT_ONLY = frozenset({"arxiv"})
IDENTIFIERS = ("doi", "pmid", "pmcid", "arxiv")
# The error code of a search source the round did not wait for (sources/politeness.py's code
# for a source kept back by its limit).
NOT_WAITED_FOR = "source_throttled"


@dataclass(frozen=True)
class Identified:
    """The article as identified, how (``match``, None when the user or the page gave
    the identifier), the answers already had (by source: key and answer; a key of None:
    this lookup's final word, not to be cached under any identifier), what the search
    sources said (shown when nothing matched) and why nothing matched."""

    article: Article
    match: Match | None = None
    known: dict[str, tuple[str | None, SourceAnswer]] = field(default_factory=dict)
    searched: tuple[SourceAnswer, ...] = ()
    problem: str | None = None
    # The search sources answered and none found the work: "not found", not "unknown".
    no_match: bool = False


def with_identifiers(article: Article, metadata: dict[str, Any]) -> Article:
    """The article with the identifiers a source reported filled in; a publisher DOI
    replaces arXiv's own DOI (so the published version is looked up too)."""
    found: dict[str, Any] = {}
    doi = normalise_doi(metadata.get("doi") or "")
    if doi and (not article.doi or (not has_publisher_doi(article)
                                    and not doi.casefold().startswith(ARXIV_DOI_PREFIX))):
        found["doi"] = doi
    for name in ("pmid", "pmcid"):
        if metadata.get(name) and not getattr(article, name):
            found[name] = metadata[name]
    arxiv = normalise_arxiv(metadata.get("arxiv") or "")
    if arxiv and not article.arxiv:
        found["arxiv"] = arxiv
    return dataclasses.replace(article, **found) if found else article


def needs(source: Source, article: Article) -> bool:
    """True when ``source`` is the one to turn the article's identifier into a DOI."""
    if source.name == "arxiv":
        return arxiv_id(article) is not None and not has_publisher_doi(article)
    kinds = CONVERTERS.get(source.name, ())
    return not article.doi and any(getattr(article, k) for k in kinds)


class Resolver:
    """Identifies articles; one per lookup service, reusable by any caller."""

    def __init__(self, sources: Sequence[Source], ask_lookup: AskLookup,
                 ask_search: AskSearch, busy: Busy | None = None) -> None:
        self.sources = list(sources)
        self._ask_lookup = ask_lookup
        self._ask_search = ask_search
        self._busy = busy or (lambda _source: (0.0, ""))

    @property
    def searchers(self) -> list[SearchSource]:
        return [s for s in self.sources if can_search(s) and s.health().enabled]  # type: ignore[misc]

    async def identify(self, article: Article, query: WorkQuery | None = None) -> Identified:
        """The article with what identifies it, or the reason nothing did."""
        converters = [s for s in self.sources if s.name in CONVERTERS and s.health().enabled
                      and needs(s, article)]
        if converters:
            return await self._convert(article, converters)
        if article.identifiers or query is None:
            return Identified(article)
        return await self._search(article, query)

    async def _convert(self, article: Article, converters: list[Source]) -> Identified:
        asked = await asyncio.gather(*(self._ask_lookup(s, article) for s in converters))
        known: dict[str, tuple[str | None, SourceAnswer]] = {}
        for source, (key, answer) in zip(converters, asked, strict=True):
            known[source.name] = (key, answer)
            if answer.state == "ok":
                article = with_identifiers(article, answer.metadata)
        return Identified(article, known=known)

    async def _search(self, article: Article, query: WorkQuery) -> Identified:
        searchers = self.searchers
        if not searchers:
            return Identified(article, problem="no search source is switched on, so a title "
                                               "cannot be looked up")
        answers, chosen = await self._search_round(searchers, query)
        if chosen is None:
            return Identified(article, searched=tuple(answers), problem=_no_match(query, answers),
                              no_match=any(a.answered for a in answers))
        found = article
        for candidate in chosen.agreeing:
            found = with_identifiers(found, {k: getattr(candidate.work, k) for k in IDENTIFIERS})
        found = found.merged_with(dataclasses.replace(chosen.best.work, doi=None, pmid=None,
                                                      pmcid=None, arxiv=None))
        known: dict[str, tuple[str | None, SourceAnswer]] = {}
        cached = {a.source: a.cached for a in answers}
        for candidate in chosen.agreeing:
            source = next((s for s in searchers if s.name == candidate.source), None)
            if source is not None and candidate.answer is not None and candidate.source not in known:
                # The hit's own record: what the source would say about it by identifier.
                said = dataclasses.replace(candidate.answer, cached=cached.get(candidate.source, False))
                known[candidate.source] = (source.cache_key(found), said)
        for answer in answers:
            if answer.source not in known and (answer.source in CONVERT_ONLY
                                               or answer.error_code == NOT_WAITED_FOR):
                # Its search did not return this work (or was not waited for): that
                # is its word in this lookup, not to be asked again by identifier.
                known[answer.source] = (None, dataclasses.replace(answer, candidates=()))
        return Identified(found, match=chosen.match, known=known, searched=tuple(answers))

    async def _search_round(self, searchers: list[SearchSource], query: WorkQuery
                            ) -> tuple[list[SourceAnswer], Choice | None]:
        """Every search source's answer and the accepted hit. A source that must first
        wait for its politeness slot (arXiv asked a moment ago) is not waited for once
        the others have answered and a hit is accepted: it is "skipped", saying so
        (its request still goes when its slot comes, and its answer is cached)."""
        waits = {s.name: self._busy(s) for s in searchers}
        tasks = {s.name: asyncio.ensure_future(self._ask_search(s, query)) for s in searchers}
        prompt = [t for name, t in tasks.items() if waits[name][0] <= 0]
        if prompt:
            await asyncio.wait(prompt)
        while True:
            done = [t.result() for t in tasks.values() if t.done()]
            chosen = choose(query, [c for a in done for c in a.candidates])
            pending = [t for t in tasks.values() if not t.done()]
            if not pending or chosen is not None:
                break
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        answers = [tasks[s.name].result() if not tasks[s.name].cancelled()
                   else _not_waited_for(s.name, *waits[s.name]) for s in searchers]
        return answers, chosen


def _not_waited_for(source: str, wait: float, limit: str) -> SourceAnswer:
    return SourceAnswer(
        source=source, state="skipped", error_code=NOT_WAITED_FOR,
        error=f"{source} allows {limit} and its next slot came in {wait:.1f} s: not waited "
              "for, since the other sources had found the article")


def _no_match(query: WorkQuery, answers: Sequence[SourceAnswer]) -> str:
    by_error: dict[str, list[str]] = {}  # one sentence for the sources that say the same
    for a in answers:
        # A busy source still being asked (pending) did not fail: the payload says so.
        if a.state in ("error", "skipped", "rate_limited", "paused") and a.error and not a.pending:
            by_error.setdefault(a.error, []).append(a.source)
    failed = [f"{', '.join(sources)}: {error}" for error, sources in by_error.items()]
    what = "title" if query.kind == "title" else "reference"
    if failed and not any(a.state in ("ok", "not_found") for a in answers):
        # Not one source searched (failed, or refused by the caller's budget): saying
        # nothing matches would send the user looking for a typo that is not there.
        return f"this {what} could not be searched: " + "; ".join(failed)
    said = f"no article matches this {what}"
    if failed:
        said += " (and some sources could not be searched: " + "; ".join(failed) + ")"
    return said
