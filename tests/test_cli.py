"""The oahelper command as a new user runs it: subprocesses, real servers, no network."""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path

import pytest

from tests.support.fake_upstream import CLOSED_DOI, GREEN_DOI, upstream_env
from tests.support.processes import daemon, fake_upstream, free_port, oahelper
from tests.support.shared import require_shared


@pytest.fixture
def env(isolated_home: Path) -> dict[str, str]:
    """A user's environment: a fresh OAHELPER_HOME, nothing configured."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
    return clean | {"OAHELPER_HOME": str(isolated_home)}


def get_json(url: str, token: str | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_doctor_on_a_fresh_machine_says_the_email_is_missing_and_how_to_set_it(env) -> None:
    with fake_upstream(env) as base:
        proc = oahelper(["doctor"], env | upstream_env(base))
    assert proc.returncode == 1
    assert "FIX  unpaywall: Unpaywall needs your e-mail address and none is set" in proc.stdout
    assert "oahelper config set unpaywall_email" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_doctor_is_happy_once_configured(env) -> None:
    assert oahelper(["config", "set", "unpaywall_email", "me@uni.edu"], env).returncode == 0
    with fake_upstream(env) as base:
        proc = oahelper(["doctor"], env | upstream_env(base))
    assert "Unpaywall e-mail: me@uni.edu" in proc.stdout and "FIX" not in proc.stdout
    assert "ok   unpaywall: answers" in proc.stdout
    assert "ok   cache" in proc.stdout


def test_lookup_json_of_the_recorded_green_article(env) -> None:
    require_shared("unpaywall")
    with fake_upstream(env) as base:
        proc = oahelper(["lookup", "10.1038/nature12373", "--json"],
                        env | upstream_env(base) | {"OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu"})
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["status"] == "open" and payload["oa_status"] == "green"
    assert payload["best"]["host_type"] == "repository"
    assert "dash.harvard.edu" in payload["best"]["url"]


def test_lookup_readable_output(env) -> None:
    with fake_upstream(env) as base:
        e = env | upstream_env(base) | {"OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu"}
        open_ = oahelper(["lookup", f"https://doi.org/{GREEN_DOI}"], e)
        closed = oahelper(["lookup", f"doi:{CLOSED_DOI}"], e)
    assert open_.returncode == 0 and "FREE (green)" in open_.stdout
    assert "Sources: unpaywall ok" in open_.stdout
    assert closed.returncode == 0 and "NO FREE COPY" in closed.stdout


def test_lookup_without_network_says_unknown_with_the_reason(env) -> None:
    e = env | upstream_env("http://127.0.0.1:9") | {"OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu"}
    proc = oahelper(["lookup", "10.1038/nature12373", "--json"], e)
    assert proc.returncode == 1
    payload = json.loads(proc.stdout)
    assert payload["status"] == "unknown"
    assert "could not reach" in payload["sources"]["unpaywall"]["error"]
    assert "Traceback" not in proc.stderr
    text = oahelper(["lookup", "10.1038/nature12373"], e)
    assert "UNKNOWN" in text.stdout and "could not reach" in text.stdout


def test_lookup_of_text_that_is_no_identifier_is_a_title_search(env) -> None:
    with fake_upstream(env) as base:
        proc = oahelper(["lookup", "hello world"], env | upstream_env(base))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "NOT FOUND: No article matches this title." in proc.stdout


def test_lookup_of_nothing_says_what_it_takes(env) -> None:
    proc = oahelper(["lookup", "  "], env)
    assert proc.returncode == 2 and "nothing to look up" in proc.stderr


def test_lookup_of_a_saved_page_file(env, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(f'<html><head><meta name="citation_doi" content="{GREEN_DOI}">'
                    '<meta name="citation_title" content="A saved page"></head></html>')
    with fake_upstream(env) as base:
        proc = oahelper(["lookup", str(page), "--url", "https://pub.example/a", "--json"],
                        env | upstream_env(base) | {"OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu"})
    payload = json.loads(proc.stdout)
    assert payload["status"] == "open" and payload["article"]["title"] == "A saved page"


def test_scrape_prints_the_article_as_json(env, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text('<html><head><meta name="citation_doi" content="doi:10.1234/ABC.5">'
                    '<meta name="citation_title" content="Title"><meta name="citation_author" content="Doe, Jane">'
                    '<meta name="citation_publication_date" content="2019/05/01"></head></html>')
    proc = oahelper(["scrape", str(page), "--url", "https://pub.example/a"], env)
    assert proc.returncode == 0, proc.stderr
    article = json.loads(proc.stdout)
    for key in ("doi", "pmid", "pmcid", "arxiv", "isbn", "title", "authors", "journal", "year",
                "publisher", "pdf_url"):
        assert key in article
    assert article["doi"] == "10.1234/ABC.5" and article["year"] == 2019
    assert article["authors"] == ["Doe, Jane"]


def test_serve_with_no_configuration_then_a_taken_port_fails_loudly(env) -> None:
    port = free_port()
    with daemon(env, port):
        status, body = get_json(f"http://127.0.0.1:{port}/v1/health")
        assert status == 200 and body["service"] == "oahelper"
        second = oahelper(["serve", "--port", str(port)], env, timeout=30)
        assert second.returncode == 1
        assert f"port {port}" in second.stderr and "already in use" in second.stderr
        # It suggests the first free port above (on a busy machine not always port + 1).
        suggested = int(re.search(r"oahelper serve --port (\d+)", second.stderr)[1])
        assert port < suggested < port + 100
        assert get_json(f"http://127.0.0.1:{port}/v1/health")[0] == 200  # the first one is untouched


def test_token_create_list_revoke_against_the_running_daemon(env) -> None:
    port = free_port()
    with daemon(env, port):
        made = oahelper(["token", "create", "--name", "my-script"], env)
        token = made.stdout.split()[-1]
        assert len(token) >= 43
        assert get_json(f"http://127.0.0.1:{port}/v1/status", token)[0] == 200
        listed = oahelper(["clients", "list"], env).stdout
        assert "my-script" in listed and token not in listed
        assert oahelper(["clients", "revoke", "my-script"], env).returncode == 0
        status, body = get_json(f"http://127.0.0.1:{port}/v1/status", token)
        assert status == 401 and body["error"]["code"] == "unauthorized"


def test_pair_prints_a_one_time_code(env) -> None:
    proc = oahelper(["pair"], env)
    assert proc.returncode == 0
    line = proc.stdout.splitlines()[0]
    assert line.startswith("Pairing code: ") and len(line.split()[-1]) == 9


def test_config_set_and_show(env) -> None:
    assert oahelper(["config", "set", "openurl_base", "https://resolver.example.edu/openurl"], env).returncode == 0
    bad = oahelper(["config", "set", "port", "not-a-port"], env)
    assert bad.returncode == 2 and "port must be an int" in bad.stderr
    shown = oahelper(["config", "show"], env | {"OAHELPER_PORT": "30000"}).stdout
    assert "openurl_base = https://resolver.example.edu/openurl  (config file" in shown
    assert "port = 30000  (environment" in shown
    assert str(Path(env["OAHELPER_HOME"])) in shown


def test_lookup_of_a_saved_page_with_undeclared_windows_1252_bytes(env, tmp_path: Path) -> None:
    page = tmp_path / "cp1252.html"
    page.write_bytes(b'<html><head><meta name="citation_title" content="Reading \x93Maeshowe\x94 \xa9 2013">'
                     b'<meta name="citation_doi" content="' + CLOSED_DOI.encode() + b'"></head></html>')
    with fake_upstream(env) as base:
        proc = oahelper(["lookup", str(page), "--json"],
                        env | upstream_env(base) | {"OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu"})
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["article"]["title"] == "Reading \u201cMaeshowe\u201d \u00a9 2013"
    assert payload["status"] == "closed"


def test_daemon_runs_without_a_keyring_and_says_so(env, isolated_home: Path) -> None:
    no_bus = {k: v for k, v in env.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    no_bus["XDG_RUNTIME_DIR"] = str(isolated_home / "no-runtime")  # no bus socket there
    port = free_port()
    with fake_upstream(no_bus) as base:
        e = no_bus | upstream_env(base) | {"OAHELPER_OAB_URL": f"{base}/oab",
                      "OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu"}
        token = oahelper(["token", "create", "--name", "t"], e).stdout.split()[-1]
        with daemon(e, port):
            status, body = get_json(f"http://127.0.0.1:{port}/v1/status", token)
    assert status == 200
    assert body["keyring"]["available"] is False
    assert "keyring_unavailable" in [p["code"] for p in body["problems"]]
    assert body["sources"]["oab"]["enabled"] is True


def test_lookup_of_a_page_url_that_cannot_be_fetched_says_why(env) -> None:
    # A loopback page is refused by the fetch rules before any connection is made.
    proc = oahelper(["lookup", "http://127.0.0.1:9/article/1"], env | {"OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu"})
    assert proc.returncode == 1
    assert "UNKNOWN" in proc.stdout and "could not fetch the page" in proc.stdout
    assert "oahelper lookup FILE.html --url URL" in proc.stdout


def post_json(url: str, token: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def test_config_set_takes_effect_in_the_running_daemon(env) -> None:
    port = free_port()
    with fake_upstream(env) as base:
        e = env | upstream_env(base)
        token = oahelper(["token", "create", "--name", "t"], e).stdout.split()[-1]
        with daemon(e, port):
            url = f"http://127.0.0.1:{port}/v1/lookup"
            before = post_json(url, token, {"doi": GREEN_DOI})
            assert before["status"] == "unknown"
            said = oahelper(["config", "set", "unpaywall_email", "me@uni.edu"], e)
            assert "next request" in said.stdout
            after = post_json(url, token, {"doi": GREEN_DOI})
    assert after["status"] == "open" and after["sources"]["unpaywall"]["state"] == "ok"
