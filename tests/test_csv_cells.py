"""The one CSV writer (oahelper/audit/csvcell.py) and the extension's copy of its rule
(extension/lib/csv.js): no cell of any CSV oahelper writes is read as a formula."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oahelper.audit.csvcell import (
    GUARD_PATTERN,
    SKIP,
    TRIGGERS,
    SafeCsvWriter,
    guard,
    number_cell,
    text_cell,
)
from oahelper.audit.rows import COLUMNS
from oahelper.audit.writers import NUMBER_COLUMNS

from tests.csv_payloads import PAYLOADS, formula_cells, parsed, unsafe_cells

REPO = Path(__file__).resolve().parents[1]
CSV_JS = REPO / "extension" / "lib" / "csv.js"
TEXT_COLUMNS = [c for c in COLUMNS if c not in NUMBER_COLUMNS]


def write(rows: list[list[Any]], columns: tuple[str, ...] = COLUMNS,
          numeric: frozenset[str] = NUMBER_COLUMNS) -> str:
    out = io.StringIO(newline="")
    writer = SafeCsvWriter(out, columns, numeric)
    for row in rows:
        writer.write(row)
    return out.getvalue()


def payload_rows() -> list[list[Any]]:
    """One row per payload, the payload in every text column; numbers in the others."""
    numbers = {"line": 7, "match_score": 0.75, "year": 2019, "free_copies": 2}
    return [[numbers[c] if c in NUMBER_COLUMNS else p for c in COLUMNS] for p in PAYLOADS]


def test_every_payload_is_a_formula_unguarded() -> None:
    """The test's own rule sees each payload as a formula (or a piece of one), so the
    tests below are not vacuous; "x,=1" only tests the quoting of a comma."""
    assert [p for p in PAYLOADS if not formula_cells([p])] == ["x,=1"]


def test_no_payload_in_any_text_column_is_a_formula() -> None:
    text = write(payload_rows())
    assert unsafe_cells(text, NUMBER_COLUMNS) == []
    rows = parsed(text)
    assert rows[0] == list(COLUMNS)
    for payload, row in zip(PAYLOADS, rows[1:], strict=True):
        for column, cell in zip(COLUMNS, row, strict=True):
            if column in NUMBER_COLUMNS:
                continue
            assert cell == guard(payload)
            # The guard only adds quote marks: take them out and the text is the payload's.
            assert cell.replace("'", "") == payload.replace("'", "")
    # Every text cell is quoted (a ; or a tab inside never ends it for a quoting reader).
    line = text.splitlines()[1]
    assert line.startswith('"') and ',7,"' in line


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_alone(payload: str) -> None:
    year = frozenset({"year"})
    assert unsafe_cells(write([[payload, 1]], ("title", "year"), year), year) == []


def test_which_cells_are_numbers_is_the_schemas_not_the_values() -> None:
    columns = ("title", "year", "match_score", "pmid")
    numeric = frozenset({"year", "match_score"})
    text = write([["-1", 2019, 0.5, "123"],
                  ["x", -3, -0.25, 456],          # negative numbers of ours stay numbers
                  ["x", "-1", "=1+1", None],      # text in a number column is text, guarded
                  ["x", True, None, False],       # a boolean is no number: yes/no text
                  [None, None, None, ""]],
                 columns, numeric)
    lines = text.split("\r\n")
    assert lines[0] == '"title","year","match_score","pmid"'
    assert lines[1] == "\"'-1\",2019,0.5,\"123\""
    assert lines[2] == '"x",-3,-0.25,"456"'
    assert lines[3] == "\"x\",\"'-1\",\"'=1+1\",\"\""
    assert lines[4] == '"x","yes","","no"'
    assert lines[5] == '"","","",""'
    assert number_cell(2.5) == 2.5 and number_cell(True) == "yes" and text_cell(7) == "7"


def test_the_audit_schema_numbers_are_its_numbers() -> None:
    assert NUMBER_COLUMNS == {"line", "match_score", "year", "free_copies"}


def test_a_row_of_the_wrong_width_or_an_unknown_number_column_is_refused() -> None:
    with pytest.raises(ValueError, match="2 values for 3 columns"):
        write([["a", "b"]], ("a", "b", "c"), frozenset())
    with pytest.raises(ValueError, match="not columns"):
        write([], ("a",), frozenset({"b"}))


TRICKY = st.sampled_from(list("=+-@;\t\r\n \"',\x00\u00a0\u3000\uff1d\u2212\u200b") + ["a", "1", "é"])
CELLS = st.one_of(st.none(), st.text(TRICKY, max_size=8), st.integers(-5, 5), st.booleans(),
                  st.floats(-2, 2, allow_nan=False))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(CELLS, CELLS, CELLS, CELLS), min_size=1, max_size=4))
def test_the_quick_row_check_never_lets_a_cell_through_unguarded(rows: list[tuple[Any, ...]]) -> None:
    """Rows with nothing to guard skip the work per cell: whatever the row, the file
    is what converting every cell one by one writes, and holds no formula."""
    columns, numeric = ("a", "b", "n", "m"), frozenset({"n", "m"})
    text = write([list(r) for r in rows], columns, numeric)
    out = io.StringIO(newline="")
    slow = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    slow.writerow(columns)
    for row in rows:
        slow.writerow([number_cell(v) if c in numeric else text_cell(v) for c, v in zip(columns, row)])
    assert text == out.getvalue()
    assert unsafe_cells(text, numeric) == []


def test_the_rule_knows_every_form_of_the_triggers_and_every_invisible_character() -> None:
    trigger = re.compile(f"[{TRIGGERS}]")
    skip = re.compile(f"[{SKIP}]")
    folds = [chr(c) for c in range(0x110000)
             if unicodedata.normalize("NFKC", chr(c))[:1] in ("=", "+", "-", "@")]
    assert [c for c in folds if not trigger.match(c)] == []
    invisible = [chr(c) for c in range(0x10000)
                 if chr(c).isspace() or unicodedata.category(chr(c)) in ("Cc", "Cf", "Zs", "Zl", "Zp")]
    assert [f"U+{ord(c):04X}" for c in invisible if not skip.match(c)] == []


def test_every_csv_the_helper_writes_goes_through_the_one_writer() -> None:
    """The class, not the instance: no other module makes a CSV writer, and the
    extension's only CSV download uses lib/csv.js."""
    writers = [p.relative_to(REPO).as_posix() for p in (REPO / "helper" / "oahelper").rglob("*.py")
               if re.search(r"csv\.(writer|DictWriter)\(|text/csv", p.read_text(encoding="utf-8"))]
    assert writers == ["helper/oahelper/audit/csvcell.py"]
    downloads = [p.relative_to(REPO).as_posix() for p in (REPO / "extension").rglob("*.js")
                 if "text/csv" in p.read_text(encoding="utf-8")]
    assert downloads == ["extension/references/references.js"]
    page = (REPO / "extension" / "references" / "references.js").read_text(encoding="utf-8")
    assert 'from "../lib/csv.js"' in page and "csvText(" in page and "csvCell" not in page


