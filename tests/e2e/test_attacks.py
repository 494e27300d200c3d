"""Trust boundaries, from a real browser: a hostile page on another local port, in
the same Chromium as the paired extension, gets nothing from the helper — no
payload, no token, no lookup done on its behalf, not even the knowledge that the
helper runs — while the extension goes on working.

The attacker page is our own (tests/e2e/pages/attacker.html); its functions return
only what a page's JavaScript can observe.
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import ExtensionBrowser
from tests.e2e.harness import wait_until

pytestmark = pytest.mark.e2e

ATTACKER = "/own/attacker.html"
DROPPED = re.compile(r"dropped a request from a web page to (\S+)")
# What attack() sends, by path: at least one request each that must reach the helper
# (and be dropped there) rather than be stopped by the browser itself.
# /v1/lookup: no-cors POST, cors POST, the preflight (OPTIONS), the form POST.
ATTACK_REQUESTS = {"/v1/lookup": 4, "/v1/pair": 1, "/v1/health": 3}
# A network error, as JavaScript sees one: no status, no body, no header.
NETWORK_ERROR = {"outcome": "rejected", "name": "TypeError", "message": "Failed to fetch"}


def dropped(stack) -> dict[str, int]:
    """How many requests from web pages the helper dropped so far, by path."""
    counts: dict[str, int] = {}
    for path in DROPPED.findall(stack.helper.process.stderr.read_text(encoding="utf-8", errors="replace")):
        counts[path] = counts.get(path, 0) + 1
    return counts


def health_from_python(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=5) as answer:
        assert answer.status == 200
        return json.loads(answer.read())


def extension_lookup(browser: ExtensionBrowser, port: int, body: dict[str, Any]) -> dict[str, Any]:
    """The request the extension itself makes (its origin, its token), from its
    service worker: status and answer."""
    return browser.sw("""async ([port, body]) => {
        const { token } = await chrome.storage.local.get("token");
        const response = await fetch(`http://127.0.0.1:${port}/v1/lookup`, {
            method: "POST", body: JSON.stringify(body),
            headers: { "Authorization": `Bearer ${token}`, "Content-Type": "application/json" },
        });
        return { status: response.status, payload: await response.json() };
    }""", [port, body])


def assert_learnt_nothing(seen: dict[str, Any], secrets: list[str]) -> None:
    """No secret and no payload field anywhere in what the page saw; every fetch
    failed as a network error, the image did not load, the form's frame is opaque."""
    text = json.dumps(seen)
    assert not [s for s in secrets if s in text], "the page saw a secret"
    fields = [w for w in ("service", "api", "token", "status", "error") if f'\\"{w}\\"' in text]
    assert not fields, f"the page read a payload with {fields}: {seen}"
    fetches = {name: what for name, what in seen.items() if name not in ("healthImage", "form")}
    # All at once, so a failure shows every request that got an answer.
    assert {n: w for n, w in fetches.items() if w != NETWORK_ERROR} == {}
    assert seen["healthImage"] == {"outcome": "error", "event": "error", "width": 0}
    # The frame's load event fires on Chrome's own error page, which the page cannot read.
    assert seen["form"] == {"loaded": True, "readable": None}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_web_page_on_another_port_gets_nothing_and_costs_nothing(browser: ExtensionBrowser, stack, host: str) -> None:
    port = stack.helper.port
    token = browser.settings()["token"]
    assert token, "the session's browser is not paired"
    run = uuid.uuid4().hex[:8]
    # A DOI of its own per attack: had the helper looked any of them up, the fake
    # upstream's log would name it (the helper's cache cannot hide a first lookup).
    dois = {name: f"10.5555/oahelper.attack-{run}-{name}" for name in ("noCors", "cors", "preflight", "form")}
    upstream_before = stack.upstream.requests()
    dropped_before = dropped(stack)

    page = browser.open(stack.pages.url(ATTACKER, host=host))
    seen = page.evaluate("([port, dois]) => attack(port, dois)", [port, dois])

    assert_learnt_nothing(seen, [token])
    # The form's frame, looked at from outside the page: Chrome's error page, no JSON.
    frame = page.frame(name="sink")
    assert frame is not None
    assert not frame.url.startswith(f"http://127.0.0.1:{port}"), frame.url
    shown = frame.locator("body").inner_text()
    assert not shown.lstrip().startswith("{") and "10.5555/oahelper" not in shown, shown
    # Each request reached the helper and was dropped there, not stopped by Chromium.
    def all_dropped() -> bool:
        now = dropped(stack)
        return all(now.get(path, 0) - dropped_before.get(path, 0) >= n for path, n in ATTACK_REQUESTS.items())
    wait_until(all_dropped, what=f"the helper to log dropping at least {ATTACK_REQUESTS}")

    # No lookup work for the page: the upstream was asked nothing.
    assert stack.upstream.requests() == upstream_before
    # The helper is fine, and the extension still gets its answers.
    assert health_from_python(port)["service"] == "oahelper"
    article = browser.open(stack.pages.url("/own/article-gold.html"))
    expect(article.locator("#oahelper-badge")).to_have_attribute("data-status", "open")
    # The very body the page sent is a lookup the helper does for the extension:
    # only who asked made the difference.
    answer = extension_lookup(browser, port, {"url": page.url, "doi": dois["cors"]})
    assert answer["status"] == 200 and answer["payload"]["api"] == 1, answer
    wait_until(lambda: any(r["doi"] == dois["cors"] for r in stack.upstream.requests()),
               what="the extension's lookup to reach the upstream")


def probe(browser: ExtensionBrowser, stack) -> dict[str, Any]:
    page = browser.open(stack.pages.url(ATTACKER))
    try:
        return page.evaluate("(port) => probe(port)", stack.helper.port)
    finally:
        page.close()


def test_a_web_page_cannot_learn_whether_the_helper_runs(browser: ExtensionBrowser, stack) -> None:
    # Everything a page can observe without a clock: resolve or reject, the error's
    # name and message, load or error, the frame, the Resource Timing entries (their
    # fields, not their times). Timing side channels — a dropped connection may take
    # longer to fail than a refused one — are out of scope.
    helper = stack.helper
    dropped_before = dropped(stack)
    running = probe(browser, stack)
    wait_until(lambda: dropped(stack).get("/v1/lookup", 0) > dropped_before.get("/v1/lookup", 0),
               what="the probe to reach the running helper")
    helper.stop()
    try:
        stopped = probe(browser, stack)
    finally:
        helper.start()
    assert running == stopped
    assert running["lookupNoCors"] == NETWORK_ERROR
