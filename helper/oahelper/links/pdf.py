"""Which paper a PDF is: its first page's text, read under a budget, and the identity check.

A link that gives a PDF is a free copy only if it is the article's PDF: the first
page should print the DOI or the title (the Info Title is junk in half the recorded
PDFs, so it is never used). A PDF that prints another DOI, or whose readable first
page never names the title, is another paper (``other``: the link is
``wrong_article``); a PDF without usable text is ``unknown`` and still counts as a PDF.

The PDF is a stranger's file and pypdf is pure Python: a hostile one (deep nesting, a
decompression bomb, millions of text operators) could hold a process for minutes or
fill its memory. So ``read_first_page`` and ``read_first_page_async`` read it in a
child process (``python -m oahelper.links.pdf_worker``) with a time limit and an
address-space limit, as ``page_reader.py`` does for pages; whatever goes wrong comes
back as a ``PdfReading`` with no text and a reason, never as an exception.
``first_page_text`` (defined in ``pdf_worker``, which must start light) is the
unbounded reader itself, for that worker, or a pool, to call.

Starting Python and pypdf takes about 0.2 s, longer than reading most PDFs. The daemon
therefore keeps ``PdfReaders``: workers started before they are needed, each reading
one PDF and exiting, a new one starting in its place in the background. No PDF shares
a process with another, and a check does not wait for a start.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from contextlib import suppress
from dataclasses import dataclass
from typing import Literal

from oahelper.identifiers import doi_key
from oahelper.links.matching import doi_in_text, dois_in_text, squeeze, title_in_text
from oahelper.links.pdf_worker import FIRST_PAGE_MAX_CHARS, first_page_text

__all__ = ["FIRST_PAGE_MAX_CHARS", "IdentityCheck", "PdfReaders", "PdfReading", "first_page_text",
           "identify", "identity", "read_first_page", "read_first_page_async"]

Identity = Literal["match", "other", "unknown"]

# A PDF up to this size is read whole and checked (the setting pdf_max_mb).
PDF_IDENTITY_MAX_BYTES = 15 * 2**20
# The budget of one PDF: the recorded ones take 0.05 s and 10 MiB each.
PDF_SECONDS = 5.0
PDF_MEMORY_BYTES = 256 * 2**20
# Fewer squeezed letters than this is no text layer (a scan, an image, broken fonts).
MIN_USABLE_LETTERS = 200
# Python and pypdf start in ~0.2 s, and the worker's own clock (``seconds``) starts
# after that: the caller gives it this much longer before it kills the child.
_START_SECONDS = 2.0


@dataclass(frozen=True)
class IdentityCheck:
    """The identity of a PDF and the reason, for the verdict."""

    identity: Identity
    reason: str


def identify(text: str, doi: str | None, title: str | None) -> IdentityCheck:
    """Whether the first page ``text`` is the article with ``doi`` and ``title``."""
    if len(squeeze(text)) < MIN_USABLE_LETTERS:
        return IdentityCheck("unknown", "the PDF has no readable text to check")
    if doi_in_text(doi, text):
        return IdentityCheck("match", "the PDF prints the article's DOI")
    if title_in_text(title, text):
        return IdentityCheck("match", "the PDF's first page has the article's title")
    printed = dois_in_text(text) - ({doi_key(doi)} if doi else set())
    if printed:
        return IdentityCheck("other", f"the PDF prints another DOI ({sorted(printed)[0]})")
    if title:
        return IdentityCheck("other", "the PDF's first page has neither the DOI nor the title")
    return IdentityCheck("unknown", "the PDF prints no DOI, and no title is known to look for")


def identity(text: str, doi: str | None, title: str | None) -> Identity:
    """``match``, ``other`` (another paper: ``wrong_article``) or ``unknown``."""
    return identify(text, doi, title).identity


# --- Reading under a budget, in a child process ---------------------------------

@dataclass(frozen=True)
class PdfReading:
    """What reading a PDF's first page gave: its text, or why there is none."""

    text: str = ""
    problem: str | None = None


def _worker_command(memory_bytes: int, seconds: float, max_chars: int) -> list[str]:
    return [sys.executable, "-m", "oahelper.links.pdf_worker",
            str(memory_bytes), str(seconds), str(max_chars)]


def _reading(returncode: int | None, stdout: bytes, memory_bytes: int) -> PdfReading:
    """The worker's one JSON line, as a PdfReading; a worker that died says little."""
    try:
        reply = json.loads(stdout)
    except ValueError:
        reply = None
    if not isinstance(reply, dict):
        return PdfReading(problem=f"the PDF reader stopped (exit {returncode})")
    if reply.get("code") == "pdf_memory":
        return PdfReading(problem=f"reading the PDF needed more than {memory_bytes // 2**20} MiB")
    if isinstance(reply.get("error"), str):
        return PdfReading(problem=reply["error"])
    text = reply.get("text")
    return PdfReading(text=text) if isinstance(text, str) else PdfReading(problem="no answer")


