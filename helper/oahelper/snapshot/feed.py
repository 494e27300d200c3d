"""Reading data-feed files: plain or gzip (told by their first bytes), or stdin.

Lines are read in bounded pieces, so a file of one endless line costs no more memory
than ``MAX_LINE``. A file is recognised again, for resuming, by its size and the
SHA-256 of its first MiB (a name can be reused; a copy keeps its fingerprint).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
MAX_LINE = 16 * 1024 * 1024  # longer lines are reported, not read (real records: a few KiB)
_READ = 1024 * 1024


class FeedError(Exception):
    """The file cannot be read on (a cut-off gzip stream, an I/O error)."""


@dataclass(frozen=True)
class Line:
    """One line: its number (from 1), its text without the newline, and whether it was
    cut short (``overlong``: longer than MAX_LINE; ``unterminated``: the file ends
    inside it)."""

    number: int
    text: bytes
    overlong: bool = False
    unterminated: bool = False


@dataclass(frozen=True)
class Feed:
    """One input as named on the command line: a path, or ``-`` for stdin."""

    name: str

    @property
    def is_stdin(self) -> bool:
        return self.name == "-"

    @property
    def path(self) -> Path:
        return Path(self.name)

    def size(self) -> int | None:
        return None if self.is_stdin else self.path.stat().st_size

    def fingerprint(self) -> str | None:
        """Size and SHA-256 of the first MiB; None for stdin (it cannot be resumed)."""
        if self.is_stdin:
            return None
        with self.path.open("rb") as fh:
            head = fh.read(_READ)
        return f"{self.size()}:{hashlib.sha256(head).hexdigest()}"


class FeedReader:
    """The lines of one feed from a given text offset, and how far into the file
    (in its own, possibly compressed, bytes) reading has got."""

    def __init__(self, feed: Feed, *, offset: int = 0, stdin: BinaryIO | None = None) -> None:
        self.feed = feed
        raw = (stdin or sys.stdin.buffer) if feed.is_stdin else feed.path.open("rb")
        self._raw: BinaryIO = raw
        # typeshed's BinaryIO leaves out readinto, which BufferedReader calls and every
        # binary stream has (a file, stdin's buffer, BytesIO).
        buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw, _READ)  # type: ignore[type-var]
        self.compressed = buffered.peek(2)[:2] == GZIP_MAGIC
        stream: io.BufferedIOBase = (gzip.GzipFile(fileobj=buffered, mode="rb") if self.compressed
                                     else buffered)
        self._text = stream
        self.offset = 0
        if offset:
            self._skip(offset)

    def _skip(self, offset: int) -> None:
        """Go to ``offset`` in the text: a seek in a plain file, reading in gzip/stdin."""
        try:
            if not self.compressed and not self.feed.is_stdin:
                self._text.seek(offset)
            else:
                left = offset
                while left:
                    chunk = self._text.read(min(left, _READ))
                    if not chunk:
                        break
                    left -= len(chunk)
        except (OSError, EOFError, zlib.error) as exc:
            raise FeedError(f"{self.feed.name}: cannot read to where the last import stopped: {exc}") from exc
        self.offset = offset

    def position(self) -> int:
        """Bytes of the file itself consumed so far (for progress against its size)."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    def lines(self, first_number: int) -> Iterator[Line]:
        """Each line from here on, numbered from ``first_number``; ``self.offset`` is
        the text offset just after the last line yielded."""
        number = first_number
        read = self._text.readline
        try:
            while True:
                text = read(MAX_LINE + 1)
                if not text:
                    return
                size = len(text)
                overlong = False
                if not text.endswith(b"\n") and size > MAX_LINE:
                    overlong = True
                    while text and not text.endswith(b"\n"):  # skip the rest, piece by piece
                        text = read(_READ)
                        size += len(text)
                    text = b""
                unterminated = not overlong and not text.endswith(b"\n")
                self.offset += size
                yield Line(number, text.rstrip(b"\r\n"), overlong, unterminated)
                number += 1
        except (OSError, EOFError, zlib.error) as exc:
            raise FeedError(f"{self.feed.name}: the data ends early or is damaged after line "
                            f"{number - 1} ({exc}); what came before it is imported") from exc

    def close(self) -> None:
        if not self.feed.is_stdin:
            self._raw.close()
