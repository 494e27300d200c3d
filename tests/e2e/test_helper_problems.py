"""Every way the helper can be unusable, as the user sees it: each state has its own
words on the toolbar and in the popup, and says what to do."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import ExtensionBrowser, pair_through_options, shadow_call, shoot
from tests.e2e.harness import FakeHelper, Helper, base_env, new_port, wait_until
from tests.support.fake_upstream import upstream_env

pytestmark = pytest.mark.e2e

ARTICLE = "/own/article-gold.html"


def open_article(browser: ExtensionBrowser, stack, kinds=("error",)):
    page = browser.open(stack.pages.url(ARTICLE))
    tab = browser.tab_id(page.url)
    state = browser.wait_for_state(tab, kinds)
    return page, tab, state


def test_helper_not_running_says_how_to_start_it_and_retry_works(browser: ExtensionBrowser, stack) -> None:
    helper = stack.helper
    helper.stop()
    try:
        page, tab, _ = open_article(browser, stack)
        assert browser.toolbar(tab)["text"] == "off"
        assert "not running" in browser.toolbar(tab)["title"]
        expect(page.locator("#oahelper-badge")).to_have_count(0)

        popup = browser.popup(tab)
        expect(popup.locator("#status")).to_have_text("The oahelper helper is not running.")
        expect(popup.locator("#status")).to_have_attribute("data-state", "not_running")
        expect(popup.locator("#command")).to_have_text(f"oahelper serve --port {helper.port}")
        expect(popup.locator("#retry")).to_be_visible()
        shoot(popup.locator("body"), "popup-not-running.png")
    finally:
        helper.start()
    popup.click("#retry")
    expect(popup.locator("#status")).to_contain_text("Free PDF available")
    assert browser.toolbar(tab)["text"] == "OA"
    # Retry also draws the badge on the article page.
    expect(page.locator("#oahelper-badge")).to_have_attribute("data-status", "open")


@pytest.mark.parametrize(("api", "words", "toolbar"), [
    (2, "newer than this extension", "ver"),
    (0, "too old for this extension", "ver"),
])
def test_a_helper_of_another_api_version_is_named_too_old_or_too_new(browser: ExtensionBrowser, stack, api, words, toolbar) -> None:
    other = FakeHelper(api=api, version=f"{api}.0.0")
    try:
        options = browser.options()
        options.fill("#port", str(other.port))
        options.locator("#port").press("Tab")  # "change" fires on leaving the field
        expect(options.locator("#helper-state")).to_contain_text(words)
        _, tab, _ = open_article(browser, stack)
        assert browser.toolbar(tab)["text"] == toolbar
        popup = browser.popup(tab)
        expect(popup.locator("#status")).to_contain_text(words)
        expect(popup.locator("#status")).to_have_attribute("data-state", "wrong_version")
        if api < 1:
            expect(popup.locator("#command")).to_have_text("pip install --upgrade oahelper")
    finally:
        browser.set_settings({"port": stack.helper.port})
        other.stop()


def test_another_program_on_the_port_is_not_taken_for_the_helper(browser: ExtensionBrowser, stack) -> None:
    # The page server answers HTTP on its port, but it is not oahelper.
    with browser.extension_settings(port=stack.pages.port):
        _, tab, _ = open_article(browser, stack)
        assert browser.toolbar(tab)["text"] == "off"
        popup = browser.popup(tab)
        expect(popup.locator("#status")).to_have_text("Another program is using the helper's port.")
        expect(popup.locator("#open-options")).to_be_visible()


def test_a_token_the_helper_refuses_is_told_apart_from_not_paired(browser: ExtensionBrowser, stack) -> None:
    helper = stack.helper
    # A script's token (no browser origin) presented by the extension: 403.
    script_token = helper.cli("token", "create", "--name", "e2e-script").split()[-1]
    with browser.extension_settings(token=script_token):
        page, tab, state = open_article(browser, stack)
        assert state["error"]["kind"] == "refused"
        assert browser.toolbar(tab)["text"] == "!"
        popup = browser.popup(tab)
        expect(popup.locator("#status")).to_have_text("The helper refused the request.")
        expect(popup.locator("#status")).to_have_attribute("data-state", "refused")
        page.close()
        popup.close()
    helper.cli("clients", "revoke", "e2e-script")
    # A revoked or unknown token is "not paired", with the way to pair again.
    with browser.extension_settings(token="not-a-token-the-helper-knows"):
        _, tab, _ = open_article(browser, stack)
        assert browser.toolbar(tab)["text"] == "pair"
        popup = browser.popup(tab)
        expect(popup.locator("#status")).to_have_text("This browser is not paired with the helper.")
        expect(popup.locator("#open-options")).to_be_visible()


def test_unpaywall_email_not_set_is_shown_with_the_fix(browser: ExtensionBrowser, stack, tmp_path) -> None:
    env = base_env(tmp_path / "home") | upstream_env(stack.upstream.url)
    helper = Helper(tmp_path / "home", new_port(), env)  # no e-mail configured
    helper.start()
    try:
        with browser.extension_settings(port=stack.helper.port, token=None, client=None):
            pair_through_options(browser, helper)
            page, tab, state = open_article(browser, stack, kinds=("result", "error"))
            assert state["kind"] == "result", state
            assert state["payload"]["sources"]["unpaywall"]["error_code"] == "source_config"
            # A grey badge whose words say it could not check.
            badge = page.locator("#oahelper-badge")
            expect(badge).to_have_attribute("data-status", "unknown")
            expect(badge).to_have_attribute("data-color", "unknown")
            assert "Could not check" in shadow_call(page, "(root) => root.querySelector('button.main').textContent")
            assert browser.toolbar(tab)["text"] == "?"

            popup = browser.popup(tab)
            expect(popup.locator("#status")).to_have_attribute("data-state", "unknown")
            problem = popup.locator("#source-problems li")
            expect(problem).to_have_count(1)
            expect(problem).to_contain_text("unpaywall")
            expect(problem).to_contain_text("oahelper config set unpaywall_email")
            wait_until(lambda: helper.lookups_seen() == 1, what="the lookup to reach the second helper")

            # The options page shows the helper's own status, problem first.
            options = browser.options()
            expect(options.locator("#helper-state")).to_contain_text(f"running on port {helper.port}")
            expect(options.locator("#status-problems li").first).to_contain_text("e-mail")
            expect(options.locator("#status-sources")).to_contain_text("unpaywall: on, not configured")
    finally:
        helper.stop()
