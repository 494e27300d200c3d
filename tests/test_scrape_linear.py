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

Linear is not enough when each repetition costs much: a page of nothing but
"<meta>" was linear and still took 10 s and 350 MiB at 2.5 MB, since every element
kept went into a BeautifulSoup tree. So the tree the extractors read is bounded
whatever the page holds, each meta name is read a bounded number of times, and the
memory a page costs is a fixed part (that tree) plus a little per character.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from oahelper.scrape import scrape
from oahelper.scrape.article import MAX_TAGS_PER_NAME, read_filter
from oahelper.scrape.document import MAX_ELEMENTS, Page
from oahelper.text import MAX_PLAIN
from tests.support.pathological import NAMED_SHAPES, Shape, cpu_seconds, peak_bytes, shapes

SMALL, GROWTH = 16_000, 8
# Linear: 8; quadratic: 64.
BOUND = 24
TIME_FLOOR = 0.001
MEMORY_FLOOR = 64 * 1024
# The fixed part is the metadata tree (at most MAX_ELEMENTS elements, about a KB
# each). With these, the largest body the daemon accepts (max_body, 8 MiB) is read
# well within the default page memory budget (page_memory_mb, 256 MiB).
FIXED_MEMORY = 8 * 2**20
MEMORY_PER_CHAR = 16
BOUNDED_SIZE = 256_000
# <html>, <head> and <body> around what the page cut keeps.
WRAPPERS = 3


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


def assert_bounded(shape: Shape) -> None:
    page = Page(shape.url, shape.page(BOUNDED_SIZE), wanted=read_filter())
    elements = len(page.tree.find_all(True))
    assert elements <= MAX_ELEMENTS + WRAPPERS, f"{shape.name}: {elements} elements parsed"
    memory = peak_bytes(shape, BOUNDED_SIZE)
    assert memory <= FIXED_MEMORY + MEMORY_PER_CHAR * BOUNDED_SIZE, (
        f"{shape.name}: {memory / 2**20:.1f} MiB for {BOUNDED_SIZE} chars")


@pytest.mark.parametrize("shape", NAMED_SHAPES, ids=lambda shape: shape.name)
def test_known_pathological_shapes_parse_a_bounded_tree_in_bounded_memory(shape: Shape) -> None:
    assert_bounded(shape)


@settings(derandomize=True, database=None, deadline=None, max_examples=30,
          suppress_health_check=[HealthCheck.too_slow])
@given(shape=shapes())
def test_any_repeated_shape_parses_a_bounded_tree_in_bounded_memory(shape: Shape) -> None:
    assert_bounded(shape)


def test_a_meta_name_is_read_a_bounded_number_of_times_and_the_rest_still_counts() -> None:
    """More author tags than any real page has: the first MAX_TAGS_PER_NAME are read,
    and the DOI and title tagged after them still are."""
    authors = "".join(f'<meta name="citation_author" content="Author {n}">'
                      for n in range(MAX_TAGS_PER_NAME + 500))
    html = (f"<html><head>{authors}<meta name=\"citation_doi\" content=\"10.1234/abc\">"
            '<meta name="citation_title" content="After the authors"></head></html>')
    article = scrape("https://journal.example.org/a", html)
    assert article.doi == "10.1234/abc" and article.title == "After the authors"
    assert len(article.authors) == MAX_TAGS_PER_NAME
    assert article.authors[:2] == ("Author 0", "Author 1")


@pytest.mark.parametrize("where", ["<title>{}</title>", '<meta name="citation_title" content="{}">'])
def test_a_title_is_read_up_to_a_bounded_length(where: str) -> None:
    """No title is a megabyte long; one that is (markup-like, so each "<" would be tried
    as an inline tag) is cut, not cleaned whole."""
    title = "A<b " * 100_000
    html = f'<html><head><meta name="citation_doi" content="10.1234/abc">{where.format(title)}</head></html>'
    article = scrape("https://journal.example.org/a", html)
    assert article.doi == "10.1234/abc"
    assert article.title and article.title.startswith("A<b A<b") and len(article.title) <= MAX_PLAIN


def test_the_named_shapes_still_read_a_page() -> None:
    """The shapes are pages the scraper reads (not refused before any work): a page
    that carries a DOI tag before the repetition still gives that DOI."""
    shape = next(s for s in NAMED_SHAPES if s.name == "DOI prefixes")
    assert scrape(shape.url, shape.page(SMALL)).doi == "10.1234/abc"
