"""Every setting declared once; one frozen Settings object built from them.

``SETTINGS`` is the declaration: each row gives a setting's name, type, default,
help, its check (the one validation, whatever the value came from) and whether a
browser may see and set it through ``/v1/settings``. A browser may set the user's
choices (e-mail, library, links, sources on/off, offline), never ports, hosts, file
paths or upstream base URLs. The environment variable is ``OAHELPER_<NAME>``.

Values come from a CLI flag > the environment > the config file > the default, each
through :func:`validate`. ``OAHELPER_HOME`` moves every file oahelper writes (config,
cache, tokens) under one folder; without it the platform's user config and data
folders are used (platformdirs).

``Settings`` is written out as a plain dataclass, not generated from the table: mypy
then knows each attribute's type (a class made by ``make_dataclass`` is ``Any`` to
it), and a newcomer reads the fields where they are used. ``tests/test_settings.py``
holds the dataclass's fields, types and defaults, and the README's table, to
``SETTINGS``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
import tomli_w

from oahelper.errors import ConfigError
from oahelper.files import write_private_text
from oahelper.identifiers import email_problem, is_email_address, is_placeholder_email

APP = "oahelper"
ENV_PREFIX = "OAHELPER_"
DEFAULT_PORT = 28757
# The daemon serves the local machine only (README, "Security").
LOOPBACK_HOSTS = ("127.0.0.1", "::1")
# The sources ``disabled_sources`` (and ``config set sources.NAME off``) can name.
SOURCE_NAMES = ("unpaywall", "snapshot", "europepmc", "crossref", "semanticscholar", "openalex",
                "arxiv", "oab", "free_by_id")
LIBRARY_APIS = ("auto", "alma", "sfx", "360link", "jop", "none")
# A list setting's type: written comma-separated in the environment, an array in TOML.
Names = tuple[str, ...]

# --- checks: (setting name, value of the setting's type) -> what is wrong, or None

Check = Callable[[str, Any], str | None]


def between(low: int, high: int) -> Check:
    def check(name: str, value: int) -> str | None:
        return None if low <= value <= high else f"{name} must be between {low} and {high}, not {value}"
    return check


def one_of(*choices: str, why: str = "") -> Check:
    """One of ``choices``, in any case (read the value with ``.lower()``)."""
    words = f"{', '.join(choices[:-1])} or {choices[-1]}" + (f" ({why})" if why else "")

    def check(name: str, value: str) -> str | None:
        return None if value.lower() in choices else f"{name} must be {words}, not {value!r}"
    return check


def positive(name: str, value: float) -> str | None:
    return None if value > 0 else f"{name} must be a positive number, not {value}"


def http_url(name: str, value: str) -> str | None:
    try:
        parts = urlsplit(value)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed [ in the host
        ok = False
    return None if ok else f"{name} must be an http(s) URL, not {value!r}"


_SIZE = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def size(name: str, value: str) -> str | None:
    return None if _SIZE.match(value.strip()) else f"{name} must be a size such as 1GB or 512MiB, not {value!r}"


def unpaywall_email(name: str, value: str) -> str | None:
    """Unpaywall's own rule, so the user hears it when setting it, not at lookup."""
    return email_problem(value)


def address(name: str, value: str) -> str | None:
    """A real e-mail address; the same placeholders as Unpaywall's, but no word of Unpaywall."""
    if not is_email_address(value):
        return f"{name} must be an e-mail address, not {value!r}"
    if is_placeholder_email(value):
        return f"{name} must be a real address, not the placeholder {value!r}"
    return None


def known_sources(name: str, value: str) -> str | None:
    unknown = [n for n in source_list(value) if n not in SOURCE_NAMES]
    return f"{name} names unknown source(s) {', '.join(unknown)}; known: {', '.join(SOURCE_NAMES)}" if unknown else None


_HOST_PORT = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$")


def host_ports(name: str, value: Names) -> str | None:
    bad = [hp for hp in value if not (m := _HOST_PORT.match(hp)) or not 1 <= int(m[2]) <= 65535]
    return (f"{name} must list host:port pairs such as repo.intranet:8080 or [fd00::1]:443, "
            f"not {', '.join(map(repr, bad))}") if bad else None


# --- the table


@dataclass(frozen=True)
class Setting:
    """One setting: its only declaration."""

    name: str
    type: Any  # int, float, str, bool or Names
    default: Any  # None: unset
    help: str
    check: Check | None = None  # applied to every value, from any origin
    # Applied too when the user writes a value (config set, /v1/settings), not when one
    # is read: a placeholder e-mail already in the environment is a problem the daemon
    # shows in /v1/status and doctor (the Unpaywall source says why), not a crash.
    write_check: Check | None = None
    browser: bool = False  # a browser may see and set it (/v1/settings)
    upstream: bool = False  # an upstream's base URL: the sources' session trusts its origin

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


