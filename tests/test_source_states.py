"""Every source in /v1/status and `oahelper doctor` (on or off, its key, its last error,
its calls today), and switching one off with `oahelper config set sources.NAME off`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from oahelper.cli.doctor import _facts
from oahelper.sources.base import SourceHealth
from oahelper.sources.registry import build_sources
from tests.support.daemon import start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import GREEN_DOI, upstream_env
from tests.support.processes import fake_upstream, free_port, oahelper
from tests.support.shared import require_shared

AUGMENTING = "Augmenting large language models with chemistry tools"
STATE_FIELDS = {"enabled", "configured", "key", "last_error", "problems", "calls_today"}


async def test_status_says_for_every_source_if_it_is_on_its_key_last_error_and_calls(
        start_daemon, keystore) -> None:
    keystore.set("semanticscholar", "s2-key-123")
    d = await start_daemon(disabled_sources="arxiv")
    d.upstream.plan("500", service="crossref")
    d.upstream.plan("403", service="openalex")  # OpenAlex refusing keyless calls
    await d.lookup_json({"doi": GREEN_DOI})
    s = await (await d.client.get("/v1/status", headers=d.auth)).json()

    names = [source.name for source in build_sources(d.settings, keystore)]
    assert list(s["sources"]) == names
    assert all(STATE_FIELDS <= set(s["sources"][name]) for name in names), s["sources"]
    calls = {name: sum(r["service"] == name for r in d.upstream.requests) for name in names}
    assert {name: s["sources"][name]["calls_today"] for name in names} == calls
    assert s["sources"]["arxiv"]["enabled"] is False and calls["arxiv"] == 0
    assert "HTTP 500" in s["sources"]["crossref"]["last_error"]
    assert s["sources"]["openalex"]["key"] == "needed"
    assert "oahelper keys set openalex" in s["sources"]["openalex"]["problems"][0]
    assert s["sources"]["semanticscholar"]["key"] == "set"
    assert s["sources"]["europepmc"]["key"] is None and s["sources"]["europepmc"]["last_error"] is None
    assert "s2-key-123" not in json.dumps(s)


def _env(home: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
    return clean | {"OAHELPER_HOME": str(home), "OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu"}


def test_doctor_has_a_line_for_every_source_and_a_switched_off_one_is_never_asked(
        isolated_home: Path, tmp_path: Path) -> None:
    require_shared("crossref")
    env = _env(isolated_home)
    assert oahelper(["config", "set", "sources.crossref", "off"], env).returncode == 0
    log = tmp_path / "upstream.jsonl"
    with fake_upstream(env, log=log) as base:
        doctor = oahelper(["doctor"], env | upstream_env(base)).stdout
        found = oahelper(["lookup", AUGMENTING, "--json"], env | upstream_env(base))
    lines = {line.split(":")[0].split()[-1]: line for line in doctor.splitlines()
             if line[:4] in ("ok  ", "off ", "FIX ")}
    for name in ("unpaywall", "europepmc", "semanticscholar", "openalex", "arxiv"):
        assert lines[name].startswith("ok   ") and "calls today" in lines[name], doctor
    assert "key not set" in lines["semanticscholar"] and "key not set" in lines["openalex"]
    assert "switched off (turn it on: oahelper config set sources.crossref on)" in lines["crossref"]
    assert lines["oab"].startswith("off ") and lines["snapshot"].startswith("off ")

    payload = json.loads(found.stdout)
    assert payload["sources"]["crossref"]["state"] == "disabled"
    assert payload["article"]["match"]["by"] != "crossref" and payload["status"] == "open"
    services = {json.loads(line)["service"] for line in log.read_text().splitlines()}
    assert "crossref" not in services and {"semanticscholar", "openalex"} <= services

    assert oahelper(["config", "set", "sources.crossref", "on"], env).returncode == 0
    assert "disabled_sources = (not set)" in oahelper(["config", "show"], env).stdout


def test_doctor_says_what_error_a_lookup_last_met_though_the_source_answers_now(
        isolated_home: Path) -> None:
    """The daemon and CLI lookups note each source's last error in the cache, so doctor
    (another process, asking afresh) can say what went wrong and when."""
    env = _env(isolated_home)
    closed = free_port()  # nothing listens there: Crossref cannot be reached
    with fake_upstream(env) as base:
        broken = env | upstream_env(base) | {"OAHELPER_CROSSREF_URL": f"http://127.0.0.1:{closed}"}
        assert oahelper(["lookup", "10.1038/srep16696"], broken).returncode in (0, 1)
        doctor = oahelper(["doctor"], env | upstream_env(base)).stdout
    line = next(line for line in doctor.splitlines() if " crossref:" in line)
    assert line.startswith("ok   crossref: answers"), doctor
    assert "last error (" in line and f"could not reach 127.0.0.1:{closed}" in line, line
    europepmc = next(line for line in doctor.splitlines() if " europepmc:" in line)
    assert "last error" not in europepmc


def test_an_upstreams_words_in_a_last_error_cannot_drive_the_terminal() -> None:
    facts = _facts(SourceHealth(enabled=True, configured=True), 1,
                   (0.0, "refused: \x1b]0;pwned\x07\nok   forged line"))
    assert "\x1b" not in facts and "\n" not in facts and "\\x1b" in facts
