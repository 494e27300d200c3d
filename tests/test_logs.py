"""What the daemon writes to its log, and what it sends to the upstreams.

The README's "Security": nothing secret (tokens, pairing codes, API keys) and no page HTML
goes to a log; what leaves the machine is identifiers and the configured e-mail,
never a page's URL or HTML; a page that is no article makes no request at all.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest

from oahelper.daemon.clients import normalise_code
from tests.support import privacy
from tests.support.api import assert_error
from tests.support.daemon import EMAIL, start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import CLOSED_DOI, GREEN_DOI, UNKNOWN_DOI, upstream_env
from tests.support.processes import fake_upstream, free_port, oahelper, running
from tests.support.shared import require_shared

EXT = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
JSON = {"Content-Type": "application/json"}
PMID = "23193287"


def article_page(marker: str, doi: str | None = GREEN_DOI, pmid: str | None = None) -> str:
    """A page whose every part (title, author, body, a script) carries ``marker``."""
    tags = "".join(f'<meta name="{name}" content="{value}">' for name, value in
                   (("citation_doi", doi), ("citation_pmid", pmid)) if value)
    return (f"<html><head><title>{marker} | Journal</title>{tags}"
            f'<meta name="citation_title" content="Study {marker}">'
            f'<meta name="citation_author" content="{marker}, Ada"></head>'
            f"<body><p>Abstract {marker}</p><script>var s = '{marker}';</script></body></html>")


NEWS_PAGE = ("<html><head><title>Harbour festival draws record crowds</title>"
             '<meta property="og:type" content="article"><meta name="description" '
             'content="Thousands came to the quay on Saturday."></head><body><p>Boats, music '
             "and a lot of fish soup.</p></body></html>")


# --- The daemon as a process, its whole output in a file ------------------------------

@pytest.fixture
def env(isolated_home: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
    return clean | {"OAHELPER_HOME": str(isolated_home), "OAHELPER_LOG_LEVEL": "debug",
                    "OAHELPER_UNPAYWALL_EMAIL": EMAIL, "OAHELPER_MAX_BODY": "65536"}


# The real ``oahelper serve`` with its stderr, where it logs, going to the file argv[1].
# (tests/support/processes.running pipes stderr; a ``stderr=`` option there would
# make this shim unnecessary.)
SERVE_LOGGING_TO_FILE = (
    "import sys; sys.stderr = open(sys.argv[1], 'w', encoding='utf-8', buffering=1); "
    "from oahelper.cli import main; sys.exit(main(['serve', '--port', sys.argv[2]]))")


@contextmanager
def daemon_logging_to(env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    """The daemon on ``port``, logging to ``log``; started and stopped (by PID) by
    ``processes.running``."""
    with running(["-c", SERVE_LOGGING_TO_FILE, str(log), str(port)], env, r"listening on"):
        yield


async def _everything_a_log_could_leak(http: aiohttp.ClientSession, base: str, code: str,
                                       script_token: str, marker: str) -> dict[str, str]:
    """Pair, look up pages, and send every kind of bad request; the secrets used."""
    wrong_code, wrong_token = "ZQZQ-ZQZQ", f"wrong-{secrets.token_urlsafe(24)}"
    async with http.post(f"{base}/v1/pair", json={"code": wrong_code, "client": "Chromium"},
                         headers={"Origin": EXT}) as resp:
        await assert_error(resp, 401, "pair_code_invalid")
    async with http.post(f"{base}/v1/pair", json={"code": code, "client": "Chromium"},
                         headers={"Origin": EXT}) as resp:
        assert resp.status == 200, await resp.text()
        paired = (await resp.json())["token"]
    as_extension = {"Authorization": f"Bearer {paired}", "Origin": EXT}
    as_script = {"Authorization": f"Bearer {script_token}"}
    page_url = f"https://publisher.example.org/article/{marker}"
    lookups = [
        (as_extension, {"url": page_url, "html": article_page(marker)}),
        (as_extension, {"url": page_url, "html": article_page(marker, doi=UNKNOWN_DOI)}),
        (as_script, {"doi": CLOSED_DOI}),
        # Half an emoji (a lone surrogate): read with U+FFFD in its place, never logged.
        (as_script, {"url": page_url, "html": article_page(marker).replace("<title>", "<title>\ud83d")}),
    ]
    for headers, body in lookups:
        async with http.post(f"{base}/v1/lookup", data=json.dumps(body), headers={**headers, **JSON}) as resp:
            assert resp.status == 200, await resp.text()
    bad = [
        ({"Authorization": f"Bearer {wrong_token}"}, json.dumps({"doi": GREEN_DOI}), 401),
        ({"Authorization": f"Token {script_token}"}, json.dumps({"doi": GREEN_DOI}), 401),
        (as_script, json.dumps({"url": page_url, "html": article_page(marker) * 200}), 413),
        (as_script, json.dumps({"url": page_url, "html": article_page(marker)})[:-2], 400),  # cut short
        (as_script, json.dumps({"url": page_url, "html": ["<title>", marker]}), 400),
    ]
    for headers, data, status in bad:
        async with http.post(f"{base}/v1/lookup", data=data, headers={**headers, **JSON}) as resp:
            assert resp.status == status, await resp.text()
    with pytest.raises(aiohttp.ServerDisconnectedError):  # a web page's request: no answer
        await http.post(f"{base}/v1/lookup", data=json.dumps({"url": page_url, "html": article_page(marker)}),
                        headers={**as_script, **JSON, "Origin": "https://evil.example"})
    async with http.get(f"{base}/v1/status", headers=as_script) as resp:
        assert resp.status == 200
    return {"paired token": paired, "script token": script_token, "pairing code": code,
            "pairing code as typed": normalise_code(code), "wrong pairing code": wrong_code,
            "wrong token": wrong_token, "page marker": marker, "page URL": page_url}


async def test_the_debug_log_holds_no_token_code_or_page(env: dict[str, str], tmp_path: Path) -> None:
    marker = f"MARKER{secrets.token_hex(8)}"
    log = tmp_path / "daemon.log"
    with fake_upstream(env) as upstream:
        env |= upstream_env(upstream)
        code = oahelper(["pair"], env).stdout.splitlines()[0].split()[-1]
        script_token = oahelper(["token", "create", "--name", "my-script"], env).stdout.split()[-1]
        port = free_port()
        with daemon_logging_to(env, port, log):
            async with aiohttp.ClientSession() as http:
                used = await _everything_a_log_could_leak(http, f"http://127.0.0.1:{port}", code,
                                                          script_token, marker)
    text = log.read_text(encoding="utf-8", errors="replace")
    # The log really is the debug log of all of the above ...
    for evidence in (" DEBUG ", '"POST /v1/pair HTTP/1.1" 200', '"POST /v1/lookup HTTP/1.1" 200',
                     '"POST /v1/lookup HTTP/1.1" 401', '"POST /v1/lookup HTTP/1.1" 413',
                     '"POST /v1/lookup HTTP/1.1" 400', "dropped a request from a web page",
                     "paired a new client"):
        assert evidence in text, f"{evidence!r} missing: the log is not what this test thinks\n{text}"
    # ... and none of it leaked.
    leaked = {what: value for what, value in used.items() if value in text}
    assert not leaked, f"in the daemon log: {sorted(leaked)}"
    for header in ("authorization", "bearer"):
        assert header not in text.lower(), f"{header!r} in the daemon log"


# --- The OAB API key, in process with every logger at DEBUG ---------------------------

LOGGERS = ("", "oahelper", "aiohttp", "aiohttp.access", "aiohttp.client", "aiohttp.server",
           "aiohttp.web", "asyncio")


async def test_the_oab_key_reaches_the_service_but_no_log(start_daemon, upstream_server, keystore,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    key = f"oab-key-{secrets.token_hex(16)}"
    keystore.set("oab", key)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    base = str(upstream_server.make_url("")).rstrip("/")
    d = await start_daemon(oab_url=f"{base}/oab", timeout=1.0)
    d.upstream.plan("400", doi=UNKNOWN_DOI)      # OAB's "refused the identifier" path
    d.upstream.plan("garbage", doi=CLOSED_DOI)   # an answer that is not JSON
    payloads = [await d.lookup_json({"doi": doi}) for doi in (GREEN_DOI, CLOSED_DOI, UNKNOWN_DOI)]
    status = await (await d.client.get("/v1/status", headers=d.auth)).text()

    oab_calls = [r for r in d.upstream.requests if r["service"] == "oab"]
    assert len(oab_calls) == 3 and all(r["headers"]["x-apikey"] is True for r in oab_calls)
    assert payloads[0]["sources"]["oab"]["state"] == "ok"
    assert {p["sources"]["oab"]["state"] for p in payloads[1:]} == {"error"}
    records = caplog.records
    assert any(r.name == "aiohttp.access" for r in records)  # the access log was captured
    for record in records:
        seen = " ".join([record.getMessage(), repr(record.args), record.exc_text or ""])
        assert key not in seen, f"the OAB key is in a {record.name} log record"
    assert key not in caplog.text
    assert key not in json.dumps(d.upstream.requests)
    assert key not in json.dumps(payloads) and key not in status


# --- What leaves the machine --------------------------------------------------------------

async def test_only_identifiers_and_the_email_leave_the_machine(start_daemon, upstream_server) -> None:
    base = str(upstream_server.make_url("")).rstrip("/")
    d = await start_daemon(oab_url=f"{base}/oab")
    marker = f"MARKER{secrets.token_hex(8)}"
    page_url = f"https://publisher.example.org/article/{marker}?session={marker}"
    cases = [  # (page HTML, the identifiers it may be looked up by)
        (article_page(marker, doi=GREEN_DOI, pmid=PMID), {("doi", GREEN_DOI), ("pmid", PMID)}),
        (article_page(marker, doi=UNKNOWN_DOI), {("doi", UNKNOWN_DOI)}),
        (article_page(marker, doi=None, pmid=PMID), {("pmid", PMID)}),
    ]
    for html, identifiers in cases:
        before = len(d.upstream.requests)
        payload = await d.lookup_json({"url": page_url, "html": html})
        assert payload["status"] != "not_article"
        sent = d.upstream.requests[before:]
        assert {(name, value) for r in sent for name, value in _identifiers_in(r)} == identifiers
        for request in sent:
            assert _query_is_only_identifiers_and_email(request), request
            assert request["headers"]["referer"] is None
        assert marker not in json.dumps(sent) and "publisher.example.org" not in json.dumps(sent)


async def test_a_page_without_identifier_sends_only_its_title_first_author_and_year(
        start_daemon) -> None:
    """The request logs of the fake upstreams for a title lookup: each search source got
    the title, the first author and the year, and nothing else of the page."""
    d = await start_daemon()
    marker = f"MARKER{secrets.token_hex(8)}"
    page_url = f"https://publisher.example.org/article/{marker}?session={marker}"
    html = article_page(marker, doi=None).replace(
        "</head>", '<meta name="citation_author" content="Second, Author">'
                   '<meta name="citation_date" content="2019-03-01"></head>')
    await d.lookup_json({"url": page_url, "html": html})
    sent = d.upstream.requests
    print(json.dumps(sent, indent=1))  # the log this test is about, for a reader of -s output
    assert sent and {r["service"] for r in sent} <= {"crossref", "arxiv", "semanticscholar", "openalex"}
    for request in sent:
        assert privacy.what_is_wrong(request, EMAIL) is None, request
        words = " ".join(privacy.search_words(request) or [])
        assert f"Study {marker}" in words or marker in words, request
        leftover = words.replace(f"Study {marker}", "").replace(f"{marker}, Ada", "")
        leftover = leftover.replace(marker.lower(), "").replace("2019", "")
        assert set(leftover.replace('ti:""', "").replace("AND au:", "").split()) <= {"AND"}, request
    log = json.dumps(sent)
    assert "publisher.example.org" not in log and "Second" not in log and "Abstract" not in log


async def test_a_typed_title_sends_its_words_then_only_the_identifiers_found(start_daemon) -> None:
    """The fake upstreams' request log for a title that is found: the search round carries
    the typed words alone, the identifier round the identifiers of the accepted hit alone."""
    require_shared("crossref")
    d = await start_daemon(timeout=8.0)
    title = "Augmenting large language models with chemistry tools"
    payload = await d.lookup_json({"query": title})
    found = {(k, payload["article"][k]) for k in ("doi", "pmid", "pmcid", "arxiv") if payload["article"][k]}
    sent = d.upstream.requests
    print(json.dumps(sent, indent=1))  # the log this test is about, for a reader of -s output
    searches = [r for r in sent if privacy.search_words(r) is not None]
    lookups = [r for r in sent if privacy.search_words(r) is None]
    assert {r["service"] for r in searches} == {"crossref", "arxiv", "semanticscholar", "openalex"}
    assert {r["service"] for r in lookups} >= {"unpaywall", "europepmc"}
    for request in sent:
        assert privacy.what_is_wrong(request, EMAIL) is None, request
    for request in searches:
        words = " ".join(privacy.search_words(request) or []).replace('ti:"', "").replace('"', "")
        assert words == title, request
    named = {(kind, value.casefold()) for r in lookups for kind, value in privacy.identifiers_in(r)}
    assert named and named <= {(kind, str(value).casefold()) for kind, value in found}, named


def _identifiers_in(request: dict) -> list[tuple[str, str]]:
    return privacy.identifiers_in(request)


def _query_is_only_identifiers_and_email(request: dict) -> bool:
    return privacy.what_is_wrong(request, EMAIL) is None and privacy.search_words(request) is None


async def test_a_page_that_is_no_article_makes_no_request_at_all(start_daemon, upstream_server) -> None:
    base = str(upstream_server.make_url("")).rstrip("/")
    d = await start_daemon(oab_url=f"{base}/oab")
    payload = await d.lookup_json({"url": "https://news.example.com/harbour-festival", "html": NEWS_PAGE})
    assert payload["status"] == "not_article" and payload["badge"]["show"] is False
    assert d.upstream.requests == []


# --- Malformed requests, forged log lines, tokens in query strings ------------------

def raw_request(port: int, data: bytes) -> bytes:
    """Send ``data`` as is and return every byte the daemon answers before closing."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    return received


