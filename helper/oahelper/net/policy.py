"""Which addresses the daemon may connect to, and the limits of one fetch."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from oahelper import __version__

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressRule = Callable[[IPAddress], bool]

DEFAULT_USER_AGENT = f"oahelper/{__version__} (open-access lookup for one reader)"

# IPv6 prefixes that carry an IPv4 address inside: the IPv4 part decides.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def normalise_address(addr: IPAddress) -> IPAddress:
    """``::ffff:a.b.c.d`` as ``a.b.c.d``, so no rule can be dodged by the mapped form."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a NAT64 or 6to4 address leads to, if it is one."""
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return addr.sixtofour


def is_public_address(addr: IPAddress) -> bool:
    """True only for globally reachable unicast addresses.

    Refused: loopback, private (RFC 1918, ULA), shared (CGNAT), link-local,
    site-local, multicast, unspecified, reserved and documentation ranges, in IPv4
    and IPv6, including IPv4 inside IPv4-mapped, NAT64 and 6to4 addresses.
    """
    addr = normalise_address(addr)
    if isinstance(addr, ipaddress.IPv6Address):
        inner = _embedded_ipv4(addr)
        if inner is not None:
            return is_public_address(inner)
        if addr.is_site_local:
            return False
    refused = (addr.is_loopback or addr.is_private or addr.is_link_local
               or addr.is_multicast or addr.is_unspecified or addr.is_reserved)
    # is_global also excludes ranges the flags above miss (100.64.0.0/10).
    return addr.is_global and not refused


@dataclass(frozen=True)
class FetchPolicy:
    """The rules of one daemon-side fetch.

    ``is_allowed`` decides every address connected to (after DNS, on every
    redirect); ``timeout`` bounds the whole fetch, redirects included;
    ``max_bytes`` bounds the decompressed body.
    """

    is_allowed: AddressRule = is_public_address
    max_redirects: int = 5
    timeout: float = 10.0
    max_bytes: int = 5 * 1024 * 1024
    user_agent: str = DEFAULT_USER_AGENT
