"""Which sources a daemon asks, built from the settings; adding one is one row here."""

from __future__ import annotations

from oahelper.keys import KeyStore
from oahelper.settings import Settings
from oahelper.sources.base import Source
from oahelper.sources.free_by_id import FreeById
from oahelper.sources.oab import OpenAccessButton
from oahelper.sources.unpaywall import Unpaywall


def build_sources(settings: Settings, keystore: KeyStore) -> list[Source]:
    """The sources in the order their answers are shown (Unpaywall first)."""
    oab_key = keystore.get("oab") if settings.oab_url else None
    return [
        Unpaywall(settings.unpaywall_url, settings.unpaywall_email),
        OpenAccessButton(settings.oab_url, oab_key or None),
        FreeById(),
    ]