def test_malformed_requests_get_no_answer_and_nothing_written_by_a_page_is_logged_raw(
        env: dict[str, str], tmp_path: Path) -> None:
    secret = f"SECRET{secrets.token_hex(8)}"
    log = tmp_path / "daemon.log"
    port = free_port()
    host = f"Host: 127.0.0.1:{port}\r\n".encode()
    with daemon_logging_to(env, port, log):
        page = b"Sec-Fetch-Site: cross-site\r\nConnection: close\r\n"
        # A page's request line over 8 KB, or a bad header: what nothing listening gives.
        long_line = b"GET /v1/health?" + b"a" * 9000 + b" HTTP/1.1\r\n" + host + page + b"\r\n"
        assert raw_request(port, long_line) == b""
        huge_cookie = b"GET /v1/health HTTP/1.1\r\n" + host + b"Cookie: " + b"c" * 9000 + b"\r\n" + page + b"\r\n"
        assert raw_request(port, huge_cookie) == b""
        bad_header = (b"GET /v1/status HTTP/1.1\r\n" + host + b"Authorization: Bearer "
                      + secret.encode() + b"\x01\r\nConnection: close\r\n\r\n")
        assert raw_request(port, bad_header) == b""
        # A forged line and terminal escapes in a path; a token in a query string.
        forged = (b"GET /v1/health%0a2026-01-01%20INFO%20oahelper:%20FORGED%1b[2J?token=" + secret.encode()
                  + b" HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n")
        assert raw_request(port, forged).startswith(b"HTTP/1.1 401")  # no such public path
        # The same path from a page: dropped, and logged decoded, so escaped.
        assert raw_request(port, forged.replace(b"\r\n\r\n", b"\r\n" + page + b"\r\n")) == b""
        query = (b"GET /v1/status?token=" + secret.encode() + b" HTTP/1.1\r\n" + host
                 + b"Connection: close\r\n\r\n")
        assert raw_request(port, query).startswith(b"HTTP/1.1 401")
        # The daemon still answers well-formed requests.
        assert raw_request(port, b"GET /v1/health HTTP/1.1\r\n" + host
                           + b"Connection: close\r\n\r\n").startswith(b"HTTP/1.1 200")
    text = log.read_text(encoding="utf-8")
    assert secret not in text
    assert "\x1b" not in text
    assert not any(line.startswith("2026-01-01") for line in text.splitlines())
    assert "dropped a request from a web page to /v1/health\\n2026-01-01 INFO oahelper: FORGED\\x1b[2J" in text
    assert "dropped a request that could not be parsed" in text


def test_a_client_name_chosen_by_the_client_is_stored_and_shown_escaped(env: dict[str, str]) -> None:
    from oahelper.daemon.clients import ClientStore
    from oahelper.settings import load_settings

    store = ClientStore(load_settings(env=env).clients_db)
    code = store.new_pair_code()
    _, name = store.redeem_pair_code(code, "Chromium\x1b[2J\nFAKE LINE\u202e", "chrome-extension://x")
    assert "\x1b" not in name and "\n" not in name and "\u202e" not in name
    listed = oahelper(["clients", "list"], env).stdout
    assert "\x1b" not in listed and "\\x1b[2J\\nFAKE LINE\\u202e" in listed
    assert len(listed.strip().splitlines()) == 1
