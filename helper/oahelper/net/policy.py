"""Which addresses the daemon may connect to, and the limits of one page fetch.

The rule, for every connection the daemon makes (a page, an upstream API, a link):

- a host that is an IP literal must be written canonically (``127.1`` or
  ``2130706433`` is refused, not guessed at);
- the address connected to must be public: loopback, private, shared, link-local,
  site-local, multicast, unspecified and reserved addresses are refused, IPv4 and
  IPv6, including IPv4 carried inside IPv6 (IPv4-mapped, NAT64, 6to4);
- except for the ``(host, port)`` pairs of an allow-list, which may reach any
  address: ``allow_private_hosts`` for pages (an intranet repository; empty by
  default), the configured upstream base URLs for the sources (a self-hosted mirror
  on the local network).

``AddressPolicy`` is that rule; ``resolver.py`` enforces it on what DNS answers and
``redirects.py`` on literal addresses, which never reach a resolver.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from yarl import URL

from oahelper import __version__

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressRule = Callable[[IPAddress], bool]
# A host as it stands in a URL (lower case, IPv6 without brackets) and a port.
HostPort = tuple[str, int]

DEFAULT_USER_AGENT = f"oahelper/{__version__} (open-access lookup for one reader)"

# IPv6 prefixes that carry an IPv4 address inside: the IPv4 part decides.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def normalise_address(addr: IPAddress) -> IPAddress:
    """``::ffff:a.b.c.d`` as ``a.b.c.d``, so no rule can be dodged by the mapped form."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` is, normalised; None when it is a name to resolve.

    The one place a host is told from an IP literal. It mirrors aiohttp's own test
    (a colon, or only digits and dots), because aiohttp connects to such a host
    without asking any resolver: so it must parse as a canonical address here, or
    ValueError (``127.1``, ``2130706433``, ``017700000001`` would otherwise reach
    the operating system unchecked, which reads them as 127.0.0.1).
    """
    bare = host.strip("[]")
    if ":" not in bare and not bare.replace(".", "").isdigit():
        return None
    return normalise_address(ipaddress.ip_address(bare))


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


def host_port(url: URL) -> HostPort:
    """The ``(host, port)`` a URL connects to, as the allow-list spells it."""
    return ((url.raw_host or "").lower(), url.port or 0)


def host_ports(urls: Iterable[str | None]) -> frozenset[HostPort]:
    """The ``(host, port)`` pairs of some URLs (None and "" skipped): an allow-list."""
    return frozenset(host_port(URL(u)) for u in urls if u)


def parse_host_ports(pairs: Iterable[str]) -> frozenset[HostPort]:
    """``host:port`` strings (the ``allow_private_hosts`` setting: ``repo.intranet:8080``,
    ``[fd00::1]:443``) as an allow-list; ValueError for one without a port."""
    out: set[HostPort] = set()
    for pair in pairs:
        host, sep, port = pair.strip().rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"not a host:port pair: {pair!r}")
        out.add((host.strip("[]").lower(), int(port)))
    return frozenset(out)


def _normalised(pairs: frozenset[HostPort]) -> frozenset[HostPort]:
    return frozenset((host.strip("[]").lower(), port) for host, port in pairs)


@dataclass(frozen=True)
class AddressPolicy:
    """Which address a connection to ``(host, port)`` may go to.

    A pair in ``allow_private_hosts`` may reach any address; every other host only
    the addresses ``is_allowed`` accepts (by default the public ones).
    """

    is_allowed: AddressRule = is_public_address
    allow_private_hosts: frozenset[HostPort] = field(default=frozenset())

    def __post_init__(self) -> None:
        # Compared with hosts as URLs carry them, so spell the entries the same way.
        object.__setattr__(self, "allow_private_hosts", _normalised(self.allow_private_hosts))

    def allows(self, host: str, port: int, addr: IPAddress) -> bool:
        """May a connection to ``host:port`` go to ``addr``?"""
        if (host.strip("[]").lower(), port) in self.allow_private_hosts:
            return True
        return self.is_allowed(normalise_address(addr))


@dataclass(frozen=True)
class FetchPolicy:
    """The rules of one daemon-side page fetch.

    ``is_allowed`` decides every address connected to (after DNS, on every
    redirect); ``timeout`` bounds the whole fetch, redirects included;
    ``max_bytes`` bounds the decompressed body.
    """

    is_allowed: AddressRule = is_public_address
    max_redirects: int = 5
    timeout: float = 10.0
    max_bytes: int = 5 * 1024 * 1024
    user_agent: str = DEFAULT_USER_AGENT
