"""Debian's Firefox ESR with the extension installed, driven over WebDriver BiDi
(tests/e2e/bidi.py), and the ways tests look inside it — the same ones
tests/e2e/browser.py offers for Chromium: tabs, the toolbar badge and per-tab state
(asked through an extension page, since Firefox's background script is not a BiDi
realm), the popup opened as a tab (?tab=ID), the options page.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.bidi import BiDi, BiDiError, local, value
from tests.e2e.harness import EXTENSION, ExtensionState, Helper, require_browser, wait_until
from tests.support.processes import stop

FIREFOX = Path("/usr/bin/firefox-esr")
ADDON_ID = "oahelper@oahelper"   # browser_specific_settings.gecko.id
# Firefox gives each installation a random UUID; this pref fixes it, so the tests
# know the extension's origin (moz-extension://UUID) in advance.
EXTENSION_UUID = "5d0e6c1a-7f3b-4e2a-9c8d-0a1b2c3d4e5f"
FIREFOX_ORIGIN = f"moz-extension://{EXTENSION_UUID}"
# Firefox's names for the toolbar button: the add-on id made a widget id.
ACTION_WIDGET = "oahelper_oahelper-browser-action"
ACTION_BUTTON = "oahelper_oahelper-BAP"

PREFS: dict[str, Any] = {
    "extensions.webextensions.uuids": json.dumps({ADDON_ID: EXTENSION_UUID}),
    # No internet here: every host but ours goes to a proxy that is not there, so the
    # publisher pages' scripts and fonts fail at once (Chromium's tests abort them the
    # same way), and Firefox's own services resolve to nowhere.
    "network.proxy.type": 1,
    "network.proxy.http": "127.0.0.1",
    "network.proxy.http_port": 9,
    "network.proxy.ssl": "127.0.0.1",
    "network.proxy.ssl_port": 9,
    "network.proxy.no_proxies_on": "127.0.0.1,localhost",
    "network.proxy.allow_hijacking_localhost": False,
    "network.dns.localDomains": "firefox.settings.services.mozilla.com",
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
}
KEYS = {"Enter": "\ue007", "Tab": "\ue004", "Backspace": "\ue003"}


def require_firefox() -> None:
    require_browser(FIREFOX, "firefox-esr")


class Firefox(ExtensionState):
    """One Firefox process with its own profile, the extension installed in it."""

    def __init__(self, profile: Path, extension: Path | None = EXTENSION) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        (profile / "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in PREFS.items()))
        self.log = profile.parent / f"{profile.name}-firefox.log"
        env = dict(os.environ)
        # As root, Firefox refuses a HOME owned by someone else; keep its files in the profile.
        env["HOME"] = str(profile)
        env.pop("DISPLAY", None)
        with self.log.open("w") as out:
            # --remote-allow-system-access lets the automation open moz-extension:// pages;
            # tests only, never in a user's browser.
            self.proc = subprocess.Popen(
                [str(FIREFOX), "--headless", "--no-remote", "--profile", str(profile),
                 "--remote-debugging-port=0", "--remote-allow-system-access", "about:blank"],
                stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            self.bidi = BiDi(self._ws_url() + "/session")
            self.bidi.command("session.new", {"capabilities": {}})
            self.errors: list[str] = []
            self.urls: dict[str, str] = {}  # browsing context -> the URL we sent it to
            self.downloads: list[dict[str, Any]] = []  # browsingContext.downloadEnd, in order
            self.bidi.on_event(self._on_event)
            self.bidi.command("session.subscribe", {"events": ["log.entryAdded", "browsingContext.downloadEnd"]})
            if extension is not None:
                self.install(extension)
            self._control: Tab | None = None
        except BaseException:
            stop(self.proc)
            raise

    def _ws_url(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"WebDriver BiDi listening on (ws://\S+)", self.log.read_text(errors="replace"))
            if found:
                return found.group(1)
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"Firefox did not start its BiDi server:\n{self.log.read_text(errors='replace')}")

    def _on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "log.entryAdded" and params.get("level") == "error":
            context = params.get("source", {}).get("context")
            self.errors.append(f"{self.urls.get(context, context)}: {params.get('text')}")
        elif method == "browsingContext.downloadEnd":
            self.downloads.append(params)

    def install(self, path: Path) -> str:
        """Install an extension folder or package (.zip/.xpi) as a temporary add-on."""
        data = ({"type": "path", "path": str(path)} if path.is_dir()
                else {"type": "archivePath", "path": str(path)})
        return self.bidi.command("webExtension.install", {"extensionData": data})["extension"]

    def close(self) -> None:
        try:
            self.bidi.command("browser.close", timeout=10)
        except (BiDiError, ConnectionError, TimeoutError):
            pass
        finally:
            self.bidi.close()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                stop(self.proc)

    # -- tabs --------------------------------------------------------------------

    def new_tab(self) -> Tab:
        context = self.bidi.command("browsingContext.create", {"type": "tab"})["context"]
        return Tab(self, context)

    def open(self, url: str) -> Tab:
        """A new tab showing url, loaded as far as DOMContentLoaded."""
        tab = self.new_tab()
        tab.goto(url)
        return tab

    def contexts(self) -> list[str]:
        return [c["context"] for c in self.bidi.command("browsingContext.getTree", {"maxDepth": 0})["contexts"]]

    def opened_by(self, action: Callable[[], None], url_prefix: str) -> Tab:
        """Do action (a click that opens a tab, as chrome.tabs.create does); the new tab,
        once it shows a page whose address starts with url_prefix."""
        before = set(self.contexts())
        action()
        context = wait_until(lambda: next(iter(set(self.contexts()) - before), None), what="a new tab")
        tab = Tab(self, context)
        url = tab.wait_for("(p) => location.href.startsWith(p) && document.readyState !== 'loading' && location.href",
                           url_prefix, what=f"the new tab to show {url_prefix}…")
        self.urls[context] = url
        return tab

    def download(self, action: Callable[[], None], folder: Path) -> Path:
        """Do action (a click on a download link); the file Firefox saved, in folder."""
        self.bidi.command("browser.setDownloadBehavior", {
            "downloadBehavior": {"type": "allowed", "destinationFolder": str(folder)}})
        try:
            seen = len(self.downloads)
            action()
            done = wait_until(lambda: self.downloads[seen:] and self.downloads[seen], what="the download to end")
            assert done["status"] == "complete", done
            return Path(done["filepath"])
        finally:
            self.bidi.command("browser.setDownloadBehavior", {"downloadBehavior": None})

    # -- the extension, seen from one of its own pages -----------------------------

    @property
    def control(self) -> Tab:
        """An extension page kept open for asking the extension's APIs (tabs, action,
        storage): the background script itself is no BiDi realm."""
        if self._control is None:
            self._control = self.open(f"{FIREFOX_ORIGIN}/options/options.html")
        return self._control

    def toolbar_shown(self, tab: Tab) -> dict[str, str]:
        """The toolbar button's badge and tooltip as Firefox draws them, for tab (made
        the selected tab first): read from the browser's own window, where the button
        sits once pinned to the toolbar, as a user would pin it."""
        self.bidi.command("browsingContext.activate", {"context": tab.context})
        window = next(c["context"] for c in self.bidi.command("browsingContext.getTree", {"moz:scope": "chrome"})["contexts"]
                      if c["url"] == "chrome://browser/content/browser.xhtml")
        found = self.bidi.command("script.evaluate", {"target": {"context": window}, "awaitPromise": False, "expression": f"""(() => {{
            if (!document.getElementById({json.dumps(ACTION_BUTTON)}))
                CustomizableUI.addWidgetToArea({json.dumps(ACTION_WIDGET)}, CustomizableUI.AREA_NAVBAR);
            const button = document.getElementById({json.dumps(ACTION_BUTTON)});
            return JSON.stringify({{text: button.getAttribute("badge") ?? "", title: button.getAttribute("tooltiptext")}});
        }})()"""})
        return json.loads(value(found["result"]))

    def ext(self, function: str, arg: Any = None) -> Any:
        return self.control.call(function, arg)

    def popup(self, tab_id: int) -> Tab:
        """The toolbar popup, opened as a tab, reporting on tab_id."""
        tab = self.new_tab()
        tab.goto(f"{FIREFOX_ORIGIN}/popup/popup.html?tab={tab_id}")
        return tab

    def options(self) -> Tab:
        tab = self.open(f"{FIREFOX_ORIGIN}/options/options.html")
        tab.wait_for("() => document.querySelector('#helper-state[data-state]') !== null",
                     what="the options page to ask the helper")
        return tab


@dataclass
class Tab:
    """One tab (a BiDi browsing context)."""

    browser: Firefox
    context: str

    @property
    def bidi(self) -> BiDi:
        return self.browser.bidi

    def goto(self, url: str, timeout: float = 20) -> None:
        # wait "none", then watch the document: waiting in navigate itself hangs when
        # Firefox switches process for a moz-extension:// page.
        self.browser.urls[self.context] = url
        self.bidi.command("browsingContext.navigate", {"context": self.context, "url": url, "wait": "none"})
        self.wait_for("(url) => location.href === url && document.readyState !== 'loading'", url,
                      timeout=timeout, what=f"{url} to load")

    def call(self, function: str, *args: Any) -> Any:
        """Run a JavaScript function in the page with args; its (awaited) result."""
        result = self.bidi.command("script.callFunction", {
            "functionDeclaration": function, "arguments": [local(a) for a in args],
            "target": {"context": self.context}, "awaitPromise": True,
            "serializationOptions": {"includeShadowTree": "all", "maxDomDepth": 0},
        })
        if result["type"] == "exception":
            details = result["exceptionDetails"]
            raise AssertionError(f"the page threw: {details.get('text')}")
        return value(result["result"])

    def wait_for(self, function: str, *args: Any, timeout: float = 10, what: str = "condition") -> Any:
        """Poll function(*args) in the page until it returns something truthy."""
        def attempt() -> Any:
            try:
                return self.call(function, *args)
            except BiDiError:  # the document is being replaced: ask the next one
                return None
        return wait_until(attempt, timeout=timeout, what=what)

    @property
    def url(self) -> str:
        return self.call("() => location.href")

    def title(self) -> str:
        return self.call("() => document.title")

    def text(self, selector: str) -> str | None:
        return self.call("(s) => document.querySelector(s)?.textContent ?? null", selector)

    def wait_text(self, selector: str, words: str, timeout: float = 10) -> str:
        """Wait until the element holds words; its whole text."""
        return self.wait_for("(s, w) => { const t = document.querySelector(s)?.textContent ?? ''; return t.includes(w) ? t : null; }",
                             selector, words, timeout=timeout, what=f"{selector} to say {words!r}")

    def attribute(self, selector: str, name: str) -> str | None:
        return self.call("(s, n) => document.querySelector(s)?.getAttribute(n) ?? null", selector, name)

    def count(self, selector: str) -> int:
        return self.call("(s) => document.querySelectorAll(s).length", selector)

    # -- real input: the browser's own pointer and keyboard -----------------------

    def click_at(self, x: float, y: float) -> None:
        self.bidi.command("input.performActions", {"context": self.context, "actions": [{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
            "actions": [{"type": "pointerMove", "x": round(x), "y": round(y)},
                        {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}],
        }]})

    def click(self, selector: str) -> None:
        """Click the middle of the element, as a user would."""
        box = self.wait_for("""(s) => { const e = document.querySelector(s); if (!e) return null;
            e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();
            return r.width && r.height ? [r.x + r.width / 2, r.y + r.height / 2] : null; }""",
                            selector, what=f"{selector} to be visible")
        self.click_at(*box)

    def keys(self, text: str) -> None:
        """Type text (or a key named in KEYS) into whatever has the focus."""
        chars = KEYS.get(text, text)
        actions = [a for c in chars for a in ({"type": "keyDown", "value": c}, {"type": "keyUp", "value": c})]
        self.bidi.command("input.performActions", {"context": self.context, "actions": [
            {"type": "key", "id": "keyboard", "actions": actions}]})

    def fill(self, selector: str, text: str) -> None:
        """Empty a field and type text into it."""
        self.click(selector)
        self.call("(s) => { const e = document.querySelector(s); e.select?.(); }", selector)
        self.keys("Backspace")
        self.keys(text)

    def close(self) -> None:
        try:
            self.bidi.command("browsingContext.close", {"context": self.context})
        except BiDiError:
            pass  # closed already


def pair_firefox(browser: Firefox, helper: Helper) -> Tab:
    """What a user does: set the port, run `oahelper pair`, type the code, press Pair."""
    page = browser.options()
    page.fill("#port", str(helper.port))
    page.keys("Enter")
    page.keys("Tab")
    page.wait_text("#helper-state", "running on port")
    page.fill("#pair-code", helper.pair_code())
    page.click("#pair-submit")
    page.wait_text("#pair-status", "Paired")
    return page
