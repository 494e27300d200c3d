"""The fake upstreams beside Unpaywall and OAB, one module each (see fake_upstream.py).

Each module has ``add_routes(app, prefix)``: it serves that upstream's recordings from
``../shared/fixtures/<source>/`` under ``prefix``, with the status and content type the
real service sends, through the ``FakeUpstream`` in ``request.app[FAKE]`` (its request
log and failure plans). Where an answer had to be built because nothing was recorded
for that request, the module says so and keeps to a recorded envelope.
"""

from __future__ import annotations

from types import ModuleType

from tests.support.fakes import arxiv, crossref, europepmc, openalex, semanticscholar

FAKES: dict[str, ModuleType] = {"europepmc": europepmc, "crossref": crossref, "arxiv": arxiv,
                                "semanticscholar": semanticscholar, "openalex": openalex}
