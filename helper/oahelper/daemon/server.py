"""The daemon's HTTP server: aiohttp's, with two rules of the trust boundaries added (README, "Security").

- A request aiohttp cannot parse (a request line or header over 8 KB, a bad
  character) gets no answer: the connection is closed, as for a web page's request
  (daemon/app.py ``guard``). aiohttp would answer 400 before any middleware runs, which would
  tell a page that the daemon runs; and its log line would quote the bad line, which
  may hold a token.
- The access log has the method, the path without its query string (a refused
  ``?token=`` stays out), escaped (logtext.py), the status, the size and the time.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from oahelper.logtext import printable

log = logging.getLogger(__name__)


class EscapedAccessLogger(AbstractAccessLogger):
    """One line per request; nothing a page or a client wrote is logged unescaped."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        version = request.version
        self.logger.info('%s "%s %s HTTP/%s.%s" %s %s %.3fs', request.remote,
                         printable(request.method, 20), printable(request.rel_url.raw_path),
                         version.major, version.minor, response.status, response.body_length, time)


class QuietRequestHandler(RequestHandler):
    """aiohttp's connection handler, dropping what it cannot parse (module docstring)."""

    __slots__ = ()

    def handle_error(self, request: web.BaseRequest, status: int = 500,
                     exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if not isinstance(exc, HttpProcessingError):
            return super().handle_error(request, status, exc, message)
        log.info("dropped a request that could not be parsed (%s)", type(exc).__name__)
        if self.transport is not None:
            self.transport.abort()
        response = web.Response(status=status)  # never sent: the connection is gone
        response.force_close()
        return response


class QuietServer(web.Server):
    """Makes a QuietRequestHandler for each connection."""

    def __call__(self) -> RequestHandler:
        return QuietRequestHandler(self, loop=self._loop, **self._kwargs)


class DaemonRunner(web.AppRunner):
    """AppRunner whose server is a QuietServer, logging with EscapedAccessLogger."""

    def __init__(self, app: web.Application) -> None:
        super().__init__(app, access_log_class=EscapedAccessLogger)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # The Application builds a plain Server (Application._make_handler); the only
        # difference a QuietServer makes is which handler class __call__ builds.
        server.__class__ = QuietServer
        return server
