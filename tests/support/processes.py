"""Start the real daemon and the fake upstream as processes, and stop them by PID."""

from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from tests.support.shared import REPO

PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def oahelper(args: Sequence[str], env: Mapping[str, str], *, input: str | None = None,
             timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run one oahelper command like a user would, and capture what it says."""
    return subprocess.run([PYTHON, "-m", "oahelper", *args], env=dict(env), input=input,
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)


@contextmanager
def running(args: Sequence[str], env: Mapping[str, str], ready: str,
            timeout: float = 30) -> Iterator[tuple[subprocess.Popen[str], re.Match[str]]]:
    """Start a process, wait for the stdout line matching ``ready``, stop it after.

    Its stderr goes to a temporary file, not a pipe: a chatty daemon must never block
    on a pipe nobody reads.
    """
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([PYTHON, *args], env=dict(env), cwd=REPO, text=True,
                                stdout=subprocess.PIPE, stderr=err)
        try:
            match = _wait_for(proc, ready, timeout, err)
            yield proc, match
        finally:
            stop(proc)


def stop(proc: subprocess.Popen | None) -> None:
    """End a process we started: SIGTERM by its PID, SIGKILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def _wait_for(proc: subprocess.Popen[str], ready: str, timeout: float,
              err: IO[str]) -> re.Match[str]:
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
            break
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(ready, line)
        if match:
            return match
    err.seek(0)
    raise RuntimeError(f"{proc.args} did not print {ready!r}: {''.join(seen)}{err.read()}")


@contextmanager
def fake_upstream(env: Mapping[str, str], *, delay: float = 0.0,
                  log: Path | None = None, fail: Sequence[str] = ()) -> Iterator[str]:
    """The fake Unpaywall/OAB server as a process; yields its base URL. ``fail``:
    ``SERVICE:KIND`` plans (``europepmc:500``: every Europe PMC request fails)."""
    args = ["-m", "tests.support.fake_upstream", "--port", "0", "--delay", str(delay)]
    if log is not None:
        args += ["--log", str(log)]
    for plan in fail:
        args += ["--fail", plan]
    with running(args, env, r"listening on (http://127\.0\.0\.1:\d+)") as (_, match):
        yield match.group(1)


@contextmanager
def daemon(env: Mapping[str, str], port: int) -> Iterator[subprocess.Popen[str]]:
    """``oahelper serve`` on ``port``, stopped (SIGTERM) afterwards."""
    with running(["-m", "oahelper", "serve", "--port", str(port)], env, r"listening on") as (proc, _):
        yield proc
