"""API keys: OS keyring only, an explicit backend in unit tests, a clear failure without one."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from oahelper.errors import ConfigError, KeyringUnavailable
from oahelper.keys import NO_KEY, SERVICE, KeyStore
from tests.support.memory_keyring import MemoryKeyring

OAHELPER = [sys.executable, "-m", "oahelper"]


def test_round_trip_through_the_backend(keystore: KeyStore) -> None:
    assert keystore.get("oab") is NO_KEY and not keystore.get("oab")
    keystore.set("oab", "  secret-1  ")
    assert keystore.get("oab") == "secret-1"
    assert keystore.status() == {"oab": True, "semanticscholar": False, "openalex": False}
    keystore.set("openalex", "k")
    assert keystore.status()["openalex"] is True and keystore.get("semanticscholar") is NO_KEY
    assert keystore.delete("oab") is True
    assert keystore.get("oab") is NO_KEY
    assert keystore.delete("oab") is False


def test_unknown_key_names_and_empty_keys_are_refused(keystore: KeyStore) -> None:
    with pytest.raises(ConfigError, match="unknown key"):
        keystore.set("scopus", "x")
    with pytest.raises(ConfigError, match="empty"):
        keystore.set("oab", "   ")


def test_without_a_backend_writing_fails_with_the_remedy_and_reading_gives_no_key() -> None:
    store = KeyStore(fail.Keyring())
    assert not store.available()
    assert store.get("oab") is NO_KEY
    with pytest.raises(KeyringUnavailable) as err:
        store.set("oab", "secret")
    assert "gnome-keyring" in err.value.message and "dbus-run-session" in err.value.message
    assert "plain file" in err.value.message


def _env_without_session_bus(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND")}
    env["OAHELPER_HOME"] = str(home)
    env["XDG_RUNTIME_DIR"] = str(home / "no-runtime")  # no bus socket to find there
    return env


def test_cli_keys_set_without_session_bus_says_so(isolated_home: Path) -> None:
    env = _env_without_session_bus(isolated_home)
    proc = subprocess.run(OAHELPER + ["keys", "set", "oab"], input="secret\n", env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "No OS keyring" in proc.stderr and "Traceback" not in proc.stderr
    status = subprocess.run(OAHELPER + ["keys", "status"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert "NOT working" in status.stdout


def _secret_service_works() -> bool:
    backend = keyring.get_keyring()
    chain = getattr(backend, "backends", None) or [backend]
    return any(type(b).__module__ == "keyring.backends.SecretService" for b in chain)


@pytest.mark.keyring
def test_real_os_keyring_round_trip_through_the_cli(isolated_home: Path) -> None:
    if not _secret_service_works():
        if os.environ.get("OAHELPER_REQUIRE_KEYRING") == "1":
            pytest.fail("OAHELPER_REQUIRE_KEYRING=1 but no Secret Service keyring is running")
        pytest.skip("no Secret Service here: run under dbus-run-session with gnome-keyring (.ci/run does)")
    env = dict(os.environ, OAHELPER_HOME=str(isolated_home))
    secret = f"oab-{uuid.uuid4()}"
    try:
        proc = subprocess.run(OAHELPER + ["keys", "set", "oab"], input=secret + "\n", env=env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert secret not in proc.stdout + proc.stderr
        assert keyring.get_password(SERVICE, "oab") == secret  # really in the OS keyring
        status = subprocess.run(OAHELPER + ["keys", "status"], env=env,
                                capture_output=True, text=True, timeout=60)
        assert "oab: stored" in status.stdout and secret not in status.stdout
        assert secret not in "".join(p.read_text(errors="ignore")
                                     for p in isolated_home.rglob("*") if p.is_file())
    finally:
        subprocess.run(OAHELPER + ["keys", "delete", "oab"], env=env, capture_output=True, timeout=60)
    assert keyring.get_password(SERVICE, "oab") is None


def test_memory_backend_is_explicit_not_the_os_one() -> None:
    assert isinstance(KeyStore(MemoryKeyring()).backend, MemoryKeyring)