def upstream_url(name: str, default: str | None, help: str) -> Setting:
    """The base URL of a source: an http(s) URL, never set by a browser."""
    return Setting(name, str, default, help, check=http_url, upstream=True)


SETTINGS: tuple[Setting, ...] = (
    Setting("port", int, DEFAULT_PORT, "TCP port of the daemon on 127.0.0.1 (the extension's options page must say the same).",
            check=between(1, 65535)),
    Setting("host", str, "127.0.0.1", "Address to listen on: 127.0.0.1 or ::1 only; anything else is refused.",
            check=one_of(*LOOPBACK_HOSTS, why="the daemon serves this machine only")),
    Setting("unpaywall_email", str, None, "Your e-mail address, sent to Unpaywall with every query as its terms require. Unpaywall refuses placeholders.",
            write_check=unpaywall_email, browser=True),
    upstream_url("unpaywall_url", "https://api.unpaywall.org",
                 "Base URL of the Unpaywall API (tests and mirrors point it elsewhere)."),
    upstream_url("oab_url", None,
                 "Base URL of an Open Access Button-compatible service with /availability. Unset: the source is off. Its API key goes in the OS keyring: oahelper keys set oab."),
    upstream_url("europepmc_url", "https://www.ebi.ac.uk/europepmc/webservices/rest",
                 "Base URL of the Europe PMC REST API (PMID/PMCID/DOI conversion, free full text)."),
    upstream_url("crossref_url", "https://api.crossref.org",
                 "Base URL of the Crossref REST API (title → DOI, DOI → metadata and open licences)."),
    upstream_url("semanticscholar_url", "https://api.semanticscholar.org",
                 "Base URL of the Semantic Scholar API (title match, open-access PDFs, identifiers); optional key: oahelper keys set semanticscholar."),
    upstream_url("openalex_url", "https://api.openalex.org",
                 "Base URL of the OpenAlex API (every location of a work; title search); key: oahelper keys set openalex."),
    upstream_url("arxiv_url", "https://export.arxiv.org/api",
                 "Base URL of the arXiv API (arXiv id → preprint and publisher DOI; title search)."),
    upstream_url("oaworks_url", "https://bg.api.oa.works",
                 "Base URL of OA.Works' permissions service (what an author may share, and where), keyless."),
    upstream_url("openpolicyfinder_url", "https://api.openpolicyfinder.jisc.ac.uk",
                 "Base URL of Jisc Open Policy Finder (formerly Sherpa Romeo: publishers' sharing policies); its API key goes in the OS keyring."),
    Setting("disabled_sources", str, None, "Sources to leave out, comma-separated (e.g. 'europepmc,oab'); also: oahelper config set sources.NAME off|on.",
            check=known_sources, browser=True),
    Setting("openurl_base", str, None, "Your library's OpenURL link resolver (e.g. https://resolver.example.edu/openurl); closed articles then get a library link.",
            check=http_url, browser=True),
    Setting("library_api", str, "auto", "How openurl_base is asked whether your library holds an article: auto (told from its URL), alma, sfx, 360link, jop, or none (only a link to the resolver).",
            check=one_of(*LIBRARY_APIS), browser=True),
    Setting("ezproxy_prefix", str, None, "Your library's EZproxy prefix (e.g. https://proxy.example.edu/login?url=); publisher links to the library's copies go through it.",
            check=http_url, browser=True),
    Setting("ill_url", str, None, "Your library's interlibrary-loan form that takes an OpenURL (ILLiad, Tipasa, Rapido, Alma); closed articles get a request filled in with the citation.",
            check=http_url, browser=True),
    Setting("ill_email", str, None, "Your library's interlibrary-loan e-mail address; without ill_url, closed articles get a prefilled request to it.",
            check=address, browser=True),
    Setting("verify_links", bool, True, "true: each copy's link is opened before the copy is called free; false: copies are shown unchecked, and no link's host learns that this machine looked.",
            browser=True),
    Setting("pdf_max_mb", int, 15, "Largest PDF (MB) a link check reads whole, to see that its first page is the article.",
            check=positive),
    Setting("allow_private_hosts", Names, (), "host:port pairs, comma-separated, that the daemon may reach although their address is private (an intranet repository; tests); no other private address is reached.",
            check=host_ports),
    Setting("link_check_seconds", float, 2.0, "Seconds a lookup waits for its link checks before it answers; checks still running finish in the background and the extension asks again.",
            check=positive),
    Setting("watch_hours", int, 24, "Hours between two checks of an article you wait for (oahelper watch), within the sources' budgets.",
            check=positive),
    Setting("zotero_url", str, "http://localhost:23119/api/", "Zotero 7's local API, read by oahelper audit zotero: (Zotero must be running).",
            check=http_url),
    Setting("timeout", float, 8.0, "Seconds the sources get, together, to answer one lookup.",
            check=positive),
    Setting("max_body", int, 8 * 1024 * 1024, "Largest request body (bytes) the daemon reads; bigger bodies get 413.",
            check=positive),
    Setting("unpaywall_daily_limit", int, 100_000, "Unpaywall calls allowed per day; past it lookups say so instead of calling.",
            check=positive),
    Setting("log_level", str, "info", "Daemon log level: debug, info, warning or error.",
            check=one_of("debug", "info", "warning", "error")),
    Setting("page_seconds", float, 2.0, "Seconds the daemon may spend reading one page's HTML; a page that needs more is unreadable (the lookup says so).",
            check=positive),
    Setting("page_memory_mb", int, 256, "MiB of memory reading one page may use; a page that needs more is unreadable (the lookup says so).",
            check=positive),
    Setting("lookups_per_minute", int, 30, "Lookups needing the sources that one client (a paired browser, a script token) may start per minute from /v1/lookup; past it answers come from the cache or say rate_limited (a page cannot spend your daily Unpaywall quota).",
            check=positive),
    Setting("batch_lookups_per_minute", int, 600, "The same for /v1/batch (reference lists), on its own budget.",
            check=positive),
    Setting("page_workers", int, 3, "Processes reading pages at once, started with the daemon (about 30 MB each).",
            check=positive),
    Setting("snapshot_db", str, None, "The DuckDB file holding your copy of the Unpaywall data feed (oahelper snapshot import). Unset: snapshot.duckdb in the data folder."),
    Setting("offline", bool, False, "true: nothing leaves this machine; only the snapshot and the identifier rules (arXiv, PMC ids) answer.",
            browser=True),
    Setting("snapshot_memory", str, None, "Most memory a snapshot command (import, export, audit join) may use, e.g. 1GB or 512MiB; DuckDB gets it less a fifth (at least 256 MiB) for what DuckDB does not count. Unset: a quarter of this machine's memory, at most 2 GiB.",
            check=size),
)
BY_NAME = {s.name: s for s in SETTINGS}
BROWSER_SETTINGS = tuple(s.name for s in SETTINGS if s.browser)


