"""Reading a reading list is linear in its size and bounded in memory, in every format.

Each format's files are written here, of any size: ordinary records, a title far
past its cap, a record far past the record cap. Time is checked by doubling (the
time for 2n over the time for n, not a wall-clock limit), memory by tracemalloc's peak.
"""

from __future__ import annotations

import csv
import io
import json
import time
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path
from unittest.mock import patch
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oahelper.audit.entries import clean_text
from oahelper.audit.readers import csljson, open_reading_list
from oahelper.audit.readers.limits import FIELD_CAPS, MAX_RECORD

# One record: a title and a DOI (either may be huge, to test the caps).
Record = tuple[str, str]


def _bibtex(records: Iterable[Record]) -> str:
    return "".join(f"@article{{k{i},\n  title = {{{t}}},\n  author = {{M{{\\\"u}}ller, Anna}},\n"
                   f"  doi = {{{d}}}\n}}\n\n" for i, (t, d) in enumerate(records))


def _ris(records: Iterable[Record]) -> str:
    return "".join(f"TY  - JOUR\nTI  - {t}\nAU  - Müller, Anna\nDO  - {d}\nER  - \n\n"
                   for t, d in records)


def _csljson(records: Iterable[Record]) -> str:
    return json.dumps([{"id": f"k{i}", "title": t, "DOI": d, "author": [{"family": "Müller"}]}
                       for i, (t, d) in enumerate(records)], indent=1)


