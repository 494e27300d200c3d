"""GET/PUT /v1/settings: what a browser may see and set (issue 19 item 4, issue 17).

The user's choices only (e-mail, library, links, sources on/off, offline), never ports,
hosts, file paths or upstream base URLs; checked as `oahelper config set` checks them;
a change takes effect from the next request, as `config set` does.
"""

from __future__ import annotations

from typing import Any

from tests.support.api import assert_error
from tests.support.daemon import Daemon, start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import GREEN_DOI

EXT = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


async def put(d: Daemon, body: Any, **headers: str):
    return await d.client.put("/v1/settings", json=body, headers={**d.auth, **headers})


async def test_a_browser_sees_the_users_choices_and_nothing_else(start_daemon) -> None:
    d = await start_daemon()
    view = await (await d.client.get("/v1/settings", headers=d.auth)).json()
    shown = set(view["settings"])
    assert {"unpaywall_email", "openurl_base", "ezproxy_prefix", "ill_url", "verify_links",
            "offline"} <= shown
    assert not shown & {"port", "host", "cache_db", "snapshot_db", "unpaywall_url", "timeout",
                        "allow_private_hosts"}
    assert view["settings"]["unpaywall_email"]["value"] == "researcher@uni.edu"
    assert view["sources"]["unpaywall"] is True


async def test_the_email_set_from_a_browser_is_used_from_the_next_lookup(start_daemon) -> None:
    d = await start_daemon(config={"unpaywall_email": "researcher@uni.edu"})
    resp = await put(d, {"unpaywall_email": "someone.else@uni.edu", "sources.crossref": "off"})
    assert resp.status == 200, await resp.text()
    view = await resp.json()
    assert view["settings"]["unpaywall_email"]["value"] == "someone.else@uni.edu"
    assert view["sources"]["crossref"] is False
    p = await d.lookup_json({"doi": GREEN_DOI})
    sent = next(r for r in d.upstream.requests if r["service"] == "unpaywall")
    assert sent["query"]["email"] == "someone.else@uni.edu"
    assert p["sources"]["crossref"]["state"] == "disabled"


async def test_bad_values_get_the_clis_words_and_nothing_is_written(start_daemon) -> None:
    d = await start_daemon(config={"unpaywall_email": "researcher@uni.edu"})
    resp = await put(d, {"ill_url": "https://ill.example.edu/illiad.dll/OpenURL",
                         "unpaywall_email": "you@your-university.edu"})
    await assert_error(resp, 400, "bad_setting")
    assert "placeholder address, which Unpaywall refuses" in (await resp.json())["error"]["message"]
    view = await (await d.client.get("/v1/settings", headers=d.auth)).json()
    assert view["settings"]["ill_url"]["value"] is None  # all or nothing


async def test_ports_hosts_files_and_upstreams_cannot_be_set_from_a_browser(start_daemon) -> None:
    d = await start_daemon()
    for name, value in (("port", 1234), ("host", "0.0.0.0"), ("unpaywall_url", "https://evil.example"),
                        ("cache_db", "/tmp/x"), ("allow_private_hosts", "10.0.0.1:80")):
        resp = await put(d, {name: value})
        await assert_error(resp, 400, "bad_setting")
        assert "cannot be set from a browser" in (await resp.json())["error"]["message"]


async def test_a_token_is_needed_and_a_web_page_gets_no_answer(start_daemon) -> None:
    d = await start_daemon()
    await assert_error(await d.client.get("/v1/settings"), 401, "unauthorized")
    try:
        resp = await d.client.put("/v1/settings", json={"offline": True},
                                  headers={**d.auth, "Origin": "https://evil.example"})
        answered = resp.status
    except Exception:  # the connection is closed with no answer
        answered = None
    assert answered is None
    view = await (await d.client.get("/v1/settings", headers=d.auth)).json()
    assert view["settings"]["offline"]["value"] is False
