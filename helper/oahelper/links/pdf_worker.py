"""Read one PDF's first page under a budget: ``python -m oahelper.links.pdf_worker
MEMORY_BYTES SECONDS MAX_CHARS``, the PDF on stdin, one JSON object on stdout.

    {"text": "…"}                                     the first page's text
    {"error": "why", "code": "bad_pdf"}               not a readable PDF
    {"error": "why", "code": "pdf_memory|pdf_time"}   over the budget

After pypdf is loaded the process caps its own address space at what it has plus
MEMORY_BYTES (RLIMIT_AS; a MemoryError then answers ``pdf_memory``), and its time:
an alarm after SECONDS of wall clock stops the reading, and RLIMIT_CPU ends a process
that somehow ignores it. The caller (``pdf.read_first_page``) kills it on top of
that if it does not answer in time. Only plain JSON comes back, never a pickle.

``first_page_text`` (pypdf, its exceptions translated once) and ``answer`` (the
request → reply function) live here so that the worker imports nothing but pypdf
and oahelper.errors; a long-lived pool (page_worker.py's frames carry JSON alike)
can call ``answer`` instead of this one-shot main.
"""

from __future__ import annotations

import io
import json
import logging
import math
import resource
import signal
import sys
import warnings
from types import FrameType
from typing import Any

from oahelper.errors import PageOverBudget, ScrapeError

# A dense first page is 5-8k characters; beyond this, the rest is not needed.
FIRST_PAGE_MAX_CHARS = 20_000


class _OutOfTime(BaseException):
    """Raised by the alarm inside whatever pypdf is doing (a BaseException, so that
    no ``except Exception`` on the way mistakes it for a broken file)."""


def first_page_text(data: bytes, max_chars: int = FIRST_PAGE_MAX_CHARS) -> str:
    """The text of the PDF's first page, at most ``max_chars`` of it ("" when the page
    has no text). ``ScrapeError`` (code ``bad_pdf``) for what pypdf cannot read;
    ``PageOverBudget`` (``pdf_memory``) when memory runs out. No time limit of its
    own: run it in this worker (``pdf.read_first_page``) for a stranger's PDF."""
    from pypdf import PdfReader  # here: importing this module (and classify) loads no PDF library

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if not reader.pages:
            return ""
        text = reader.pages[0].extract_text() or ""
    except MemoryError as exc:
        raise PageOverBudget("reading the PDF needed too much memory", code="pdf_memory") from exc
    except RecursionError as exc:
        raise ScrapeError("the PDF's objects nest too deep", code="bad_pdf") from exc
    except Exception as exc:
        # On a broken file pypdf lets more than its own PyPdfError escape (zlib.error,
        # struct.error, KeyError…): every one means the same, an unreadable PDF. The
        # class name says which; the message may quote the stranger's bytes.
        raise ScrapeError(f"not a readable PDF ({type(exc).__name__})", code="bad_pdf") from exc
    return text[:max_chars]


def answer(data: bytes, max_chars: int) -> dict[str, Any]:
    """The reply for one PDF: its first page's text, or the error's message and code."""
    try:
        return {"text": first_page_text(data, max_chars)}
    except (ScrapeError, PageOverBudget) as exc:
        return {"error": exc.message, "code": exc.code}


def _address_space() -> int:
    """This process's address space now, in bytes (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _cap(memory_bytes: int, seconds: float) -> None:
    limit = _address_space() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    cpu = math.ceil(seconds) + 1 + math.ceil(resource.getrusage(resource.RUSAGE_SELF).ru_utime)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _OutOfTime


def main(argv: list[str]) -> int:
    import pypdf  # noqa: F401  (loaded before the cap: it is part of the base)

    memory_bytes, seconds, max_chars = int(argv[0]), float(argv[1]), int(argv[2])
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must never corrupt the answer
    logging.disable(logging.CRITICAL)  # pypdf logs every oddity of a broken file
    warnings.simplefilter("ignore")
    _cap(memory_bytes, seconds)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        reply = answer(sys.stdin.buffer.read(), max_chars)
    except _OutOfTime:
        reply = {"error": f"reading the PDF took longer than {seconds:g} s", "code": "pdf_time"}
    except MemoryError:  # while reading stdin, or in answer() outside pypdf's call
        reply = {"error": "memory", "code": "pdf_memory"}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    out.write(json.dumps(reply).encode("utf-8"))
    out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
