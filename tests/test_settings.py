"""Settings: flag > environment > config file > default; OAHELPER_HOME moves every file."""

from __future__ import annotations

from pathlib import Path

import pytest

from oahelper.errors import ConfigError
from oahelper.settings import SETTINGS, Names, config_file, load_settings, validate, write_setting

README = Path(__file__).resolve().parents[1] / "README.md"


def test_defaults_without_any_configuration(tmp_path: Path) -> None:
    s = load_settings(env={"OAHELPER_HOME": str(tmp_path)})
    assert s.port == 28757 and s.host == "127.0.0.1"
    assert s.unpaywall_email is None and s.oab_url is None
    assert s.unpaywall_url == "https://api.unpaywall.org"
    assert s.origin_of("port") == "default"


def test_home_moves_every_file(tmp_path: Path) -> None:
    s = load_settings(env={"OAHELPER_HOME": str(tmp_path)})
    for path in (s.config_file, s.cache_db, s.clients_db):
        assert tmp_path in path.parents


def test_precedence_flag_over_env_over_file_over_default(tmp_path: Path) -> None:
    env = {"OAHELPER_HOME": str(tmp_path)}
    write_setting(config_file(env), "port", "30001")
    assert load_settings(env=env).port == 30001
    assert load_settings(env=env).origin_of("port") == "config file"
    env["OAHELPER_PORT"] = "30002"
    assert load_settings(env=env).port == 30002
    s = load_settings({"port": 30003}, env=env)
    assert s.port == 30003 and s.origin_of("port") == "flag"


# (text in the environment, the value it gives) for each type, and for settings with a rule
SAMPLES = {int: ("4242", 4242), float: ("2.5", 2.5), str: ("https://example.org/x", "https://example.org/x"),
           bool: ("true", True), Names: ("Repo.Intranet:8080, [fd00::1]:443", ("repo.intranet:8080", "[fd00::1]:443"))}
SPECIAL = {"host": ("::1", "::1"), "log_level": ("debug", "debug"),
           "unpaywall_email": ("me@uni.edu", "me@uni.edu"), "ill_email": ("ill@lib.uni.edu", "ill@lib.uni.edu"),
           "disabled_sources": ("europepmc,oab", "europepmc,oab"), "snapshot_memory": ("1GB", "1GB"),
           "library_api": ("alma", "alma")}


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_each_setting_is_read_from_its_environment_variable(setting, tmp_path: Path) -> None:
    raw, value = SPECIAL.get(setting.name, SAMPLES[setting.type])
    s = load_settings(env={"OAHELPER_HOME": str(tmp_path), setting.env: raw})
    assert getattr(s, setting.name) == value
    assert s.origin_of(setting.name) == "environment"


def test_oahelper_home_is_documented() -> None:
    assert "OAHELPER_HOME" in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("name, raw, words", [
    ("port", "http", "port must be an int"),
    ("port", "70000", "between 1 and 65535"),
    ("host", "0.0.0.0", "127.0.0.1 or ::1"),
    ("unpaywall_url", "ftp://x", "http(s) URL"),
    ("timeout", "-1", "positive"),
    ("snapshot_memory", "lots", "a size such as 1GB"),
    ("ill_email", "library", "ill_email must be an e-mail address, not 'library'"),
    ("ill_email", "ill@example.org", "ill_email must be a real address, not the placeholder"),
    ("library_api", "primo", "library_api must be auto, alma, sfx, 360link, jop or none, not 'primo'"),
    ("verify_links", "sometimes", "verify_links must be true or false"),
    ("allow_private_hosts", "intranet,10.0.0.1:99999", "host:port pairs such as repo.intranet:8080"),
    ("ezproxy_prefix", "https://", "ezproxy_prefix must be an http(s) URL"),
    ("watch_hours", "0", "watch_hours must be a positive number"),
    ("disabled_sources", "crosref", "unknown source(s) crosref"),
])
def test_bad_values_say_what_is_wrong_and_where(tmp_path: Path, name, raw, words) -> None:
    env = {"OAHELPER_HOME": str(tmp_path), f"OAHELPER_{name.upper()}": raw}
    with pytest.raises(ConfigError) as err:
        load_settings(env=env)
    assert words in err.value.message and "environment" in err.value.message


def test_config_file_with_unknown_or_broken_content_is_a_clear_error(tmp_path: Path) -> None:
    env = {"OAHELPER_HOME": str(tmp_path)}
    cfg = load_settings(env=env).config_file
    cfg.parent.mkdir(parents=True)
    cfg.write_text('prot = 1\n')
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(env=env)
    cfg.write_text('port = = 1\n')
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(env=env)


