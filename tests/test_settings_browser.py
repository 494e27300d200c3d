"""What a browser may see and set (for /v1/settings): browser_view and apply_browser_changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oahelper.errors import ConfigError
from oahelper.settings import (BROWSER_SETTINGS, apply_browser_changes, browser_view, config_file,
                               load_settings)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"OAHELPER_HOME": str(tmp_path)}


def test_the_view_lists_each_browser_setting_with_value_default_help_and_origin(env) -> None:
    env |= {"OAHELPER_OFFLINE": "true"}
    view = browser_view(load_settings({"unpaywall_email": "me@uni.edu"}, env=env))
    assert list(view) == list(BROWSER_SETTINGS)
    assert view["unpaywall_email"] == {"value": "me@uni.edu", "default": None, "origin": "flag",
                                       "help": view["unpaywall_email"]["help"]}
    assert view["offline"]["value"] is True and view["offline"]["origin"] == "environment"
    assert view["verify_links"] == {**view["verify_links"], "value": True, "default": True, "origin": "default"}
    assert "port" not in view and "allow_private_hosts" not in view
    json.dumps(view)  # the handler sends it as it is


def test_changes_are_written_to_the_config_file_and_read_back(env) -> None:
    path = config_file(env)
    apply_browser_changes(path, {"unpaywall_email": "me@uni.edu", "verify_links": False,
                                 "library_api": "sfx", "sources.europepmc": False, "sources.oab": "off"})
    s = load_settings(env=env)
    assert (s.unpaywall_email, s.verify_links, s.library_api) == ("me@uni.edu", False, "sfx")
    assert s.disabled_sources == "europepmc,oab" and s.origin_of("verify_links") == "config file"
    apply_browser_changes(path, {"unpaywall_email": None, "sources.europepmc": True})
    s = load_settings(env=env)
    assert s.unpaywall_email is None and s.disabled_sources == "oab"


@pytest.mark.parametrize("changes, words", [
    ({"port": 1234}, "'port' cannot be set from a browser (oahelper config set port does)"),
    ({"allow_private_hosts": ["10.0.0.1:80"]}, "cannot be set from a browser"),
    ({"unpaywall_url": "http://10.0.0.1/"}, "cannot be set from a browser"),
    ({"snapshot_db": "/etc/passwd"}, "cannot be set from a browser"),
    ({"colour": "red"}, "'colour' cannot be set from a browser (unknown setting)"),
    ({"sources.nope": False}, "unknown source 'nope'"),
    ({"unpaywall_email": "test@example.com"}, "placeholder address, which Unpaywall refuses"),
    ({"ill_url": "javascript:alert(1)"}, "ill_url must be an http(s) URL"),
    ({"offline": "maybe"}, "offline must be true or false"),
])
def test_one_refused_change_and_nothing_is_written(env, changes, words) -> None:
    path = config_file(env)
    apply_browser_changes(path, {"library_api": "alma"})
    before = path.read_bytes()
    with pytest.raises(ConfigError) as err:
        apply_browser_changes(path, {"verify_links": False, **changes})
    assert words in err.value.message
    assert path.read_bytes() == before
