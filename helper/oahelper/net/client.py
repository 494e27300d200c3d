"""Fetching one page: the session factory, the redirect loop and the caps."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import weakref
from dataclasses import dataclass, field

import aiohttp
from aiohttp import hdrs
from aiohttp.abc import AbstractResolver
from yarl import URL

from oahelper.errors import FetchError, FetchRefused
from oahelper.net.policy import FetchPolicy, IPAddress, normalise_address
from oahelper.net.resolver import AddressRefused, PolicyResolver

DEFAULT_POLICY = FetchPolicy()

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
READ_CHUNK = 64 * 1024

# Sessions made by make_fetch_session and the policy their resolver enforces.
_SESSION_POLICIES: weakref.WeakKeyDictionary[aiohttp.ClientSession, FetchPolicy] = (
    weakref.WeakKeyDictionary())


@dataclass(frozen=True)
class FetchedPage:
    """A fetched HTML page. ``charset`` is the Content-Type header's, if any."""

    url: str
    status: int
    content_type: str
    charset: str | None
    body: bytes = field(repr=False)


def make_fetch_session(policy: FetchPolicy = DEFAULT_POLICY, *,
                       resolver: AbstractResolver | None = None) -> aiohttp.ClientSession:
    """A session whose every connection goes to an address ``policy`` allows.

    Make one per app and close it in cleanup. ``resolver`` (default: the system's
    getaddrinfo) answers DNS; whatever it returns is filtered by the policy. An
    injected resolver stays the caller's to close.
    """
    inner = resolver if resolver is not None else aiohttp.ThreadedResolver()
    connector = aiohttp.TCPConnector(resolver=PolicyResolver(policy.is_allowed, inner))
    session = aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),  # a page's cookies never come back
        trust_env=False,  # an environment proxy would connect where we did not check
        timeout=aiohttp.ClientTimeout(total=policy.timeout),
    )
    _SESSION_POLICIES[session] = policy
    return session


async def fetch_page(url: str, session: aiohttp.ClientSession | None = None, *,
                     policy: FetchPolicy = DEFAULT_POLICY) -> FetchedPage:
    """GET an HTML page under ``policy``, following checked redirects.

    Raises FetchRefused for a URL or redirect the policy forbids and FetchError
    (codes fetch_timeout, fetch_too_large, fetch_too_many_redirects,
    fetch_http_status, fetch_not_html, fetch_failed) for everything else.
    """
    if session is None:
        async with make_fetch_session(policy) as own:
            return await fetch_page(url, own, policy=policy)
    _check_session(session, policy)
    start = _parse_url(url)
    try:
        async with asyncio.timeout(policy.timeout):
            return await _follow(start, session, policy)
    except TimeoutError as exc:
        raise _timed_out(start, policy) from exc


def _check_session(session: aiohttp.ClientSession, policy: FetchPolicy) -> None:
    bound = _SESSION_POLICIES.get(session)
    if bound is None:
        raise ValueError("fetch_page needs a session from make_fetch_session(): "
                         "other sessions do not check the addresses they connect to")
    if bound.is_allowed is not policy.is_allowed:
        raise ValueError("the session was made for a different address rule than this fetch")


def _parse_url(url: str) -> URL:
    try:
        return URL(url)
    except (ValueError, TypeError) as exc:
        raise FetchRefused(f"not a valid URL: {url!r}") from exc


async def _follow(url: URL, session: aiohttp.ClientSession, policy: FetchPolicy) -> FetchedPage:
    """Request ``url``, re-checking scheme and address before every hop."""
    for _ in range(policy.max_redirects + 1):
        _check_url(url, policy)
        try:
            async with session.get(
                url,
                allow_redirects=False,  # aiohttp's own redirects would skip _check_url
                headers={hdrs.USER_AGENT: policy.user_agent, hdrs.ACCEPT: ACCEPT},
                timeout=aiohttp.ClientTimeout(total=policy.timeout),
            ) as resp:
                if resp.status in REDIRECT_STATUSES:
                    url = _redirect_target(resp)
                    continue
                return await _read_page(resp, policy)
        except (aiohttp.ClientError, OSError) as exc:
            raise _translate(exc, url, policy) from exc
    raise FetchError(f"more than {policy.max_redirects} redirects, stopped at {url}",
                     code="fetch_too_many_redirects")


