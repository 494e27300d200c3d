"""Every command line the README and docs/ show parses as written (issue 18, low 7).

`oahelper snapshot import --again FILE` once failed with "unrecognized arguments":
options work anywhere on a subcommand's line now, and a group without its action
(`oahelper clients`) does its first one. This reads each shell block of the docs and
parses every `oahelper …` line in it with the real parser (nothing is run).
"""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest

from oahelper.cli.main import build_parser, parse_args

# The module itself (``oahelper.cli.main`` the attribute is the function main).
cli = importlib.import_module("oahelper.cli.main")

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"```(?:sh|bash|shell|console)\n(.*?)```", re.S)
COMMAND = re.compile(r"^\s*(?:\$ )?(?:\.venv/bin/)?oahelper\s+(.*)$")


def command_lines() -> list[tuple[str, str]]:
    """(file, the arguments after `oahelper`) for every command in a shell block."""
    found = []
    for doc in DOCS:
        for block in BLOCK.findall(doc.read_text(encoding="utf-8")):
            for line in block.replace("\\\n", " ").splitlines():
                match = COMMAND.match(line)
                if match:
                    found.append((doc.name, match.group(1).split(" #")[0].strip()))
    return found


def test_the_docs_show_command_lines_to_check() -> None:
    assert len(command_lines()) >= 10


@pytest.mark.parametrize("doc, args", command_lines())
def test_each_command_line_of_the_docs_parses(doc: str, args: str) -> None:
    if args.startswith("-") and args.split()[0] in ("--version", "--help", "-h"):
        return
    try:
        build_parser().parse_args(shlex.split(args))
    except SystemExit as exc:
        pytest.fail(f"{doc}: `oahelper {args}` does not parse (exit {exc.code})")


@pytest.mark.parametrize("line", [
    "snapshot import --again a.jsonl.gz", "snapshot import a.jsonl.gz --again",
    "snapshot import --batch 10 a.jsonl b.jsonl", "snapshot status --json",
    "snapshot export --parquet out", "audit --out r.csv refs.bib", "audit refs.bib --out r.csv",
    "lookup --json 10.1038/nature12373", "lookup 10.1038/nature12373 --json",
    "serve --port 28758", "token create --name x", "clients revoke x",
    "config set port 28758", "keys set openalex", "keys delete oab",
])
def test_options_go_anywhere_on_a_subcommands_line(line: str) -> None:
    build_parser().parse_args(line.split())


@pytest.mark.parametrize("group, action", [("clients", "list"), ("keys", "status"),
                                           ("service", "status"), ("snapshot", "status"),
                                           ("config", "show")])
def test_a_group_alone_does_its_first_action(group: str, action: str) -> None:
    args = parse_args([group])
    assert args.action == action and args.func is getattr(cli, f"cmd_{group}")
