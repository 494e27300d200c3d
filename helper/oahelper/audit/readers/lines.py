"""Plain lists: one identifier or reference per line.

A line may be a DOI in any usual form, ``PMID 123``, ``PMC123``, ``arXiv:1706.03762``,
a doi.org, PubMed or arXiv link, or a whole reference with a DOI somewhere in it.
Blank lines and lines starting with ``#`` are skipped. A line with nothing to look up
by is kept as a reference without an identifier. A line longer than :data:`MAX_LINE`
is an unreadable row, skipped past without being held.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from oahelper.audit.entries import Entry, make_entry, unreadable
from oahelper.audit.readers.limits import FIELD_CAPS
from oahelper.identifiers import clean_doi, parse_query

# Far longer than any reference; a longer "line" is a file of another kind.
MAX_LINE = FIELD_CAPS["text"]


def entry_from_text(name: str, key: str, line: int | None, text: str,
                    length: int | None = None) -> Entry:
    """The entry one typed or pasted reference stands for (``length``: its full
    length, when only its start was read)."""
    length = max(length or 0, len(text))
    if length > MAX_LINE:
        return unreadable(name, key, line, f"{length:,} characters is too long for one reference")
    if clean_doi(text) is not None:  # most lines of a long list: the entry make_entry makes
        return Entry(file=name, key=key, line=line, doi=text)
    typed = parse_query(text)
    if typed is not None:
        return make_entry(name, key, line, doi=typed.doi, pmid=typed.pmid, pmcid=typed.pmcid,
                          arxiv=typed.arxiv)
    return make_entry(name, key, line, urls=(text,) if "://" in text else (), text=text)


def read_lines(lines: Iterable[tuple[str, int]], name: str) -> Iterator[Entry]:
    """One entry per non-blank, non-comment line (each line with its full length, as
    :func:`~oahelper.audit.readers.limits.bounded_lines` gives them), streamed."""
    for number, (raw, length) in enumerate(lines, 1):
        text = raw.strip()
        if text and not text.startswith("#"):
            cut = length if length > len(raw) else None  # only its start was read
            yield entry_from_text(name, f"line {number}", number, text, cut)
