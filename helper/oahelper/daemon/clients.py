"""Who may use the daemon: API tokens and one-time pairing codes.

Tokens are 256-bit random strings shown once. Tokens and pairing codes are stored only
as HMAC-SHA256 under a random key kept outside the database (``clients.key``, 0600):
a copied database alone reveals neither, not even the short pairing code, which an
unkeyed hash would give up to a GPU within its two minutes. A presented token is
compared against every stored hash in constant time. Tokens stored by older versions
as plain SHA-256 still work and are re-stored keyed on first use. Each token
remembers the Origin it was issued to (the extension's ``chrome-extension://…``, or
none for a script) and is refused from any other. Pairing codes are short, valid for
two minutes, work once, and burn after five wrong tries. Everything lives in one
SQLite file so the CLI (``oahelper pair``, ``clients revoke``) and the running daemon
see the same state at once. When the disk is full the daemon keeps answering: "last
used" is what it could not record, and it says so once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from oahelper.errors import ConfigError, Forbidden, Unauthorized
from oahelper.files import OneThread, open_db, secret_key
from oahelper.logtext import printable

log = logging.getLogger(__name__)

PAIR_CODE_TTL = 120.0
PAIR_CODE_TRIES = 5
LAST_USED_GRAIN = 60.0
# Another process (``oahelper pair``, ``clients revoke``) writes for milliseconds; a
# request waits this long at most (in the store's own thread, never on the event loop).
BUSY_SECONDS = 2.0
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


def _legacy_hash(secret: str) -> str:
    """How versions before the keyed hash stored tokens."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def key_file(clients_db: Path) -> Path:
    """Where the key of the keyed hashes lives: beside the database, not in it."""
    return clients_db.with_name("clients.key")


