"""The scraper's work grows linearly with the page, whatever the page holds.

Each pathological shape (tests/support/pathological.py: the red-team review's
shapes, the ones found since, and new ones a hypothesis strategy builds) is scraped
at a size and at eight times that size. Linear work grows eightfold; quadratic work
(a rescan or a copy of the rest of the page at every repetition) sixty-fourfold.
The bound sits between the two, far from both: CPU time is the best of three runs
(other processes only ever add to it) with a floor of a millisecond so that timer
noise on a tiny figure cannot fail the test, and memory is tracemalloc's peak,
which does not depend on the machine's load. No wall-clock threshold: how fast is
for scripts/bench.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.support.pathological import NAMED_SHAPES, Shape, cpu_seconds, peak_bytes, shapes

SMALL, GROWTH = 16_000, 8
# Linear: 8; quadratic: 64.
BOUND = 24
TIME_FLOOR = 0.001
MEMORY_FLOOR = 64 * 1024


def assert_linear(shape: Shape) -> None:
    big = SMALL * GROWTH
    small_time, big_time = cpu_seconds(shape, SMALL), cpu_seconds(shape, big)
    assert big_time <= BOUND * max(small_time, TIME_FLOOR), (
        f"{shape.name}: {small_time * 1000:.1f} ms at {SMALL} chars, "
        f"{big_time * 1000:.1f} ms at {big}")
    small_memory, big_memory = peak_bytes(shape, SMALL), peak_bytes(shape, big)
    assert big_memory <= BOUND * max(small_memory, MEMORY_FLOOR), (
        f"{shape.name}: {small_memory} bytes at {SMALL} chars, {big_memory} at {big}")


@pytest.mark.parametrize("shape", NAMED_SHAPES, ids=lambda shape: shape.name)
def test_known_pathological_shapes_cost_work_linear_in_their_size(shape: Shape) -> None:
    assert_linear(shape)


@settings(derandomize=True, database=None, deadline=None, max_examples=30,
          suppress_health_check=[HealthCheck.too_slow])
@given(shape=shapes())
def test_any_repeated_shape_costs_work_linear_in_its_size(shape: Shape) -> None:
    assert_linear(shape)


def test_the_named_shapes_still_read_a_page() -> None:
    """The shapes are pages the scraper reads (not refused before any work): a page
    that carries a DOI tag before the repetition still gives that DOI."""
    from oahelper.scrape import scrape

    shape = next(s for s in NAMED_SHAPES if s.name == "DOI prefixes")
    assert scrape(shape.url, shape.page(SMALL)).doi == "10.1234/abc"
