"""A small web for the browser tests of link checks: one threaded HTTP server on
127.0.0.1 that serves an article page per test, plays Unpaywall for that article
(a record composed from the project's own green fixture, its copies moved onto this
server), and answers each copy's link as the test says: a PDF of the article, its
landing page, a bot check, a 404, a paywall. A copy can be held back until the test
releases it, so that the helper's first answer has its link checks still running
(``pending: ["links"]``) and a later one has them done.

The helper reaches it through ``allow_private_hosts`` (``LinkWeb.allow``) with
``verify_links`` on (``links_env``); nothing else in the browser suite checks links.
"""

from __future__ import annotations

import copy
import html
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.support.shared import OWN_FIXTURES
from tests.test_links_pdf import minimal_pdf

DOI_PREFIX = "10.5555/oahelper.links."
# What a copy gives when its link is opened; the helper's verdict follows from the bytes.
KINDS = ("pdf", "landing", "challenge", "gone", "paywall")
# Longest a held copy waits for release(): under the helper's 10 s fetch deadline, so a
# test that forgets to release still gets an answer, not an error.
HOLD_SECONDS = 8.0
VERSIONS = ("publishedVersion", "acceptedVersion", "submittedVersion")


@dataclass
class Article:
    name: str
    copies: tuple[str, ...]
    held: threading.Event = field(default_factory=threading.Event)
    hold: bool = False

    @property
    def doi(self) -> str:
        return DOI_PREFIX + self.name

    @property
    def title(self) -> str:
        return f"Soil carbon under long-term farming, case {self.name}"

    def meta(self) -> str:
        return (f'<meta name="citation_title" content="{html.escape(self.title)}">'
                f'<meta name="citation_doi" content="{self.doi}">')


class LinkWeb:
    def __init__(self) -> None:
        self.articles: dict[str, Article] = {}
        self.asked: list[str] = []
        web = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                web.asked.append(self.path)
                status, content_type, body = web.answer(urlsplit(self.path).path)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        for article in self.articles.values():
            article.held.set()
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def allow(self) -> str:
        """The helper's ``allow_private_hosts``: this server, and nothing else."""
        return f"127.0.0.1:{self.port}"

    # --- what a test sets up --------------------------------------------------------

    def article(self, name: str, copies: tuple[str, ...], hold: bool = False) -> Article:
        """An article whose copies give ``copies`` (KINDS, best first); ``hold``: every
        copy answers only once released."""
        assert name not in self.articles and all(k in KINDS for k in copies)
        self.articles[name] = article = Article(name, copies, hold=hold)
        if not hold:
            article.held.set()
        return article

    def page_url(self, article: Article) -> str:
        return f"{self.url}/article/{article.name}"

    def copy_url(self, article: Article, index: int) -> str:
        return f"{self.url}/copy/{article.name}/{index}"

    def release(self, article: Article) -> None:
        article.held.set()

    # --- what is served -------------------------------------------------------------

    def answer(self, path: str) -> tuple[int, str, bytes]:
        parts = path.strip("/").split("/")
        if parts[0] == "article" and len(parts) == 2 and parts[1] in self.articles:
            return 200, "text/html; charset=utf-8", self.page(self.articles[parts[1]])
        if parts[0] == "v2":  # Unpaywall: /v2/{doi}?email=…
            doi = unquote("/".join(parts[1:]))
            article = self.articles.get(doi.removeprefix(DOI_PREFIX)) if doi.startswith(DOI_PREFIX) else None
            if article is None:
                return 404, "text/html", b"<title>404 Not Found</title>"
            return 200, "application/json", json.dumps(self.record(article)).encode()
        if parts[0] == "copy" and len(parts) == 3 and parts[1] in self.articles:
            article = self.articles[parts[1]]
            article.held.wait(HOLD_SECONDS)
            return self.copy(article, article.copies[int(parts[2])])
        return 404, "text/html", b"<title>404 Not Found</title>"

    def page(self, article: Article) -> bytes:
        title = html.escape(article.title)
        return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
                f"{article.meta()}</head><body><h1>{title}</h1><p>Written for oahelper's link "
                "tests.</p></body></html>").encode()

    def copy(self, article: Article, kind: str) -> tuple[int, str, bytes]:
        title = html.escape(article.title)
        head = f"<head><title>{title}</title>{article.meta()}</head>"
        if kind == "pdf":
            return 200, "application/pdf", minimal_pdf([article.title, f"doi:{article.doi}"])
        if kind == "landing":
            return 200, "text/html", f"<html>{head}<body><h1>{title}</h1></body></html>".encode()
        if kind == "challenge":  # Cloudflare's managed challenge, as its pages carry it
            return 403, "text/html", (b"<html><head><title>Just a moment...</title></head><body>"
                                      b"<script>window._cf_chl_opt={cType:'managed'};</script></body></html>")
        if kind == "paywall":
            body = f"<html>{head}<body><h1>{title}</h1><button>Buy article</button></body></html>"
            return 200, "text/html", body.encode()
        return 404, "text/html", b"<html><head><title>Page not found</title></head></html>"

    def record(self, article: Article) -> dict[str, Any]:
        """The own green record, made this article's, with one location per copy."""
        record = json.loads((OWN_FIXTURES / "unpaywall" / "200_10.5555_oahelper.green.2013.json").read_text())
        template = record["best_oa_location"]
        locations = []
        for index, kind in enumerate(article.copies):
            url = self.copy_url(article, index)
            location = copy.deepcopy(template) | {
                "is_best": index == 0, "url": url, "endpoint_id": f"links-{index}",
                "url_for_pdf": url if kind == "pdf" else None,
                "url_for_landing_page": None if kind == "pdf" else url,
                "repository_institution": f"Repository {index + 1}",
                "version": VERSIONS[min(index, len(VERSIONS) - 1)],
            }
            locations.append(location)
        return record | {"doi": article.doi, "doi_url": f"https://doi.org/{article.doi}",
                         "title": article.title, "best_oa_location": locations[0],
                         "oa_locations": locations}


def links_env(web: LinkWeb) -> dict[str, str]:
    """A helper that opens the copies' links on this web: Unpaywall alone (played by
    the web), link checks on, waiting one second for them before it answers."""
    return {
        "OAHELPER_UNPAYWALL_URL": web.url,
        "OAHELPER_DISABLED_SOURCES": "snapshot,europepmc,crossref,semanticscholar,openalex,arxiv,oab,free_by_id",
        "OAHELPER_VERIFY_LINKS": "true",
        "OAHELPER_ALLOW_PRIVATE_HOSTS": web.allow(),
        "OAHELPER_LINK_CHECK_SECONDS": "1",
    }
