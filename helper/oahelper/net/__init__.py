"""The daemon fetching a page itself (CLI lookups, pages the extension could not read).

The URL comes from a web page the user visits, so a hostile page could aim the
daemon at the user's own machine or network (SSRF): the router's admin page, a
dev server on localhost, a cloud metadata service. Hence, for every hop:

- only http and https;
- the host's addresses are decided by an injectable rule, by default public
  addresses only: loopback, private, shared, link-local, site-local, multicast,
  unspecified and reserved addresses are refused, IPv4 and IPv6, including
  IPv4-mapped/NAT64/6to4 forms and literal IPs in the URL;
- the connection goes to the address that was checked: the session's resolver
  filters what DNS returns, so a rebinding DNS answer cannot slip in between;
- at most 5 redirects, each checked again (scheme and address);
- no cookies (a page cannot plant one the next request carries), no env proxy;
- 10 s for the whole fetch and 5 MiB of decompressed body, reading stops at the cap.
"""

from oahelper.net.client import FetchedPage, fetch_page, make_fetch_session
from oahelper.net.policy import FetchPolicy, is_public_address
from oahelper.net.resolver import AddressRefused, PolicyResolver

__all__ = [
    "AddressRefused", "FetchPolicy", "FetchedPage", "PolicyResolver",
    "fetch_page", "is_public_address", "make_fetch_session",
]
