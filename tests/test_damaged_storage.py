"""A full disk or a damaged file never takes the daemon down: a cache that cannot be
written leaves lookups uncached (said once in the log), a damaged cache is moved aside
and started anew, a client list that cannot be written still lets paired clients in,
and a damaged client list is refused with a clear message (it is not disposable)."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import pytest

from oahelper.daemon.clients import ClientStore
from oahelper.engine.cache import Cache
from oahelper.errors import ConfigError
from oahelper.models import SourceAnswer
from tests.support.daemon import Daemon, start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import GREEN_DOI
from tests.support.processes import PYTHON, oahelper
from tests.support.shared import REPO


def answer(n: int) -> SourceAnswer:
    return SourceAnswer(source="unpaywall", state="not_found", calls=1)


def damage(path: Path) -> None:
    """Overwrite the file's pages after the first with garbage (its header stays valid)."""
    data = bytearray(path.read_bytes())
    for offset in range(4096, len(data), 4096):
        data[offset:offset + 200] = os.urandom(200)
    path.write_bytes(bytes(data))


def fill(cache: Cache, rows: int = 3000) -> None:
    for n in range(rows):
        cache.put(answer(n), f"10.5555/row.{n}")


def read_only(db) -> None:
    """The way a full disk looks to SQLite's callers: every write fails."""
    db.execute("PRAGMA query_only = ON")


async def test_a_damaged_cache_is_moved_aside_and_status_answers(start_daemon, make_settings) -> None:
    settings = make_settings()
    cache = Cache(settings.cache_db)
    fill(cache)
    cache.close()
    damage(settings.cache_db)
    daemon: Daemon = await start_daemon()
    resp = await daemon.client.get("/v1/status", headers=daemon.auth)
    assert resp.status == 200, await resp.text()
    assert (await daemon.lookup_json({"doi": GREEN_DOI}))["status"] == "open"
    assert list(settings.data_dir.glob("cache.sqlite3.damaged-*"))
    resp = await daemon.client.get("/v1/status", headers=daemon.auth)
    assert (await resp.json())["cache"]["entries"] >= 1  # the new cache works


def test_a_cache_that_is_no_database_at_all_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"this was never a database" * 200)
    cache = Cache(path)
    assert cache.put(answer(1), "10.5555/x") and cache.get("unpaywall", "10.5555/x")


def test_a_cache_that_cannot_be_written_keeps_answering_and_says_so_once(tmp_path: Path, caplog) -> None:
    cache = Cache(tmp_path / "cache.sqlite3")
    read_only(cache._db)
    with caplog.at_level(logging.WARNING, logger="oahelper.engine.cache"):
        assert not cache.put(answer(1), "10.5555/a")
        assert not cache.put(answer(2), "10.5555/b")
        cache.count_calls("unpaywall", 1)
    assert cache.get("unpaywall", "10.5555/a") is None
    assert caplog.text.count("cannot use the cache") == 1


def test_paired_clients_get_in_when_the_client_list_cannot_be_written(tmp_path: Path, caplog) -> None:
    store = ClientStore(tmp_path / "clients.sqlite3")
    token = store.create_token("laptop")
    read_only(store._db)
    with caplog.at_level(logging.WARNING, logger="oahelper.daemon.clients"):
        assert store.verify(token, None).name == "laptop"
        assert store.verify(token, None).name == "laptop"
    assert caplog.text.count("cannot write to the client list") == 1
    # What needs a write says why, in one sentence, instead of a traceback.
    with pytest.raises(ConfigError, match="disk full"):
        store.new_pair_code()
    with pytest.raises(ConfigError, match="disk full"):
        store.create_token("another")


def test_a_damaged_client_list_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
    env["OAHELPER_HOME"] = str(tmp_path)
    assert oahelper(["token", "create", "--name", "script"], env).returncode == 0
    db = tmp_path / "data" / "clients.sqlite3"
    store = ClientStore(db)
    for n in range(2000):
        store.create_token(f"client {n}")
    store.close()
    damage(db)
    result = oahelper(["clients", "list"], env)
    assert result.returncode == 2
    assert "damaged" in result.stderr and "Traceback" not in result.stderr
    assert db.exists() and not list(db.parent.glob("clients.sqlite3.damaged-*"))


# ``oahelper ARGS`` in a process that can write no byte to any file: the way a full
# disk looks to it (RLIMIT_FSIZE 0; the signal it would send is ignored, so each
# write fails with an error, as on a full disk).
ON_A_FULL_DISK = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
                  "resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0)); "
                  "from oahelper.cli import main; sys.exit(main(sys.argv[1:]))")


def on_a_full_disk(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-c", ON_A_FULL_DISK, *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args", [["token", "create", "--name", "script"],
                                  ["config", "set", "openurl_base", "https://resolver.uni.edu/openurl"]])
def test_a_full_disk_leaves_no_file_cut_short(tmp_path: Path, args: list[str]) -> None:
    """What cannot be written says so, and leaves nothing half-written behind: once the
    disk has room again, the same command works (a key file cut short used to be read
    as a damaged one forever after)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
    env["OAHELPER_HOME"] = str(tmp_path)
    full = on_a_full_disk(args, env)
    assert full.returncode != 0
    assert "disk full" in full.stderr and "Traceback" not in full.stderr
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_size == 0
                and p.suffix in (".key", ".tmp", ".toml")]
    again = oahelper(args, env)
    assert again.returncode == 0, again.stderr
