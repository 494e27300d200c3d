"""What the fake upstream modules share: the app key of the fake and the recordings."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.support.shared import shared_fixtures

FAKE: web.AppKey[Any] = web.AppKey("fake", object)


@cache
def recordings(source: str) -> Path | None:
    """The folder of ``source``'s recordings, or None in a clone without ../shared."""
    base = shared_fixtures()
    folder = base / source if base is not None else None
    return folder if folder is not None and folder.is_dir() else None


def read(source: str, name: str) -> bytes | None:
    """One recorded body, byte for byte (None without ../shared)."""
    folder = recordings(source)
    return (folder / name).read_bytes() if folder is not None else None
