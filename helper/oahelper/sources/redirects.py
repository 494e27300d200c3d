"""Where an upstream may send the daemon: the redirect rule of the sources' session.

An upstream's redirect is followed only within its own origin, or to a public
address; a redirect to loopback, a private network or any other non-public address
is not followed (a misconfigured or hostile upstream could otherwise make the helper
call local services and show their answer in an error). When the origin changes,
every header but User-Agent and Accept is dropped, so an API key (``x-apikey``) or
``Authorization`` never reaches another host.

The upstreams the user configured (the settings' ``*_url`` values) are trusted
origins: a self-hosted mirror on the local network works. ``UpstreamResolver``
enforces the rule where the connection is made (a name that resolves to a private
address is refused there, with no second DNS answer to differ); ``check_redirect``
enforces it for address literals, which no resolver sees.
"""

from __future__ import annotations

import ipaddress
import socket
import weakref
from collections.abc import Iterable, Mapping

import aiohttp
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult

from oahelper.errors import SourceError
from oahelper.net.policy import is_public_address, normalise_address

MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# What may follow a request to another origin.
PORTABLE_HEADERS = frozenset({"user-agent", "accept"})
Origin = tuple[str, str, int | None]
_TRUSTED: weakref.WeakKeyDictionary[aiohttp.ClientSession, frozenset[Origin]] = \
    weakref.WeakKeyDictionary()


def origin_of(url: yarl.URL) -> Origin:
    return (url.scheme, (url.host or "").lower(), url.port)


def trusted_origins(urls: Iterable[str | None]) -> frozenset[Origin]:
    """The origins of the configured upstream base URLs."""
    return frozenset(origin_of(yarl.URL(u)) for u in urls if u)


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return normalise_address(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


class UpstreamResolver(AbstractResolver):
    """The system's resolver, public addresses only for hosts that are not configured
    upstreams."""

    def __init__(self, trusted: frozenset[Origin], inner: AbstractResolver | None = None) -> None:
        self._trusted_hosts = frozenset(host for _, host, _ in trusted)
        self._inner = inner or aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if host.lower() in self._trusted_hosts:
            return results
        public = [r for r in results if (a := _literal(r["host"])) is not None and is_public_address(a)]
        if not public:
            raise OSError(f"{host} resolves only to non-public addresses")
        return public

    async def close(self) -> None:
        await self._inner.close()


def check_redirect(current: yarl.URL, target: yarl.URL, trusted: frozenset[Origin],
                   headers: Mapping[str, str]) -> dict[str, str]:
    """The headers to send to ``target``; SourceError when it may not be followed."""
    if target.scheme not in ("http", "https") or not target.host:
        raise SourceError(f"{current.host} redirected to something that is not a web address")
    if origin_of(target) == origin_of(current):
        return dict(headers)
    literal = _literal(target.host)
    if origin_of(target) not in trusted and literal is not None and not is_public_address(literal):
        raise SourceError(f"{current.host} redirected to {target.host}, which is not a public "
                          "address: not followed")
    return {k: v for k, v in headers.items() if k.lower() in PORTABLE_HEADERS}


def upstream_session(timeout: aiohttp.ClientTimeout, upstream_urls: Iterable[str | None]) -> aiohttp.ClientSession:
    """A session for the sources: no cookies, no environment proxy, and names resolved
    under the redirect rule (module docstring)."""
    trusted = trusted_origins(upstream_urls)
    session = aiohttp.ClientSession(
        timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
        connector=aiohttp.TCPConnector(resolver=UpstreamResolver(trusted)))
    _TRUSTED[session] = trusted
    return session


def trusted_for(session: aiohttp.ClientSession, url: yarl.URL) -> frozenset[Origin]:
    """The trusted origins of a session made by ``upstream_session``; for any other,
    only the origin of the request itself."""
    return _TRUSTED.get(session, frozenset({origin_of(url)}))


