"""Chromium with the extension loaded, and the ways tests look inside it: the
service worker (for the toolbar badge and per-tab state), the popup opened as a tab
that reports on a named tab (?tab=ID), and the options page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, Playwright, Worker, expect

from tests.e2e.harness import (
    CHROMIUM, CHROMIUM_FLAGS, EXTENSION, EXTENSION_ID, EXTENSION_ORIGIN, SCREENSHOTS, ExtensionState, Helper,
)


def _is_local(url: str) -> bool:
    return url.startswith(("http://127.0.0.1", "http://localhost", "chrome-extension:", "data:", "about:"))


class ExtensionBrowser(ExtensionState):
    def __init__(self, playwright: Playwright, profile: Path, extension: Path = EXTENSION,
                 timing: bool = False) -> None:
        # The real publisher pages pull in scripts, fonts and trackers from the web;
        # with no internet, fail those at once instead of waiting on them. Tests abort
        # them through Playwright's routing; for timing (scripts/bench-browser), which
        # routing would slow down (every request of the page, and the extension's own,
        # waits for Python), a proxy that is not there refuses them in the browser.
        offline = ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1;localhost"] if timing else []
        self.context: BrowserContext = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True,
            viewport={"width": 1100, "height": 700},
            args=[f"--disable-extensions-except={extension}", f"--load-extension={extension}",
                  *CHROMIUM_FLAGS, *offline],
        )
        if not timing:
            self.context.route(lambda url: not _is_local(url), lambda route: route.abort())
        self.errors: list[str] = []
        worker = self.service_worker()
        assert worker.url == f"{EXTENSION_ORIGIN}/background.js", (
            f"the extension loaded with another id: {worker.url} (is the manifest 'key' intact?)")

    def close(self) -> None:
        self.context.close()

    # -- the service worker -------------------------------------------------------

    def service_worker(self) -> Worker:
        """The extension's service worker (woken up if the browser had stopped it)."""
        for worker in self.context.service_workers:
            if worker.url.startswith(EXTENSION_ORIGIN):
                return worker
        with self.context.expect_event("serviceworker", timeout=15000) as event:
            # Any message from an extension page wakes a stopped worker.
            page = self.context.new_page()
            page.goto(f"{EXTENSION_ORIGIN}/options/options.html")
        page.close()
        return event.value

    def sw(self, script: str, arg: Any = None) -> Any:
        return self.service_worker().evaluate(script, arg)

    ext = sw

    # -- pages -------------------------------------------------------------------

    def open(self, url: str) -> Page:
        page = self.context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{url}: {exc}"))
        page.goto(url, wait_until="domcontentloaded")
        return page

    def popup(self, tab_id: int) -> Page:
        """The toolbar popup, opened as a tab, reporting on tab_id."""
        page = self.context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"popup: {exc}"))
        page.set_viewport_size({"width": 420, "height": 640})
        page.goto(f"{EXTENSION_ORIGIN}/popup/popup.html?tab={tab_id}")
        return page

    def options(self) -> Page:
        page = self.context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"options: {exc}"))
        page.goto(f"{EXTENSION_ORIGIN}/options/options.html")
        # Settled: the page has read the settings and asked the helper.
        page.locator("#helper-state[data-state]").wait_for()
        return page


def _find_badge(node: dict[str, Any]) -> dict[str, Any] | None:
    attributes = node.get("attributes", [])
    if "id" in attributes[::2] and attributes[attributes.index("id") + 1] == "oahelper-badge":
        return node
    for child in node.get("children", []):
        if (found := _find_badge(child)) is not None:
            return found
    return None


def shadow_call(page: Page, function: str, *args: Any) -> Any:
    """Run function(root, *args) on the on-page badge's closed shadow root; its result.

    Page scripts cannot reach a closed shadow root, and neither can Playwright's
    locators; the DevTools protocol (what Chromium's inspector uses) can: tests only."""
    cdp = page.context.new_cdp_session(page)
    try:
        document = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
        host = _find_badge(document)
        assert host is not None, "no badge on the page"
        roots = host.get("shadowRoots", [])
        assert roots, "the badge has no shadow root"
        root = cdp.send("DOM.resolveNode", {"backendNodeId": roots[0]["backendNodeId"]})["object"]
        result = cdp.send("Runtime.callFunctionOn", {
            "objectId": root["objectId"], "functionDeclaration": function,
            "arguments": [{"objectId": root["objectId"]}, *({"value": a} for a in args)],
            "returnByValue": True, "awaitPromise": True,
        })
        if "exceptionDetails" in result:
            raise AssertionError(f"the function threw: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")
    finally:
        cdp.detach()


def badge_shadow_mode(page: Page) -> str | None:
    """'open' or 'closed': the kind of shadow root the badge has (as Chromium sees it)."""
    cdp = page.context.new_cdp_session(page)
    try:
        host = _find_badge(cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"])
        return host["shadowRoots"][0]["shadowRootType"] if host and host.get("shadowRoots") else None
    finally:
        cdp.detach()


def click_in_badge(page: Page, selector: str) -> None:
    """A real mouse click in the middle of an element inside the badge."""
    box = shadow_call(page, """(root, s) => { const e = root.querySelector(s); if (!e) return null;
        const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }""", selector)
    assert box, f"nothing in the badge matches {selector}"
    page.mouse.click(*box)


def pair_through_options(browser: ExtensionBrowser, helper: Helper) -> Page:
    """What a user does: set the port, run `oahelper pair`, type the code, press Pair."""
    page = browser.options()
    page.fill("#port", str(helper.port))
    page.press("#port", "Enter")
    page.locator("#port").blur()
    expect(page.locator("#helper-state")).to_contain_text("running on port")
    page.fill("#pair-code", helper.pair_code())
    page.click("#pair-submit")
    expect(page.locator("#pair-status")).to_contain_text("Paired")
    return page


def shoot(target: Any, name: str, **options: Any) -> Path:
    """Save a screenshot (for the README under docs/screenshots/ with OAHELPER_SCREENSHOTS=1)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    target.screenshot(path=str(path), animations="disabled", **options)
    return path


__all__ = ["ExtensionBrowser", "pair_through_options", "shoot", "shadow_call", "click_in_badge", "EXTENSION_ID"]
