"""Tokens and pairing codes: hashed, origin-bound, revocable, single-use, burnable."""

from __future__ import annotations

from pathlib import Path

import pytest

from oahelper.daemon.clients import PAIR_CODE_TTL, ClientStore
from oahelper.errors import Forbidden, Unauthorized

EXT = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


class Clock:
    now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> ClientStore:
    return ClientStore(tmp_path / "clients.sqlite3", Clock())


def test_tokens_are_256_bit_and_stored_only_hashed(store: ClientStore, tmp_path: Path) -> None:
    token = store.create_token("script")
    assert len(token) >= 43  # 32 random bytes, base64url
    raw = (tmp_path / "clients.sqlite3").read_bytes()
    wal = tmp_path / "clients.sqlite3-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    assert token.encode() not in raw
    assert store.verify(token, None).name == "script"


def test_unknown_token_is_unauthorized(store: ClientStore) -> None:
    store.create_token("script")
    with pytest.raises(Unauthorized):
        store.verify("not-a-token", None)


def test_revoking_takes_effect_at_once_even_for_another_process(store: ClientStore, tmp_path: Path) -> None:
    token = store.create_token("script")
    other = ClientStore(tmp_path / "clients.sqlite3")  # e.g. the CLI while the daemon runs
    assert other.revoke("script")
    with pytest.raises(Unauthorized):
        store.verify(token, None)


def test_token_is_refused_from_another_origin(store: ClientStore) -> None:
    code = store.new_pair_code()
    token, name = store.redeem_pair_code(code, "Chromium", EXT)
    assert store.verify(token, EXT).name == name == "Chromium"
    with pytest.raises(Forbidden):
        store.verify(token, "chrome-extension://otherotherotherotherotherotherot")
    with pytest.raises(Forbidden):
        store.verify(store.create_token("script"), EXT)  # a script's token from an extension
    assert store.verify(token, None).name == "Chromium"  # Chrome's GETs carry no Origin


def test_pair_code_works_once(store: ClientStore) -> None:
    code = store.new_pair_code()
    store.redeem_pair_code(code.lower().replace("-", " "), "Chromium", EXT)  # typed by hand
    with pytest.raises(Unauthorized) as err:
        store.redeem_pair_code(code, "Chromium", EXT)
    assert err.value.code == "pair_code_invalid"


def test_pair_code_expires_after_two_minutes(store: ClientStore) -> None:
    code = store.new_pair_code()
    store.clock.now += PAIR_CODE_TTL + 1
    with pytest.raises(Unauthorized):
        store.redeem_pair_code(code, "Chromium", EXT)


def test_five_wrong_tries_burn_the_code(store: ClientStore) -> None:
    code = store.new_pair_code()
    for _ in range(5):
        with pytest.raises(Unauthorized):
            store.redeem_pair_code("AAAA-AAAA", "attacker", EXT)
    with pytest.raises(Unauthorized):
        store.redeem_pair_code(code, "Chromium", EXT)


def test_four_wrong_tries_leave_the_code_usable(store: ClientStore) -> None:
    code = store.new_pair_code()
    for _ in range(4):
        with pytest.raises(Unauthorized):
            store.redeem_pair_code("AAAA-AAAA", "attacker", EXT)
    token, _ = store.redeem_pair_code(code, "Chromium", EXT)
    assert store.verify(token, EXT)


def test_two_browsers_with_the_same_name_get_distinct_clients(store: ClientStore) -> None:
    t1, n1 = store.redeem_pair_code(store.new_pair_code(), "Chromium", EXT)
    t2, n2 = store.redeem_pair_code(store.new_pair_code(), "Chromium", EXT)
    assert n1 != n2 and t1 != t2
    assert store.verify(t1, EXT).name == n1
    assert [c.name for c in store.list()] == [n1, n2]