def test_write_setting_round_trips_and_unsets(tmp_path: Path) -> None:
    env = {"OAHELPER_HOME": str(tmp_path)}
    write_setting(config_file(env), "unpaywall_email", 'me"quoted"@uni.edu')
    assert load_settings(env=env).unpaywall_email == 'me"quoted"@uni.edu'
    write_setting(config_file(env), "unpaywall_email", None)
    assert load_settings(env=env).unpaywall_email is None
    with pytest.raises(ConfigError, match="unknown setting"):
        write_setting(config_file(env), "colour", "red")


def test_config_set_and_unset_repair_a_file_that_load_refuses(tmp_path: Path) -> None:
    env = {"OAHELPER_HOME": str(tmp_path)}
    path = config_file(env)
    path.parent.mkdir(parents=True)
    path.write_text("port = 70000\nprot = 1\n")
    with pytest.raises(ConfigError):
        load_settings(env=env)
    write_setting(path, "port", "28758")
    write_setting(path, "prot", None)
    assert load_settings(env=env).port == 28758


def test_a_placeholder_email_already_set_does_not_stop_the_helper(tmp_path: Path) -> None:
    """It is read as it is; the Unpaywall source then says what to fix (doctor, /v1/status)."""
    env = {"OAHELPER_HOME": str(tmp_path), "OAHELPER_UNPAYWALL_EMAIL": "you@example.org"}
    assert load_settings(env=env).unpaywall_email == "you@example.org"


@pytest.mark.parametrize("email, words", [("notanemail", "not an e-mail address"),
                                          ("test@example.com", "placeholder"),
                                          ("you@your-university.edu", "placeholder")])
def test_config_set_refuses_an_email_unpaywall_would_refuse(tmp_path: Path, email, words) -> None:
    path = config_file({"OAHELPER_HOME": str(tmp_path)})
    with pytest.raises(ConfigError, match=words):
        write_setting(path, "unpaywall_email", email)
    assert not path.exists()


def test_a_source_is_switched_off_and_on_by_name(tmp_path: Path) -> None:
    env = {"OAHELPER_HOME": str(tmp_path)}
    path = config_file(env)
    write_setting(path, "sources.europepmc", "off")
    write_setting(path, "sources.oab", "off")
    s = load_settings(env=env)
    assert s.disabled_sources == "europepmc,oab"
    assert not s.source_on("europepmc") and s.source_on("unpaywall")
    write_setting(path, "sources.europepmc", "on")
    assert load_settings(env=env).disabled_sources == "oab"
    write_setting(path, "sources.oab", None)  # config unset: back on
    assert load_settings(env=env).disabled_sources is None
    with pytest.raises(ConfigError, match="unknown source 'crosref'"):
        write_setting(path, "sources.crosref", "off")
    with pytest.raises(ConfigError, match="'on' or 'off'"):
        write_setting(path, "sources.europepmc", "maybe")
    with pytest.raises(ConfigError, match="unknown source"):
        load_settings(env=env | {"OAHELPER_DISABLED_SOURCES": "europepmc,nope"})


@pytest.mark.parametrize("name, raw, value", [
    ("port", "30001", 30001), ("verify_links", "off", False), ("offline", True, True),
    ("log_level", "DEBUG", "DEBUG"), ("allow_private_hosts", ["a.intranet:80", "A.intranet:80"], ("a.intranet:80",)),
    ("oab_url", "", None), ("timeout", None, 8.0),
])
def test_validate_reads_text_and_toml_values_alike(name, raw, value) -> None:
    assert validate(name, raw) == value


def test_validate_refuses_an_unknown_name() -> None:
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        validate("colour", "red")


def test_config_set_writes_lists_as_toml_arrays_and_an_empty_value_unsets(tmp_path: Path) -> None:
    env = {"OAHELPER_HOME": str(tmp_path)}
    path = config_file(env)
    write_setting(path, "allow_private_hosts", "repo.intranet:8080,127.0.0.1:9000")
    assert 'allow_private_hosts = [\n    "repo.intranet:8080",' in path.read_text()
    assert load_settings(env=env).allow_private_hosts == ("repo.intranet:8080", "127.0.0.1:9000")
    write_setting(path, "allow_private_hosts", "")
    assert load_settings(env=env).allow_private_hosts == ()
    assert "allow_private_hosts" not in path.read_text()
