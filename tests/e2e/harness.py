"""What the browser tests drive: the real helper, the fake upstream, a page server,
and Debian's Chromium with the extension loaded.

Everything runs on 127.0.0.1. Processes are started here and stopped here, by PID.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import free_port, stop
from tests.support.shared import OWN_FIXTURES, REPO, require_shared

CHROMIUM = Path("/usr/bin/chromium")
EXTENSION = REPO / "extension"
OWN_PAGES = Path(__file__).resolve().parent / "pages"
# The README's screenshots are rewritten only when asked (OAHELPER_SCREENSHOTS=1):
# an ordinary test run must leave the checkout as it found it.
SCREENSHOTS = (REPO / "docs" / "screenshots" if os.environ.get("OAHELPER_SCREENSHOTS") == "1"
               else Path(tempfile.gettempdir()) / "oahelper-screenshots")
# The id Chrome derives from the manifest's "key" (docs/extension.md says how).
EXTENSION_ID = "ijncabdnbfpndpihbglfhgkgnmjjkgjd"
EXTENSION_ORIGIN = f"chrome-extension://{EXTENSION_ID}"

# As root, with no internet: no sandbox, and none of the browser's own background
# traffic (without these flags connections are refused many at a time).
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

EMAIL = "e2e-tests@uni.edu"
OPENURL_BASE = "https://resolver.library.example/openurl"
GREEN_DOI = "10.1038/nature12373"   # recorded in the shared Unpaywall fixtures: green
GOLD_DOI = "10.5555/oahelper.gold.2024"   # the project's own fixture: works without ../shared


def require_browser(path: Path, package: str) -> None:
    """Skip without one of Debian's browsers, except in CI where the tests must run."""
    if path.exists():
        return
    why = f"{path} is missing (apt-get install {package})"
    if os.environ.get("CI"):
        pytest.fail(f"{why}, and CI must run the browser tests")
    pytest.skip(f"{why}; the browser tests drive Debian's browsers, never a downloaded one")


def require_chromium() -> None:
    require_browser(CHROMIUM, "chromium")


def unpaywall_answer(doi: str) -> dict[str, Any]:
    """The Unpaywall answer the fake upstream serves for a DOI: the project's own
    fixture, or else the shared recording (read in place)."""
    name = "200_" + "".join(c if c.isalnum() or c in "._-" else "_" for c in doi) + ".json"
    own = OWN_FIXTURES / "unpaywall" / name
    path = own if own.exists() else require_shared("unpaywall") / name
    return json.loads(path.read_text(encoding="utf-8"))


def _wait_for_line(path: Path, needle: str, proc: subprocess.Popen, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if needle in line:
                return line
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"{proc.args} did not print {needle!r}:\n{path.read_text(errors='replace')}")


@dataclass
class Process:
    """One of our background processes, with its output in files (a full pipe would
    block it) so tests can read what it logged."""

    args: list[str]
    env: dict[str, str]
    folder: Path
    name: str
    ready: str
    proc: subprocess.Popen | None = None
    ready_line: str = ""

    @property
    def stdout(self) -> Path:
        return self.folder / f"{self.name}.out"

    @property
    def stderr(self) -> Path:
        return self.folder / f"{self.name}.err"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.stdout.open("w") as out, self.stderr.open("a") as err:
            self.proc = subprocess.Popen([sys.executable, *self.args], env=self.env, cwd=REPO,
                                         stdout=out, stderr=err, text=True)
        self.ready_line = _wait_for_line(self.stdout, self.ready, self.proc)

    def stop(self) -> None:
        stop(self.proc)
        self.proc = None


