"""`oahelper service install` with hostile values (issue 18): every value written into
the systemd unit, the LaunchAgent plist or the logon task is refused when it holds a
character no service file can carry, and otherwise comes back out exactly as it went in
(systemd-analyze verify, systemd's own quoting rules, plistlib, xml.etree, ast)."""

from __future__ import annotations

import ast
import os
import plistlib
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from oahelper.cli.service import (
    Context,
    install,
    plan_for,
    serve_argv,
    service_environment,
    systemd_unit,
)
from oahelper.errors import ConfigError

from tests.support.processes import PYTHON, oahelper
from tests.test_autostart import TASK_NS, Manager, _no_manager_env, _verify, context

# Values every format must carry exactly: systemd specifiers and variables, quotes,
# backslashes (one at the end too), runs of spaces, non-ASCII, a unit file's own syntax.
CARRIED = ("100%", "%h%n", "$HOME", "${HOME}$", '"quoted"', "it's", "back\\slash", "trailing\\",
           "a b  c ", "é ü 中文 🙂", ";", "a ; b", "=1+1", "#not a comment", "x\\ny",
           "\\x41", "Environment=X", "[Service]", "ExecStartPre=/bin/true")
# Characters none can: C0 controls (a tab and both line breaks too), DEL, C1 controls,
# U+2028/2029, a noncharacter, a byte that was not UTF-8 (a lone surrogate).
REFUSED = ("\r", "\n", "\r\n", "\t", "\x00", "\x01", "\x1b", "\x1f", "\x7f", "\x85", "\x9f",
           "\u2028", "\u2029", "\ufffe", "\udc80")
PLATFORMS = ("linux", "darwin", "win32")
INJECTION = "me@uni.edu\rExecStartPre=/bin/sh -c 'touch /tmp/oahelper-pwned'"


def hostile_env(value: str) -> dict[str, str]:
    return {"OAHELPER_UNPAYWALL_EMAIL": f"ada{value}@uni.edu", "OAHELPER_PROXY": value}


# systemd's reading of a unit (systemd.syntax(7), systemd.service(7) "Command lines"),
# for the parts our files use: specifiers first (only %% is ours), then words split on
# whitespace with double quotes and C escapes, then (in a command line) $$ as $.

_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r", " ": " "}


def systemd_words(rvalue: str, *, command: bool) -> list[str]:
    def specifier(m: re.Match[str]) -> str:
        assert m.group(1) == "%", f"a specifier %{m.group(1)} would be expanded"
        return "%"

    text = re.sub("%(.)", specifier, rvalue)
    words, i = [], 0
    while i < len(text):
        if text[i] in " \t":
            i += 1
            continue
        word: list[str] = []
        quoted = False
        while i < len(text) and (quoted or text[i] not in " \t"):
            char = text[i]
            if char == '"':
                quoted = not quoted
            elif char == "\\":
                assert text[i + 1] in _ESCAPES, f"an escape \\{text[i + 1]} systemd reads otherwise"
                word.append(_ESCAPES[text[i + 1]])
                i += 1
            else:
                word.append(char)
            i += 1
        assert not quoted, "a quote left open"
        words.append("".join(word))
    if command:
        assert all("$" not in w.replace("$$", "") for w in words[1:]), f"a variable in {words}"
        words = [words[0], *(w.replace("$$", "$") for w in words[1:])]  # the path is literal
    return words


def read_unit(text: str) -> dict[str, list[str]]:
    """Each key of the [Service] section with its values, every line accounted for."""
    keys: dict[str, list[str]] = {}
    section = None
    for line in re.split(r"\r\n|\r|\n", text):
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
            continue
        assert not line.endswith("\\"), "a line continued"
        key, _, value = line.partition("=")
        keys.setdefault(f"{section}{key}", []).append(value)
    return keys


def test_systemd_quoting_of_every_carried_value_reads_back_exactly(tmp_path: Path) -> None:
    for value in CARRIED:
        env = hostile_env(value)
        plan = plan_for(context(tmp_path, **env))
        assert plan.refused is None
        keys = read_unit(plan.text)
        assert set(keys) == {"[Unit]Description", "[Service]Type", "[Service]ExecStart",
                             "[Service]Environment", "[Service]Restart", "[Service]RestartSec",
                             "[Install]WantedBy"}, "no directive was added"
        assert len(keys["[Service]ExecStart"]) == 1
        assert systemd_words(keys["[Service]ExecStart"][0], command=True) == [PYTHON, "-m", "oahelper", "serve"]
        assignments = [systemd_words(v, command=False) for v in keys["[Service]Environment"]]
        assert all(len(a) == 1 for a in assignments), "one assignment a line"
        read = dict(a[0].split("=", 1) for a in assignments)
        assert read == service_environment(context(tmp_path, **env).environ)
        assert read["OAHELPER_PROXY"] == value


