"""Which paper a PDF is (links/pdf.py), and reading a stranger's PDF under a budget.

The PDFs of our own are written here byte by byte (``minimal_pdf``), so the core is
tested without ../shared; the eight recorded PDFs of ../shared/fixtures/links are
read in place (SOURCES.md gives each one's paper) and skip without it.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import zlib
from collections.abc import Callable
from functools import cache

import pytest

from oahelper.errors import ScrapeError
from oahelper.links import pdf as pdf_module
from oahelper.links.matching import (
    TITLE_SCORE,
    doi_in_text,
    same_title,
    squeeze,
    title_in_text,
)
from oahelper.links.pdf import (
    PdfReaders,
    PdfReading,
    first_page_text,
    identify,
    identity,
    read_first_page,
    read_first_page_async,
)
from oahelper.links.pdf_worker import answer, assemble_pdf
from tests.support.shared import require_shared

# --- PDFs of our own ---------------------------------------------------------------


def assemble(objects: list[bytes]) -> bytes:
    """A PDF of these objects (1 0 obj is the catalog), with a correct xref table
    (the worker's own writer, which makes its warm-up PDF)."""
    return assemble_pdf(objects)


def stream(data: bytes, *, flate: bool = False) -> bytes:
    flt = b" /Filter /FlateDecode" if flate else b""
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), flt, data)


def one_page(content: bytes, catalog_extra: bytes = b"") -> bytes:
    """A one-page PDF whose page shows ``content`` (a content stream object) in Helvetica."""
    return assemble([
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        content,
    ])


def minimal_pdf(lines: list[str]) -> bytes:
    """A one-page PDF that prints ``lines`` (Latin-1 text), one under the other."""
    def literal(line: str) -> bytes:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return b"(" + escaped.encode("latin-1") + b")"
    ops = b" ".join(literal(line) + b" Tj T*" for line in lines)
    return one_page(stream(b"BT /F1 11 Tf 72 740 Td 13 TL " + ops + b" ET"))


def flate(data: bytes, repeat: int = 1) -> bytes:
    packer = zlib.compressobj(9)
    return b"".join(packer.compress(data) for _ in range(repeat)) + packer.flush()


BODY = ["Background: " + "the quick brown fox jumps over the lazy dog " * 3] * 12
TITLE = "Soil carbon under long-term no-till farming: a meta-analysis"


def test_first_page_text_reads_a_pdf_written_here() -> None:
    text = first_page_text(minimal_pdf(["Journal of Tests 2024", TITLE, "doi:10.5555/test.1"]))
    assert TITLE in text and "10.5555/test.1" in text


def test_first_page_text_stops_at_max_chars() -> None:
    assert len(first_page_text(minimal_pdf(BODY), max_chars=100)) == 100


