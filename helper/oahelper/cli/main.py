"""oahelper: find the free, legal copy of a scholarly article.

The daemon, one-off lookups, and their housekeeping.

Exit codes: 0 done; 1 a problem the output explains (not found, unknown answer, doctor
found something, port taken); 2 bad input or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import errno
import getpass
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from oahelper import __version__
from oahelper.cli.report import render_payload
from oahelper.daemon.app import init
from oahelper.daemon.clients import ClientStore
from oahelper.daemon.server import DaemonRunner
from oahelper.engine.build import open_engine
from oahelper.engine.lookup import LookupRequest
from oahelper.errors import ConfigError, OAHelperError, PortTaken
from oahelper.files import make_private
from oahelper.identifiers import parse_query
from oahelper.keys import KEY_NAMES, KeyStore
from oahelper.logtext import printable
from oahelper.scrape import scrape
from oahelper.scrape.references import linked_references
from oahelper.settings import SETTINGS, Settings, config_file, load_settings, text, write_setting


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings({"port": getattr(args, "port", None)})


# serve


def free_port_after(port: int) -> int:
    """The first port above ``port`` that nothing listens on (to suggest one that works)."""
    for candidate in range(port + 1, min(port + 100, 65536)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    return port + 1


async def _serve(settings: Settings) -> None:
    app = init(settings, reload_settings=lambda: load_settings({"port": settings.port}))
    runner = DaemonRunner(app)  # drops unparsable requests, logs escaped paths (daemon/server.py)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise PortTaken(
                f"port {settings.port} on {settings.host} is already in use (is oahelper already "
                f"running? check: curl http://127.0.0.1:{settings.port}/v1/health). Stop the other "
                f"program, or choose another port: oahelper serve --port {free_port_after(settings.port)} "
                "(and set the same port in the extension's options page).") from exc
        raise ConfigError(f"cannot listen on {settings.host}:{settings.port}: {exc}") from exc
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(f"oahelper {__version__} listening on http://{host}:{settings.port} "
          f"(data in {settings.data_dir}; Ctrl-C stops it)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(settings))
    return 0


# lookup and scrape


def lookup_request_for(query: str, url: str | None) -> LookupRequest:
    """A file of HTML, a page URL, an identifier (DOI, PMID, PMCID, arXiv id), or any
    other text: a title or a pasted reference, searched for."""
    path = Path(query)
    if path.is_file():
        return LookupRequest(url=url, html=path.read_bytes())
    if query.startswith(("http://", "https://")):
        return LookupRequest(url=query)
    if query.lower().endswith((".html", ".htm")) and " " not in query.strip():
        raise ConfigError(f"no such file: {query}")
    if not query.strip():
        raise ConfigError("nothing to look up: give a DOI, PMID, PMCID, arXiv id, URL, "
                          "HTML file, title or reference")
    if parse_query(query) is None:
        return LookupRequest(query=query, url=url)
    return LookupRequest(doi=query, url=url)


def cmd_lookup(args: argparse.Namespace) -> int:
    settings = _settings(args)
    request = lookup_request_for(args.query, args.url)

    async def run() -> dict[str, Any]:
        async with open_engine(settings) as engine:
            return await engine.service.lookup(request)

    payload = asyncio.run(run())
    print(json.dumps(payload, indent=2, ensure_ascii=False) if args.json else render_payload(payload))
    # 1: the answer is not "free" or "no free copy" (not found, unknown): a script notices.
    return 1 if payload["status"] in ("unknown", "not_found") else 0


def cmd_audit(args: argparse.Namespace) -> int:
    from oahelper.audit.command import run_audit  # imported late: readers and report libraries

    return run_audit(_settings(args), args.inputs, args.out or [])


def cmd_scrape(args: argparse.Namespace) -> int:
    html = Path(args.file).read_bytes()
    article = scrape(args.url, html)
    found = article.to_json()
    if not article.references:  # no citation_reference tags: the reference list's links
        found["references"] = [ref.to_json() for ref in linked_references(html)]
    print(json.dumps(found, indent=2, ensure_ascii=False))
    return 0


# config, keys, tokens, clients, pairing


def cmd_config(args: argparse.Namespace) -> int:
    if args.action == "show":
        settings = load_settings()
        print(f"config file: {settings.config_file}")
        print(f"data folder: {settings.data_dir}")
        for setting in SETTINGS:
            shown = text(getattr(settings, setting.name)) or "(not set)"
            print(f"{setting.name} = {shown}  ({settings.origin_of(setting.name)}; {setting.env})")
        return 0
    if args.action == "set" and args.value is None:
        raise ConfigError("usage: oahelper config set KEY VALUE")
    path = write_setting(config_file(), args.key, args.value if args.action == "set" else None)
    print(f"{'set' if args.action == 'set' else 'removed'} {args.key} in {path}")
    print("A running daemon uses it from its next request on (port and host: after a restart).")
    return 0


def read_secret(prompt: str) -> str:
    """A hidden prompt on a terminal; one line of standard input otherwise (scripts)."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().strip()