@dataclass(frozen=True)
class Settings:
    """Every setting's value, plus the folders derived from OAHELPER_HOME.

    The fields mirror ``SETTINGS`` (a test says where they differ).
    """

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
    oaworks_url: str = "https://bg.api.oa.works"
    openpolicyfinder_url: str = "https://api.openpolicyfinder.jisc.ac.uk"
    disabled_sources: str | None = None
    openurl_base: str | None = None
    library_api: str = "auto"
    ezproxy_prefix: str | None = None
    ill_url: str | None = None
    ill_email: str | None = None
    verify_links: bool = True
    pdf_max_mb: int = 15
    allow_private_hosts: Names = ()
    link_check_seconds: float = 2.0
    watch_hours: int = 24
    zotero_url: str = "http://localhost:23119/api/"
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


# --- reading one value


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _to_bool(raw: Any) -> bool:
    """A TOML boolean, or true/false (yes/no, on/off, 1/0) written as text."""
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word not in _TRUE | _FALSE:
        raise ValueError(raw)
    return word in _TRUE


def _to_names(raw: Any) -> Names:
    """A TOML array, or text with commas; each item stripped, lower-cased, once."""
    items = raw.split(",") if isinstance(raw, str) else raw
    return tuple(dict.fromkeys(n for n in (str(i).strip().lower() for i in items) if n))


# How text (or a TOML value) becomes each type, and what a wrong one is called.
_READERS: dict[Any, tuple[Callable[[Any], Any], str]] = {
    int: (int, "an int"),
    float: (float, "a float"),
    str: (str, "a str"),
    bool: (_to_bool, "true or false"),
    Names: (_to_names, "a list"),
}


