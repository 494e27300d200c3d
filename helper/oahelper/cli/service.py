"""``oahelper service``: start the helper with the user's session, restart it if it dies.

One code path for the three platforms: `plan_for` turns (platform, this installation,
the user's folders and OAHELPER_ settings) into a `StartupPlan` — the file to write,
its text, and the commands that load and unload it:

- Linux: a systemd user unit, ``$XDG_CONFIG_HOME/systemd/user/oahelper.service``
  (``Restart=on-failure``), enabled with ``systemctl --user enable --now``.
- macOS: a LaunchAgent, ``~/Library/LaunchAgents/org.oahelper.helper.plist``
  (``RunAtLoad``, ``KeepAlive`` unless it exited cleanly), loaded with
  ``launchctl bootstrap gui/UID``.
- Windows: a logon task for this user (Task Scheduler XML, restarted on failure)
  that runs ``pythonw`` on a small launcher script written next to the XML, since a
  task cannot carry environment variables.

The service runs this installation's Python with ``-m oahelper serve`` and the
OAHELPER_ variables of the shell that installed it (OAHELPER_HOME made absolute), so
it uses the same settings, config file and data as the command line. Nothing here
touches the user's data: uninstall removes only the files install wrote.

Every value that goes into one of these files (the variables' names and values, the
Python path, the folders, the user name) is checked first: a control character (C0,
DEL, C1), a line or paragraph separator, a noncharacter or a byte that is not UTF-8
is refused with a message naming the variable (`refusal`), since no format carries
them safely (a carriage return ends a line of a systemd unit; XML 1.0 forbids most
controls). So are the characters a format cannot escape where they would go: " ' \\
and $ in the Python path of a systemd unit (systemd runs no program from such a path),
% and " in the task's command line (Task Scheduler expands %NAME%). What remains is
escaped by each format's own rules: systemd quoting, with ``%%`` for specifiers and
``$$`` in ExecStart's arguments; plistlib's XML; XML escaping in the task; ``repr`` in
the launcher script.
"""

from __future__ import annotations

import json
import os
import plistlib
import re
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from xml.sax.saxutils import escape

from oahelper.errors import ConfigError

UNIT_NAME = "oahelper.service"
SYSTEMD_KIND, LAUNCHD_KIND, TASK_KIND = "systemd user unit", "LaunchAgent", "logon task"
LAUNCHD_LABEL = "org.oahelper.helper"
TASK_NAME = "oahelper"
DESCRIPTION = "oahelper: finds free, legal copies of scholarly articles (helper daemon on 127.0.0.1)"

Runner = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]


