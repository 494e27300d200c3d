"""`oahelper audit` as a user runs it: a subprocess, the fake Unpaywall as a process."""

from __future__ import annotations

import csv
import json
import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from oahelper.audit.rows import COLUMNS
from tests.support.fake_upstream import GOLD_DOI, GREEN_DOI, THROTTLED_SOURCES, upstream_env
from tests.support.processes import PYTHON, REPO, fake_upstream, oahelper

FILES = Path(__file__).parent / "fixtures" / "audit"


@pytest.fixture
def env(isolated_home: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
    return clean | {"OAHELPER_HOME": str(isolated_home), "OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu",
                    "OAHELPER_DISABLED_SOURCES": THROTTLED_SOURCES}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def asked(log: Path) -> list[str]:
    if not log.exists():
        return []
    """The DOIs Unpaywall was asked about (every source is asked too; one is enough)."""
    return [entry["doi"] for line in log.read_text().splitlines() if line.strip()
            if (entry := json.loads(line))["service"] == "unpaywall"]


def test_audit_of_several_files_writes_csv_and_json_rows_in_input_order(env, tmp_path: Path) -> None:
    out_csv, out_json = tmp_path / "report.csv", tmp_path / "report.json"
    with fake_upstream(env) as base:
        proc = oahelper(["audit", str(FILES / "thesis.bib"), str(FILES / "scopus.csv"),
                         "--out", str(out_csv), "--out", str(out_json)],
                        env | upstream_env(base))
    assert proc.returncode == 0, proc.stderr
    rows = read_csv(out_csv)
    assert list(rows[0]) == list(COLUMNS)
    assert [r["key"] for r in rows] == ["gold2024", "green2013", "vaswani2017attention", "pmc-only",
                                        "closed1997", "broken", "notitle2001", "gold2024again",
                                        "row 2", "row 3", "row 6"]
    statuses = [r["status"] for r in rows]
    # The two entries without an identifier were searched for, and nothing matched them.
    assert statuses == ["open", "open", "open", "open", "closed", "unreadable", "not_found",
                        "open", "open", "open", "not_found"]
    gold = rows[0]
    assert (gold["oa_status"], gold["license"], gold["cc_by_or_cc0"], gold["host_type"]) == \
        ("gold", "cc-by", "yes", "publisher")
    assert gold["identified_by"] == "doi" and gold["line"] == "9" and gold["sources"] == "unpaywall;europepmc;crossref;openalex"
    report = json.loads(out_json.read_text())
    assert [r["key"] for r in report["rows"]] == [r["key"] for r in rows]
    assert report["rows"][0]["cc_by_or_cc0"] is True and report["rows"][0]["line"] == 9
    assert report["summary"]["total"] == 11 and report["summary"]["free"] == 7
    # What the user is told: which CSV columns were read, and the totals.
    assert "doi from column 'DOI'" in proc.stderr
    assert "7 of 11 references have a free copy" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_audit_without_out_prints_a_line_per_entry_and_a_summary(env) -> None:
    with fake_upstream(env) as base:
        proc = oahelper(["audit", str(FILES / "list.txt")], env | upstream_env(base))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("line 2\tFREE\tgold")
    assert any(line.startswith("line 8\tNOT FOUND\tNo article matches this title")
               for line in lines)
    assert "4 of 6 references have a free copy" in proc.stdout
    assert "checking" not in proc.stderr  # no progress bar off a terminal


def test_interrupted_audit_writes_what_is_done_and_resumes_from_the_cache(env, tmp_path: Path) -> None:
    dois = [f"10.5555/oahelper.audit.{i}" for i in range(60)] + [GREEN_DOI, GOLD_DOI]
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(dois) + "\n")
    report, log = tmp_path / "report.csv", tmp_path / "upstream.log"
    args = [PYTHON, "-m", "oahelper", "audit", str(listing), "--out", str(report)]
    with fake_upstream(env, delay=0.2, log=log) as base:
        e = env | upstream_env(base)
        proc = subprocess.Popen(args, env=e, cwd=REPO, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while len(asked(log)) < 12 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "interrupted after" in err and "Run the same command again" in err
        first = read_csv(report)
        assert 0 < len(first) < len(dois)
        assert [r["doi"] for r in first] == dois[:len(first)]  # a prefix, in order
        assert all(r["status"] == "not_found" for r in first)  # DOIs no source knows
        calls_before = len(asked(log))

        again = subprocess.run(args, env=e, cwd=REPO, text=True, capture_output=True, timeout=60)
    assert again.returncode == 0, again.stderr
    second_calls = asked(log)[calls_before:]
    assert not set(second_calls) & {r["doi"] for r in first}  # answered items: no upstream call
    rows = read_csv(report)
    assert [r["doi"] for r in rows] == dois
    assert [r["status"] for r in rows[-2:]] == ["open", "open"]


def test_a_file_that_cannot_be_read_is_a_clear_error(env, tmp_path: Path) -> None:
    broken = tmp_path / "export.json"
    broken.write_text('[\n {"DOI": "10.5555/x"},\n {"DOI": }\n]\n')
    proc = oahelper(["audit", str(broken)], env | upstream_env("http://127.0.0.1:9"))
    assert proc.returncode == 2
    assert f"{broken} line 3: not valid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr
    missing = oahelper(["audit", str(tmp_path / "nope.bib")], env)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_an_output_of_unknown_kind_is_refused_before_anything_is_written(env, tmp_path: Path) -> None:
    good = tmp_path / "report.csv"
    proc = oahelper(["audit", str(FILES / "list.txt"), "--out", str(good),
                     "--out", str(tmp_path / "report.xlsx")], env)
    assert proc.returncode == 2 and "follows its extension" in proc.stderr
    assert not good.exists()


def test_a_report_never_overwrites_an_input(env, tmp_path: Path) -> None:
    listing = tmp_path / "refs.csv"
    listing.write_text("Title,DOI\nA,10.5555/oahelper.gold.2024\n")
    proc = oahelper(["audit", str(listing), "--out", str(tmp_path / "." / "refs.csv")], env)
    assert proc.returncode == 2 and "is also an input" in proc.stderr
    assert listing.read_text() == "Title,DOI\nA,10.5555/oahelper.gold.2024\n"


def test_progress_bar_on_a_terminal(env, tmp_path: Path) -> None:
    """done/total, free so far, rate and time left, drawn on a terminal only."""
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join([GREEN_DOI, GOLD_DOI] + [f"10.5555/oahelper.p.{i}" for i in range(20)]))
    primary, secondary = pty.openpty()
    with fake_upstream(env, delay=0.1) as base:
        proc = subprocess.Popen([PYTHON, "-m", "oahelper", "audit", str(listing), "--out",
                                 str(tmp_path / "r.csv")], env=env | upstream_env(base) | {
                                                                     "COLUMNS": "120"},
                                cwd=REPO, stdout=subprocess.PIPE, stderr=secondary, text=True)
        os.close(secondary)
        drawn = b""
        while True:
            ready, _, _ = select.select([primary], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            drawn += chunk
        proc.wait(timeout=30)
        os.close(primary)
    text = drawn.decode(errors="replace")
    assert proc.returncode == 0
    assert "checking" in text and "/22" in text and "free 2" in text
    assert "/s" in text and "left" in text


def test_without_the_unpaywall_email_the_audit_says_so_before_starting(env, tmp_path: Path) -> None:
    e = {k: v for k, v in env.items() if k != "OAHELPER_UNPAYWALL_EMAIL"}
    proc = oahelper(["audit", str(FILES / "list.txt"), "--out", str(tmp_path / "r.csv")], e)
    assert proc.returncode == 2
    assert "Unpaywall needs your e-mail address" in proc.stderr
    assert "oahelper config set unpaywall_email" in proc.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_full_disk_while_writing_the_report_says_so_and_loses_no_answer(env, tmp_path) -> None:
    """The report's file is /dev/full (every write: "No space left on device")."""
    full = tmp_path / "report.csv"
    full.symlink_to("/dev/full")
    log = tmp_path / "upstream.jsonl"
    with fake_upstream(env, log=log) as base:
        proc = oahelper(["audit", str(FILES / "list.txt"), "--out", str(full)], env | upstream_env(base))
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert f"cannot write the report {full}: the disk is full. It is incomplete" in proc.stderr
        assert "running the same command again once that is fixed asks no source twice" in proc.stderr
        first = len(asked(log))
        again = oahelper(["audit", str(FILES / "list.txt"), "--out", str(tmp_path / "ok.csv")],
                         env | upstream_env(base))
    assert again.returncode == 0, again.stderr
    assert len(asked(log)) == first  # every answer came from the cache
    assert len(read_csv(tmp_path / "ok.csv")) == 6
