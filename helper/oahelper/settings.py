"""One frozen Settings object, built once: flag > environment > config file > default.

Every setting is a row of ``SETTINGS`` (name, type, default, help); its environment
variable is ``OAHELPER_<NAME>``. ``OAHELPER_HOME`` moves every file oahelper writes
(config, cache, tokens) under one folder; without it the platform's user config and
data folders are used (platformdirs).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from oahelper.identifiers import email_problem
from oahelper.errors import ConfigError
from oahelper.files import write_private_text

APP = "oahelper"
ENV_PREFIX = "OAHELPER_"
DEFAULT_PORT = 28757
# The daemon serves the local machine only (README, "Security").
LOOPBACK_HOSTS = ("127.0.0.1", "::1")
# The sources ``disabled_sources`` (and ``config set sources.NAME off``) can name.
SOURCE_NAMES = ("unpaywall", "snapshot", "europepmc", "crossref", "semanticscholar", "openalex",
                "arxiv", "oab", "free_by_id")


@dataclass(frozen=True)
class Setting:
    """One documented setting."""

    name: str
    type: type
    default: Any
    help: str

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("port", int, DEFAULT_PORT, "TCP port of the daemon on 127.0.0.1 (the extension's options page must say the same)."),
    Setting("host", str, "127.0.0.1", "Address to listen on: 127.0.0.1 or ::1 only; anything else is refused."),
    Setting("unpaywall_email", str, None, "Your e-mail address, sent to Unpaywall with every query as its terms require. Unpaywall refuses placeholders."),
    Setting("unpaywall_url", str, "https://api.unpaywall.org", "Base URL of the Unpaywall API (tests and mirrors point it elsewhere)."),
    Setting("oab_url", str, None, "Base URL of an Open Access Button-compatible service with /availability. Unset: the source is off. Its API key goes in the OS keyring: oahelper keys set oab."),
    Setting("europepmc_url", str, "https://www.ebi.ac.uk/europepmc/webservices/rest", "Base URL of the Europe PMC REST API (PMID/PMCID/DOI conversion, free full text)."),
    Setting("crossref_url", str, "https://api.crossref.org", "Base URL of the Crossref REST API (title → DOI, DOI → metadata and open licences)."),
    Setting("semanticscholar_url", str, "https://api.semanticscholar.org", "Base URL of the Semantic Scholar API (title match, open-access PDFs, identifiers); optional key: oahelper keys set semanticscholar."),
    Setting("openalex_url", str, "https://api.openalex.org", "Base URL of the OpenAlex API (every location of a work; title search); key: oahelper keys set openalex."),
    Setting("arxiv_url", str, "https://export.arxiv.org/api", "Base URL of the arXiv API (arXiv id → preprint and publisher DOI; title search)."),
    Setting("disabled_sources", str, None, "Sources to leave out, comma-separated (e.g. 'europepmc,oab'); also: oahelper config set sources.NAME off|on."),
    Setting("openurl_base", str, None, "Your library's OpenURL link resolver (e.g. https://resolver.example.edu/openurl); closed articles then get a library link."),
    Setting("timeout", float, 8.0, "Seconds the sources get, together, to answer one lookup."),
    Setting("max_body", int, 8 * 1024 * 1024, "Largest request body (bytes) the daemon reads; bigger bodies get 413."),
    Setting("unpaywall_daily_limit", int, 100_000, "Unpaywall calls allowed per day; past it lookups say so instead of calling."),
    Setting("log_level", str, "info", "Daemon log level: debug, info, warning or error."),
    Setting("page_seconds", float, 2.0, "Seconds the daemon may spend reading one page's HTML; a page that needs more is unreadable (the lookup says so)."),
    Setting("page_memory_mb", int, 256, "MiB of memory reading one page may use; a page that needs more is unreadable (the lookup says so)."),
    Setting("lookups_per_minute", int, 30, "Lookups needing the sources that one client (a paired browser, a script token) may start per minute from /v1/lookup; past it answers come from the cache or say rate_limited (a page cannot spend your daily Unpaywall quota)."),
    Setting("batch_lookups_per_minute", int, 600, "The same for /v1/batch (reference lists), on its own budget."),
    Setting("page_workers", int, 3, "Processes reading pages at once, started with the daemon (about 30 MB each)."),
    Setting("snapshot_db", str, None, "The DuckDB file holding your copy of the Unpaywall data feed (oahelper snapshot import). Unset: snapshot.duckdb in the data folder."),
    Setting("offline", bool, False, "true: nothing leaves this machine; only the snapshot and the identifier rules (arXiv, PMC ids) answer."),
    Setting("snapshot_memory", str, None, "Most memory a snapshot command (import, export, audit join) may use, e.g. 1GB or 512MiB; DuckDB gets it less a fifth (at least 256 MiB) for what DuckDB does not count. Unset: a quarter of this machine's memory, at most 2 GiB."),
)
BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Every setting's value, plus the folders derived from OAHELPER_HOME."""

    config_dir: Path
    data_dir: Path
    port: int = DEFAULT_PORT
    host: str = "127.0.0.1"
    unpaywall_email: str | None = None
    unpaywall_url: str = "https://api.unpaywall.org"
    oab_url: str | None = None
    europepmc_url: str = "https://www.ebi.ac.uk/europepmc/webservices/rest"
    crossref_url: str = "https://api.crossref.org"
    semanticscholar_url: str = "https://api.semanticscholar.org"
    openalex_url: str = "https://api.openalex.org"
    arxiv_url: str = "https://export.arxiv.org/api"
    disabled_sources: str | None = None
    openurl_base: str | None = None
    timeout: float = 8.0
    max_body: int = 8 * 1024 * 1024
    unpaywall_daily_limit: int = 100_000
    log_level: str = "info"
    page_seconds: float = 2.0
    page_memory_mb: int = 256
    page_workers: int = 3
    snapshot_db: str | None = None
    snapshot_memory: str | None = None
    lookups_per_minute: int = 30
    batch_lookups_per_minute: int = 600
    offline: bool = False
    origins: Mapping[str, str] | None = None  # where each value came from

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def cache_db(self) -> Path:
        return self.data_dir / "cache.sqlite3"

    @property
    def clients_db(self) -> Path:
        return self.data_dir / "clients.sqlite3"

    @property
    def snapshot_path(self) -> Path:
        """Where the snapshot's DuckDB file is (setting ``snapshot_db``)."""
        return Path(self.snapshot_db).expanduser() if self.snapshot_db else self.data_dir / "snapshot.duckdb"

    def origin_of(self, name: str) -> str:
        return (self.origins or {}).get(name, "default")

    def source_on(self, name: str) -> bool:
        """False for a source the user switched off (``disabled_sources``)."""
        return name not in source_list(self.disabled_sources)


