"""API keys in the OS keyring (service name ``oahelper``), never in a file.

"No key stored" is the explicit ``NO_KEY`` object. When no keyring backend works
(a headless Linux session without a Secret Service), writing fails with
``KeyringUnavailable`` and the remedy; reading gives ``NO_KEY`` and the daemon runs on
without the key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import fail

from oahelper.errors import ConfigError, KeyringUnavailable

SERVICE = "oahelper"
# The keys oahelper knows, and what each is for.
KEY_NAMES: Final = {
    "oab": "API key of the Open Access Button-compatible service (oab_url)",
    "semanticscholar": "Semantic Scholar API key (optional; sent as x-api-key)",
    "openalex": "OpenAlex API key (keyless calls get only a small daily allowance)",
}

REMEDY = (
    "oahelper keeps API keys only in the OS keyring and found none working. "
    "On a desktop, unlock your keyring (GNOME Keyring, KWallet, macOS Keychain, Windows "
    "Credential Locker). On a headless Linux machine, install gnome-keyring and run inside "
    "a session bus: dbus-run-session -- sh -c 'echo -n PASSWORD | gnome-keyring-daemon "
    "--unlock --components=secrets; oahelper keys set oab'. "
    "Nothing was written to a plain file."
)


class _NoKey:
    """Nothing stored under this name (falsy)."""

    _instance: _NoKey | None = None

    def __new__(cls) -> _NoKey:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NO_KEY"


NO_KEY: Final = _NoKey()


def _check_name(name: str) -> None:
    if name not in KEY_NAMES:
        raise ConfigError(f"unknown key {name!r}; known keys: {', '.join(KEY_NAMES)}")


class KeyStore:
    """Reads and writes oahelper's keys through one keyring backend."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> keyring.backend.KeyringBackend:
        if self._backend is None:
            self._backend = keyring.get_keyring()
        return self._backend

    def backend_name(self) -> str:
        backend = self.backend
        return f"{type(backend).__module__}.{type(backend).__name__}"

    def available(self) -> bool:
        """False when keyring has only its 'fail' backend (no working keyring)."""
        backend = self.backend
        if isinstance(backend, fail.Keyring):
            return False
        # The chainer backend is usable only if it chains something.
        chained = getattr(backend, "backends", None)
        return chained is None or bool(chained)

    def get(self, name: str) -> str | _NoKey:
        """The stored key, or NO_KEY (also when the keyring cannot be read)."""
        _check_name(name)
        if not self.available():
            return NO_KEY
        try:
            value = self.backend.get_password(SERVICE, name)
        except keyring.errors.KeyringError:
            return NO_KEY
        return value if value else NO_KEY

    def set(self, name: str, value: str) -> None:
        _check_name(name)
        if not value.strip():
            raise ConfigError("an empty key was given; nothing stored")
        self._write(lambda b: b.set_password(SERVICE, name, value.strip()))

    def delete(self, name: str) -> bool:
        """Remove a key; False when there was none."""
        _check_name(name)
        if not self.get(name):
            self._write(lambda b: None)  # still say clearly when no keyring works
            return False
        self._write(lambda b: b.delete_password(SERVICE, name))
        return True

    def status(self) -> dict[str, bool]:
        """Which keys are stored (never their values)."""
        return {name: bool(self.get(name)) for name in KEY_NAMES}

    def _write(self, action: Callable[[keyring.backend.KeyringBackend], object]) -> None:
        if not self.available():
            raise KeyringUnavailable(f"No OS keyring backend works ({self.backend_name()}). {REMEDY}")
        try:
            action(self.backend)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(
                f"The OS keyring ({self.backend_name()}) refused: {exc}. {REMEDY}") from exc