def run_command(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a service-manager command, capturing what it says (30 s at most)."""
    try:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(list(argv), 127, "", str(exc))


@dataclass(frozen=True)
class StartupPlan:
    """What makes the helper start with the session on one platform."""

    kind: str                       # for people: "systemd user unit", …
    path: Path                      # the file that registers the service
    text: str                       # its content
    encoding: str = "utf-8"
    extra_files: dict[Path, str] = field(default_factory=dict)  # written beside it
    manager: str | None = None      # the program that must exist to load it
    load: tuple[tuple[str, ...], ...] = ()
    restart: tuple[tuple[str, ...], ...] = ()  # after load, when an installed file changed
    unload: tuple[tuple[str, ...], ...] = ()
    query: tuple[str, ...] | None = None  # exit status 0 = loaded and running
    manager_check: tuple[str, ...] | None = None  # exit status 0 = the manager is there
    logs: str = ""                  # where its output goes
    refused: str | None = None      # why install cannot write it (uninstall still can)

    def files(self) -> dict[Path, str]:
        return {self.path: self.text, **self.extra_files}


def service_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The OAHELPER_ settings the service must share with this shell (HOME absolute)."""
    env = {k: v for k, v in sorted(environ.items()) if k.startswith("OAHELPER_") and v}
    if "OAHELPER_HOME" in env:
        env["OAHELPER_HOME"] = str(Path(env["OAHELPER_HOME"]).expanduser().resolve())
    env["PYTHONUNBUFFERED"] = "1"  # log lines reach the journal at once
    return env


def serve_argv(python: Path) -> list[str]:
    return [str(python), "-m", "oahelper", "serve"]


# What no service file may carry: C0 controls (tab and line breaks too), DEL, C1
# controls, U+2028/2029, the noncharacters U+FFFE/FFFF, and lone surrogates (the
# bytes of a variable that were not UTF-8).
_UNWRITABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_NAMED = {"\t": "a tab", "\n": "a line feed", "\r": "a carriage return", "\x00": "a NUL",
          "\x1b": "an escape character", "\u2028": "a line separator",
          "\u2029": "a paragraph separator"}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NOT_IN_EXECUTABLE = "\"'\\$"


def unwritable(what: str, value: str, kind: str) -> str | None:
    """Why ``value`` (``what``: a variable's name, "the Python path"…) cannot go into a
    ``kind`` file, or None when it can."""
    found = _UNWRITABLE.search(value)
    if found is None:
        return None
    char = found.group()
    words = _NAMED.get(char) or ("a byte that is not UTF-8" if "\ud800" <= char <= "\udfff"
                                 else "a noncharacter" if char in "\ufffe\uffff"
                                 else "a control character")
    return (f"{what} holds {words} (U+{ord(char):04X}) at character {found.start() + 1}, "
            f"which cannot go into a {kind}: remove it, then run `oahelper service install` again")


def refusal(ctx: Context, env: Mapping[str, str], kind: str) -> str | None:
    """Why this context's values cannot be written into its service file, or None."""
    values: list[tuple[str, str]] = []
    for name, value in env.items():
        if not _ENV_NAME.match(name):
            return (f"the environment variable {name!r} does not have a plain name (letters, "
                    f"digits, _), so it cannot go into a {kind}: unset it, then run "
                    "`oahelper service install` again")
        values.append((name, value))
    values += [("the Python path", str(ctx.python)), ("the data folder", str(ctx.data_dir)),
               ("the home folder", str(ctx.home)), ("the config folder", str(ctx.config_home)),
               ("the user name", ctx.user)]
    for what, value in values:
        why = unwritable(what, value, kind)
        if why is not None:
            return why
    if ctx.platform == "win32":
        # Task Scheduler expands %NAME% in a command and its arguments, and the paths
        # are written between double quotes.
        for what, value in (("the Python path", str(ctx.python)), ("the data folder", str(ctx.data_dir))):
            if "%" in value or '"' in value:
                return (f"{what} holds {'%' if '%' in value else 'a double quote'}, which a "
                        f"{kind} would read as part of its command line: install oahelper "
                        "in a folder without it")
    elif not ctx.python.is_absolute():
        return f"the Python path {str(ctx.python)!r} is not absolute, which a {kind} needs"
    elif kind == SYSTEMD_KIND and set(str(ctx.python)) & set(_NOT_IN_EXECUTABLE):
        # systemd refuses these in an executable's path whatever the quoting, and would
        # expand a $ in the program's name (argv[0]) but not in the path it runs.
        return (f"the Python path holds one of {' '.join(_NOT_IN_EXECUTABLE)}, which systemd does "
                "not run a program from: install oahelper in a folder without it")
    return None


# Linux: systemd


def _systemd_quote(word: str, *, command: bool = False) -> str:
    """One ExecStart or Environment word for a unit file: double-quoted, with \\ and ",
    the % of specifiers and (in a command line) the $ of variables escaped."""
    why = unwritable("a value", word, SYSTEMD_KIND)  # which one, refusal() has said first
    if why is not None:
        raise ConfigError(why)
    quoted = word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return '"' + (quoted.replace("$", "$$") if command else quoted) + '"'


def systemd_unit(argv: Sequence[str], env: Mapping[str, str]) -> str:
    lines = [
        "# Written by `oahelper service install`; `oahelper service uninstall` removes it.",
        "[Unit]",
        f"Description={DESCRIPTION}",
        "",
        "[Service]",
        "Type=exec",
        # The program's path is read literally (no $ variables); its arguments are not.
        "ExecStart=" + " ".join(_systemd_quote(a, command=i > 0) for i, a in enumerate(argv)),
        *(f"Environment={_systemd_quote(f'{k}={v}')}" for k, v in env.items()),
        "Restart=on-failure",
        "RestartSec=5",
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ]
    return "\n".join(lines)


def _systemd_plan(config_home: Path, argv: Sequence[str], env: Mapping[str, str],
                  refused: str | None) -> StartupPlan:
    user = ("systemctl", "--user")
    return StartupPlan(
        kind=SYSTEMD_KIND, path=config_home / "systemd" / "user" / UNIT_NAME,
        text="" if refused else systemd_unit(argv, env), refused=refused, manager="systemctl",
        load=((*user, "daemon-reload"), (*user, "enable", "--now", UNIT_NAME)),
        restart=((*user, "try-restart", UNIT_NAME),),
        unload=((*user, "disable", "--now", UNIT_NAME), (*user, "daemon-reload")),
        query=(*user, "is-active", "--quiet", UNIT_NAME),
        manager_check=(*user, "show-environment"),
        logs=f"journalctl --user -u {UNIT_NAME}")


# macOS: launchd


def launchd_plist(argv: Sequence[str], env: Mapping[str, str], log: Path) -> str:
    return plistlib.dumps({
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": list(argv),
        "EnvironmentVariables": dict(env),
        "RunAtLoad": True,
        # Restart when it dies, not after a clean stop.
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 5,
        "StandardOutPath": str(log),
        "StandardErrorPath": str(log),
        "ProcessType": "Background",
    }).decode("utf-8")


def _launchd_plan(home: Path, uid: int, log: Path, argv: Sequence[str], env: Mapping[str, str],
                  refused: str | None) -> StartupPlan:
    path = home / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"
    domain = f"gui/{uid}"
    return StartupPlan(
        kind=LAUNCHD_KIND, path=path, text="" if refused else launchd_plist(argv, env, log),
        refused=refused, manager="launchctl",
        # bootout first: bootstrap refuses a label that is already loaded (install twice).
        load=(("launchctl", "bootout", f"{domain}/{LAUNCHD_LABEL}"), ("launchctl", "bootstrap", domain, str(path))),
        unload=(("launchctl", "bootout", f"{domain}/{LAUNCHD_LABEL}"),),
        query=("launchctl", "print", f"{domain}/{LAUNCHD_LABEL}"),
        manager_check=("launchctl", "print", domain),
        logs=str(log))


# Windows: Task Scheduler


def windows_launcher(env: Mapping[str, str], log: Path) -> str:
    """The script pythonw runs at logon: the settings, a log file, then `oahelper serve`."""
    return "\n".join([
        "# Written by `oahelper service install`: run at logon by the task 'oahelper'.",
        "import os",
        "import sys",
        "",
        f"os.environ.update({dict(env)!r})",
        "# pythonw has no console: the daemon's output goes to its log file.",
        f"sys.stdout = sys.stderr = open({str(log)!r}, 'a', encoding='utf-8', buffering=1)",
        "from oahelper.cli import main",
        "",
        "sys.exit(main(['serve']))",
        "",
    ])


def windows_task(pythonw: PureWindowsPath, launcher: Path, user: str) -> str:
    """Task Scheduler XML (schema 1.2): at this user's logon, no time limit, restarted
    every minute when it fails (up to 999 times), one instance."""
    return f"""<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>{escape(DESCRIPTION)}</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>{escape(user)}</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>{escape(user)}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
    <Hidden>true</Hidden>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>"{escape(str(pythonw))}"</Command>
      <Arguments>"{escape(str(launcher))}"</Arguments>
    </Exec>
  </Actions>
</Task>
"""


def _windows_plan(data_dir: Path, python: Path, user: str, env: Mapping[str, str],
                  refused: str | None) -> StartupPlan:
    folder = data_dir / "service"
    launcher, xml, log = folder / "oahelper-service.pyw", folder / "oahelper-task.xml", folder / "oahelper.log"
    exe = PureWindowsPath(python)  # a Windows path, also when tests build the plan elsewhere
    pythonw = exe.with_name("pythonw.exe") if exe.name.lower() == "python.exe" else exe
    return StartupPlan(
        kind=TASK_KIND, path=xml, text="" if refused else windows_task(pythonw, launcher, user),
        encoding="utf-16", refused=refused, manager="schtasks",
        extra_files={launcher: "" if refused else windows_launcher(env, log)},
        load=(("schtasks", "/Create", "/TN", TASK_NAME, "/XML", str(xml), "/F"),
              ("schtasks", "/Run", "/TN", TASK_NAME)),
        restart=(("schtasks", "/End", "/TN", TASK_NAME), ("schtasks", "/Run", "/TN", TASK_NAME)),
        unload=(("schtasks", "/End", "/TN", TASK_NAME), ("schtasks", "/Delete", "/TN", TASK_NAME, "/F")),
        query=("schtasks", "/Query", "/TN", TASK_NAME),
        manager_check=("schtasks", "/Query", "/TN", "\\"),
        logs=str(log))


# choosing


@dataclass(frozen=True)
class Context:
    """Where this user's files go, and who they are: read from the system by `current()`,
    given by hand in tests."""

    platform: str        # sys.platform: linux, darwin, win32
    home: Path           # the user's home folder
    config_home: Path    # $XDG_CONFIG_HOME or ~/.config (Linux)
    data_dir: Path       # oahelper's data folder (settings)
    python: Path         # this installation's interpreter
    uid: int = 0
    user: str = ""
    environ: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def current(cls, data_dir: Path) -> Context:
        home = Path.home()
        return cls(
            platform=sys.platform, home=home,
            config_home=Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config"),
            data_dir=data_dir, python=Path(sys.executable),
            uid=os.getuid() if hasattr(os, "getuid") else 0,
            user="\\".join(filter(None, (os.environ.get("USERDOMAIN"), os.environ.get("USERNAME")))),
            environ=dict(os.environ))


def plan_for(ctx: Context) -> StartupPlan:
    """The plan for this context; when one of its values cannot be written, a plan
    that says why (``refused``: install refuses it, uninstall and status still work)."""
    env = service_environment(ctx.environ)
    argv = serve_argv(ctx.python)
    if ctx.platform.startswith("linux"):
        return _systemd_plan(ctx.config_home, argv, env, refusal(ctx, env, SYSTEMD_KIND))
    if ctx.platform == "darwin":
        return _launchd_plan(ctx.home, ctx.uid, ctx.data_dir / "oahelper.log", argv, env,
                             refusal(ctx, env, LAUNCHD_KIND))
    if ctx.platform == "win32":
        return _windows_plan(ctx.data_dir, ctx.python, ctx.user, env, refusal(ctx, env, TASK_KIND))
    raise ConfigError(f"oahelper service knows Linux (systemd), macOS and Windows, not {ctx.platform}; "
                      "start `oahelper serve` from your session's startup programs instead")


# doing


@dataclass
class Outcome:
    """What install/uninstall did, for the user: lines to print, and whether all went well."""

    lines: list[str] = field(default_factory=list)
    ok: bool = True


def manager_available(plan: StartupPlan, run: Runner) -> bool:
    """Is the service manager there to talk to? (A missing program answers 127.)"""
    return plan.manager_check is not None and run(plan.manager_check).returncode == 0


def _write_private(path: Path, text: str, encoding: str) -> bool:
    """Write a file only its owner reads (it holds the OAHELPER_ settings); True if it changed."""
    data = text.encode(encoding)
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return True


def _shell(argv: Sequence[str]) -> str:
    return " ".join(a if a and all(c.isalnum() or c in "-_./:=\\" for c in a) else f'"{a}"' for a in argv)


def install(plan: StartupPlan, run: Runner = run_command) -> Outcome:
    """Write the files (the same ones every time) and load them when the manager is there;
    a plan with a value no service file can carry is refused before anything is written."""
    if plan.refused is not None:
        raise ConfigError(plan.refused)
    out = Outcome()
    was_installed = plan.path.exists()
    changed = False
    for path, text in plan.files().items():
        if _write_private(path, text, plan.encoding if path == plan.path else "utf-8"):
            changed = True
            out.lines.append(f"wrote {path}")
        else:
            out.lines.append(f"{path} is already up to date")
    if not manager_available(plan, run):
        why = " (a container, or WSL without systemd)" if plan.manager == "systemctl" else ""
        out.lines.append(f"No {plan.manager} service manager answers here{why}, so the {plan.kind} "
                         "is written but not started. Where one runs, start it now and at every "
                         "login with:")
        out.lines += [f"  {_shell(c)}" for c in plan.load]
        return out
    commands = [*plan.load, *(plan.restart if was_installed and changed else ())]
    for i, command in enumerate(commands):
        done = run(command)
        # launchd's bootout before bootstrap fails when nothing was loaded: that is fine.
        if done.returncode != 0 and not (plan.manager == "launchctl" and i == 0):
            out.ok = False
            out.lines.append(f"`{_shell(command)}` failed: {(done.stderr or done.stdout).strip()}")
            return out
    out.lines.append(f"the {plan.kind} is enabled: the helper starts with your session "
                     f"and restarts if it fails (logs: {plan.logs})")
    return out


def uninstall(plan: StartupPlan, run: Runner = run_command) -> Outcome:
    """Unload the service if it is loaded and remove the files install wrote (no data)."""
    out = Outcome()
    existed = [p for p in plan.files() if p.exists()]
    if manager_available(plan, run):
        for command in plan.unload:
            run(command)  # "not loaded" is fine: the goal is that it is not
    for path in existed:
        path.unlink()
        out.lines.append(f"removed {path}")
        if path.parent.name == "service" and not any(path.parent.iterdir()):
            path.parent.rmdir()  # the folder only the Windows files live in
    if not existed:
        out.lines.append(f"no {plan.kind} was installed ({plan.path})")
    out.lines.append("Your settings, pairings and cache are left as they were.")
    return out


@dataclass(frozen=True)
class Status:
    installed: bool
    loaded: bool | None   # None: no service manager to ask
    path: Path
    kind: str


def status(plan: StartupPlan, run: Runner = run_command) -> Status:
    loaded = None
    if manager_available(plan, run) and plan.query is not None:
        loaded = run(plan.query).returncode == 0
    return Status(installed=plan.path.exists(), loaded=loaded, path=plan.path, kind=plan.kind)


def describe(s: Status) -> str:
    """One line for `oahelper service status` and `oahelper doctor`."""
    if not s.installed:
        return f"not installed (`oahelper service install` writes a {s.kind})"
    if s.loaded is None:
        return f"installed ({s.kind} {s.path}), but no service manager runs here to start it"
    running = "started by the service manager" if s.loaded else "not running under the service manager"
    return f"installed ({s.kind} {s.path}), {running}"


def helper_running(port: int, host: str = "127.0.0.1") -> bool:
    """Does oahelper answer /v1/health on the port (within 2 s)?"""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/v1/health", timeout=2) as answer:
            return bool(json.loads(answer.read()).get("service") == "oahelper")
    except (OSError, ValueError):
        return False
