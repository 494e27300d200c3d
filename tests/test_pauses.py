"""A source that keeps failing is paused (engine/pauses.py): nobody waits on it.

Three failures in a row pause it for a minute, doubling up to 30; a paused source is
not asked and not waited for; one answer ends the pause; /v1/status and doctor say
"paused after errors until 10:42 (Europe PMC answered HTTP 500)".
"""

from __future__ import annotations

from typing import Any

from oahelper.engine.pauses import FIRST_PAUSE, LONGEST_PAUSE, Pauses
from oahelper.models import SourceAnswer
from tests.support.daemon import start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import THROTTLED_SOURCES, upstream_env
from tests.support.processes import oahelper

FAILED = SourceAnswer(source="europepmc", state="error", error_code="source_error",
                      error="Europe PMC answered HTTP 503")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_three_failures_in_a_row_pause_and_each_pause_doubles_up_to_thirty_minutes() -> None:
    clock = Clock()
    pauses = Pauses(clock, wall=clock)
    for _ in range(2):
        pauses.note(FAILED)
    assert pauses.paused("europepmc") is None
    pauses.note(FAILED)
    pause = pauses.paused("europepmc")
    assert pause is not None and pause.until == pause.ends == clock.now + FIRST_PAUSE
    assert pause.words("Europe PMC").startswith("paused after errors until ")
    assert pause.words("Europe PMC").endswith("(Europe PMC answered HTTP 503)")
    lengths = []
    for _ in range(8):  # after a pause, the next failure pauses again, twice as long
        clock.now = pauses.paused("europepmc").ends
        pauses.note(FAILED)
        lengths.append(pauses.paused("europepmc").ends - clock.now)
    assert lengths[:3] == [2 * FIRST_PAUSE, 4 * FIRST_PAUSE, 8 * FIRST_PAUSE]
    assert max(lengths) == LONGEST_PAUSE


def test_one_answer_ends_a_pause_and_other_trouble_is_not_a_failure() -> None:
    pauses = Pauses(Clock(), wall=Clock())
    for _ in range(3):
        pauses.note(FAILED)
    pauses.note(SourceAnswer(source="europepmc", state="not_found"))
    assert pauses.paused("europepmc") is None
    for code in ("source_rate_limited", "source_config", "source_throttled", "source_quota"):
        for _ in range(5):
            pauses.note(SourceAnswer(source="x", state="error", error_code=code, error="e"))
    assert pauses.paused("x") is None
    for _ in range(3):
        pauses.note(SourceAnswer(source="y", state="error", error_code="source_bad_response",
                                 error="Y sent JSON that is not a paper"))
    assert pauses.paused("y") is not None


async def test_a_failing_source_is_asked_three_times_then_paused_and_says_so(
        start_daemon, isolated_home) -> None:
    d = await start_daemon(disabled_sources=THROTTLED_SOURCES)
    d.upstream.plan("500", service="europepmc")
    answers = [await d.lookup_json({"doi": f"10.5555/pause.{n}"}) for n in range(6)]
    asked = {r["doi"] for r in d.upstream.requests if r["service"] == "europepmc"}
    # Three lookups' worth of failures (each with the adapter's own retries), then
    # nothing more while the pause lasts.
    assert asked == {f"10.5555/pause.{n}" for n in range(3)}
    paused = answers[-1]["sources"]["europepmc"]
    assert paused["state"] == "paused" and paused["error"].startswith("paused after errors until")
    assert "Europe PMC answered HTTP 500" in paused["error"]
    assert answers[-1]["sources"]["unpaywall"]["state"] == "not_found"  # the rest answer
    status: dict[str, Any] = await (await d.client.get("/v1/status", headers=d.auth)).json()
    assert status["sources"]["europepmc"]["paused"]["words"] == paused["error"]
    assert status["sources"]["unpaywall"]["paused"] is None
    env = {"OAHELPER_HOME": str(isolated_home), "OAHELPER_UNPAYWALL_EMAIL": "me@uni.edu",
           "OAHELPER_DISABLED_SOURCES": THROTTLED_SOURCES, "OAHELPER_TIMEOUT": "2"}
    doctor = oahelper(["doctor"], env | upstream_env(d.upstream_url)).stdout
    line = next(x for x in doctor.splitlines() if "europepmc" in x)
    assert "paused after errors until" in line and "Europe PMC answered HTTP 500" in line


def test_a_clock_set_back_does_not_lengthen_a_pause() -> None:
    """The monotonic clock decides; the wall clock only says when, in words."""
    monotonic, wall = Clock(), Clock()
    pauses = Pauses(monotonic, wall=wall)
    for _ in range(3):
        pauses.note(FAILED)
    wall.now -= 3600  # someone sets the system clock back an hour
    monotonic.now += FIRST_PAUSE
    assert pauses.paused("europepmc") is None