def base_env(home: Path) -> dict[str, str]:
    # No stray OAHELPER_ settings reach our processes, but where the shared fixtures
    # are (and whether they are required) does.
    keep = ("OAHELPER_SHARED_FIXTURES", "OAHELPER_REQUIRE_SHARED")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_") or k in keep}
    env["OAHELPER_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    # One browser opens dozens of new articles a minute here, faster than any reader:
    # the per-client budget (tests/test_call_budget.py) is set out of its way.
    env["OAHELPER_LOOKUPS_PER_MINUTE"] = "100000"
    return env


@dataclass
class Helper:
    """The real daemon (`oahelper serve`) with its own OAHELPER_HOME."""

    home: Path
    port: int
    env: dict[str, str]
    process: Process = field(init=False)

    def __post_init__(self) -> None:
        self.process = Process(["-m", "oahelper", "serve", "--port", str(self.port)],
                               self.env, self.home, "daemon", "listening on")

    def start(self) -> None:
        self.process.start()

    def stop(self) -> None:
        self.process.stop()

    def cli(self, *args: str) -> str:
        """Run an oahelper command as a user would; its output."""
        done = subprocess.run([sys.executable, "-m", "oahelper", *args], env=self.env, cwd=REPO,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"oahelper {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
        return done.stdout

    def pair_code(self) -> str:
        for line in self.cli("pair").splitlines():
            if line.startswith("Pairing code:"):
                return line.split(":", 1)[1].strip()
        raise AssertionError("oahelper pair printed no 'Pairing code:' line")

    def lookups_seen(self) -> int:
        """How many /v1/lookup requests the daemon's access log shows."""
        text = self.process.stderr.read_text(encoding="utf-8", errors="replace")
        return text.count('"POST /v1/lookup ')

    def pair_as(self, origin: str, client: str) -> str:
        """Pair as an extension of ``origin`` would (the token is bound to its origin),
        redeeming a code from `oahelper pair` at /v1/pair; the token."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/v1/pair", method="POST",
            data=json.dumps({"code": self.pair_code(), "client": client}).encode(),
            headers={"Content-Type": "application/json", "Origin": origin})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())["token"]


@dataclass
class Upstream:
    """The fake Unpaywall, serving the recorded answers, logging every request."""

    folder: Path
    env: dict[str, str]
    process: Process = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.folder / "upstream-requests.jsonl"
        self.log.touch()
        self.process = Process(["-m", "tests.support.fake_upstream", "--port", "0", "--log", str(self.log)],
                               self.env, self.folder, "upstream", "listening on")

    def start(self) -> None:
        self.process.start()
        self.url = self.process.ready_line.split("listening on", 1)[1].split()[0].rstrip("/")

    def stop(self) -> None:
        self.process.stop()

    def requests(self) -> list[dict[str, Any]]:
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


class _PageHandler(SimpleHTTPRequestHandler):
    """/own/<file> from tests/e2e/pages, /shared/<file> from the shared page corpus."""

    def __init__(self, *args: Any, shared: Path | None, **kw: Any) -> None:
        self.shared = shared
        super().__init__(*args, directory=str(OWN_PAGES), **kw)

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if clean.startswith("/shared/") and self.shared is not None:
            return str(self.shared / Path(clean).name)
        if clean.startswith("/own/"):
            return str(OWN_PAGES / Path(clean).name)
        return str(OWN_PAGES / "missing")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class PageServer:
    """Web pages on 127.0.0.1 (and the same pages as http://localhost:PORT, which the
    extension sees as another site)."""

    def __init__(self, shared: Path | None) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_PageHandler, shared=shared))
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():  # shutdown() waits forever for a loop never started
            self.server.shutdown()
        self.server.server_close()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


class FakeHelper:
    """A program on a port that claims to be oahelper but speaks another API version."""

    def __init__(self, api: int, version: str) -> None:
        body = json.dumps({"service": "oahelper", "version": version, "api": api}).encode()

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self.send_response(200 if self.path == "/v1/health" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-OAHelper-Version", version)
                self.end_headers()
                self.wfile.write(body if self.path == "/v1/health" else b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_until(predicate, timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll until predicate() is truthy; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def new_port() -> int:
    return free_port()


class ExtensionState:
    """What the extension knows, asked through its own APIs (`chrome.*`, which Firefox
    also offers): per-tab state, the toolbar badge, the settings. A browser class gives
    `ext(function, arg)`, which runs the function in one of the extension's realms."""

    def ext(self, function: str, arg: Any = None) -> Any:
        raise NotImplementedError

    def tab_id(self, url: str) -> int:
        """The browser's tab id of the (one) tab showing url."""
        def find() -> list[int]:
            return self.ext("async (url) => (await chrome.tabs.query({})).filter(t => t.url === url).map(t => t.id)", url)
        ids = wait_until(find, what=f"a tab showing {url}")
        assert len(ids) == 1, f"{len(ids)} tabs show {url}"
        return ids[0]

    def toolbar(self, tab_id: int) -> dict[str, str]:
        """The toolbar button's badge text and tooltip for one tab."""
        return self.ext("""async (tabId) => ({
            text: await chrome.action.getBadgeText({tabId}),
            title: await chrome.action.getTitle({tabId}),
        })""", tab_id)

    def tab_state(self, tab_id: int) -> dict[str, Any] | None:
        return self.ext("async (tabId) => (await chrome.storage.session.get(`tab:${tabId}`))[`tab:${tabId}`] ?? null", tab_id)

    def wait_for_state(self, tab_id: int, kinds: tuple[str, ...]) -> dict[str, Any]:
        def settled() -> dict[str, Any] | None:
            state = self.tab_state(tab_id)
            return state if state and state["kind"] in kinds else None
        return wait_until(settled, what=f"tab {tab_id} to reach one of {kinds}")

    def decision(self, tab_id: int) -> dict[str, Any] | None:
        """What the content script decided about its page ({url, article}), read in its
        own world through chrome.scripting (the page cannot see it)."""
        return self.ext("""async (tabId) => {
            try {
                const [done] = await chrome.scripting.executeScript({
                    target: {tabId, frameIds: [0]}, func: () => globalThis.oahelper?.decided ?? null});
                return done?.result ?? null;
            } catch (err) { return null; } }""", tab_id)

    def wait_for_decision(self, tab_id: int, url: str) -> dict[str, Any]:
        """Wait until the content script has looked at the page at url; its decision."""
        return wait_until(lambda: (d := self.decision(tab_id)) and d["url"] == url and d,
                          what=f"the content script to decide about {url}")

    def settings(self) -> dict[str, Any]:
        return self.ext("() => chrome.storage.local.get(null)")

    def set_settings(self, values: dict[str, Any]) -> None:
        self.ext("(values) => chrome.storage.local.set(values)", values)

    @contextmanager
    def extension_settings(self, **values: Any) -> Iterator[None]:
        """Change the extension's settings for one test, and put them back after."""
        saved = self.settings()
        self.set_settings(values)
        try:
            yield
        finally:
            self.set_settings({k: saved.get(k) for k in values})