def _csv(records: Iterable[Record]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Title", "Authors", "DOI"])
    writer.writerows((t, "Müller, Anna", d) for t, d in records)
    return out.getvalue()


def _text(records: Iterable[Record]) -> str:
    return "".join(f"{t} doi:{d}\n" for t, d in records)


def _wos(records: Iterable[Record]) -> str:
    body = "".join(f"PT J\nAU Muller, A\nTI {t}\nCR Smith J, 2013, J TEST, DOI 10.5555/cited.{i}\n"
                   f"DI {d}\nER\n\n" for i, (t, d) in enumerate(records))
    return f"FN Clarivate Analytics Web of Science\nVR 1.0\n{body}EF\n"


def _medline(records: Iterable[Record]) -> str:
    return "".join(f"PMID- {10_000_000 + i}\nTI  - {t}\nFAU - Muller, Anna\nLID - {d} [doi]\n\n"
                   for i, (t, d) in enumerate(records))


def _endnote(records: Iterable[Record]) -> str:
    body = "".join(f"<record><rec-number>{i}</rec-number><contributors><authors><author>"
                   f"Müller, Anna</author></authors></contributors><titles><title>{escape(t)}"
                   f"</title></titles><electronic-resource-num>{escape(d)}"
                   f"</electronic-resource-num></record>\n" for i, (t, d) in enumerate(records))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<xml><records>\n{body}</records></xml>\n'


# Format -> how to write a file of records in it (and the file's extension).
WRITERS: dict[str, tuple[Callable[[Iterable[Record]], str], str]] = {
    "bibtex": (_bibtex, ".bib"), "ris": (_ris, ".ris"), "csljson": (_csljson, ".json"),
    "csv": (_csv, ".csv"), "text": (_text, ".txt"), "wos": (_wos, ".txt"),
    "medline": (_medline, ".nbib"), "endnote": (_endnote, ".xml"),
}


def write_list(folder: Path, format: str, records: Iterable[Record], name: str = "list") -> Path:
    """A reading list of ``records`` in ``format``, written under ``folder``."""
    write, extension = WRITERS[format]
    path = folder / f"{name}-{format}{extension}"
    path.write_text(write(records), encoding="utf-8")
    return path


def plain_records(count: int, title_length: int = 60) -> list[Record]:
    """``count`` ordinary records, each title ``title_length`` characters long."""
    return [(("A title about tests " * (title_length // 20 + 1))[:title_length].strip(),
             f"10.5555/oahelper.{i}") for i in range(count)]


def read(path: Path) -> list:
    return list(open_reading_list(path).entries())


def _cpu_time(path: Path) -> float:
    start = time.process_time()  # this process's CPU, not the wall clock: other work on
    for _entry in open_reading_list(path).entries():  # the machine does not count
        pass
    return time.process_time() - start


def doubling(small: Path, large: Path) -> float:
    """How many times longer ``large`` takes to read than ``small``: the fastest of
    several readings of each, taken in turns (at least three, more while they take
    under a second in all)."""
    times: dict[Path, list[float]] = {small: [], large: []}
    while len(times[small]) < 3 or (sum(times[large]) < 1 and len(times[small]) < 15):
        for path in (small, large):
            times[path].append(_cpu_time(path))
    return min(times[large]) / min(times[small])


@pytest.mark.parametrize("format", WRITERS)
def test_each_format_is_recognised_from_the_files_written_here(tmp_path: Path, format: str) -> None:
    path = write_list(tmp_path, format, plain_records(3))
    reading = open_reading_list(path)
    assert reading.format == format
    assert [e.doi for e in reading.entries()] == [f"10.5555/oahelper.{i}" for i in range(3)]


@pytest.mark.parametrize("format", sorted(set(WRITERS) - {"text"}))
def test_a_title_over_its_cap_is_refused_and_the_row_says_so(tmp_path: Path, format: str) -> None:
    long_title = "A title that is not one " * 500  # 12,000 characters
    first, long, last = read(write_list(tmp_path, format, [
        ("First", "10.5555/x.1"), (long_title, "10.5555/x.2"), ("Last", "10.5555/x.3")]))
    assert long.title is None and long.doi == "10.5555/x.2"  # the rest of the record is kept
    assert long.note == f"title refused: more than {FIELD_CAPS['title']:,} characters"
    assert (first.title, last.title, first.note, last.note) == ("First", "Last", None, None)


def test_a_plain_line_over_its_cap_is_an_unreadable_row(tmp_path: Path) -> None:
    first, long, last = read(write_list(tmp_path, "text", [
        ("First", "10.5555/x.1"), ("x" * 20_000, "10.5555/x.2"), ("Last", "10.5555/x.3")]))
    assert long.unreadable == "20,017 characters is too long for one reference"
    assert (first.doi, last.doi) == ("10.5555/x.1", "10.5555/x.3")


@pytest.mark.parametrize("format,authors", [
    ("bibtex", "@article{k, doi = {10.5555/x.1}, author = {%s}}\n"),
    ("ris", "TY  - JOUR\nDO  - 10.5555/x.1\n%s\nER  - \n"),
    ("medline", "PMID- 1\nLID - 10.5555/x.1 [doi]\n%s\n"),
])
def test_a_huge_author_list_is_cut_after_a_whole_name(tmp_path: Path, format: str,
                                                       authors: str) -> None:
    names = [f"Author{i:04d}, A." for i in range(3_000)]  # 45,000 characters
    listed = {"bibtex": " and ".join(names), "ris": "\n".join(f"AU  - {n}" for n in names),
              "medline": "\n".join(f"FAU - {n}" for n in names)}[format]
    path = tmp_path / f"authors.{format}"
    path.write_text(authors % listed)
    (entry,) = open_reading_list(path, format).entries()
    assert entry.doi == "10.5555/x.1" and entry.authors[0] == "Author0000, A."
    kept = len(entry.authors)
    assert 1_000 < kept < 3_000 and entry.authors == tuple(names[:kept])
    assert entry.note == f"authors cut to the first {kept:,}: more than 20,000 characters"


@pytest.mark.parametrize("format", WRITERS)
def test_time_grows_linearly_with_the_number_of_records(tmp_path: Path, format: str) -> None:
    count = 2_000 if format == "bibtex" else 10_000  # BibTeX's parser is the slowest by far
    small = write_list(tmp_path, format, plain_records(count), "small")
    large = write_list(tmp_path, format, plain_records(2 * count), "large")
    assert doubling(small, large) < 3


@pytest.mark.parametrize("format", WRITERS)
def test_time_grows_linearly_with_the_length_of_a_field(tmp_path: Path, format: str) -> None:
    # A title of 250,000 characters took 2.3 s and 1,000,000 took 19.1 s in BibTeX,
    # when the whole value went through the LaTeX decoder.
    small = write_list(tmp_path, format, plain_records(20, 300_000), "small")
    large = write_list(tmp_path, format, plain_records(20, 600_000), "large")
    assert doubling(small, large) < 3


@pytest.mark.parametrize("format", WRITERS)
def test_memory_is_one_record_whatever_the_size_of_the_file(tmp_path: Path, format: str) -> None:
    # A CSL-JSON file of one 200 MB string peaked at 1.45 GiB when parsed whole.
    path = write_list(tmp_path, format, [("First", "10.5555/x.1"), ("x" * 20_000_000, "10.5555/x.2"),
                                         ("Last", "10.5555/x.3")])
    tracemalloc.start()
    try:
        got = [(e.doi, e.unreadable, e.note) for e in open_reading_list(path).entries()]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * MAX_RECORD  # the file is 20 MB; its record is never held
    assert [doi for doi, _, _ in got][::2] == ["10.5555/x.1", "10.5555/x.3"]
    huge = got[1]
    assert huge[1] or huge[2]  # unreadable (too big to hold), or the title refused
    assert "MiB; not read" in (huge[1] or "") or "refused" in (huge[2] or "") \
        or "too long" in (huge[1] or "")


def test_a_record_over_the_record_cap_is_skipped_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.ris"
    path.write_text("TY  - JOUR\nDO  - 10.5555/x.1\nER  - \n"
                    "TY  - JOUR\n" + "N1  - a note line of sixty characters, many times over....\n"
                    * (MAX_RECORD // 50) + "DO  - 10.5555/x.2\nER  - \n"
                    "TY  - JOUR\nDO  - 10.5555/x.3\nER  - \n")
    first, big, last = read(path)
    assert big.unreadable == "a RIS record of more than 1 MiB; not read" and big.line == 4
    assert (first.doi, last.doi) == ("10.5555/x.1", "10.5555/x.3")


# Items whose strings hold what the CSL-JSON scanner watches for: quotes, backslashes,
# brackets, commas, and an "items" key that is not a wrapper's.
_TRICKY = st.text(alphabet='ab"\\[]{},: \n\u00e9', max_size=12)
_ITEMS = st.lists(st.fixed_dictionaries({"DOI": st.sampled_from(["10.5555/x.1", "10.5555/x.2"]),
                                         "title": _TRICKY, "items": st.lists(_TRICKY, max_size=2)}),
                  max_size=4)


@settings(max_examples=60, deadline=None)
@given(_ITEMS, st.integers(1, 9), st.booleans())
def test_csl_json_items_are_the_same_whatever_the_chunks_they_arrive_in(
        items: list[dict], chunk: int, wrapped: bool) -> None:
    text = json.dumps({"items": items} if wrapped else items, indent=1, ensure_ascii=False)
    with patch.object(csljson, "_CHUNK", chunk):
        got = list(csljson.read_csljson(io.StringIO(text), "x.json"))
    assert [(e.doi, e.title) for e in got] == [(i["DOI"], clean_text(i["title"])) for i in items]
