"""The files and folders oahelper writes: private to the user from their first byte.

Other local users must not read which articles you looked up (the cache), your
e-mail (the config) or the client list. So every process sets the umask to 077
before it creates anything (``make_private``), folders are made 0700 and files
0600 with ``O_NOFOLLOW`` (a data file that is a symbolic link is refused, never
followed), and a data folder others may write to is warned about once. SQLite's
``-wal``/``-shm`` files take the mode of their database, which exists, 0600, before
SQLite opens it.

SQLite files are opened here (``open_db``); the daemon uses each connection from one
thread of its own (``OneThread``), never from the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TypeVar

from oahelper.errors import ConfigError

T = TypeVar("T")

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
FILE_MODE, FOLDER_MODE = 0o600, 0o700
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
_warned: set[Path] = set()


def make_private() -> None:
    """Files and folders this process creates from now on are the user's alone."""
    os.umask(PRIVATE_UMASK)


def private_folder(path: Path) -> Path:
    """``path`` as a folder (made 0700 when missing); a warning, once, when other
    users may write to it (they could replace the files in it)."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    mode = path.stat().st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and path not in _warned:
        _warned.add(path)
        log.warning("%s can be written by other users (mode %o): they could replace oahelper's "
                    "files; run: chmod 700 %s", path, stat.S_IMODE(mode), path)
    return path


def _refuse_link(path: Path) -> None:
    if path.is_symlink():
        raise ConfigError(f"{path} is a symbolic link; oahelper does not follow links for its "
                          "data files: move the real file there instead")


def private_file(path: Path) -> Path:
    """``path`` as an existing regular file, 0600 (created empty when missing);
    ConfigError when it is a symbolic link."""
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    except OSError as exc:
        _refuse_link(path)
        raise ConfigError(f"cannot open {path}: {exc.strerror}") from exc
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)  # made by an older version, or by hand
    finally:
        os.close(fd)
    return path


def private_database(path: Path) -> Path:
    """A SQLite database file ready for ``sqlite3.connect``: 0600, and neither it nor
    its journal files symbolic links."""
    for suffix in SQLITE_SIDE_FILES:
        side = path.with_name(path.name + suffix)
        _refuse_link(side)
        if side.exists() and stat.S_IMODE(side.stat().st_mode) != FILE_MODE:
            side.chmod(FILE_MODE)
    return private_file(path)


def _write_new(path: Path, data: bytes, *, becomes: Path) -> None:
    """Write ``data`` to ``path``, which must not exist (0600, never through a link),
    to become ``becomes``. When the write fails (a full disk) nothing is left behind:
    a file cut short would be read later as a damaged one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {becomes}: {exc.strerror} (is the disk full?)") from exc


def write_private_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` at once (a 0600 temporary file renamed over it)."""
    private_folder(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    _write_new(tmp, text.encode("utf-8"), becomes=path)
    tmp.replace(path)


def secret_key(path: Path, size: int = 32) -> bytes:
    """The random key kept in ``path`` (0600), made on first use."""
    private_folder(path.parent)
    if not path.exists() and not path.is_symlink():
        # Written whole beside it, then linked into place: a full disk leaves no key
        # cut short, and of two processes making it at once the first one's wins.
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        _write_new(tmp, os.urandom(size), becomes=path)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: theirs is the key
        except OSError:
            os.replace(tmp, path)  # a file system without hard links (FAT)
        finally:
            tmp.unlink(missing_ok=True)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        _refuse_link(path)
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as fh:
        key = fh.read()
    if len(key) != size:
        raise ConfigError(f"{path} is damaged ({len(key)} bytes, expected {size}); delete it and "
                          "pair your clients again")
    return key


def open_db(path: Path, schema: str, what: str, *, busy_seconds: float = 5.0) -> sqlite3.Connection:
    """A connection in autocommit mode (each write its own short transaction), WAL,
    synchronous=NORMAL (no fsync per write; a power cut may lose the last writes,
    never the file), with ``schema`` applied. The file is private (files.py) before
    SQLite creates anything. Errors name ``what`` the file holds. ``busy_seconds``:
    how long a statement waits while another process holds the write lock."""
    private_database(path)
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                             timeout=busy_seconds)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(schema)
    except (sqlite3.Error, OSError) as exc:
        raise ConfigError(f"cannot open {what} at {path}: {exc}") from exc
    return db


class OneThread:
    """One worker thread for blocking work (a SQLite connection, the keyring), so the
    event loop never waits on it. Work runs in the order it was given; a connection
    is only ever used by this thread at a time."""

    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"oahelper-{name}")

    async def run(self, work: Callable[..., T], *args: object) -> T:
        """``work(*args)`` in the thread; its result or exception, awaited."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, partial(work, *args))

    def submit(self, work: Callable[..., T], *args: object) -> Future[T]:
        """``work(*args)`` in the thread, not waited for (a write nobody needs to wait on)."""
        return self._pool.submit(work, *args)

    def close(self) -> None:
        """Finish the work already given, then stop the thread."""
        self._pool.shutdown(wait=True)
