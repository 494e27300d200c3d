"""`oahelper service`: the files it writes for each platform, the commands it runs,
and the command itself on this machine (Linux, no systemd user manager here)."""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from oahelper.cli.service import (
    LAUNCHD_LABEL, Context, StartupPlan, install, plan_for, status, uninstall,
)
from tests.support.processes import PYTHON, free_port, oahelper, stop

TASK_NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}


class Manager:
    """A service manager as the commands see it: it answers each command with a status,
    and remembers what it was asked (no real systemctl/launchctl/schtasks is touched)."""

    def __init__(self, present: bool = True, failing: str | None = None) -> None:
        self.present, self.failing = present, failing
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(tuple(argv))
        if not self.present:
            return subprocess.CompletedProcess(list(argv), 127, "", "not found")
        code = 1 if self.failing and self.failing in argv else 0
        return subprocess.CompletedProcess(list(argv), code, "", "it broke" if code else "")


def context(tmp_path: Path, platform: str = "linux", **environ: str) -> Context:
    env = {"OAHELPER_HOME": str(tmp_path / "oa home"), "PATH": "/usr/bin", **environ}
    python = Path(r"C:\Users\ada\oahelper\.venv\Scripts\python.exe") if platform == "win32" else Path(PYTHON)
    return Context(platform=platform, home=tmp_path / "home", config_home=tmp_path / "config",
                   data_dir=tmp_path / "oa home" / "data", python=python, uid=501,
                   user="LAB\\ada", environ=env)


# Linux


def test_the_systemd_unit_runs_this_installation_with_the_same_settings(tmp_path: Path) -> None:
    plan = plan_for(context(tmp_path, OAHELPER_PORT="29000", OAHELPER_UNPAYWALL_EMAIL="ada@uni.edu"))
    assert plan.path == tmp_path / "config" / "systemd" / "user" / "oahelper.service"
    lines = plan.text.splitlines()
    assert f'ExecStart="{PYTHON}" "-m" "oahelper" "serve"' in lines
    assert f'Environment="OAHELPER_HOME={tmp_path}/oa home"' in lines
    assert 'Environment="OAHELPER_PORT=29000"' in lines
    assert 'Environment="OAHELPER_UNPAYWALL_EMAIL=ada@uni.edu"' in lines
    assert not [l for l in lines if "PATH=" in l and "OAHELPER" not in l], "only OAHELPER_ settings are copied"
    assert "Restart=on-failure" in lines and "WantedBy=default.target" in lines