def _check_url(url: URL, policy: FetchPolicy) -> None:
    """Refuse a scheme other than http(s), and a literal IP the policy refuses.

    Host names are checked by the session's resolver; literal IPs never reach it.
    """
    if url.scheme not in ("http", "https"):
        raise FetchRefused(f"only http and https pages can be fetched, not {url}")
    host = url.raw_host
    if not host:
        raise FetchRefused(f"the URL has no host: {url}")
    addr = _literal_address(host)
    if addr is not None and not policy.is_allowed(normalise_address(addr)):
        raise FetchRefused(f"{url} points at {addr}, a loopback, private or reserved "
                           "address the daemon does not fetch")


def _literal_address(host: str) -> IPAddress | None:
    """The IP a host is, or None for a name.

    Mirrors aiohttp's own test (a colon, or only digits and dots): such a host is
    connected to without DNS, so it must parse as a canonical address here or be
    refused (``127.1`` or ``2130706433`` would otherwise reach the OS unchecked).
    """
    if ":" not in host and not host.replace(".", "").isdigit():
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError as exc:
        raise FetchRefused(f"{host} is not a canonical IP address") from exc


def _redirect_target(resp: aiohttp.ClientResponse) -> URL:
    location = resp.headers.get(hdrs.LOCATION)
    if not location:
        raise FetchError(f"{resp.url} redirected (HTTP {resp.status}) without a Location")
    try:
        target = resp.url.join(URL(location))
    except ValueError as exc:
        raise FetchError(f"{resp.url} redirected to an invalid URL: {location!r}") from exc
    return target.with_fragment(None)


async def _read_page(resp: aiohttp.ClientResponse, policy: FetchPolicy) -> FetchedPage:
    if not 200 <= resp.status < 300:
        raise FetchError(f"{resp.url} answered HTTP {resp.status} {resp.reason or ''}".rstrip(),
                         code="fetch_http_status")
    declared = hdrs.CONTENT_TYPE in resp.headers
    if declared and resp.content_type not in HTML_TYPES:
        raise FetchError(f"{resp.url} is {resp.content_type}, not an HTML page",
                         code="fetch_not_html")
    # Content-Length counts encoded bytes; it only tells the decoded size when there is no encoding.
    if (hdrs.CONTENT_ENCODING not in resp.headers and resp.content_length is not None
            and resp.content_length > policy.max_bytes):
        raise _too_large(resp, policy)
    body = await _read_capped(resp, policy)
    if not declared and not _looks_like_html(body):
        raise FetchError(f"{resp.url} has no Content-Type and does not look like HTML",
                         code="fetch_not_html")
    return FetchedPage(url=str(resp.url), status=resp.status,
                       content_type=resp.content_type if declared else "text/html",
                       charset=resp.charset, body=body)


async def _read_capped(resp: aiohttp.ClientResponse, policy: FetchPolicy) -> bytes:
    """The decompressed body, holding at most max_bytes + 1 bytes before refusing."""
    body = bytearray()
    while chunk := await resp.content.read(min(READ_CHUNK, policy.max_bytes + 1 - len(body))):
        body += chunk
        if len(body) > policy.max_bytes:
            raise _too_large(resp, policy)
    return bytes(body)


def _too_large(resp: aiohttp.ClientResponse, policy: FetchPolicy) -> FetchError:
    resp.close()  # drop the connection rather than drain an endless body
    return FetchError(f"{resp.url} is larger than {policy.max_bytes} bytes",
                      code="fetch_too_large")


def _looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _timed_out(url: URL, policy: FetchPolicy) -> FetchError:
    return FetchError(f"{url} did not answer within {policy.timeout:g} s", code="fetch_timeout")


def _translate(exc: BaseException, url: URL, policy: FetchPolicy) -> FetchError:
    """One FetchError for an aiohttp or socket failure while fetching ``url``."""
    if isinstance(exc, aiohttp.ClientSSLError):
        # Checked first: the certificate variant carries no os_error.
        return FetchError(f"TLS with {url.host} failed: {exc}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, AddressRefused):
            return FetchRefused(f"{url.host} resolves only to loopback, private or reserved "
                                "addresses, which the daemon does not fetch")
        if isinstance(exc.os_error, socket.gaierror):
            return FetchError(f"could not resolve {url.host}")
        return FetchError(f"could not connect to {url.host}: {exc.os_error}")
    if isinstance(exc, TimeoutError):
        return _timed_out(url, policy)
    if isinstance(exc, aiohttp.InvalidURL):
        return FetchRefused(f"not a valid URL: {url}")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return FetchError(f"the body of {url} arrived broken: {exc}")
    return FetchError(f"fetching {url} failed: {exc}")
