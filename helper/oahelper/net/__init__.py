"""The daemon's one network-safety stack: every page fetch, upstream call and link check.

A URL the daemon opens may come from a web page the user visits, and an upstream may
redirect anywhere, so a hostile page or server could aim the daemon at the user's own
machine or network (SSRF): the router's admin page, a dev server on localhost, a
cloud metadata service. Hence, for every connection and every redirect hop:

- only http and https;
- only public addresses (``policy.py``): loopback, private, shared, link-local,
  site-local, multicast, unspecified and reserved addresses are refused, IPv4 and
  IPv6, including IPv4-mapped/NAT64/6to4 forms and literal IPs in the URL; only the
  ``(host, port)`` pairs of an allow-list may reach a private address (for pages
  ``allow_private_hosts``, empty by default; for the sources, their configured
  base URLs);
- the connection goes to the address that was checked: the session's resolver
  filters what DNS returns (``resolver.py``), so a rebinding DNS answer cannot slip
  in between;
- redirects followed a few times at most, each checked again, and headers other
  than User-Agent and Accept dropped when the origin changes (``redirects.py``);
- no cookies (a server cannot plant one the next request carries), no env proxy;
- one deadline for the whole request, and a cap on the decompressed body.

Pages (``client.py``): at most 5 redirects, 10 s, 5 MiB. The sources use the same
pieces with their own limits (``sources/http.py``).
"""

from oahelper.net.client import FetchedPage, fetch_page, fetch_session_policy, make_fetch_session
from oahelper.net.policy import (
    AddressPolicy,
    AddressRule,
    FetchPolicy,
    HostPort,
    IPAddress,
    host_port,
    host_ports,
    is_public_address,
    literal_address,
    parse_host_ports,
)
from oahelper.net.redirects import Followed, follow, host_of, read_capped
from oahelper.net.resolver import (
    AddressRefused,
    PolicyResolver,
    make_session,
    session_policy,
)

__all__ = [
    "AddressPolicy", "AddressRefused", "AddressRule", "FetchPolicy", "FetchedPage", "Followed",
    "HostPort", "IPAddress", "PolicyResolver", "fetch_page", "fetch_session_policy", "follow",
    "host_of", "host_port", "host_ports", "is_public_address", "literal_address",
    "make_fetch_session", "make_session", "parse_host_ports", "read_capped", "session_policy",
]