def cmd_keys(args: argparse.Namespace, keystore: KeyStore | None = None) -> int:
    keystore = keystore or KeyStore()
    if args.action == "status":
        print(f"keyring backend: {keystore.backend_name()} "
              f"({'working' if keystore.available() else 'NOT working'})")
        for name, stored in keystore.status().items():
            print(f"{name}: {'stored' if stored else 'not stored'} — {KEY_NAMES[name]}")
        return 0
    if args.action == "set":
        keystore.set(args.name, read_secret(f"{args.name} API key (input hidden): "))
        print(f"stored the {args.name} key in the OS keyring ({keystore.backend_name()})")
    else:
        existed = keystore.delete(args.name)
        print(f"deleted the {args.name} key" if existed else f"no {args.name} key was stored")
    return 0


def _clients() -> ClientStore:
    return ClientStore(load_settings().clients_db)


def cmd_token(args: argparse.Namespace) -> int:
    if args.action is None:
        raise ConfigError("usage: oahelper token create --name NAME")
    store = _clients()
    if any(c.name == args.name for c in store.list()):
        raise ConfigError(f"a client named {args.name!r} exists; choose another name, or "
                          f"revoke it first (oahelper clients revoke {args.name!r})")
    token = store.create_token(args.name)
    print(f"New token for {args.name} (shown once; send it as 'Authorization: Bearer …'): {token}")
    return 0


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "never"


def cmd_clients(args: argparse.Namespace) -> int:
    store = _clients()
    if args.action == "list":
        rows = store.list()
        if not rows:
            print("no paired clients: run `oahelper pair` and enter the code in the extension")
        for c in rows:
            # Names are stored escaped; one stored by an older version may not be.
            name = c.name if c.name.isprintable() else printable(c.name)
            print(f"{name}\torigin {printable(c.origin or '(none: script token)')}\t"
                  f"created {_when(c.created)}\tlast used {_when(c.last_used)}")
        return 0
    if store.revoke(args.name):
        print(f"revoked {args.name}: its token stops working now")
        return 0
    print(f"no client named {args.name!r} (see oahelper clients list)")
    return 1


def cmd_pair(args: argparse.Namespace) -> int:
    code = _clients().new_pair_code()
    print(f"Pairing code: {code}")
    print("Type it into the oahelper extension's options page within 2 minutes. It works once.")
    return 0


def cmd_service(args: argparse.Namespace) -> int:
    from oahelper.cli import service as autostart

    settings = _settings(args)
    plan = autostart.plan_for(autostart.Context.current(settings.data_dir))
    if args.action == "status":
        print(f"service: {autostart.describe(autostart.status(plan))}")
        running = autostart.helper_running(settings.port)
        print(f"helper: {'running' if running else 'not answering'} on port {settings.port}")
        return 0
    outcome = (autostart.install if args.action == "install" else autostart.uninstall)(plan)
    for line in outcome.lines:
        print(line)
    if args.action == "install":
        shared = ", ".join(k for k in autostart.service_environment(os.environ) if k.startswith("OAHELPER_"))
        print(f"It runs {' '.join(autostart.serve_argv(Path(sys.executable)))} with the settings in "
              f"{settings.config_file}" + (f" and {shared} from this shell" if shared else "")
              + ": after changing OAHELPER_ variables, run `oahelper service install` again.")
    return 0 if outcome.ok else 1


def cmd_snapshot(args: argparse.Namespace) -> int:
    from oahelper.snapshot import command  # imported late: DuckDB is only needed here

    settings = _settings(args)
    if args.action == "import":
        return command.run_import(settings, args.files, again=args.again, batch_lines=args.batch)
    if args.action == "export":
        return command.run_export(settings, Path(args.parquet))
    return command.run_status(settings, as_json=getattr(args, "json", False))


def cmd_doctor(args: argparse.Namespace) -> int:
    from oahelper.cli.doctor import run_doctor  # imported late: it pulls in the whole engine

    return asyncio.run(run_doctor(_settings(args), print))


