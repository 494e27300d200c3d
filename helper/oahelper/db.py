"""Opening oahelper's SQLite files, the one way both stores need."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from oahelper.errors import ConfigError
from oahelper.files import private_database


def open_db(path: Path, schema: str, what: str) -> sqlite3.Connection:
    """A connection in autocommit mode (each write its own short transaction), WAL,
    synchronous=NORMAL (no fsync per write; a power cut may lose the last writes,
    never the file), with ``schema`` applied. The file is private (files.py) before
    SQLite creates anything. Errors name ``what`` the file holds."""
    private_database(path)
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(schema)
    except (sqlite3.Error, OSError) as exc:
        raise ConfigError(f"cannot open {what} at {path}: {exc}") from exc
    return db