def _too_slow(seconds: float) -> PdfReading:
    return PdfReading(problem=f"reading the PDF took longer than {seconds:g} s")


def read_first_page(data: bytes, *, seconds: float = PDF_SECONDS,
                    memory_bytes: int = PDF_MEMORY_BYTES,
                    max_chars: int = FIRST_PAGE_MAX_CHARS) -> PdfReading:
    """``first_page_text`` in a child process killed after ``seconds``, its memory
    capped at ``memory_bytes`` past its start; blocks the calling thread."""
    try:
        done = subprocess.run(_worker_command(memory_bytes, seconds, max_chars), input=data,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              timeout=seconds + _START_SECONDS, check=False)
    except subprocess.TimeoutExpired:  # run() has killed and reaped the child
        return _too_slow(seconds)
    except OSError as exc:
        return PdfReading(problem=f"the PDF reader could not start ({exc.strerror})")
    return _reading(done.returncode, done.stdout, memory_bytes)


async def read_first_page_async(data: bytes, *, seconds: float = PDF_SECONDS,
                                memory_bytes: int = PDF_MEMORY_BYTES,
                                max_chars: int = FIRST_PAGE_MAX_CHARS) -> PdfReading:
    """``read_first_page`` for the event loop: the child is awaited, never blocked on."""
    process = await _start(memory_bytes, seconds, max_chars)
    if isinstance(process, PdfReading):
        return process
    return await _read_with(process, data, seconds, memory_bytes)


async def _start(memory_bytes: int, seconds: float,
                 max_chars: int) -> asyncio.subprocess.Process | PdfReading:
    try:
        return await asyncio.create_subprocess_exec(
            *_worker_command(memory_bytes, seconds, max_chars), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    except OSError as exc:
        return PdfReading(problem=f"the PDF reader could not start ({exc.strerror})")


async def _read_with(process: asyncio.subprocess.Process, data: bytes, seconds: float,
                     memory_bytes: int) -> PdfReading:
    """Hand ``data`` to a started worker and read its answer, killing it when late."""
    try:
        async with asyncio.timeout(seconds + _START_SECONDS):
            stdout, _ = await process.communicate(data)
    except TimeoutError:
        return _too_slow(seconds)
    finally:
        if process.returncode is None:  # timed out, or the caller was cancelled
            with suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    return _reading(process.returncode, stdout, memory_bytes)


class PdfReaders:
    """``warm`` PDF workers kept started (see the module's docstring); ``read`` is
    ``read_first_page_async`` without the start-up."""

    def __init__(self, warm: int = 2, *, seconds: float = PDF_SECONDS,
                 memory_bytes: int = PDF_MEMORY_BYTES,
                 max_chars: int = FIRST_PAGE_MAX_CHARS) -> None:
        self.warm, self.seconds, self.memory_bytes, self.max_chars = warm, seconds, memory_bytes, max_chars
        self._ready: list[asyncio.subprocess.Process] = []
        self._starting: set[asyncio.Task[None]] = set()
        self._closed = False

    async def warm_up(self) -> None:
        """Start the workers now (the daemon, at start-up), not at the first PDF."""
        self._refill()
        await asyncio.gather(*self._starting, return_exceptions=True)

    def _refill(self) -> None:
        while not self._closed and len(self._ready) + len(self._starting) < self.warm:
            task = asyncio.ensure_future(self._start_one())
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)

    async def _start_one(self) -> None:
        process = await _start(self.memory_bytes, self.seconds, self.max_chars)
        if isinstance(process, PdfReading):
            return  # could not start: the next read starts one itself, and says why
        if self._closed:
            await _stop(process)
        else:
            self._ready.append(process)

    async def read(self, data: bytes) -> PdfReading:
        process: asyncio.subprocess.Process | None = None
        while self._ready and process is None:
            candidate = self._ready.pop()
            process = candidate if candidate.returncode is None else None  # died idle
        self._refill()
        if process is None:
            started = await _start(self.memory_bytes, self.seconds, self.max_chars)
            if isinstance(started, PdfReading):
                return started
            process = started
        return await _read_with(process, data, self.seconds, self.memory_bytes)

    async def aclose(self) -> None:
        self._closed = True
        for task in list(self._starting):
            task.cancel()
        await asyncio.gather(*self._starting, return_exceptions=True)
        ready, self._ready = self._ready, []
        await asyncio.gather(*(_stop(p) for p in ready))


async def _stop(process: asyncio.subprocess.Process) -> None:
    with suppress(ProcessLookupError):
        process.kill()
    await process.wait()
