"""Every file and folder oahelper creates is the user's alone from its first byte, no
data file is a followed symbolic link, and a copied client database gives away
neither tokens nor pairing codes."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import stat
from pathlib import Path

import aiohttp
import pytest

from oahelper.daemon.clients import ClientStore, key_file
from oahelper.engine.cache import Cache
from oahelper.errors import ConfigError, Unauthorized
from tests.support.processes import daemon, fake_upstream, free_port, oahelper

PAGE = ('<html><head><meta name="citation_doi" content="10.5555/oahelper.green.2013">'
        '</head></html>')


def modes_under(home: Path) -> dict[str, int]:
    """Every path under ``home`` (home included) and its permission bits."""
    found = {str(home): stat.S_IMODE(home.lstat().st_mode)}
    for root, folders, files in os.walk(home):
        for name in folders + files:
            path = Path(root, name)
            assert not path.is_symlink(), path
            found[str(path.relative_to(home))] = stat.S_IMODE(path.lstat().st_mode)
    return found


async def test_every_path_oahelper_creates_is_private(tmp_path: Path) -> None:
    home = tmp_path / "home"  # created by oahelper itself
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
    env |= {"OAHELPER_HOME": str(home), "OAHELPER_UNPAYWALL_EMAIL": "researcher@uni.edu"}
    assert oahelper(["config", "set", "openurl_base", "https://resolver.uni.edu/openurl"],
                    env).returncode == 0
    token = oahelper(["token", "create", "--name", "script"], env).stdout.split()[-1]
    code = oahelper(["pair"], env).stdout.split()[2]
    with fake_upstream(env) as base:
        env["OAHELPER_UNPAYWALL_URL"] = base
        port = free_port()
        with daemon(env, port):
            url = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as session:
                async with session.post(url + "/v1/pair", json={"code": code, "client": "Chromium"},
                                        headers={"Origin": "chrome-extension://abc"}) as resp:
                    assert resp.status == 200, await resp.text()
                async with session.post(url + "/v1/lookup", json={"url": "https://j.org/a", "html": PAGE},
                                        headers={"Authorization": f"Bearer {token}"}) as resp:
                    assert (await resp.json())["status"] == "open"
            modes = modes_under(home)
    assert {"config/config.toml", "data/cache.sqlite3", "data/clients.sqlite3",
            "data/clients.key"} <= set(modes)
    assert any(name.endswith("-wal") for name in modes)  # written while the daemon ran
    wrong = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o700 if Path(home, name).is_dir() else 0o600)}
    assert not wrong


def test_a_copied_client_database_reveals_no_token_and_no_pairing_code(tmp_path: Path) -> None:
    store = ClientStore(tmp_path / "clients.sqlite3")
    token = store.create_token("laptop")
    code = store.new_pair_code()
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("clients.sqlite3*"))
    for secret in (token, code.replace("-", "")):
        # Neither the secret nor its unkeyed hash, which a GPU inverts for a short code.
        assert secret.encode() not in raw
        assert hashlib.sha256(secret.encode()).hexdigest().encode() not in raw
    # The copy, without the key beside it, verifies nothing.
    thief = tmp_path / "stolen"
    thief.mkdir()
    for part in tmp_path.glob("clients.sqlite3*"):
        (thief / part.name).write_bytes(part.read_bytes())
    with pytest.raises(Unauthorized):
        ClientStore(thief / "clients.sqlite3").verify(token, None)
    assert ClientStore(tmp_path / "clients.sqlite3").verify(token, None).name == "laptop"


def test_a_token_stored_by_an_older_version_still_works_and_is_stored_keyed(tmp_path: Path) -> None:
    path = tmp_path / "clients.sqlite3"
    store = ClientStore(path)
    legacy = "an-old-token-from-before-the-keyed-hash"
    old_hash = hashlib.sha256(legacy.encode()).hexdigest()
    store._db.execute("INSERT INTO clients (name, token_hash, origin, created) VALUES (?, ?, NULL, 0)",
                      ("old script", old_hash))
    assert store.verify(legacy, None).name == "old script"
    (stored,) = sqlite3.connect(path).execute("SELECT token_hash FROM clients").fetchone()
    assert stored != old_hash
    assert store.verify(legacy, None).name == "old script"


@pytest.mark.parametrize("name", ["cache.sqlite3", "cache.sqlite3-wal", "clients.sqlite3",
                                  "clients.key"])
def test_a_data_file_that_is_a_symbolic_link_is_refused_not_followed(tmp_path: Path, name: str) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    elsewhere = tmp_path / "someone-elses-file"
    elsewhere.write_text("not oahelper's")
    elsewhere.chmod(0o644)
    (data / name).symlink_to(elsewhere)
    with pytest.raises(ConfigError, match="symbolic link"):
        if name.startswith("cache"):
            Cache(data / "cache.sqlite3")
        else:
            ClientStore(data / "clients.sqlite3")
    assert elsewhere.read_text() == "not oahelper's"
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o644


def test_a_data_folder_others_can_write_is_warned_about(tmp_path: Path, caplog) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o777)
    with caplog.at_level(logging.WARNING, logger="oahelper.files"):
        Cache(data / "cache.sqlite3").close()
    assert "can be written by other users" in caplog.text and "chmod 700" in caplog.text


def test_files_left_readable_by_an_older_version_are_made_private(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    Cache(path).close()
    for part in tmp_path.glob("cache.sqlite3*"):
        part.chmod(0o644)
    Cache(path).close()
    assert {stat.S_IMODE(p.stat().st_mode) for p in tmp_path.glob("cache.sqlite3*")} == {0o600}