def source_list(value: str | None) -> tuple[str, ...]:
    """The source names in a comma-separated setting, in order, each once."""
    names = (n.strip().lower() for n in (value or "").split(","))
    return tuple(dict.fromkeys(n for n in names if n))


def folders(env: Mapping[str, str]) -> tuple[Path, Path]:
    """(config_dir, data_dir): under OAHELPER_HOME when set, else the platform's."""
    home = env.get(ENV_PREFIX + "HOME")
    if home:
        base = Path(home).expanduser()
        return base / "config", base / "data"
    return Path(platformdirs.user_config_dir(APP)), Path(platformdirs.user_data_dir(APP))


def parse_value(setting: Setting, raw: Any) -> Any:
    """Turn a string (or TOML value) into the setting's type, or say what is wrong."""
    if raw is None or raw == "":
        return None if setting.default is None else setting.default
    if setting.type is bool:
        return _parse_bool(setting, raw)
    try:
        value = setting.type(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{setting.name} must be a{'n' if setting.type is int else ''} "
            f"{setting.type.__name__}, not {raw!r}") from exc
    check = _CHECKS.get(setting.name)
    if check:
        check(value)
    return value


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _parse_bool(setting: Setting, raw: Any) -> bool:
    """A TOML boolean, or true/false (yes/no, on/off, 1/0) written as text."""
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    raise ConfigError(f"{setting.name} must be true or false, not {raw!r}")


_SIZE = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def _check_size(size: str) -> None:
    if not _SIZE.match(size.strip()):
        raise ConfigError(f"expected a size such as 1GB or 512MiB, not {size!r}")


def _check_port(port: int) -> None:
    if not 1 <= port <= 65535:
        raise ConfigError(f"port must be between 1 and 65535, not {port}")


def _check_host(host: str) -> None:
    if host not in LOOPBACK_HOSTS:
        raise ConfigError(f"host must be 127.0.0.1 or ::1 (the daemon serves this machine only), not {host!r}")


def _check_url(url: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"expected an http(s) URL, not {url!r}")


def _check_positive(value: float) -> None:
    if value <= 0:
        raise ConfigError(f"expected a positive number, not {value}")


