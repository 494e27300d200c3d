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


def assemble_pdf(objects: list[bytes]) -> bytes:
    """A PDF of these objects (the first is the catalog) with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _warm_up_pdf() -> bytes:
    """A one-page PDF that prints a word. Read once at start, it makes the parts of
    pypdf that load only when a page's text is first extracted load then, before any
    stranger's PDF arrives: a worker started ahead (links/pdf.py) then answers in tens
    of milliseconds, not hundreds."""
    return assemble_pdf([
        b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R"
        b"/Resources<</Font<</F1<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>>>>>>>",
        b"<</Length 34>>stream\nBT /F1 12 Tf 72 720 Td (warm) Tj ET\nendstream"])


def main(argv: list[str]) -> int:
    import pypdf  # noqa: F401  (loaded before the cap: it is part of the base)

    memory_bytes, seconds, max_chars = int(argv[0]), float(argv[1]), int(argv[2])
    logging.disable(logging.CRITICAL)  # pypdf logs every oddity of a broken file
    warnings.simplefilter("ignore")
    try:
        first_page_text(_warm_up_pdf())
    except (ScrapeError, PageOverBudget):
        pass  # the warm-up is only for speed; whatever it did is loaded now
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must never corrupt the answer
    _cap(memory_bytes, seconds)
    signal.signal(signal.SIGALRM, _on_alarm)
    try:
        # A worker may be started before its PDF exists (links/pdf.py, PdfReaders): its
        # clock starts with the PDF, not with the wait. The caller's own timeout covers
        # a PDF that never finishes arriving.
        data = sys.stdin.buffer.read()
        signal.setitimer(signal.ITIMER_REAL, seconds)
        reply = answer(data, max_chars)
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