def test_a_relative_home_and_unit_file_specials_are_written_safely(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    plan = plan_for(context(tmp_path, OAHELPER_HOME="rel/100%$HOME \"x\""))
    home = tmp_path / "rel" / '100%$HOME "x"'
    # Absolute; % doubled (systemd specifiers), quotes escaped; no $ expansion in Environment.
    escaped = str(home).replace("%", "%%").replace('"', '\\"')
    assert f'Environment="OAHELPER_HOME={escaped}"' in plan.text.splitlines()


def _verify(unit: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return subprocess.run(["systemd-analyze", "--user", "verify", str(unit)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing (apt-get install systemd), and CI must verify the unit")
        pytest.skip("systemd-analyze is missing (apt-get install systemd)")
    plan = plan_for(context(tmp_path, OAHELPER_HOME=str(tmp_path / "a b%c")))
    install(plan, Manager(present=False))
    done = _verify(plan.path, tmp_path)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
    # Not a rubber stamp: a unit naming a program that is not there is refused.
    broken = tmp_path / "broken" / "oahelper.service"
    broken.parent.mkdir()
    broken.write_text(plan.text.replace(PYTHON, "/nonexistent/python"))
    assert _verify(broken, tmp_path).returncode != 0


def test_install_enables_it_where_a_user_manager_runs_and_twice_is_harmless(tmp_path: Path) -> None:
    plan = plan_for(context(tmp_path))
    manager = Manager()
    first = install(plan, manager)
    assert first.ok and manager.calls == [
        ("systemctl", "--user", "show-environment"),
        ("systemctl", "--user", "daemon-reload"),
        ("systemctl", "--user", "enable", "--now", "oahelper.service"),
    ]
    assert oct(plan.path.stat().st_mode & 0o777) == "0o600"
    manager.calls.clear()
    again = install(plan, manager)
    assert again.ok and f"{plan.path} is already up to date" in again.lines
    assert ("systemctl", "--user", "try-restart", "oahelper.service") not in manager.calls
    # A changed installation (another Python) restarts a running service to use it.
    moved = plan_for(replace(context(tmp_path), python=Path("/opt/other/python3")))
    manager.calls.clear()
    install(moved, manager)
    assert manager.calls[-1] == ("systemctl", "--user", "try-restart", "oahelper.service")


def test_a_failing_service_manager_is_reported(tmp_path: Path) -> None:
    outcome = install(plan_for(context(tmp_path)), Manager(failing="enable"))
    assert not outcome.ok and any("enable --now oahelper.service" in l and "it broke" in l for l in outcome.lines)


def test_uninstall_disables_and_removes_the_unit_and_nothing_else(tmp_path: Path) -> None:
    data = tmp_path / "oa home" / "data"
    data.mkdir(parents=True)
    (data / "clients.sqlite3").write_text("pairings")
    plan = plan_for(context(tmp_path))
    manager = Manager()
    install(plan, manager)
    manager.calls.clear()
    outcome = uninstall(plan, manager)
    assert ("systemctl", "--user", "disable", "--now", "oahelper.service") in manager.calls
    assert not plan.path.exists() and (data / "clients.sqlite3").read_text() == "pairings"
    assert any("left as they were" in l for l in outcome.lines)
    assert status(plan, manager).installed is False


# macOS


def test_the_launch_agent_starts_at_login_and_restarts_when_it_dies(tmp_path: Path) -> None:
    plan = plan_for(context(tmp_path, "darwin", OAHELPER_PORT="29000"))
    assert plan.path == tmp_path / "home" / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"
    agent = plistlib.loads(plan.text.encode())
    assert agent["Label"] == LAUNCHD_LABEL
    assert agent["ProgramArguments"] == [PYTHON, "-m", "oahelper", "serve"]
    assert agent["EnvironmentVariables"]["OAHELPER_HOME"] == str(tmp_path / "oa home")
    assert agent["EnvironmentVariables"]["OAHELPER_PORT"] == "29000"
    assert agent["RunAtLoad"] is True and agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["StandardErrorPath"] == str(tmp_path / "oa home" / "data" / "oahelper.log")
    manager = Manager()
    assert install(plan, manager).ok
    assert manager.calls[-1] == ("launchctl", "bootstrap", "gui/501", str(plan.path))
    # Loaded already (install twice): bootout first, whose "not loaded" failure is fine.
    assert install(plan, Manager(failing="bootout")).ok
    manager.calls.clear()
    uninstall(plan, manager)
    assert ("launchctl", "bootout", f"gui/501/{LAUNCHD_LABEL}") in manager.calls and not plan.path.exists()


# Windows


def test_the_windows_logon_task_runs_pythonw_on_a_launcher_with_the_settings(tmp_path: Path) -> None:
    plan = plan_for(context(tmp_path, "win32", OAHELPER_PORT="29000"))
    manager = Manager()
    assert install(plan, manager).ok
    raw = plan.path.read_bytes()
    assert raw.startswith(b"\xff\xfe"), "schtasks reads task XML as UTF-16"
    task = ET.fromstring(raw)
    assert task.find("t:Triggers/t:LogonTrigger/t:UserId", TASK_NS).text == "LAB\\ada"
    assert task.find("t:Principals/t:Principal/t:LogonType", TASK_NS).text == "InteractiveToken"
    exec_ = task.find("t:Actions/t:Exec", TASK_NS)
    assert exec_.find("t:Command", TASK_NS).text == r'"C:\Users\ada\oahelper\.venv\Scripts\pythonw.exe"'
    launcher = tmp_path / "oa home" / "data" / "service" / "oahelper-service.pyw"
    assert exec_.find("t:Arguments", TASK_NS).text == f'"{launcher}"'
    assert task.find("t:Settings/t:RestartOnFailure/t:Count", TASK_NS).text == "999"
    assert task.find("t:Settings/t:ExecutionTimeLimit", TASK_NS).text == "PT0S"
    assert manager.calls[1] == ("schtasks", "/Create", "/TN", "oahelper", "/XML", str(plan.path), "/F")
    manager.calls.clear()
    uninstall(plan, manager)
    assert ("schtasks", "/Delete", "/TN", "oahelper", "/F") in manager.calls
    assert not launcher.exists() and not launcher.parent.exists()


def test_the_windows_launcher_starts_the_helper_with_its_settings(tmp_path: Path) -> None:
    # The launcher is plain Python: run it here with this interpreter, as pythonw would.
    port = free_port()
    plan = plan_for(context(tmp_path, "win32", OAHELPER_PORT=str(port)))
    install(plan, Manager(present=False))
    launcher = next(p for p in plan.files() if p.suffix == ".pyw")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAHELPER_")}
    proc = subprocess.Popen([PYTHON, str(launcher)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = tmp_path / "oa home" / "data" / "service" / "oahelper.log"
    try:
        body = None
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=1) as answer:
                    body = json.loads(answer.read())
                break
            except OSError:
                if proc.poll() is not None:
                    break
                import time
                time.sleep(0.1)
        assert body and body["service"] == "oahelper", log.read_text() if log.exists() else "no log"
        assert f"data in {tmp_path / 'oa home' / 'data'}" in log.read_text()
    finally:
        stop(proc)


# The command on this machine


def _no_manager_env(tmp_path: Path) -> dict[str, str]:
    """The CLI's environment with no service manager on PATH: the test must never
    enable a real service in the developer's own session."""
    empty = tmp_path / "bin"
    empty.mkdir()
    return {"OAHELPER_HOME": str(tmp_path / "oa"), "HOME": str(tmp_path / "home"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"), "PATH": str(empty),
            "PYTHONPATH": os.environ.get("PYTHONPATH", "")}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the command's Linux path")
def test_service_install_status_uninstall_from_the_command_line(tmp_path: Path) -> None:
    env = _no_manager_env(tmp_path)
    unit = tmp_path / "config" / "systemd" / "user" / "oahelper.service"
    first = oahelper(["service", "install"], env)
    assert first.returncode == 0, first.stderr
    assert unit.exists() and f'"OAHELPER_HOME={tmp_path / "oa"}"' in unit.read_text()
    assert "systemctl --user daemon-reload" in first.stdout
    assert "systemctl --user enable --now oahelper.service" in first.stdout
    again = oahelper(["service", "install"], env)
    assert again.returncode == 0 and "already up to date" in again.stdout

    port = free_port()
    shown = oahelper(["service", "status"], {**env, "OAHELPER_PORT": str(port)})
    assert "installed (systemd user unit" in shown.stdout
    assert f"not answering on port {port}" in shown.stdout
    from tests.support.processes import daemon
    with daemon({**env, "PATH": os.environ["PATH"]}, port):
        shown = oahelper(["service", "status"], {**env, "OAHELPER_PORT": str(port)})
        assert f"running on port {port}" in shown.stdout
        doctor = oahelper(["doctor"], {**env, "OAHELPER_PORT": str(port)})
        assert "service: installed (systemd user unit" in doctor.stdout

    config = oahelper(["config", "set", "port", "29001"], env)
    assert config.returncode == 0
    gone = oahelper(["service", "uninstall"], env)
    assert gone.returncode == 0 and not unit.exists()
    assert (tmp_path / "oa" / "config" / "config.toml").exists(), "uninstall removed the user's settings"
    assert "not installed" in oahelper(["service", "status"], env).stdout
