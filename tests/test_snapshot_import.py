"""``oahelper snapshot import``: the data feed into DuckDB, upserted, resumable, and
telling which lines it could not use."""

from __future__ import annotations

import datetime as dt
import fcntl
import gzip
import json
import os
import pty
import re
import signal
import struct
import subprocess
import termios
from pathlib import Path

import duckdb
import pytest

from oahelper.snapshot.importer import BadLine, Importer
from oahelper.snapshot.schema import RECORD_NAMES
from oahelper.snapshot.store import (SnapshotReader, connect, default_memory_limit, duckdb_memory,
                                     size_bytes)
from oahelper.sources.unpaywall import parse_unpaywall
from tests.support.processes import PYTHON, oahelper
from tests.support.shared import REPO
from tests.support.snapshot_data import Generator, write_snapshot


class Heard:
    """Progress that remembers what it was told."""

    def __init__(self) -> None:
        self.bad: list[BadLine] = []
        self.notes: list[str] = []
        self.resumed: list[int] = []

    def start(self, feed: str, total_bytes: int | None, resumed_at_line: int) -> None:
        self.resumed.append(resumed_at_line)

    def advance(self, feed: str, position: int, lines: int, records: int) -> None: ...

    def bad_line(self, bad: BadLine) -> None:
        self.bad.append(bad)

    def note(self, text: str) -> None:
        self.notes.append(text)