def _node(script: str, data: Any) -> Any:
    if shutil.which("node") is None:
        if os.environ.get("CI"):
            pytest.fail("node is missing, and CI must check the extension's CSV")
        pytest.skip("node is missing")
    program = ("import { readFileSync } from 'node:fs';\n"
               f"const source = readFileSync({json.dumps(str(CSV_JS))}, 'utf8');\n"
               "const csv = await import('data:text/javascript,' + encodeURIComponent(source));\n"
               "const data = JSON.parse(readFileSync(0, 'utf8'));\n"
               f"process.stdout.write(JSON.stringify(await (async () => {{ {script} }})()));\n")
    done = subprocess.run(["node", "--input-type=module", "-e", program], input=json.dumps(data),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_extension_writes_the_same_bytes_for_the_same_payloads(tmp_path: Path) -> None:
    """The references page's CSV (lib/csv.js) against the helper's writer: the same
    payloads in every text column, the same file, character for character."""
    rows = payload_rows()
    as_objects = [dict(zip(COLUMNS, r)) for r in rows]
    answer = _node("return { text: csv.csvText(data.columns, data.rows, csv.REPORT_NUMBERS),"
                   " pattern: csv.GUARD_PATTERN, numbers: csv.REPORT_NUMBERS,"
                   " guarded: data.payloads.map(csv.guard) };",
                   {"columns": list(COLUMNS), "rows": as_objects, "payloads": list(PAYLOADS)})
    assert answer["pattern"] == GUARD_PATTERN
    assert set(answer["numbers"]) == NUMBER_COLUMNS
    assert answer["guarded"] == [guard(p) for p in PAYLOADS]
    report = tmp_path / "report.csv"
    with report.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = SafeCsvWriter(fh, COLUMNS, NUMBER_COLUMNS)
        for row in rows:
            writer.write(row)
    with report.open(encoding="utf-8", newline="") as fh:
        assert answer["text"] == fh.read()  # the BOM and the CRLFs included
    assert unsafe_cells(answer["text"], NUMBER_COLUMNS) == []


def test_the_extension_treats_booleans_and_missing_cells_as_the_helper_does() -> None:
    row = {"title": None, "year": None, "cc_by_or_cc0": True, "doi": False}
    columns = ["title", "year", "cc_by_or_cc0", "doi"]
    text = _node("return csv.csvText(data.columns, [data.row], ['year']);",
                 {"columns": columns, "row": row})
    assert text == "\ufeff" + write([list(row.values())], tuple(columns), frozenset({"year"}))