def _check_sources(value: str) -> None:
    unknown = [n for n in source_list(value) if n not in SOURCE_NAMES]
    if unknown:
        raise ConfigError(f"unknown source(s) {', '.join(unknown)}; known: {', '.join(SOURCE_NAMES)}")


def _check_level(level: str) -> None:
    if level.lower() not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"log_level must be debug, info, warning or error, not {level!r}")


_CHECKS = {
    "port": _check_port, "host": _check_host, "unpaywall_url": _check_url,
    "oab_url": _check_url, "openurl_base": _check_url, "europepmc_url": _check_url,
    "crossref_url": _check_url, "arxiv_url": _check_url, "semanticscholar_url": _check_url,
    "openalex_url": _check_url,
    "disabled_sources": _check_sources, "timeout": _check_positive,
    "max_body": _check_positive, "unpaywall_daily_limit": _check_positive,
    "log_level": _check_level, "page_seconds": _check_positive, "page_memory_mb": _check_positive,
    "snapshot_memory": _check_size,
    "page_workers": _check_positive, "lookups_per_minute": _check_positive,
    "batch_lookups_per_minute": _check_positive,
}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def read_config_file(path: Path) -> dict[str, Any]:
    """The TOML config file's values ({} when there is none), names checked."""
    data = _read_toml(path)
    unknown = sorted(set(data) - set(BY_NAME))
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    return data


def load_settings(flags: Mapping[str, Any] | None = None,
                  env: Mapping[str, str] | None = None) -> Settings:
    """Build the Settings: CLI flag > OAHELPER_ environment > config file > default."""
    env = os.environ if env is None else env
    config_dir, data_dir = folders(env)
    from_file = read_config_file(config_dir / "config.toml")
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for setting in SETTINGS:
        for origin, layer, key in (("flag", flags or {}, setting.name),
                                   ("environment", env, setting.env),
                                   ("config file", from_file, setting.name)):
            if layer.get(key) not in (None, ""):
                try:
                    values[setting.name] = parse_value(setting, layer[key])
                except ConfigError as exc:
                    raise ConfigError(f"{exc.message} (from the {origin})") from exc
                origins[setting.name] = origin
                break
    return Settings(config_dir=config_dir, data_dir=data_dir, origins=origins, **values)


def config_file(env: Mapping[str, str] | None = None) -> Path:
    """Where the config file lives (found without reading or checking any value)."""
    return folders(os.environ if env is None else env)[0] / "config.toml"


SOURCE_SWITCH = "sources."
_OFF, _ON = ("off", "false", "no", "0"), ("on", "true", "yes", "1")


def _switched(current: Any, name: str, raw: str | None) -> str | None:
    """``disabled_sources`` after ``sources.NAME off`` (or ``on``; unset means on)."""
    source = name[len(SOURCE_SWITCH):].strip().lower()
    if source not in SOURCE_NAMES:
        raise ConfigError(f"unknown source {source!r}; known: {', '.join(SOURCE_NAMES)}")
    wanted = (raw or "on").strip().lower()
    if wanted not in _OFF + _ON:
        raise ConfigError(f"{name} is 'on' or 'off', not {raw!r}")
    off = [n for n in source_list(current if isinstance(current, str) else None) if n != source]
    if wanted in _OFF:
        off.append(source)
    return ",".join(off) or None


def write_setting(path: Path, name: str, raw: str | None) -> Path:
    """Set (or with None, remove) one setting in the config file at ``path``.

    Works on a file holding bad or unknown values, so ``config set``/``unset`` can
    repair what ``load_settings`` refuses. ``sources.NAME`` with ``off``/``on`` edits
    the ``disabled_sources`` list.
    """
    data = _read_toml(path)
    if name.startswith(SOURCE_SWITCH):
        name, raw = "disabled_sources", _switched(data.get("disabled_sources"), name, raw)
    if raw is None:
        if name not in data and name not in BY_NAME:
            raise ConfigError(f"unknown setting {name!r}; known: {', '.join(BY_NAME)}")
        data.pop(name, None)
    elif name not in BY_NAME:
        raise ConfigError(f"unknown setting {name!r}; known: {', '.join(BY_NAME)}")
    else:
        data[name] = parse_value(BY_NAME[name], raw)
        problem = email_problem(raw) if name == "unpaywall_email" else None
        if problem:  # refused here, where the user can fix it, not later at lookup
            raise ConfigError(problem)
    write_private_text(path, tomli_w.dumps(data))
    return path
