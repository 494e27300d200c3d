"""Fetching one HTML page: its session, and what makes a fetched body a page."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import aiohttp
from aiohttp import hdrs
from aiohttp.abc import AbstractResolver

from oahelper.errors import FetchError
from oahelper.net.policy import AddressPolicy, FetchPolicy, HostPort
from oahelper.net.redirects import REDIRECT_STATUSES, follow, host_of, read_capped
from oahelper.net.resolver import make_session, session_policy

DEFAULT_POLICY = FetchPolicy()

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"

# Sessions made by make_fetch_session. A page fetch takes no other: the sources'
# session lets their configured upstreams be private, which a page must not inherit.
_PAGE_SESSIONS: weakref.WeakSet[aiohttp.ClientSession] = weakref.WeakSet()


@dataclass(frozen=True)
class FetchedPage:
    """A fetched HTML page. ``charset`` is the Content-Type header's, if any."""

    url: str
    status: int
    content_type: str
    charset: str | None
    body: bytes = field(repr=False)


def make_fetch_session(policy: FetchPolicy = DEFAULT_POLICY, *,
                       resolver: AbstractResolver | None = None,
                       allow_private_hosts: frozenset[HostPort] = frozenset(),
                       ) -> aiohttp.ClientSession:
    """A session for ``fetch_page`` whose every connection goes to an address
    ``policy`` allows, or to one of the ``allow_private_hosts`` (host, port) pairs.

    Make one per app and close it in cleanup. ``resolver`` (default: the system's
    getaddrinfo) answers DNS; whatever it returns is filtered by the policy. An
    injected resolver stays the caller's to close.
    """
    session = make_session(AddressPolicy(policy.is_allowed, allow_private_hosts),
                           timeout=aiohttp.ClientTimeout(total=policy.timeout), resolver=resolver)
    _PAGE_SESSIONS.add(session)
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
    addresses = fetch_session_policy(session, policy)
    headers: dict[str, str] = {hdrs.USER_AGENT: policy.user_agent, hdrs.ACCEPT: ACCEPT}
    async with follow(session, url, policy=addresses, headers=headers,
                      max_redirects=policy.max_redirects, timeout=policy.timeout) as followed:
        return await _read_page(followed.response, policy)


def fetch_session_policy(session: aiohttp.ClientSession, policy: FetchPolicy) -> AddressPolicy:
    """The address policy ``session`` enforces, which must be ``policy``'s; ValueError
    for a session not from ``make_fetch_session`` (pages and link checks take no other)."""
    bound = session_policy(session)
    if bound is None or session not in _PAGE_SESSIONS:
        raise ValueError("pages and link checks need a session from make_fetch_session(): another "
                         "may not check the addresses it connects to, or allow private "
                         "ones a page must not reach")
    if bound.is_allowed is not policy.is_allowed:
        raise ValueError("the session was made for a different address rule than this fetch")
    return bound


async def _read_page(resp: aiohttp.ClientResponse, policy: FetchPolicy) -> FetchedPage:
    where = host_of(resp.url)  # not the whole URL: its query may carry a token
    if resp.status in REDIRECT_STATUSES:
        raise FetchError(f"{where} redirected (HTTP {resp.status}) without a Location")
    if not 200 <= resp.status < 300:
        raise FetchError(f"{where} answered HTTP {resp.status} {resp.reason or ''}".rstrip(),
                         code="fetch_http_status")
    declared = hdrs.CONTENT_TYPE in resp.headers
    if declared and resp.content_type not in HTML_TYPES:
        raise FetchError(f"{where} sent {resp.content_type}, not an HTML page",
                         code="fetch_not_html")
    body = await read_capped(resp, policy.max_bytes)
    if not declared and not _looks_like_html(body):
        raise FetchError(f"{where} sent no Content-Type and nothing like HTML",
                         code="fetch_not_html")
    return FetchedPage(url=str(resp.url), status=resp.status,
                       content_type=resp.content_type if declared else "text/html",
                       charset=resp.charset, body=body)


def _looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html"))
