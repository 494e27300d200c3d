"""A stand-in for the helper that answers as a test scripts it, for what the real one
does only by the timing of its upstreams: a lookup whose busy source is never done
(the extension must stop asking after its tries), a /v1/batch whose row is sent
again later (the references page must replace it). It speaks API 1 on 127.0.0.1,
takes any token, and counts what it is asked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VERSION = "0.1.0"
BUSY = {"state": "skipped", "ms": 0, "cached": False, "pending": True,
        "error": "Semantic Scholar was busy; asking again", "error_code": "source_busy"}

# What the script gives: the lookup payload for the n-th lookup (from 1), and the
# batch as steps: a line (a dict) to send, or an Event to wait for.
Lookup = Callable[[int], dict[str, Any]]
Step = dict[str, Any] | threading.Event


def payload(status: str, *, pending: tuple[str, ...] = (), references: list[dict[str, Any]] | None = None,
            tooltip: str = "", title: str = "A scripted article") -> dict[str, Any]:
    """A lookup payload of docs/api.md, with no copies."""
    return {
        "api": 1, "status": status, "oa_status": None,
        "article": {"doi": "10.5555/oahelper.scripted", "title": title, "authors": [], "isbn": []},
        "best": None, "locations": [], "actions": [],
        "badge": {"show": True, "color": "unknown" if status != "closed" else "closed", "text": "", "tooltip": tooltip},
        "sources": {"unpaywall": {"state": "not_found", "ms": 1, "cached": False}}
        | ({"semanticscholar": BUSY} if "semanticscholar" in pending else {}),
        "pending": list(pending), "references": references or [], "cached": False, "elapsed_ms": 1,
    }


class ScriptedHelper:
    def __init__(self, lookup: Lookup, batch: list[Step] | None = None) -> None:
        self.lookups = 0
        self.batch = batch or []
        helper = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/v1/health":
                    self.reply({"service": "oahelper", "version": VERSION, "api": 1})
                else:
                    self.reply({"error": {"code": "not_found", "message": "not scripted"}}, 404)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/v1/lookup":
                    helper.lookups += 1
                    self.reply(lookup(helper.lookups))
                elif self.path == "/v1/batch":
                    self.stream(helper.batch)
                else:
                    self.reply({"error": {"code": "not_found", "message": "not scripted"}}, 404)

            def head(self, status: int, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("X-OAHelper-Version", VERSION)
                self.send_header("Cache-Control", "no-store")
                origin = self.headers.get("Origin")
                if origin:
                    self.send_header("Access-Control-Allow-Origin", origin)

            def reply(self, body: dict[str, Any], status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.head(status, "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def stream(self, steps: list[Step]) -> None:
                self.head(200, "application/x-ndjson; charset=utf-8")
                self.send_header("Connection", "close")
                self.end_headers()
                for step in steps:
                    if isinstance(step, threading.Event):
                        step.wait(20)
                    else:
                        self.wfile.write(json.dumps(step).encode() + b"\n")
                        self.wfile.flush()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        for step in self.batch:
            if isinstance(step, threading.Event):
                step.set()
        self.server.shutdown()
        self.server.server_close()