def lines_of(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def without_nulls(value):
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def keys_and_counts(db: Path) -> tuple[int, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*), count(DISTINCT key) FROM records").fetchone()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "snapshot.duckdb"


def test_a_small_snapshot_is_imported_and_read_back_as_unpaywall_wrote_it(tmp_path, db) -> None:
    feed = write_snapshot(tmp_path / "snap.jsonl.gz", 300)
    result = Importer(db, batch_lines=70).run([str(feed)])
    assert result.total == result.merged == 300 and result.feeds[0].bad == 0
    originals = lines_of(feed)
    reader = SnapshotReader(db)
    status = reader.status()
    assert status.records == 300
    assert status.free == sum(r["is_oa"] for r in originals)
    assert status.by_status == dict(__import__("collections").Counter(r["oa_status"] for r in originals))
    assert status.newest == max(r["updated"] for r in originals)[:10]
    assert status.disk_bytes == db.stat().st_size + (Path(f"{db}.wal").stat().st_size
                                                     if Path(f"{db}.wal").exists() else 0)
    for original in originals[::37]:
        record, as_of = reader.record(original["doi"].upper())  # DOIs compare case-folded
        assert as_of == status.newest
        assert parse_unpaywall(record) == parse_unpaywall(original)  # a lookup's fields
        record, _ = reader.record(original["doi"], RECORD_NAMES)  # every field
        for name, value in original.items():  # a null and an absent field are alike
            assert without_nulls(record[name]) == without_nulls(value), name
    assert reader.record("10.5555/not.in.the.snapshot")[0] is None
    reader.close()
    assert oct(db.stat().st_mode & 0o777) == "0o600"


def test_a_change_file_updates_newer_records_adds_new_ones_and_never_goes_back(tmp_path, db) -> None:
    base = write_snapshot(tmp_path / "base.jsonl", 200)
    Importer(db).run([str(base)])
    changes = write_snapshot(tmp_path / "changes.jsonl.gz", 100, start=150, seed=2,
                             updated_after=dt.datetime(2025, 8, 1))
    # An older version of record 3 must not replace the newer one already imported.
    old = Generator(seed=3).record(3)[0] | {"updated": "2017-01-02T00:00:00", "title": "OLD"}
    stale = tmp_path / "stale.jsonl"
    stale.write_text(json.dumps(old) + "\n")
    result = Importer(db).run([str(changes), str(stale)])
    assert result.total == 250 and result.merged == 100
    reader = SnapshotReader(db)
    new_version = lines_of(changes)
    for i in (0, 49, 50, 99):  # updated (150..199) and added (200..249)
        record, _ = reader.record(new_version[i]["doi"], RECORD_NAMES)
        assert record["updated"] == new_version[i]["updated"]
        assert record["title"] == new_version[i]["title"]
    assert reader.record(old["doi"])[0]["title"] == lines_of(base)[3]["title"] != "OLD"
    assert reader.status().newest >= "2025-08-01"
    reader.close()
    assert keys_and_counts(db) == (250, 250)


def test_bad_lines_are_reported_by_number_and_the_rest_is_imported(tmp_path, db) -> None:
    good = [json.dumps(Generator().record(i)[0]).encode() for i in range(4)]
    lines = [good[0], good[1][:200], b'{"title": "no doi", "oa_locations": []}', b"[1, 2]", b"",
             b'{"doi": "not-a-doi"}', b'{"doi": "10.1234/\xff"}', good[2],
             b'1,"n":99,"r":{"doi":"10.1234/forged"},"m":99', good[3][:150]]
    feed = tmp_path / "damaged.jsonl"
    feed.write_bytes(b"\n".join(lines))  # the last line is cut off: no newline, no end
    heard = Heard()
    result = Importer(db, progress=heard, batch_lines=3).run([str(feed)])
    assert [(b.line, b.reason.split(":")[0]) for b in heard.bad] == [
        (2, "not a JSON record (invalid JSON, or not UTF-8)"),
        (3, "no DOI"), (4, "no DOI"), (6, "'not-a-doi' is not a DOI"),
        (7, "not a JSON record (invalid JSON, or not UTF-8)"),
        (9, "not a JSON record (invalid JSON, or not UTF-8)"),
        (10, "cut off")]
    assert result.total == 2 and result.feeds[0].bad == 7
    reader = SnapshotReader(db)
    assert reader.record("10.1234/forged")[0] is None
    assert reader.status().files[0]["bad_lines"] == 7
    reader.close()


def test_a_truncated_download_keeps_what_came_before_and_says_where_it_ended(tmp_path, db) -> None:
    whole = write_snapshot(tmp_path / "whole.jsonl.gz", 2000).read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    heard = Heard()
    result = Importer(db, progress=heard, batch_lines=500).run([str(cut)])
    problem = result.feeds[0].problem or ""
    assert "ends early or is damaged after line" in problem
    read = int(problem.split("after line ")[1].split()[0])
    assert 500 < read < 2000 and result.total == read - (1 if heard.bad else 0)
    assert problem in heard.notes


def test_a_missing_file_is_a_clear_error(tmp_path) -> None:
    proc = oahelper(["snapshot", "import", str(tmp_path / "nope.jsonl.gz")], os.environ)
    assert proc.returncode == 2 and "nope.jsonl.gz" in proc.stderr and "Traceback" not in proc.stderr


def test_stdin_is_read_with_a_dash(tmp_path, isolated_home) -> None:
    feed = write_snapshot(tmp_path / "snap.jsonl", 40)
    proc = oahelper(["snapshot", "import", "-"], os.environ, input=feed.read_text())
    assert proc.returncode == 0, proc.stderr
    assert "-: 40 records from 40 lines" in proc.stdout
    status = oahelper(["snapshot", "status"], os.environ)
    assert "records: 40 DOIs" in status.stdout and "newest record: 20" in status.stdout


def test_status_without_a_snapshot_says_how_to_make_one() -> None:
    proc = oahelper(["snapshot", "status"], os.environ)
    assert proc.returncode == 1
    assert "no snapshot at" in proc.stdout and "oahelper snapshot import" in proc.stdout


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT", "SIGINT twice"])
def test_an_interrupted_import_resumes_where_it_stopped_and_duplicates_nothing(
        tmp_path, isolated_home, how) -> None:
    feed = write_snapshot(tmp_path / "snap.jsonl.gz", 5000)
    env = dict(os.environ)
    proc = subprocess.Popen([PYTHON, "-m", "oahelper", "snapshot", "import", str(feed),
                             "--batch", "50"], env=env, cwd=REPO, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            # as from a terminal, even when the test run itself was
                            # started in the background (which ignores Ctrl-C)
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for line in proc.stderr:  # progress lines: one per committed batch
            if "committed 150 lines" in line:
                # Ctrl-C lands wherever the importer is, inside a DuckDB query or not;
                # a second one stops at once, rolling back the batch being written.
                for _ in range(2 if how == "SIGINT twice" else 1):
                    os.kill(proc.pid, getattr(signal, how.split()[0]))
                break
        rest = proc.stderr.read()
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    if how.startswith("SIGINT"):
        assert code == 130 and "run the same command again to finish" in rest
    status = oahelper(["snapshot", "status"], env)
    assert "unfinished import" in status.stdout and "NOT finished" in status.stdout
    again = oahelper(["snapshot", "import", str(feed), "--batch", "1000"], env)
    assert again.returncode == 0, again.stderr
    resumed = int(again.stderr.split("resuming after line ")[1].split()[0].replace(",", ""))
    assert 150 <= resumed < 5000
    assert "the snapshot holds 5,000 DOIs" in again.stdout
    db = isolated_home / "data" / "snapshot.duckdb"
    assert keys_and_counts(db) == (5000, 5000)


def test_on_a_terminal_the_import_shows_records_their_rate_and_the_time_left(
        tmp_path, isolated_home) -> None:
    feed = write_snapshot(tmp_path / "snap.jsonl.gz", 3000)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # 80x24
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen([PYTHON, "-m", "oahelper", "snapshot", "import", str(feed),
                             "--batch", "500"], env=env | {"TERM": "xterm"},
                            cwd=REPO, stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    shown = b""
    while True:  # the terminal's side, until the importer closes it
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the importer has exited
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode("utf-8", "replace"))
    assert re.search(r"3,000 records +[\d,]+ records/s +\d+:\d\d:\d\d left", screen), screen
    assert "committed" not in screen  # the bar, not the lines written for logs
    assert "the snapshot holds 3,000 DOIs" in proc.stdout.read()


def test_duckdb_is_given_the_memory_setting_less_room_for_the_process(tmp_path, db) -> None:
    """What DuckDB does not count (Parquet writers' pages, Python) must fit in the setting."""
    con = connect(db, read_only=False, memory_limit="2GiB")
    try:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "1.5 GiB"
    finally:
        con.close()
    assert duckdb_memory("1GB") == f"{(10**9 - 256 * 1024**2) // 1024**2}MiB"
    assert duckdb_memory("300MiB") == "150MiB"  # at least half of a small setting
    default = size_bytes(default_memory_limit())
    assert default <= 2 * 1024**3
    assert default <= os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