@pytest.fixture
def hostile_python(tmp_path: Path) -> Path:
    """This Python, at a path with the characters a unit file treats specially that
    systemd runs a program from (not " ' \\ $: refused, below)."""
    folder = tmp_path / "we ird %h 100% %%n é 中 ; # {x} [s]"
    folder.mkdir()
    (folder / "python3").symlink_to(PYTHON)
    return folder / "python3"


def test_systemd_analyze_verifies_units_made_of_hostile_values(tmp_path: Path, hostile_python: Path) -> None:
    """systemd itself reads the unit: it finds the hostile Python path (so the
    ExecStart quoting is right to the character) and no directive it did not expect."""
    if shutil.which("systemd-analyze") is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing (apt-get install systemd), and CI must verify the unit")
        pytest.skip("systemd-analyze is missing (apt-get install systemd)")
    env = {f"OAHELPER_V{i}": v for i, v in enumerate(CARRIED)}
    ctx = replace(context(tmp_path, **env), python=hostile_python)
    plan = plan_for(ctx)
    assert install(plan, Manager(present=False)).ok
    done = _verify(plan.path, tmp_path)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
    keys = read_unit(plan.path.read_text(encoding="utf-8"))
    assert systemd_words(keys["[Service]ExecStart"][0], command=True)[0] == str(hostile_python)
    read = dict(systemd_words(v, command=False)[0].split("=", 1) for v in keys["[Service]Environment"])
    assert read == service_environment(ctx.environ)
    # Not a rubber stamp: the same path without its % escaped is not found.
    naive = tmp_path / "naive" / "oahelper.service"
    naive.parent.mkdir()
    naive.write_text(plan.path.read_text(encoding="utf-8").replace("%%", "%"), encoding="utf-8")
    assert _verify(naive, tmp_path).returncode != 0


@pytest.mark.parametrize("char", ['"', "'", "\\", "$"])
def test_a_python_path_systemd_will_not_run_is_refused(tmp_path: Path, char: str) -> None:
    """systemd-analyze: "Executable name contains special characters" for " ' \\ (and
    a $ would be expanded in the program's name, not in its path)."""
    plan = plan_for(replace(context(tmp_path), python=Path(f"/opt/a{char}b/python3")))
    assert plan.refused is not None and plan.refused.startswith("the Python path holds one of")
    if char == "$" or shutil.which("systemd-analyze") is None:
        return
    folder = tmp_path / f"a{char}b"
    folder.mkdir()
    (folder / "python3").symlink_to(PYTHON)
    unit = tmp_path / "unit" / "oahelper.service"
    unit.parent.mkdir()
    unit.write_text(systemd_unit(serve_argv(folder / "python3"), {}), encoding="utf-8")
    done = _verify(unit, tmp_path)
    assert done.returncode != 0 and "special characters" in done.stderr, done.stderr


def test_the_reviews_carriage_return_injection_is_refused(tmp_path: Path) -> None:
    plan = plan_for(context(tmp_path, OAHELPER_UNPAYWALL_EMAIL=INJECTION))
    assert plan.refused == (
        "OAHELPER_UNPAYWALL_EMAIL holds a carriage return (U+000D) at character 11, which "
        "cannot go into a systemd user unit: remove it, then run `oahelper service install` again")
    with pytest.raises(ConfigError, match="OAHELPER_UNPAYWALL_EMAIL holds a carriage return"):
        install(plan, Manager(present=False))
    assert not plan.path.exists() and not plan.path.parent.exists()


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("char", REFUSED, ids=lambda c: f"U+{ord(c[0]):04X}")
def test_every_unwritable_character_is_refused_naming_the_variable(tmp_path: Path, platform: str,
                                                                     char: str) -> None:
    plan = plan_for(context(tmp_path, platform, OAHELPER_PROXY=f"http://proxy{char}:8080"))
    assert plan.refused is not None and plan.refused.startswith("OAHELPER_PROXY holds ")
    assert f"(U+{ord(char[0]):04X}) at character 13" in plan.refused
    assert plan.text == "" and all(text == "" for text in plan.files().values())
    manager = Manager()
    with pytest.raises(ConfigError):
        install(plan, manager)
    assert manager.calls == [] and not any(p.exists() for p in plan.files())


