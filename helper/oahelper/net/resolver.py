"""The resolver that enforces the address policy, and the sessions built around it.

aiohttp connects to what the resolver returns, so filtering here means the address
checked is the address connected to: there is no second lookup a rebinding DNS
server could answer differently. Every session the daemon talks to the network
with comes from ``make_session``: this resolver, no cookie jar (a server cannot
plant a cookie the next request carries) and no proxy from the environment (a proxy
would connect where nothing was checked).
"""

from __future__ import annotations

import socket
import weakref

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from oahelper.net.policy import AddressPolicy, AddressRule, HostPort, literal_address

# Sessions made by make_session and the policy their resolver enforces.
_SESSION_POLICIES: weakref.WeakKeyDictionary[aiohttp.ClientSession, AddressPolicy] = (
    weakref.WeakKeyDictionary())


class AddressRefused(OSError):
    """Every address a host resolved to is refused by the policy.

    An ``OSError`` so that aiohttp treats it like any resolver failure;
    ``redirects.py`` turns it into ``FetchRefused``.
    """

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} resolves only to non-public addresses (loopback, private "
                         "or reserved), which the helper does not connect to")
        self.host = host


class PolicyResolver(AbstractResolver):
    """Wraps another resolver and drops every address the policy refuses.

    ``is_allowed`` decides the addresses of every host but the ``(host, port)`` pairs
    of ``allow_private_hosts``, which keep all their addresses.
    """

    def __init__(self, is_allowed: AddressRule, inner: AbstractResolver,
                 allow_private_hosts: frozenset[HostPort] = frozenset()) -> None:
        self.policy = AddressPolicy(is_allowed, allow_private_hosts)
        self._inner = inner

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        """The inner resolver's answers the policy allows; AddressRefused if none."""
        allowed = [r for r in await self._inner.resolve(host, port, family)
                   if self._allows(host, port, r["host"])]
        if not allowed:
            raise AddressRefused(host)
        return allowed

    def _allows(self, host: str, port: int, answer: str) -> bool:
        try:
            addr = literal_address(answer)
        except ValueError:
            addr = None
        # A resolver that answers with something not an address is not trusted.
        return addr is not None and self.policy.allows(host, port, addr)

    async def close(self) -> None:
        await self._inner.close()


def make_session(policy: AddressPolicy, *, timeout: aiohttp.ClientTimeout,
                 resolver: AbstractResolver | None = None) -> aiohttp.ClientSession:
    """A session whose every connection goes to an address ``policy`` allows.

    Make one per app and close it in cleanup. ``resolver`` (default: the system's
    getaddrinfo) answers DNS; whatever it returns is filtered by the policy. An
    injected resolver stays the caller's to close.
    """
    inner = resolver if resolver is not None else aiohttp.ThreadedResolver()
    connector = aiohttp.TCPConnector(
        resolver=PolicyResolver(policy.is_allowed, inner, policy.allow_private_hosts))
    session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                    trust_env=False, timeout=timeout)
    _SESSION_POLICIES[session] = policy
    return session


def session_policy(session: aiohttp.ClientSession) -> AddressPolicy | None:
    """The policy a session from ``make_session`` enforces; None for any other session,
    which checks nothing when it resolves a name."""
    return _SESSION_POLICIES.get(session)