def test_first_page_text_says_a_broken_pdf_is_unreadable_in_the_projects_error() -> None:
    with pytest.raises(ScrapeError) as caught:
        first_page_text(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    assert caught.value.code == "bad_pdf"
    assert caught.value.__cause__ is not None  # pypdf's own exception, kept as the cause


def test_worker_answer_is_plain_json_for_text_and_for_errors() -> None:
    assert answer(minimal_pdf(["Hello"]), 100) == {"text": "Hello\n"}
    assert answer(b"%PDF-1.4 nothing", 100)["code"] == "bad_pdf"


# --- Identity of text ----------------------------------------------------------------

def test_doi_printed_broken_over_lines_hyphenated_or_spaced_still_matches() -> None:
    doi = "10.1186/1472-6963-14-1"
    for text in ("doi:10.1186/1472-\n6963-14-1 Cite", "DOI 10.1186/ 1472-6963-14-1\n",
                 "https://doi.org/10.1186/1472\u20106963\u201014\u20101.", "10 .1186/1472-6963-14-1"):
        assert doi_in_text(doi, text), text
    # A hyphen that only breaks the line, inside a DOI that has none there.
    assert doi_in_text("10.1017/S1041610213001804", "doi:10.1017/S10416102-\n13001804\nStressful")
    assert doi_in_text("10.1017/s1041610213001804", "DOI:10.1017/S1041610213001804")  # case


def test_a_longer_doi_is_not_the_doi_it_starts_with() -> None:
    assert not doi_in_text("10.1186/1472-6963-14-1", "doi:10.1186/1472-6963-14-10")
    assert not doi_in_text("10.1186/1472-6963-14-1", "doi:210.1186/1472-6963-14-1")
    assert doi_in_text("10.1136/pgmj.2009.089987", "doi:10.1136/pgmj.2009.089987Original article")


def test_titles_are_compared_squeezed_ligatures_hyphens_and_breaks_undone() -> None:
    assert squeeze("Iron deﬁciency an-\naemia, Müller") == "irondeficiencyanaemiamuller"
    assert title_in_text("Noisy matrix decomposition via convex relaxation: optimal rates in high dimensions",
                         "Noisy Matrix Decomposition via Convex Relaxation: Optimal Ra tes\n"
                         "in High Dimensions")
    # The glyph of the ligature missing altogether (the OSDI PDF's "Simplied").
    assert title_in_text("MapReduce: simplified data processing on large clusters",
                         "MapReduce: Simplied Data Processing on Large Clusters\nJeffrey Dean")
    assert not title_in_text("Editorial", "An edtorial note")  # short: exact, never fuzzy
    assert same_title(TITLE, f"{TITLE} | Journal of Tests")
    assert not same_title(TITLE, "Journal of Tests: home")


def test_identity_of_first_page_texts() -> None:
    page = "\n".join(["Journal of Tests 2024", "A. Author, B. Author", TITLE, *BODY])
    assert identity(page, None, TITLE) == "match"
    assert identity(page + "\ndoi:10.5555/x.1", "10.5555/x.1", None) == "match"
    # Another paper's DOI printed, and our title nowhere: another paper.
    elsewhere = "Something else entirely, at length"
    assert identity(page + "\ndoi:10.5555/x.2", "10.5555/x.1", elsewhere) == "other"
    # Readable text, the title known and not on the page: another paper.
    assert identity(page, "10.5555/x.1", elsewhere) == "other"
    # Only a DOI known, and none printed: nothing to tell by.
    assert identity(page, "10.5555/x.1", None) == "unknown"
    # No text layer (a scan): unknown, never "other".
    assert identity("  \n 1 \n", "10.5555/x.1", TITLE) == "unknown"


# --- The recorded PDFs (../shared/fixtures/links) ------------------------------------

# file → (the DOI it is, its title). The two "version-of" PDFs print no DOI: they are
# the conference versions of the journal articles with these DOIs and titles.
RECORDED_PDFS: dict[str, tuple[str, str]] = {
    "pdf_10.1186_1472-6963-14-1.pdf": (
        "10.1186/1472-6963-14-1",
        "Understanding the barriers to setting up a healthcare quality improvement process in "
        "resource-limited settings: a situational analysis at the Medical Department of Kamuzu "
        "Central Hospital in Lilongwe, Malawi"),
    "pdf_10.1186_1752-2897-4-1.pdf": (
        "10.1186/1752-2897-4-1",
        "Complications related to deep venous thrombosis prophylaxis in trauma: "
        "a systematic review of the literature"),
    # Info Title is junk ("ipg1300180a"); DOI on page 1.
    "pdf_10.1017_S1041610213001804.pdf": (
        "10.1017/S1041610213001804",
        "Stressful life events are not associated with the development of dementia"),
    # Info Title is "doi:"; the title comes after the affiliations in some readers' order.
    "pdf_10.1136_pgmj.2009.089987.pdf": (
        "10.1136/pgmj.2009.089987",
        "Iron deficiency anaemia can be improved after eradication of Helicobacter pylori"),
    "pdf_10.3115_v1_P14-1059.pdf": (
        "10.3115/v1/P14-1059",
        "How to make words with vectors: Phrase generation in distributional semantics"),
    "pdf_10.1109_DSDE.2010.49.pdf": (
        "10.1109/DSDE.2010.49",
        "A New Requirement Prioritization Model for Market Driven Products Using Analytical "
        "Hierarchical Process"),
    "pdf_version-of_10.1214_12-AOS1000_icml2011.pdf": (
        "10.1214/12-AOS1000",
        "Noisy matrix decomposition via convex relaxation: Optimal rates in high dimensions"),
    "pdf_version-of_10.1145_1327452.1327492_osdi2004.pdf": (
        "10.1145/1327452.1327492", "MapReduce: simplified data processing on large clusters"),
}
PRINTS_ITS_DOI = {"pdf_10.1017_S1041610213001804.pdf", "pdf_10.1136_pgmj.2009.089987.pdf",
                  "pdf_10.1109_DSDE.2010.49.pdf"}  # on page 1; the BMC pair print theirs on the last


@cache
def recorded_text(name: str) -> str:
    return first_page_text((require_shared("links") / name).read_bytes())


@pytest.mark.corpus
@pytest.mark.parametrize("name", RECORDED_PDFS)
def test_each_recorded_pdf_is_its_own_article(name: str) -> None:
    doi, title = RECORDED_PDFS[name]
    assert identity(recorded_text(name), doi, title) == "match"
    # By the title alone: the junk Info Titles play no part.
    assert identity(recorded_text(name), None, title) == "match"
    expected = "match" if name in PRINTS_ITS_DOI else "unknown"
    assert identity(recorded_text(name), doi, None) == expected


@pytest.mark.corpus
@pytest.mark.parametrize("name", RECORDED_PDFS)
def test_each_recorded_pdf_is_another_paper_for_every_other_article(name: str) -> None:
    for other, (doi, title) in RECORDED_PDFS.items():
        if other != name:
            assert identity(recorded_text(name), doi, title) == "other", other


@pytest.mark.corpus
def test_title_scores_of_the_recorded_pdfs_are_far_apart() -> None:
    """Own titles score 98-100, other papers' at most 60 (when written): the threshold
    (TITLE_SCORE) sits in the gap."""
    from rapidfuzz import fuzz

    for name in RECORDED_PDFS:
        text = squeeze(recorded_text(name))
        for other, (_, title) in RECORDED_PDFS.items():
            score = fuzz.partial_ratio(squeeze(title), text)
            if other == name:
                assert score >= 97, name
            else:
                assert score <= 70 < TITLE_SCORE, (name, other, score)


@pytest.mark.corpus
def test_version_of_pdfs_match_the_journal_article_by_title_only() -> None:
    for name in ("pdf_version-of_10.1214_12-AOS1000_icml2011.pdf",
                 "pdf_version-of_10.1145_1327452.1327492_osdi2004.pdf"):
        doi, title = RECORDED_PDFS[name]
        check = identify(recorded_text(name), doi, title)
        assert check.identity == "match" and "title" in check.reason


# --- Reading under a budget ---------------------------------------------------------

def test_the_bounded_reader_gives_the_same_text_as_the_reader() -> None:
    data = minimal_pdf([TITLE, *BODY])
    assert read_first_page(data) == PdfReading(text=first_page_text(data))


@pytest.mark.corpus
def test_the_bounded_reader_reads_a_recorded_pdf() -> None:
    name = "pdf_10.1109_DSDE.2010.49.pdf"
    assert read_first_page((require_shared("links") / name).read_bytes()).text == recorded_text(name)


async def test_the_async_bounded_reader_gives_the_same_text() -> None:
    data = minimal_pdf([TITLE])
    assert (await read_first_page_async(data)).text == first_page_text(data)


def garbage_after_magic() -> bytes:
    return b"%PDF-1.7\n" + random.Random(0).randbytes(300_000)


def deeply_nested() -> bytes:
    return one_page(stream(b"BT ET"), b"/X " + b"[" * 100_000 + b"]" * 100_000 + b" ")


def decompression_bomb() -> bytes:
    """200 MiB of content stream in 200 KB."""
    return one_page(stream(flate(b"0 " * 2**19, repeat=200), flate=True))


def millions_of_text_operators() -> bytes:
    """A content stream of 3 million ``Tj``: seconds of pure-Python work for pypdf."""
    return one_page(stream(flate(b"BT /F1 12 Tf " + b"(a) Tj " * 3_000_000 + b"ET"), flate=True))


def huge_declared_stream() -> bytes:
    return b"%PDF-1.4\n1 0 obj\n<< /Length 999999999999 >>\nstream\n" + b"x" * 1000


@pytest.mark.parametrize(("make", "seconds", "memory_mib", "why"), [
    (garbage_after_magic, 5, 256, "not a readable PDF"),
    (deeply_nested, 5, 256, "not a readable PDF"),
    (huge_declared_stream, 5, 256, "not a readable PDF"),
    # pypdf stops inflating at 75 MB on its own; with less memory, the cap stops it first.
    (decompression_bomb, 5, 256, "not a readable PDF (LimitReachedError)"),
    (decompression_bomb, 5, 32, "needed more than 32 MiB"),
    (millions_of_text_operators, 1, 256, "took longer than 1 s"),
], ids=["garbage", "nested", "huge-length", "bomb", "bomb-small-memory", "slow"])
def test_a_hostile_pdf_gives_no_text_and_a_reason(make: Callable[[], bytes], seconds: float,
                                                  memory_mib: int, why: str) -> None:
    reading = read_first_page(make(), seconds=seconds, memory_bytes=memory_mib * 2**20)
    assert reading.text == "" and reading.problem is not None and why in reading.problem


def test_a_worker_that_does_not_answer_is_killed_by_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's own alarm is the first limit; a child stuck where no alarm reaches
    it (here: one that only sleeps) is killed by the caller ``_START_SECONDS`` later."""
    monkeypatch.setattr(pdf_module, "_START_SECONDS", 0.2)
    monkeypatch.setattr(pdf_module, "_worker_command",
                        lambda *args: [sys.executable, "-c", "import time; time.sleep(60)"])
    started = time.monotonic()
    reading = read_first_page(b"%PDF-1.4", seconds=0.1)
    assert reading.problem == "reading the PDF took longer than 0.1 s"
    assert time.monotonic() - started < 30  # not the child's 60 s (no speed figure: see scripts/bench)


async def test_async_reader_kills_a_worker_that_does_not_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_module, "_START_SECONDS", 0.2)
    monkeypatch.setattr(pdf_module, "_worker_command",
                        lambda *args: [sys.executable, "-c", "import time; time.sleep(60)"])
    reading = await asyncio.wait_for(read_first_page_async(b"%PDF-1.4", seconds=0.1), 30)
    assert reading.problem == "reading the PDF took longer than 0.1 s"


def test_a_worker_that_dies_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_module, "_worker_command",
                        lambda *args: [sys.executable, "-c", "raise SystemExit(3)"])
    assert read_first_page(b"%PDF-1.4").problem == "the PDF reader stopped (exit 3)"



async def test_warm_readers_start_their_clock_with_the_pdf_and_read_one_pdf_each() -> None:
    """Workers started ahead wait for their PDF without using up its time; each reads
    one PDF and exits (a new one takes its place), and a hostile PDF is still cut off."""
    readers = PdfReaders(2, seconds=1.0)
    await readers.warm_up()
    first = list(readers._ready)
    assert len(first) == 2
    await asyncio.sleep(1.5)  # longer than a PDF may take: the idle workers must not mind
    reading = await readers.read(minimal_pdf(["Hello from a warm reader"]))
    assert reading.problem is None and "Hello from a warm reader" in reading.text
    await asyncio.sleep(0.5)
    used = [p for p in first if p.returncode is not None]
    assert len(used) == 1  # the one that read the PDF is gone; a fresh one replaced it
    assert len(readers._ready) == 2 and used[0] not in readers._ready
    slow = await readers.read(millions_of_text_operators())
    assert slow.problem == "reading the PDF took longer than 1 s"
    await readers.aclose()
    assert all(p.returncode is not None for p in first)
