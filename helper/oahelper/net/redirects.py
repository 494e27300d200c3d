"""One GET and its redirects, under the address policy: the rule every request keeps.

- Only http and https; a host that is an IP literal is checked against the policy
  here (no resolver sees it), a name by the session's resolver when it connects.
- A 301, 302, 303, 307 or 308 with a Location is followed, at most
  ``max_redirects`` times, and its target is checked exactly like the first URL.
  A redirect status without a Location is the final answer; the caller decides.
- When the origin (scheme, host, port) changes, every header but User-Agent and
  Accept is dropped, so an API key or ``Authorization`` never reaches another host.
- One deadline covers every hop and the reading of the final body.
- aiohttp's and the socket's exceptions become ``FetchError``s here, once, with
  ``raise … from exc``; the messages name the host, never the whole URL (a query
  can carry an API key).

``follow`` opens the final answer for the caller to read and says which URLs led
there; ``read_capped`` reads a body within a size cap.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp import hdrs
from yarl import URL

from oahelper.errors import FetchError, FetchRefused
from oahelper.net.policy import AddressPolicy, literal_address
from oahelper.net.resolver import AddressRefused

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# What may follow a request to another origin.
PORTABLE_HEADERS = frozenset({"user-agent", "accept"})
READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Followed:
    """Where a GET ended: every URL requested (the first first, the final last) and
    the final answer, open until the ``follow`` block ends."""

    hops: tuple[URL, ...]
    response: aiohttp.ClientResponse

    @property
    def url(self) -> URL:
        return self.hops[-1]


def host_of(url: URL) -> str:
    """The host (and a non-default port) for messages."""
    host = url.host or "?"
    return f"{host}:{url.port}" if url.port and not url.is_default_port() else host


@asynccontextmanager
async def follow(session: aiohttp.ClientSession, url: str | URL, *, policy: AddressPolicy,
                 headers: Mapping[str, str], max_redirects: int, timeout: float,
                 stop_at_limit: bool = False) -> AsyncIterator[Followed]:
    """GET ``url`` with ``session`` (made for ``policy``), following checked redirects.

    Read the final answer inside the block; the deadline and the translation of
    errors cover that reading too. Raises FetchRefused for a URL the policy forbids
    and FetchError (codes fetch_timeout, fetch_too_many_redirects, fetch_failed) for
    everything else. ``stop_at_limit``: when the redirects run out, the last redirect
    is the final answer (its Location not followed) instead of fetch_too_many_redirects,
    for a caller that tells a loop from a long chain by the hops (a link check).
    """
    first = current = parse_url(url)
    hops: list[URL] = []
    sent = dict(headers)
    try:
        async with asyncio.timeout(timeout):
            for hop in range(max_redirects + 1):
                check_url(current, policy)
                hops.append(current)
                # aiohttp's own redirects would skip check_url.
                async with session.get(current, headers=sent, allow_redirects=False) as resp:
                    target = _redirect_target(resp)
                    if target is None or (stop_at_limit and hop == max_redirects):
                        yield Followed(tuple(hops), resp)
                        return
                sent = _headers_for(current, target, sent)
                current = target
            raise FetchError(f"{host_of(first)} redirected more than {max_redirects} times, "
                             f"stopped at {host_of(current)}", code="fetch_too_many_redirects")
    except TimeoutError as exc:
        # Also aiohttp's own timeouts, which are TimeoutErrors too.
        raise FetchError(f"{host_of(first)} did not answer within {timeout:.1f} s",
                         code="fetch_timeout") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise _translate(exc, current) from exc


def parse_url(url: str | URL) -> URL:
    """``url`` as a URL; FetchRefused when it is not one."""
    try:
        return url if isinstance(url, URL) else URL(url)
    except (ValueError, TypeError) as exc:
        raise FetchRefused("not a valid URL") from exc


def check_url(url: URL, policy: AddressPolicy) -> None:
    """Refuse a scheme other than http(s), and a literal IP the policy refuses.

    Host names are checked by the session's resolver; literal IPs never reach it.
    """
    if url.scheme not in ("http", "https"):
        kind = f"{url.scheme}:" if url.scheme else "relative"
        raise FetchRefused(f"only http and https URLs are fetched, not {kind} URLs")
    host = url.raw_host
    if not host:
        raise FetchRefused("the URL has no host")
    try:
        addr = literal_address(host)
    except ValueError as exc:
        raise FetchRefused(f"{host} is not a canonical IP address") from exc
    if addr is not None and not policy.allows(host, url.port or 0, addr):
        raise FetchRefused(f"{url.host} is a non-public address (loopback, private or "
                           "reserved), which the helper does not connect to")


def _redirect_target(resp: aiohttp.ClientResponse) -> URL | None:
    """Where a redirect leads; None when ``resp`` is no redirect to follow."""
    location = resp.headers.get(hdrs.LOCATION)
    if resp.status not in REDIRECT_STATUSES or not location:
        return None
    try:
        target = resp.url.join(URL(location))
    except ValueError as exc:
        raise FetchError(f"{host_of(resp.url)} redirected to an invalid URL") from exc
    return target.with_fragment(None)


def _origin(url: URL) -> tuple[str, str, int | None]:
    return (url.scheme, (url.raw_host or "").lower(), url.port)


def _headers_for(current: URL, target: URL, headers: Mapping[str, str]) -> dict[str, str]:
    """The headers that may go along from ``current`` to ``target``."""
    if _origin(target) == _origin(current):
        return dict(headers)
    return {k: v for k, v in headers.items() if k.lower() in PORTABLE_HEADERS}


async def read_capped(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """The decompressed body, holding at most max_bytes + 1 bytes before refusing
    (FetchError fetch_too_large). Call it inside the ``follow`` block."""
    # Content-Length counts encoded bytes; it tells the decoded size only without an encoding.
    if (hdrs.CONTENT_ENCODING not in resp.headers and resp.content_length is not None
            and resp.content_length > max_bytes):
        raise _too_large(resp, max_bytes)
    body = bytearray()
    while chunk := await resp.content.read(min(READ_CHUNK, max_bytes + 1 - len(body))):
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(resp, max_bytes)
    return bytes(body)


def _too_large(resp: aiohttp.ClientResponse, max_bytes: int) -> FetchError:
    resp.close()  # drop the connection rather than drain an endless body
    return FetchError(f"{host_of(resp.url)} sent more than {max_bytes} bytes",
                      code="fetch_too_large")


def _translate(exc: aiohttp.ClientError | OSError, url: URL) -> FetchError:
    """One FetchError for an aiohttp or socket failure while requesting ``url``."""
    where = host_of(url)
    if isinstance(exc, aiohttp.ClientSSLError):
        # Checked first: the certificate variant carries no os_error.
        return FetchError(f"TLS with {where} failed: {exc}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        err = exc.os_error
        if isinstance(err, AddressRefused):
            return FetchRefused(str(err))
        if isinstance(err, socket.gaierror):
            return FetchError(f"could not reach {where}: could not resolve {url.host} "
                              f"({err.strerror or err})")
        # errno names a refused or unreachable connection plainly.
        reason = os.strerror(err.errno) if err.errno and err.errno > 0 else (
            err.strerror or str(err))
        return FetchError(f"could not reach {where}: {reason}")
    if isinstance(exc, aiohttp.InvalidURL):
        return FetchRefused(f"not a valid URL for {where}")
    return FetchError(f"{where} broke off the answer: {exc or type(exc).__name__}")
