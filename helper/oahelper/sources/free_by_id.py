"""Copies an identifier alone proves free: arXiv preprints and PubMed Central articles.

Every arXiv paper is free to read at arxiv.org, and every article with a PMCID is free
to read in PubMed Central; the id is the proof, so this source asks no one. It matters
because Unpaywall does not know arXiv's own DataCite DOIs (10.48550/arXiv.…), so an
arXiv paper would otherwise come out "no free copy".
"""

from __future__ import annotations

import aiohttp

from oahelper.identifiers import normalise_arxiv, normalise_pmcid
from oahelper.models import Article, Location, SourceAnswer
from oahelper.sources.base import SourceHealth

NAME = "free_by_id"
ARXIV_DOI_PREFIX = "10.48550/arxiv."


def arxiv_id(article: Article) -> str | None:
    """The article's arXiv id, also when only its arXiv DOI is known."""
    if article.arxiv:
        return article.arxiv
    doi = (article.doi or "").casefold()
    return normalise_arxiv(doi[len(ARXIV_DOI_PREFIX):]) if doi.startswith(ARXIV_DOI_PREFIX) else None


def has_publisher_doi(article: Article) -> bool:
    """A DOI that is not arXiv's own DataCite DOI."""
    return article.doi is not None and not article.doi.casefold().startswith(ARXIV_DOI_PREFIX)


def free_locations(article: Article) -> tuple[Location, ...]:
    """The free copies the article's identifiers name (pure)."""
    found: list[Location] = []
    arxiv = arxiv_id(article)
    if arxiv:
        found.append(Location(
            url=f"https://arxiv.org/pdf/{arxiv}", pdf_url=f"https://arxiv.org/pdf/{arxiv}",
            landing_url=f"https://arxiv.org/abs/{arxiv}", version="submittedVersion",
            host_type="repository", repository="arXiv", evidence="arXiv identifier",
            source=NAME))
    pmcid = normalise_pmcid(article.pmcid or "")
    if pmcid:
        page = f"https://pmc.ncbi.nlm.nih.gov/articles/{pmcid}/"
        found.append(Location(url=page, landing_url=page, host_type="repository",
                              repository="PubMed Central", evidence="PMCID", source=NAME))
    return tuple(found)


class FreeById:
    """The Source for copies an identifier proves free; no network, never fails."""

    name = NAME
    needs_network = False

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled

    def cache_key(self, article: Article) -> str | None:
        # None (state "skipped") when the article has neither id.
        return None if not free_locations(article) else f"ids:{arxiv_id(article)}:{article.pmcid}"

    def health(self) -> SourceHealth:
        return SourceHealth(enabled=self.enabled, configured=True, needs_network=False)

    async def lookup(self, article: Article, session: aiohttp.ClientSession,
                     timeout: float) -> SourceAnswer:
        if not self.enabled:
            return SourceAnswer(source=NAME, state="disabled")
        locations = free_locations(article)
        return SourceAnswer(source=NAME, state="ok" if locations else "not_found",
                            locations=locations)