def validate(name: str, raw: Any, *, writing: bool = False) -> Any:
    """The value of setting ``name`` written as ``raw`` (text from a flag, the
    environment or ``config set``; a TOML or JSON value), or ConfigError saying
    what is wrong. Empty means the default. ``writing``: the user is setting it now
    (``write_check`` applies too)."""
    setting = BY_NAME.get(name)
    if setting is None:
        raise ConfigError(f"unknown setting {name!r}; known: {', '.join(BY_NAME)}")
    if raw is None or raw == "":
        return setting.default
    read, called = _READERS[setting.type]
    try:
        value = read(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be {called}, not {raw!r}") from exc
    checks = (setting.check, setting.write_check if writing else None)
    problem = next((p for check in checks if check and (p := check(name, value))), None)
    if problem:
        raise ConfigError(problem)
    return value


def text(value: Any) -> str | None:
    """A value as the environment or the README writes it; None when unset."""
    if value is None or value == ():
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return ",".join(value) if isinstance(value, tuple) else str(value)


# --- building Settings


def folders(env: Mapping[str, str]) -> tuple[Path, Path]:
    """(config_dir, data_dir): under OAHELPER_HOME when set, else the platform's."""
    home = env.get(ENV_PREFIX + "HOME")
    if home:
        base = Path(home).expanduser()
        return base / "config", base / "data"
    return Path(platformdirs.user_config_dir(APP)), Path(platformdirs.user_data_dir(APP))


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
                    values[setting.name] = validate(setting.name, layer[key])
                except ConfigError as exc:
                    raise ConfigError(f"{exc.message} (from the {origin})") from exc
                origins[setting.name] = origin
                break
    return Settings(config_dir=config_dir, data_dir=data_dir, origins=origins, **values)


def config_file(env: Mapping[str, str] | None = None) -> Path:
    """Where the config file lives (found without reading or checking any value)."""
    return folders(os.environ if env is None else env)[0] / "config.toml"


# --- writing the config file: `oahelper config set` and, through /v1/settings, a browser


SOURCE_SWITCH = "sources."


def _switched(current: Any, name: str, raw: Any) -> str | None:
    """``disabled_sources`` after ``sources.NAME off`` (or ``on``; unset means on)."""
    source = name[len(SOURCE_SWITCH):].strip().lower()
    if source not in SOURCE_NAMES:
        raise ConfigError(f"unknown source {source!r}; known: {', '.join(SOURCE_NAMES)}")
    try:
        on = _to_bool("on" if raw in (None, "") else raw)
    except ValueError:
        raise ConfigError(f"{name} is 'on' or 'off', not {raw!r}") from None
    off = [n for n in source_list(current if isinstance(current, str) else None) if n != source]
    return ",".join(off if on else [*off, source]) or None


def _change(data: dict[str, Any], name: str, raw: Any) -> None:
    """Set (or with None or "", remove) one setting in the config file's ``data``."""
    if name.startswith(SOURCE_SWITCH):
        name, raw = "disabled_sources", _switched(data.get("disabled_sources"), name, raw)
    if raw is not None and raw != "":
        data[name] = validate(name, raw, writing=True)
    elif name in data or name in BY_NAME:
        data.pop(name, None)
    else:
        raise ConfigError(f"unknown setting {name!r}; known: {', '.join(BY_NAME)}")


def write_setting(path: Path, name: str, raw: str | None) -> Path:
    """Set (or with None, remove) one setting in the config file at ``path``.

    Works on a file holding bad or unknown values, so ``config set``/``unset`` can
    repair what ``load_settings`` refuses. ``sources.NAME`` with ``off``/``on`` edits
    the ``disabled_sources`` list.
    """
    data = _read_toml(path)
    _change(data, name, raw)
    write_private_text(path, tomli_w.dumps(data))
    return path


def browser_view(settings: Settings) -> dict[str, dict[str, Any]]:
    """What ``GET /v1/settings`` shows: each browser-settable setting's value,
    default, help and origin (a flag or the environment beats the config file, so
    a browser's change to such a setting does not take effect)."""
    return {name: {"value": getattr(settings, name), "default": BY_NAME[name].default,
                   "help": BY_NAME[name].help, "origin": settings.origin_of(name)}
            for name in BROWSER_SETTINGS}


def apply_browser_changes(path: Path, changes: Mapping[str, Any]) -> Path:
    """Write a browser's changes (``PUT /v1/settings``) to the config file at ``path``.

    ``changes`` maps names of browser-settable settings (or ``sources.NAME``) to JSON
    values; null removes one. All are checked before any is written: one bad value
    and nothing changes.
    """
    data = _read_toml(path)
    for name, raw in changes.items():
        target = "disabled_sources" if name.startswith(SOURCE_SWITCH) else name
        if target not in BROWSER_SETTINGS:
            why = f"oahelper config set {target} does" if target in BY_NAME else "unknown setting"
            raise ConfigError(f"{name!r} cannot be set from a browser ({why}); "
                              f"a browser may set: {', '.join(BROWSER_SETTINGS)}, sources.NAME")
        _change(data, name, raw)
    write_private_text(path, tomli_w.dumps(data))
    return path
