"""Configuration problems in plain words, shared by /v1/status and ``oahelper doctor``."""

from __future__ import annotations

from dataclasses import dataclass

from oahelper.keys import KeyStore
from oahelper.settings import Settings
from oahelper.sources.base import Source


@dataclass(frozen=True)
class Problem:
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def config_problems(settings: Settings, keystore: KeyStore, sources: list[Source]) -> list[Problem]:
    """Everything a user must fix before oahelper can work fully.

    Each source reports its own set-up problems (Unpaywall: the e-mail missing, a
    placeholder, or refused by Unpaywall itself); this adds what spans sources.
    """
    problems = [Problem(f"{source.name}_not_configured", f"{source.name}: {message}")
                for source in sources for message in source.health().problems]
    if settings.oab_url and not keystore.available():
        problems.append(Problem("keyring_unavailable",
                                "No OS keyring works, so the Open Access Button key cannot be read; "
                                "the source is asked without a key. See: oahelper doctor"))
    return problems
