"""``oahelper doctor``: check the set-up and say what to fix, in plain words."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AsyncExitStack

import aiohttp

from oahelper.engine.build import Engine, open_engine
from oahelper.engine.cache import AsyncCache
from oahelper.engine.lookup import label
from oahelper.engine.pauses import Pause
from oahelper.errors import OAHelperError
from oahelper.identifiers import arxiv_doi
from oahelper.keys import KeyStore
from oahelper.logtext import printable
from oahelper.models import Article
from oahelper.settings import Settings
from oahelper.sources.base import Source, SourceHealth
from oahelper.sources.snapshot import Snapshot

# A DOI every source knows; asking for it shows whether the source answers at all.
PROBE_DOI = "10.1038/nature12373"
# For sources asked by arXiv id only (the arXiv paper of the Transformer).
PROBE_ARXIV = "1706.03762"


def probe_for(source: Source) -> Article:
    """What to ask ``source`` to see whether it answers: the probe DOI, or an arXiv id."""
    article = Article(doi=PROBE_DOI)
    if source.cache_key(article) is None:
        article = Article(arxiv=PROBE_ARXIV, doi=arxiv_doi(PROBE_ARXIV))
    return article


def _facts(health: SourceHealth, calls_today: int,
           last_error: tuple[float, str] | None = None) -> str:
    """"; 12 calls today; key set; last error …" — what a user wants to know beside "it
    answers". ``last_error``: (when, what) a lookup last met, from the cache (the daemon
    and CLI lookups note it there), else this process's own."""
    facts = [f"{calls_today} call{'s' if calls_today != 1 else ''} today"]
    if health.key is not None:
        facts.append(f"key {health.key}")
    if not health.needs_network:
        facts.append("no network needed")
    if last_error is not None:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(last_error[0]))
        facts.append(f"last error ({when}): {printable(last_error[1])}")
    elif health.last_error:
        facts.append(f"last error: {printable(health.last_error)}")
    return "; " + "; ".join(facts)


class Checks:
    """Says one line per check and counts what the user must fix."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say, self.failures = say, 0

    def check(self, ok: bool, good: str, bad: str) -> None:
        self.say(f"{'ok  ' if ok else 'FIX '} {good if ok else bad}")
        self.failures += not ok


async def run_doctor(settings: Settings, say: Callable[[str], None],
                     keystore: KeyStore | None = None) -> int:
    """Print one line per check; 0 when everything works, 1 otherwise."""
    keystore = keystore or KeyStore()
    checks = Checks(say)
    say(f"oahelper settings: {settings.config_file} (data in {settings.data_dir})")
    if settings.unpaywall_email:
        say(f"info Unpaywall e-mail: {settings.unpaywall_email}")
    if settings.offline:
        say("info OFFLINE MODE (setting offline = true): nothing leaves this machine; only the "
            "snapshot and the identifier rules (arXiv, PMC ids) answer. Online again: "
            "oahelper config unset offline")
    _check_keyring(settings, keystore, checks)
    running = False
    async with AsyncExitStack() as stack:
        try:
            engine = await stack.enter_async_context(open_engine(settings, keystore=keystore))
        except OAHelperError as exc:  # the cache could not be opened: nothing can run
            checks.check(False, "", f"cache: {exc.message}. Fix: delete {settings.cache_db} "
                                    "(answers are re-fetched).")
        else:
            await _check_cache(engine.service.cache, checks)
            _check_snapshot(engine.sources, checks)
            await _probe_sources(engine, checks)
            running = await _daemon_running(settings, engine.service.session)
    say(f"{'ok  ' if running else 'info'} daemon: "
        + (f"running on port {settings.port}" if running
           else f"not running on port {settings.port} (start it: oahelper serve; if it runs on "
                "another port, say so with OAHELPER_PORT or oahelper config set port N)"))
    from oahelper.cli import service as autostart
    try:
        plan = autostart.plan_for(autostart.Context.current(settings.data_dir))
        say(f"info service: {autostart.describe(autostart.status(plan))}")
    except OAHelperError as exc:  # a system `oahelper service` does not know
        say(f"info service: {exc.message}")
    failures = checks.failures
    say("All good." if not failures else f"{failures} thing(s) to fix, see FIX lines above.")
    return 1 if failures else 0


def _check_keyring(settings: Settings, keystore: KeyStore, checks: Checks) -> None:
    no_keyring = (f"No OS keyring works ({keystore.backend_name()}): API keys cannot be stored. "
                  "On a desktop unlock your keyring; on a headless Linux machine install "
                  "gnome-keyring and run oahelper inside dbus-run-session (README, 'API keys').")
    if keystore.available() or settings.oab_url:
        checks.check(keystore.available(), f"OS keyring: {keystore.backend_name()}", no_keyring)
    else:
        checks.say(f"info {no_keyring}")  # only a problem once a source needs a key


async def _check_cache(cache: AsyncCache, checks: Checks) -> None:
    try:
        await cache.check()
        stats = await cache.stats()
        checks.check(True, f"cache: {stats['entries']} answer(s), {stats['bytes']} bytes in "
                           f"{stats['path']}", "")
    except OAHelperError as exc:
        checks.check(False, "", f"cache: {exc.message}. Fix: delete {cache.path} "
                                "(answers are re-fetched).")


def _check_snapshot(sources: list[Source], checks: Checks) -> None:
    snapshot = next((s for s in sources if isinstance(s, Snapshot)), None)
    if snapshot is None:
        return
    try:
        status = snapshot.status()
        if status.present:
            checks.check(True, f"snapshot: {status.summary()}", "")
            if status.staged:
                checks.say(f"info snapshot: an import was interrupted ({status.staged:,} records "
                           "read, not merged): run it again to finish")
        else:
            checks.say(f"info snapshot: none at {snapshot.path} (optional: `oahelper snapshot "
                       "import FILE.jsonl.gz` answers from your own copy of Unpaywall, offline "
                       "and in bulk)")
    except OAHelperError as exc:
        checks.check(False, "", f"snapshot: {exc.message}")
    finally:
        snapshot.close()


async def _probe_sources(engine: Engine, checks: Checks) -> None:
    """Ask each source switched on about the probe article, as a lookup would."""
    settings, cache = engine.settings, engine.service.cache
    for source in engine.sources:
        health = source.health()
        if settings.offline and source.needs_network:
            checks.say(f"off  {source.name}: not asked (offline mode)")
            continue
        if not health.enabled:
            why = (f"switched off (turn it on: oahelper config set sources.{source.name} on)"
                   if not settings.source_on(source.name) else "not configured")
            checks.say(f"off  {source.name}: {why}")
            continue
        facts = _facts(health, await cache.calls_today(source.name),
                       await cache.last_error(source.name))
        pause = await cache.pause_of(source.name)
        if pause is not None:  # paused by the daemon (or a CLI lookup) after errors
            until, reason = pause
            facts += f"; {Pause(until, reason).words(label(source))}"
        if health.problems:
            for problem in health.problems:
                checks.check(False, "", f"{source.name}: {problem}")
            continue
        answer = await source.lookup(probe_for(source), engine.service.session, settings.timeout)
        checks.check(answer.answered, f"{source.name}: answers ({answer.ms} ms){facts}",
                     f"{source.name}: {answer.error or answer.state}{facts}")


async def _daemon_running(settings: Settings, session: aiohttp.ClientSession) -> bool:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    try:
        async with session.get(f"http://{host}:{settings.port}/v1/health",
                               timeout=aiohttp.ClientTimeout(total=2)) as resp:
            return resp.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False