# wiring


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oahelper", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"oahelper {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        return p

    p = add("serve", cmd_serve, "run the daemon on 127.0.0.1")
    p.add_argument("--port", type=int, help="port (default: setting 'port', 28757)")
    p = add("lookup", cmd_lookup, "look up one DOI, PMID, PMCID, arXiv id, page URL, saved "
                                  "HTML file, title or pasted reference")
    p.add_argument("query", metavar="DOI|URL|FILE.html|TITLE")
    p.add_argument("--url", help="the page's URL, when QUERY is a saved HTML file")
    p.add_argument("--json", action="store_true", help="print the exact API payload")
    p = add("audit", cmd_audit, "which references of a reading list have a free copy, as a report")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="BibTeX, RIS, CSL-JSON, CSV or a plain list (one identifier or reference per line)")
    p.add_argument("--out", action="append", metavar="PATH",
                   help="write the report here; its extension says how: .csv, .json or .html "
                        "(repeat for several). Without it: a summary on the terminal")
    p = add("scrape", cmd_scrape, "print as JSON what a saved page says about its article")
    p.add_argument("file", metavar="FILE.html")
    p.add_argument("--url", help="the URL the page was saved from")
    # Commands with actions: each action a parser of its own (so options go anywhere on
    # the line: `snapshot import --again FILE` as well as `snapshot import FILE --again`),
    # and the group alone does its first action (`oahelper clients` lists them).
    def group(name: str, func: Callable[[argparse.Namespace], int], help: str,
              actions: dict[str, str], *, alone: bool = True) -> dict[str, argparse.ArgumentParser]:
        """``alone``: the group without an action does its first one."""
        p = add(name, func, help)
        p.set_defaults(alone_action=next(iter(actions)) if alone else None)
        inner = p.add_subparsers(dest="action", metavar="ACTION", title="actions")
        return {action: inner.add_parser(action, help=words, description=words)
                for action, words in actions.items()}

    config = group("config", cmd_config, "show or change settings (config file)", {
        "show": "show every setting, its value and where it comes from",
        "set": "set a setting in the config file", "unset": "remove a setting from the config file"})
    config["set"].add_argument("key")
    config["set"].add_argument("value", nargs="?")
    config["unset"].add_argument("key")
    keys = group("keys", cmd_keys, "API keys in the OS keyring", {
        "status": "which keys are stored, and whether the keyring works",
        "set": "store a key (read hidden, or from standard input)", "delete": "remove a key"})
    for action in ("set", "delete"):
        keys[action].add_argument("name", choices=sorted(KEY_NAMES))
    token = group("token", cmd_token, "create an API token for a script",
                  {"create": "a new token, shown once"}, alone=False)
    token["create"].add_argument("--name", required=True)
    clients = group("clients", cmd_clients, "list or revoke paired clients", {
        "list": "the paired browsers and script tokens", "revoke": "stop a client's token now"})
    clients["revoke"].add_argument("name")
    add("pair", cmd_pair, "print a one-time code to pair the browser extension")
    group("service", cmd_service, "make the helper start with your session (systemd, launchd, "
                                  "Windows logon task), or undo it, or say how it stands", {
        "status": "whether the helper starts with your session, and runs now",
        "install": "start it at login and restart it if it dies", "uninstall": "undo install"})
    snapshot = group("snapshot", cmd_snapshot, "your own copy of the Unpaywall data feed (DuckDB)", {
        "status": "what the snapshot holds", "import": "read snapshot or change files into it",
        "export": "write it as Parquet files"})
    snapshot["status"].add_argument("--json", action="store_true", help="as JSON")
    snapshot["import"].add_argument("files", nargs="+", metavar="FILE",
                                    help="snapshot or change files (.jsonl, .jsonl.gz; - for stdin)")
    snapshot["import"].add_argument("--again", action="store_true",
                                    help="read files already imported again")
    snapshot["import"].add_argument("--batch", type=int, metavar="LINES",
                                    help="lines per committed batch (default 100000)")
    snapshot["export"].add_argument("--parquet", metavar="DIR", required=True,
                                    help="write the records as Parquet files under DIR (new or empty)")
    add("doctor", cmd_doctor, "check the set-up and say what to fix")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, read; a group without its action gets its first one."""
    args = build_parser().parse_args(argv)
    if "alone_action" in args and args.action is None:
        args.action = args.alone_action
    return args


def main(argv: Sequence[str] | None = None) -> int:
    make_private()  # before anything is created: every file this process writes is 0600
    args = parse_args(argv)
    if args.command != "serve":
        # One-off commands print their own findings; log lines would repeat them.
        logging.basicConfig(level=logging.ERROR, stream=sys.stderr, format="oahelper: %(message)s")
    try:
        code: int = args.func(args)
        return code
    except OAHelperError as exc:
        print(f"oahelper: {exc.message}", file=sys.stderr)
        return 1 if isinstance(exc, PortTaken) else 2
    except BrokenPipeError:  # e.g. `oahelper doctor | head -3`
        return 0
    except FileNotFoundError as exc:
        print(f"oahelper: no such file: {exc.filename}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"oahelper: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