def normalise_code(code: str) -> str:
    """Pairing codes are typed by people: ignore case, spaces and dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


class ClientStore:
    """Paired clients and pending pairing codes, in ``clients.sqlite3``."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.path = path
        self._key = secret_key(key_file(path))
        self._db = open_db(path, _SCHEMA, "the client list", busy_seconds=BUSY_SECONDS)
        self._write_failed = False

    @contextmanager
    def _storage(self) -> Iterator[None]:
        """SQLite's errors as ConfigError, saying what to do. The client list is not
        disposable (unlike the cache): a damaged one is refused, never rebuilt."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            raise ConfigError(f"cannot write the client list at {self.path}: {exc} "
                              "(is the disk full?)") from exc
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"the client list at {self.path} is damaged ({exc}): move it "
                              "away and pair your clients again") from exc

    def _hash(self, secret: str) -> str:
        return hmac.new(self._key, secret.encode("utf-8"), hashlib.sha256).hexdigest()

    def _write(self, sql: str, params: tuple[object, ...]) -> int:
        """Run a write the daemon can do without (last used): on a full or read-only
        disk, say so once and go on."""
        try:
            return self._db.execute(sql, params).rowcount
        except sqlite3.OperationalError as exc:
            if not self._write_failed:
                self._write_failed = True
                log.warning("cannot write to the client list (%s): 'last used' times are not "
                            "recorded until it can", exc)
            return 0

    def close(self) -> None:
        self._db.close()

    # Tokens

    def create_token(self, name: str, origin: str | None = None) -> str:
        """A new token for ``name`` (replacing its old one); shown once, stored hashed."""
        name = name.strip()
        if not name or len(name) > 100:
            raise ConfigError("a client name must be 1 to 100 characters")
        token = secrets.token_urlsafe(32)  # 256 bits
        with self._storage():
            self._db.execute(
                "INSERT OR REPLACE INTO clients (name, token_hash, origin, created, last_used) "
                "VALUES (?, ?, ?, ?, NULL)", (name, self._hash(token), origin, self.clock()))
        return token

    def verify(self, token: str, origin: str | None) -> Client:
        """The client owning ``token``; Unauthorized if none, Forbidden if the origin differs."""
        presented, legacy = self._hash(token), _legacy_hash(token)
        match = None
        with self._storage():
            rows = self._db.execute("SELECT name, token_hash, origin, created FROM clients").fetchall()
        for name, stored, token_origin, created in rows:
            # Compare with every row, not stopping early, so timing says nothing.
            keyed, old = hmac.compare_digest(stored, presented), hmac.compare_digest(stored, legacy)
            if keyed or old:
                match = (name, token_origin, created, old)
        if match is None:
            raise Unauthorized("unknown or revoked token: pair again (oahelper pair)")
        name, token_origin, created, old = match
        if old:
            self._write("UPDATE clients SET token_hash=? WHERE name=?", (presented, name))
        # Chrome sends no Origin on an extension's GET (only Sec-Fetch-Site: none), so a
        # missing Origin is not "another origin"; web pages never get here (web.guard).
        if origin is not None and token_origin != origin:
            raise Forbidden("this token was issued to another origin")
        now = self.clock()
        # A write per request is wasted work: "last used" to the minute is enough.
        self._write("UPDATE clients SET last_used=? WHERE name=? AND "
                    "(last_used IS NULL OR last_used < ?)", (now, name, now - LAST_USED_GRAIN))
        return Client(name=name, origin=token_origin, created=created, last_used=now)

    def revoke(self, name: str) -> bool:
        with self._storage():
            return self._db.execute("DELETE FROM clients WHERE name=?", (name,)).rowcount > 0

    def list(self) -> list[Client]:
        with self._storage():
            rows = self._db.execute(
                "SELECT name, origin, created, last_used FROM clients ORDER BY created").fetchall()
        return [Client(*row) for row in rows]

    # Pairing

    def new_pair_code(self) -> str:
        """A one-time code like ``K7QM-3XRD``, valid PAIR_CODE_TTL seconds."""
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        now = self.clock()
        with self._storage():
            self._db.execute("DELETE FROM pair_codes WHERE expires <= ?", (now,))
            self._db.execute("INSERT INTO pair_codes (code_hash, expires) VALUES (?, ?)",
                             (self._hash(raw), now + PAIR_CODE_TTL))
        return f"{raw[:4]}-{raw[4:]}"

    def redeem_pair_code(self, code: str, client: str, origin: str | None) -> tuple[str, str]:
        """Exchange a valid code for (token, client name), the token bound to ``origin``."""
        now = self.clock()
        presented = self._hash(normalise_code(code))
        with self._storage():
            # A code whose end is further away than a code lives was made before the
            # clock was set back: it must not live the hour the clock lost.
            self._db.execute("DELETE FROM pair_codes WHERE expires <= ? OR expires > ? "
                             "OR wrong_tries >= ?", (now, now + PAIR_CODE_TTL, PAIR_CODE_TRIES))
            rows = self._db.execute("SELECT code_hash FROM pair_codes").fetchall()
            hit = any(hmac.compare_digest(stored, presented) for (stored,) in rows)
            if not hit:
                # Every live code pays for a wrong guess, so guessing burns them.
                self._db.execute("UPDATE pair_codes SET wrong_tries = wrong_tries + 1")
            spent = hit and self._db.execute("DELETE FROM pair_codes WHERE code_hash=?",
                                             (presented,)).rowcount
        if not hit:
            raise Unauthorized("wrong or expired pairing code: run `oahelper pair` for a new one",
                               code="pair_code_invalid")
        if not spent:  # another request spent it between our read and delete
            raise Unauthorized("this pairing code was already used", code="pair_code_invalid")
        name = self._unique_name(client)
        return self.create_token(name, origin), name

    def _unique_name(self, wanted: str) -> str:
        # The client names itself: stored escaped, so no list or log prints its
        # control characters.
        base = printable((wanted or "browser").strip(), 90) or "browser"
        taken = {c.name for c in self.list()}
        name, n = base, 2
        while name in taken:
            name, n = f"{base} ({n})", n + 1
        return name


class AsyncClientStore:
    """The client list as the daemon's event loop uses it: every call runs in one
    thread of its own (a token check reads SQLite and may record "last used")."""

    def __init__(self, store: ClientStore) -> None:
        self.store = store
        self._thread = OneThread("clients")

    async def verify(self, token: str, origin: str | None) -> Client:
        return await self._thread.run(self.store.verify, token, origin)

    async def redeem_pair_code(self, code: str, client: str,
                               origin: str | None) -> tuple[str, str]:
        return await self._thread.run(self.store.redeem_pair_code, code, client, origin)

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._thread.close)
        self.store.close()
