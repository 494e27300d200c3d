"""Who may use the daemon: API tokens and one-time pairing codes.

Tokens are 256-bit random strings shown once; only their SHA-256 is stored, and a
presented token is compared against every stored hash in constant time. Each token
remembers the Origin it was issued to (the extension's ``chrome-extension://…``, or
none for a script) and is refused from any other. Pairing codes are short, valid for
two minutes, work once, and burn after five wrong tries. Everything lives in one
SQLite file so the CLI (``oahelper pair``, ``clients revoke``) and the running daemon
see the same state at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from oahelper.db import open_db
from oahelper.errors import ConfigError, Forbidden, Unauthorized

PAIR_CODE_TTL = 120.0
PAIR_CODE_TRIES = 5
LAST_USED_GRAIN = 60.0
# No 0/O, 1/I/L: codes are read off a terminal and typed by hand.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS clients (
    name TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    origin TEXT,
    created REAL NOT NULL,
    last_used REAL
);
CREATE TABLE IF NOT EXISTS pair_codes (
    code_hash TEXT PRIMARY KEY,
    expires REAL NOT NULL,
    wrong_tries INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class Client:
    name: str
    origin: str | None
    created: float
    last_used: float | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalise_code(code: str) -> str:
    """Pairing codes are typed by people: ignore case, spaces and dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


class ClientStore:
    """Paired clients and pending pairing codes, in ``clients.sqlite3``."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._db = open_db(path, _SCHEMA, "the client list")
        path.chmod(0o600)

    def close(self) -> None:
        self._db.close()

    # Tokens

    def create_token(self, name: str, origin: str | None = None) -> str:
        """A new token for ``name`` (replacing its old one); shown once, stored hashed."""
        name = name.strip()
        if not name or len(name) > 100:
            raise ConfigError("a client name must be 1 to 100 characters")
        token = secrets.token_urlsafe(32)  # 256 bits
        self._db.execute(
            "INSERT OR REPLACE INTO clients (name, token_hash, origin, created, last_used) "
            "VALUES (?, ?, ?, ?, NULL)", (name, _hash(token), origin, self.clock()))
        return token

    def verify(self, token: str, origin: str | None) -> Client:
        """The client owning ``token``; Unauthorized if none, Forbidden if the origin differs."""
        presented = _hash(token)
        match = None
        rows = self._db.execute("SELECT name, token_hash, origin, created FROM clients").fetchall()
        for name, stored, token_origin, created in rows:
            # Compare with every row, not stopping early, so timing says nothing.
            if hmac.compare_digest(stored, presented):
                match = (name, token_origin, created)
        if match is None:
            raise Unauthorized("unknown or revoked token: pair again (oahelper pair)")
        name, token_origin, created = match
        # Chrome sends no Origin on an extension's GET (only Sec-Fetch-Site: none), so a
        # missing Origin is not "another origin"; web pages never get here (web.guard).
        if origin is not None and token_origin != origin:
            raise Forbidden("this token was issued to another origin")
        now = self.clock()
        # A write per request is wasted work: "last used" to the minute is enough.
        self._db.execute("UPDATE clients SET last_used=? WHERE name=? AND "
                         "(last_used IS NULL OR last_used < ?)", (now, name, now - LAST_USED_GRAIN))
        return Client(name=name, origin=token_origin, created=created, last_used=now)

    def revoke(self, name: str) -> bool:
        return self._db.execute("DELETE FROM clients WHERE name=?", (name,)).rowcount > 0

    def list(self) -> list[Client]:
        rows = self._db.execute(
            "SELECT name, origin, created, last_used FROM clients ORDER BY created").fetchall()
        return [Client(*row) for row in rows]

    # Pairing

    def new_pair_code(self) -> str:
        """A one-time code like ``K7QM-3XRD``, valid PAIR_CODE_TTL seconds."""
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        now = self.clock()
        self._db.execute("DELETE FROM pair_codes WHERE expires <= ?", (now,))
        self._db.execute("INSERT INTO pair_codes (code_hash, expires) VALUES (?, ?)",
                         (_hash(raw), now + PAIR_CODE_TTL))
        return f"{raw[:4]}-{raw[4:]}"

    def redeem_pair_code(self, code: str, client: str, origin: str | None) -> tuple[str, str]:
        """Exchange a valid code for (token, client name), the token bound to ``origin``."""
        now = self.clock()
        self._db.execute("DELETE FROM pair_codes WHERE expires <= ? OR wrong_tries >= ?",
                         (now, PAIR_CODE_TRIES))
        presented = _hash(normalise_code(code))
        rows = self._db.execute("SELECT code_hash FROM pair_codes").fetchall()
        hit = any(hmac.compare_digest(stored, presented) for (stored,) in rows)
        if not hit:
            # Every live code pays for a wrong guess, so guessing burns them.
            self._db.execute("UPDATE pair_codes SET wrong_tries = wrong_tries + 1")
            raise Unauthorized("wrong or expired pairing code: run `oahelper pair` for a new one",
                               code="pair_code_invalid")
        spent = self._db.execute("DELETE FROM pair_codes WHERE code_hash=?", (presented,)).rowcount
        if not spent:  # another request spent it between our read and delete
            raise Unauthorized("this pairing code was already used", code="pair_code_invalid")
        name = self._unique_name(client)
        return self.create_token(name, origin), name

    def _unique_name(self, wanted: str) -> str:
        base = (wanted or "browser").strip()[:90] or "browser"
        taken = {c.name for c in self.list()}
        name, n = base, 2
        while name in taken:
            name, n = f"{base} ({n})", n + 1
        return name
