"""Sources that keep failing are paused: nobody waits on a service that is down.

Three failures in a row (a refused connection, a 5xx, a timeout, an answer that is not
what the source documents) pause a source for a minute; each further pause doubles,
up to 30 minutes. During a pause no lookup asks it or waits for it (an expired cached
answer is still served, marked stale); the first success ends it and resets the count.
One ``Pauses`` serves the whole process (engine/build.py puts it in the plant), so a
settings reload does not forget that a source is down.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from oahelper.models import SourceAnswer

FAILURES_TO_PAUSE = 3
FIRST_PAUSE = 60.0
LONGEST_PAUSE = 30 * 60.0
# The error codes that say the service itself is in trouble. A 429 has its own rule
# (Retry-After), a refused key or e-mail is the user's to fix, our own politeness
# limit is no failure of theirs, and "not found" is an answer.
FAILURE_CODES = frozenset({"source_error", "source_timeout", "source_bad_response"})


@dataclass(frozen=True)
class Pause:
    """A source paused until ``until`` (a ``time.time()``, for people and for doctor in
    another process), and why. ``ends`` is the same moment on the monotonic clock,
    which decides: a clock set back by an hour does not make a pause an hour longer."""

    until: float
    reason: str  # the last failure, in the source's words
    ends: float = 0.0

    def words(self, label: str) -> str:
        """"paused after errors until 10:42 (Europe PMC answered HTTP 503)"."""
        when = time.strftime("%H:%M", time.localtime(self.until))
        said = self.reason if self.reason.startswith(label) else f"{label}: {self.reason}"
        return f"paused after errors until {when} ({said})"


class Pauses:
    """Consecutive failures per source, and the pauses they earned."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 on_pause: Callable[[str, Pause], None] | None = None, *,
                 wall: Callable[[], float] = time.time) -> None:
        self.clock = clock  # decides when a pause ends
        self.wall = wall  # says when, in words
        self.on_pause = on_pause  # told of each new pause (the cache keeps it for doctor)
        self._failures: dict[str, int] = {}
        self._pauses: dict[str, int] = {}  # how many pauses in a row: the next one's length
        self._paused: dict[str, Pause] = {}

    def paused(self, source: str) -> Pause | None:
        """The source's pause, while it lasts."""
        pause = self._paused.get(source)
        return pause if pause is not None and pause.ends > self.clock() else None

    def note(self, answer: SourceAnswer) -> None:
        """Count ``answer``: a failure towards a pause, an answer ends one."""
        if answer.state in ("ok", "not_found"):
            self._failures.pop(answer.source, None)
            self._pauses.pop(answer.source, None)
            self._paused.pop(answer.source, None)
            return
        if answer.state != "error" or answer.error_code not in FAILURE_CODES:
            return
        failures = self._failures.get(answer.source, 0) + 1
        self._failures[answer.source] = failures
        if failures >= FAILURES_TO_PAUSE:
            earlier = self._pauses.get(answer.source, 0)
            length = min(LONGEST_PAUSE, FIRST_PAUSE * 2 ** earlier)
            self._pauses[answer.source] = earlier + 1
            # After a pause one more failure pauses again (for twice as long).
            self._failures[answer.source] = FAILURES_TO_PAUSE - 1
            pause = Pause(self.wall() + length, answer.error or answer.error_code or "error",
                          ends=self.clock() + length)
            self._paused[answer.source] = pause
            if self.on_pause is not None:
                self.on_pause(answer.source, pause)

    def to_json(self, source: str, label: str) -> dict[str, object] | None:
        """What /v1/status and doctor show of a paused source, or None."""
        pause = self.paused(source)
        if pause is None:
            return None
        return {"until": pause.until, "reason": pause.reason, "words": pause.words(label)}
