"""The one CSV writer of every CSV oahelper writes: no cell is ever read as a formula.

A spreadsheet (Excel, LibreOffice, Google Sheets) runs a cell that starts with ``=``,
``+``, ``-`` or ``@`` as a formula, so a title in a reading list or an upstream's
answer such as ``=HYPERLINK("https://evil.example","Open the PDF")`` would become a
link, or with DDE (``=cmd|' /C calc'!A0``) a program. The rule, OWASP's "CSV
Injection" with its gaps closed, the same in ``extension/lib/csv.js``:

- **Which cells are numbers is the writer's schema**, never the value: a number
  column (``numeric``) holding an int or a float is written bare and stays a number
  (a year 2019, a score 0.9; a negative number of ours, -3, too, since a bare number
  is a number and never a formula). Everything else is text, a title "-1" included.
- **Every text cell is quoted** (``"…"``, embedded quotes doubled), so a ``,``, ``;``,
  tab or line break inside it never ends it for a reader that honours quotes. An
  empty cell is ``""``.
- **A text cell is guarded** with a leading ``'`` when, past what an application may
  drop before it reads a cell (controls, spaces, invisible format characters, quotes:
  ``SKIP``), it starts with a trigger (``TRIGGERS``: ``= + - @``, the full-width,
  small, superscript and subscript forms NFKC folds into them, and the minus sign), or
  when it starts with a tab, carriage return or line feed at all.
- **The same guard goes after every ``;``, tab, CR and LF inside a cell**: a
  spreadsheet in a locale whose separator is ``;`` (German, French Excel) splits a
  comma file on ``;`` regardless of our quotes, and some readers split on tabs or
  line breaks; each piece it can make starts as safe text (``a;=1`` → ``a;'=1``).

JSON and HTML reports keep the exact text: only CSV cells are guarded.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Sequence
from operator import itemgetter
from typing import IO, Any

# Characters that start a formula: = + - @, every character NFKC folds into text that
# starts with one (full-width, small, superscript, subscript forms, ⩵ ⩶, the Hebrew
# alternative plus), and U+2212 MINUS SIGN.
TRIGGERS = ("=+\\-@\u207a\u207c\u208a\u208c\u2a75\u2a76\ufb29\ufe62\ufe63\ufe66\ufe6b"
            "\uff0b\uff0d\uff1d\uff20\u2212")
# What an application may drop before it reads a cell: every control, format and
# space character of the Basic Multilingual Plane (Unicode categories Cc, Cf, Zs, Zl,
# Zp: C0 and C1 controls, DEL, NBSP, the soft hyphen, zero-width and direction marks,
# the ideographic space, the BOM…), and the double quote (a cell a `;` reader sees
# begin with one).
SKIP = ("\\x00-\\x20\\x7f-\\xa0\\xad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891"
        "\\u08e2\\u1680\\u180e\\u2000-\\u200f\\u2028-\\u202f\\u205f-\\u206f\\u3000\\ufeff"
        "\\ufff9-\\ufffb\"")
# Where a spreadsheet may start a new cell inside one of ours.
SPLITS = ";\\t\\r\\n"
# One pattern, written the same in extension/lib/csv.js: the places to put a ' at.
# Every match is empty (a place, not text), so Python and JavaScript, which go on
# differently after an empty match, find the same places.
GUARD_PATTERN = f"(?:^|(?<=[{SPLITS}]))(?=[{SKIP}]*[{TRIGGERS}])|^(?=[\\t\\r\\n])"
_GUARD = re.compile(GUARD_PATTERN)
# The same test over a row's text cells, each after a NUL (a cell start), for the rows
# that need no guard at all (nearly all): one search a row, not one a cell; the
# pattern starts with a character class, which the regex engine scans for quickly.
_ROW_GUARD = re.compile(f"[\\x00{SPLITS}](?:[{SKIP}]*[{TRIGGERS}]|(?<=\\x00)[\\t\\r\\n])")
_NUMBER_TYPES = frozenset({int, float, type(None)})


def guard(text: str) -> str:
    """``text`` as a CSV cell's text no spreadsheet reads as a formula (a ``'`` put
    before each piece that would start one)."""
    return _GUARD.sub("'", text)


def text_cell(value: object) -> str:
    """A text column's value as its cell text: yes/no for booleans, empty for None."""
    if value is None:
        return ""
    if value is True or value is False:
        return "yes" if value else "no"
    return guard(value if isinstance(value, str) else str(value))


def number_cell(value: object) -> object:
    """A number column's value: an int or float as it is, anything else as text."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    return text_cell(value)


class SafeCsvWriter:
    """CSV for spreadsheets, one header line of ``columns`` and then ``write(values)``
    a row: the numbers of the ``numeric`` columns bare, every other cell quoted text,
    guarded against formulas (the module's rule). Lines end with CRLF."""

    def __init__(self, fh: IO[str], columns: Sequence[str],
                 numeric: Collection[str] = ()) -> None:
        unknown = set(numeric) - set(columns)
        if unknown:
            raise ValueError(f"numeric columns that are not columns: {sorted(unknown)}")
        self._csv = csv.writer(fh, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
        self._number = tuple(c in numeric for c in columns)
        self._width = len(columns)
        text_at = [i for i, c in enumerate(columns) if c not in numeric]
        number_at = [i for i, c in enumerate(columns) if c in numeric]
        # itemgetter of one index returns the item, not a tuple: always ask for a tuple.
        self._texts = _getter(text_at)
        self._numbers = _getter(number_at)
        self._csv.writerow([text_cell(c) for c in columns])

    def write(self, values: Sequence[Any]) -> None:
        """One row, its values in column order."""
        if len(values) != self._width:
            raise ValueError(f"a row of {len(values)} values for {self._width} columns")
        if not self._plain(values):
            values = [number_cell(v) if number else text_cell(v)
                      for v, number in zip(values, self._number, strict=True)]
        self._csv.writerow(values)

    def _plain(self, values: Sequence[Any]) -> bool:
        """Does the row go out as it is? Only when its text cells are str or None, its
        number cells numbers or None, and no text needs a guard."""
        texts = self._texts(values)
        if 0 in texts:  # 0, 0.0 or False in a text column: the row is converted
            return False
        if not _NUMBER_TYPES.issuperset(map(type, self._numbers(values))):
            return False
        try:
            joined = "\x00" + "\x00".join(filter(None, texts))
        except TypeError:  # a text column holding something else than str
            return False
        return _ROW_GUARD.search(joined) is None


def _getter(indexes: Sequence[int]) -> Any:
    if not indexes:
        return lambda values: ()
    if len(indexes) == 1:
        get = itemgetter(indexes[0])
        return lambda values: (get(values),)
    return itemgetter(*indexes)
