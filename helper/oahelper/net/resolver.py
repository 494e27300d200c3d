"""A DNS resolver that only ever hands aiohttp addresses the policy allows.

aiohttp connects to what the resolver returns, so filtering here means the
address checked is the address connected to: there is no second lookup a
rebinding DNS server could answer differently.
"""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult

from oahelper.net.policy import AddressRule, normalise_address


class AddressRefused(OSError):
    """Every address a host resolved to is refused by the policy.

    An ``OSError`` so that aiohttp treats it like any resolver failure; the
    fetch module turns it into ``FetchRefused``.
    """

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} resolves only to addresses that may not be fetched")
        self.host = host


class PolicyResolver(AbstractResolver):
    """Wraps another resolver and drops every address ``is_allowed`` refuses."""

    def __init__(self, is_allowed: AddressRule, inner: AbstractResolver) -> None:
        self._is_allowed = is_allowed
        self._inner = inner

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        """The inner resolver's answers the policy allows; AddressRefused if none."""
        allowed = [r for r in await self._inner.resolve(host, port, family)
                   if self._allows(r["host"])]
        if not allowed:
            raise AddressRefused(host)
        return allowed

    def _allows(self, host: str) -> bool:
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            # A resolver that answers with something not an address is not trusted.
            return False
        return self._is_allowed(normalise_address(addr))

    async def close(self) -> None:
        await self._inner.close()
