"""Which sources a daemon asks, built from the settings; adding one is one row here."""

from __future__ import annotations

from oahelper.identifiers import is_placeholder_email
from oahelper.keys import KeyStore
from oahelper.settings import Settings
from oahelper.sources.arxiv import ArXiv
from oahelper.sources.base import Source
from oahelper.sources.crossref import Crossref
from oahelper.sources.europepmc import EuropePMC
from oahelper.sources.free_by_id import FreeById
from oahelper.sources.oab import OpenAccessButton
from oahelper.sources.openalex import OpenAlex
from oahelper.sources.politeness import Politeness
from oahelper.sources.semanticscholar import SemanticScholar
from oahelper.sources.snapshot import Snapshot
from oahelper.sources.unpaywall import Unpaywall


def _key(keystore: KeyStore, name: str) -> str | None:
    """The stored key, or None (keyring's NO_KEY, or no keyring at all)."""
    value = keystore.get(name)
    return value if isinstance(value, str) else None


def build_sources(settings: Settings, keystore: KeyStore,
                  politeness: Politeness | None = None) -> list[Source]:
    """The sources in the order their answers are shown (Unpaywall first). Every
    source's requests pass the process's one ``politeness`` (a fresh one if none)."""
    polite = politeness or Politeness()
    on = settings.source_on
    oab_key = _key(keystore, "oab") if settings.oab_url and on("oab") else None
    # The e-mail that puts Crossref requests in its polite pool (never a placeholder).
    email = settings.unpaywall_email
    polite_email = email if email and not is_placeholder_email(email) else None
    return [
        Unpaywall(settings.unpaywall_url, settings.unpaywall_email, enabled=on("unpaywall"),
                  gate=polite.gate("unpaywall")),
        Snapshot(settings.snapshot_path, memory_limit=settings.snapshot_memory,
                 enabled=on("snapshot")),
        EuropePMC(settings.europepmc_url, enabled=on("europepmc"), gate=polite.gate("europepmc")),
        Crossref(settings.crossref_url, polite_email, enabled=on("crossref"),
                 gate=polite.gate("crossref")),
        SemanticScholar(settings.semanticscholar_url, _key(keystore, "semanticscholar"),
                        enabled=on("semanticscholar"), gate=polite.gate("semanticscholar")),
        OpenAlex(settings.openalex_url, _key(keystore, "openalex"), polite_email,
                 enabled=on("openalex"), gate=polite.gate("openalex")),
        ArXiv(settings.arxiv_url, enabled=on("arxiv"), gate=polite.gate("arxiv")),
        OpenAccessButton(settings.oab_url if on("oab") else None, oab_key,
                         gate=polite.gate("oab")),
        FreeById(enabled=on("free_by_id")),
    ]