@pytest.mark.parametrize("platform", PLATFORMS)
def test_paths_names_and_user_are_checked_too(tmp_path: Path, platform: str) -> None:
    base = context(tmp_path, platform)
    cases = {
        "the Python path": replace(base, python=Path(f"{base.python}\r")),
        "the data folder": replace(base, data_dir=tmp_path / "data\x1b[31m"),
        "the user name": replace(base, user="LAB\\ada\n"),
        "the home folder": replace(base, home=tmp_path / "home\x00"),
        "the config folder": replace(base, config_home=tmp_path / "config\u2028"),
    }
    for what, ctx in cases.items():
        assert (plan_for(ctx).refused or "").startswith(f"{what} holds "), what
    odd_name = plan_for(context(tmp_path, platform, **{"OAHELPER_A B": "1"})).refused
    assert odd_name is not None and "'OAHELPER_A B' does not have a plain name" in odd_name


def test_a_relative_python_is_refused_by_systemd_and_launchd(tmp_path: Path) -> None:
    for platform in ("linux", "darwin"):
        plan = plan_for(replace(context(tmp_path, platform), python=Path("bin/python3")))
        assert plan.refused is not None and "is not absolute" in plan.refused


def test_the_launch_agent_carries_every_value_exactly(tmp_path: Path) -> None:
    env = {f"OAHELPER_V{i}": v for i, v in enumerate(CARRIED)}
    python = Path("/Users/ada/we$ird %h \"q\" & <tag> é/python3")
    ctx = replace(context(tmp_path, "darwin", **env), python=python,
                  data_dir=tmp_path / "a & <b> %h $X")
    agent = plistlib.loads(plan_for(ctx).text.encode())
    assert agent["ProgramArguments"] == [str(python), "-m", "oahelper", "serve"]
    assert agent["EnvironmentVariables"] == service_environment(ctx.environ)
    assert agent["StandardOutPath"] == str(tmp_path / "a & <b> %h $X" / "oahelper.log")


def test_the_logon_task_and_its_launcher_carry_every_value_exactly(tmp_path: Path) -> None:
    env = {f"OAHELPER_V{i}": v for i, v in enumerate(CARRIED)}
    ctx = replace(context(tmp_path, "win32", **env), user='LAB\\<ada> & "co" é',
                  python=Path(r"C:\Users\ada & <co> é\.venv\Scripts\python.exe"))
    plan = plan_for(ctx)
    assert plan.refused is None
    task = ET.fromstring(plan.text.encode("utf-16"))

    def text(path: str) -> str | None:
        found = task.find(path, TASK_NS)
        assert found is not None, path
        return found.text

    assert text("t:Triggers/t:LogonTrigger/t:UserId") == ctx.user
    assert text("t:Principals/t:Principal/t:UserId") == ctx.user
    assert text("t:Actions/t:Exec/t:Command") == r'"C:\Users\ada & <co> é\.venv\Scripts\pythonw.exe"'
    launcher = next(text for path, text in plan.files().items() if path.suffix == ".pyw")
    call = next(node for node in ast.walk(ast.parse(launcher)) if isinstance(node, ast.Call)
                and ast.unparse(node.func) == "os.environ.update")
    assert ast.literal_eval(call.args[0]) == service_environment(ctx.environ)


@pytest.mark.parametrize("python", [r"C:\Users\%USERNAME%\python.exe", 'C:\\Users\\a"b\\python.exe'])
def test_a_task_command_line_that_windows_would_expand_or_cut_is_refused(tmp_path: Path, python: str) -> None:
    plan = plan_for(replace(context(tmp_path, "win32"), python=Path(python)))
    assert plan.refused is not None and plan.refused.startswith("the Python path holds ")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the command's Linux path")
def test_service_install_refuses_the_injection_and_uninstall_still_works(tmp_path: Path) -> None:
    env = _no_manager_env(tmp_path)
    unit = tmp_path / "config" / "systemd" / "user" / "oahelper.service"
    assert oahelper(["service", "install"], env).returncode == 0 and unit.exists()
    before = unit.read_text()
    hostile = {**env, "OAHELPER_UNPAYWALL_EMAIL": INJECTION}
    refused = oahelper(["service", "install"], hostile)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "OAHELPER_UNPAYWALL_EMAIL holds a carriage return (U+000D)" in refused.stderr
    assert "Traceback" not in refused.stderr and "pwned" not in refused.stderr
    assert unit.read_text() == before, "the installed unit is left as it was"
    assert "installed (systemd user unit" in oahelper(["service", "status"], hostile).stdout
    gone = oahelper(["service", "uninstall"], hostile)
    assert gone.returncode == 0 and not unit.exists()


def test_the_python_this_machine_runs_is_accepted(tmp_path: Path) -> None:
    """The checks refuse hostile values, not ordinary ones."""
    plan = plan_for(Context.current(tmp_path / "data"))
    assert plan.refused is None, plan.refused
