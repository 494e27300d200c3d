"""Is an e-mail address one a person could read? Unpaywall refuses the ones that are not."""

from __future__ import annotations

import re

# RFC 2606/6761 names can never receive mail; "your-university.edu" is the example
# oahelper's own messages give, so pasting it unchanged must not pass for a real address.
RESERVED_DOMAINS = ("example.com", "example.org", "example.net", "your-university.edu")
RESERVED_TLDS = ("example", "test", "invalid", "localhost")
_SHAPE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def is_placeholder_email(email: str) -> bool:
    """True for an address that cannot be anybody's: no ``@``, or a reserved domain."""
    local, _, domain = email.strip().rpartition("@")
    domain = domain.lower().rstrip(".")
    if not local or not domain:
        return True
    if domain in RESERVED_DOMAINS or any(domain.endswith("." + d) for d in RESERVED_DOMAINS):
        return True
    return domain.rsplit(".", 1)[-1] in RESERVED_TLDS


def email_problem(email: str) -> str | None:
    """Why ``email`` will not do for Unpaywall, in plain words, or None."""
    if not _SHAPE.match(email.strip()):
        return f"{email!r} is not an e-mail address"
    if is_placeholder_email(email):
        return f"{email!r} is a placeholder address, which Unpaywall refuses: give your own"
    return None
