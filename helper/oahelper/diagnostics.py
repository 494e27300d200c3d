"""Configuration problems in plain words, shared by /v1/status and ``oahelper doctor``."""

from __future__ import annotations

from dataclasses import dataclass

from oahelper.keys import KeyStore
from oahelper.settings import Settings
from oahelper.sources.base import Source

# Unpaywall answers 422 to these; asking with them only wastes a call.
PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net", "test.com", "email.com")


@dataclass(frozen=True)
class Problem:
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def is_placeholder_email(email: str) -> bool:
    local, _, domain = email.strip().lower().rpartition("@")
    return not local or domain in PLACEHOLDER_DOMAINS or local in ("test", "you", "your.name")


def config_problems(settings: Settings, keystore: KeyStore, sources: list[Source]) -> list[Problem]:
    """Everything a user must fix before oahelper can work fully."""
    problems: list[Problem] = []
    email = settings.unpaywall_email
    if not email:
        problems.append(Problem("unpaywall_email_missing",
                                "Unpaywall e-mail not set: Unpaywall answers only queries that carry "
                                "your e-mail address. Fix: oahelper config set unpaywall_email you@your-university.edu"))
    elif is_placeholder_email(email):
        problems.append(Problem("unpaywall_email_placeholder",
                                f"The Unpaywall e-mail {email!r} looks like a placeholder, which Unpaywall refuses. "
                                "Fix: oahelper config set unpaywall_email you@your-university.edu"))
    if settings.oab_url and not keystore.available():
        problems.append(Problem("keyring_unavailable",
                                "No OS keyring works, so the Open Access Button key cannot be read; "
                                "the source is asked without a key. See: oahelper doctor"))
    for source in sources:
        health = source.health()
        for message in health.problems:
            code = f"{source.name}_problem"
            if not any(p.message == message for p in problems):
                problems.append(Problem(code, f"{source.name}: {message}"))
    return problems
