"""Pathological pages: one small unit of markup repeated until the page is large.

A scraper that rescans or copies the rest of the page at every repetition is
quadratic, and a 100 KB page then holds a core for seconds. ``NAMED_SHAPES`` are the
shapes a red-team review found (issue 8) and ones found since; ``shapes()`` is a
hypothesis strategy that builds new ones from the same parts: a context (where the
repetition sits: head, a script, an attribute value, the body…), a unit of one to
three atoms (openers, markers, quotes, brackets…) and the page's address (some
addresses switch site rules on).

``work(shape, size)`` measures what scraping it costs: CPU seconds (best of a few
runs: other processes only ever add time) and peak Python memory (tracemalloc).
Tests compare the work at two sizes (linear: the ratio of sizes; quadratic: its
square); scripts/bench prints the times.
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass

from hypothesis import strategies as st

from oahelper.errors import ScrapeError
from oahelper.scrape import scrape


@dataclass(frozen=True)
class Shape:
    """``prefix + unit * n + suffix``, with n chosen so that the page is ``size`` long."""

    name: str
    prefix: str
    unit: str
    suffix: str = ""
    url: str | None = "https://journal.example.org/article/1"

    def page(self, size: int) -> str:
        room = max(0, size - len(self.prefix) - len(self.suffix))
        return self.prefix + self.unit * max(1, room // max(1, len(self.unit))) + self.suffix


HEAD = "<html><head>"
BODY = "<html><head></head><body>"
TAGGED = '<html><head><meta name="citation_doi" content="10.1234/abc">'

NAMED_SHAPES: tuple[Shape, ...] = (
    # Issue 8: a script in the body full of markers the page cut looks for.
    Shape("meta markers in a script", BODY + "<script>", "<meta ", "</script>"),
    Shape("ld+json markers in a script", BODY + "<script>", "ld+json ", "</script>"),
    Shape("Z3988 markers in a script", BODY + "<script>", '<span class="Z3988" ', "</script>"),
    Shape("unclosed <title>", HEAD, "<title>x"),
    Shape("<meta without >", HEAD, "<meta a"),
    Shape("unbalanced quote in <meta>", HEAD, '<meta name="x '),
    Shape("unbalanced quote in <link>", HEAD, '<link rel="canonical" href="x '),
    Shape("unclosed JSON-LD scripts", BODY, '<script type="application/ld+json">{'),
    # Found since, by the strategy below or by reading the code.
    Shape("nested headings", BODY, "<h2>x", "10.1234/abc"),
    Shape("nested JSON-LD graphs", HEAD + '<script type="application/ld+json">',
          '{"@graph":[', "</script>"),
    Shape("charset declarations", HEAD, "charset "),
    Shape("DOI with closing brackets", BODY + "10.1234/x", ")"),
    Shape("DOI prefixes", TAGGED + '<meta name="prism.doi" content="', "doi:", '10.1234/x">'),
    Shape("percent-encoded percent", BODY + "doi 10.1234/x%", "25", "41"),
    Shape("view suffixes in the canonical link", HEAD + '<link rel="canonical" href="https://x.org/doi/10.1234/x',
          "/full", '">'),
    Shape("title separators", HEAD + '<meta name="dc.identifier" content="10.1234/x"><title>', "a | ",
          "</title>"),
    Shape("issue labels", TAGGED + "</head><body>", "issue date "),
    Shape("e-mail with dots", HEAD + '<meta name="citation_author_email" content="a@', "b.", '@">'),
    Shape("IEEE metadata markers", BODY + "<script>", "xplGlobal.document.metadata = {",
          url="https://ieeexplore.ieee.org/document/1"),
    Shape("ScienceDirect state openers", BODY,
          '<script type="application/json" data-iso-key="a">',
          url="https://www.sciencedirect.com/science/article/pii/S1"),
    Shape("PubMed DOI links", BODY, '<a href="https://doi.org/10.1/x" data-ga-action="D',
          url="https://pubmed.ncbi.nlm.nih.gov/1/"),
    Shape("many rel= in a link", HEAD + "<link ", "rel=", ">"),
    Shape("one long citation_reference", HEAD + '<meta name="citation_reference" content="citation_title=a',
          "; citation_author=b ", '">'),
    Shape("many citation_reference tags", HEAD, '<meta name="citation_reference" content="doi:10.1/x">'),
    # Linear, but each element kept cost BeautifulSoup ~40 µs and ~1 KB: 10 s and
    # 350 MiB at 2.5 MB (the strategy below found the first one).
    Shape("bare meta tags in a paragraph", BODY + "<p>", "><meta ", "</p>"),
    Shape("one meta tag a reader wants, repeated", HEAD, '<meta name="citation_author" content="a">'),
    Shape("many titles", HEAD, "<title>a</title>"),
    Shape("many alternate links", HEAD, '<link rel="alternate" href="a">'),
    Shape("many COinS spans", BODY, '<span class="Z3988" title="a"></span>'),
    Shape("many JSON-LD scripts", BODY, '<script type="application/ld+json">{}</script>'),
    # Every "<" of a title was tried as the start of each inline tag name: 2 s at 2.5 MB.
    Shape("'<' in a title", HEAD + "<title>", "<", "</title>"),
    Shape("'<' in a meta title", HEAD + '<meta name="citation_title" content="', "<", '">'),
)

# --- A strategy for new shapes ------------------------------------------------------

# Where the repetition sits: (name, prefix, suffix).
CONTEXTS = (
    ("raw", "", ""),
    ("head", HEAD, ""),
    ("head, closed", HEAD, "</head><body></body></html>"),
    ("head script", HEAD + "<script>", "</script></head>"),
    ("meta content", HEAD + '<meta name="citation_title" content="', '">'),
    ("title", HEAD + "<title>", "</title>"),
    ("canonical href", HEAD + '<link rel="canonical" href="https://x.org/', '">'),
    ("body", BODY, ""),
    ("body script", BODY + "<script>", "</script>"),
    ("JSON-LD", BODY + '<script type="application/ld+json">', "</script>"),
    ("paragraph", BODY + "<p>", "</p>"),
)
# Pieces that make the scraper look, search or copy.
ATOMS = (
    "<meta ", "<META ", "<meta", "<link ", '<link rel="canonical" href="', "<script>",
    '<script type="application/ld+json">', "</script>", "<title>", "</title>", "<style>",
    "<!--", "-->", '<span class="Z3988" title="', "Z3988", "ld+json", "LD+JSON", "<base href=",
    '<a href="https://doi.org/10.1234/x" data-ga-action="DOI"', "data-iso-key=",
    'type="application/json"', "xplGlobal.document.metadata = {", "charset=", "<meta charset=",
    '"', "'", "=", ">", "<", " ", "\n", "doi:", "10.1234/", "10.1234/x", ")", "(", "%25", "/full",
    "v2", "<h2>", "<h3>References", '<div class="references">', "issue date ",
    "Published in issue ", "{", "[", "}", "]", '{"@graph":[', '"identifier":"', "rel=",
    'name="citation_doi" content="', 'name="citation_author_email" content="', "[at]", "@", ".",
    "a", " | ", "&nbsp;", "\u00a0", "<body>", "</head>", "<head>", "rft_id=info:doi/10.1234/x&",
    "</a>", "<br>", "<b>", "<div>", "<font size=7>", "By A B and ",
)
URLS = (
    None, "https://journal.example.org/article/1", "https://pubmed.ncbi.nlm.nih.gov/1/",
    "https://www.sciencedirect.com/science/article/pii/S1", "https://ieeexplore.ieee.org/document/1",
    "https://arxiv.org/abs/1706.03762", "https://x.org/doi/10.1234/x/full",
)


@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    """A context, a unit of one to three atoms and an address."""
    name, prefix, suffix = draw(st.sampled_from(CONTEXTS))
    atoms = draw(st.lists(st.sampled_from(ATOMS), min_size=1, max_size=3))
    unit = "".join(atoms)
    url = draw(st.sampled_from(URLS))
    return Shape(f"{name}: {unit!r}", prefix, unit, suffix, url)


# --- Measuring -------------------------------------------------------------------------

def scrape_quietly(shape: Shape, page: str) -> None:
    try:
        scrape(shape.url, page)
    except ScrapeError:
        pass


def cpu_seconds(shape: Shape, size: int, runs: int = 3) -> float:
    """The least CPU time of ``runs`` scrapes of the shape at ``size``."""
    page = shape.page(size)
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        scrape_quietly(shape, page)
        best = min(best, time.process_time() - started)
    return best


def peak_bytes(shape: Shape, size: int) -> int:
    """Peak Python memory allocated while scraping the shape at ``size``, page excluded."""
    page = shape.page(size)
    tracemalloc.start()
    try:
        scrape_quietly(shape, page)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
