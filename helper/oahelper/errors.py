"""The one small error tree of oahelper.

Every error the project raises on purpose is an ``OAHelperError``. Each class has a
stable ``code`` (what the HTTP API puts in ``{"error": {"code": …}}``) and the HTTP
``status`` the daemon answers with. Library exceptions (aiohttp, lxml, sqlite3,
keyring) are translated once, in the module that talks to the library, with
``raise … from exc``.

    OAHelperError                 internal (500)
    ├── BadRequest                bad_request (400): malformed JSON, wrong field types
    ├── Unauthorized              unauthorized (401): no token, unknown or revoked token
    ├── Forbidden                 forbidden (403): Host or Origin not allowed
    ├── NotFoundError             not_found (404): no such endpoint
    ├── MethodNotAllowed          method_not_allowed (405)
    ├── PayloadTooLarge           body_too_large (413)
    ├── UnsupportedMediaType      unsupported_media_type (415): body is not application/json
    ├── RateLimited               rate_limited (429)
    ├── ConfigError               config (500): a setting has a value that cannot work
    │   └── PortTaken             port_taken: the daemon's port is in use (exit code 1)
    ├── ReadingListError          bad_reading_list (400): a reading list file cannot be read
    ├── KeyringUnavailable        keyring_unavailable (503): no OS keyring backend works
    ├── ScrapeError               bad_html (422): the only error the scraper lets escape
    │   └── PageOverBudget        page_budget: reading the page took more time or memory
    │                             than one page may (engine/pages.py); the lookup says why
    ├── FetchError                fetch_failed (502): the daemon could not fetch a URL (net/;
    │   │                         the sources turn it into a SourceError)
    │   └── FetchRefused          fetch_refused (400): URL scheme or address not allowed
    ├── SnapshotError             snapshot (503): the local Unpaywall snapshot cannot be used
    │   └── SnapshotBusy          snapshot_busy: another process is importing into it
    └── SourceError               source_error (502): an upstream gave no usable answer
        ├── SourceTimeout         source_timeout
        ├── SourceRateLimited     source_rate_limited (carries retry_after seconds)
        ├── SourceThrottled       source_throttled: our own politeness limit left no slot
        │                         before the lookup's deadline (the source is "skipped")
        ├── SourceRetired         source_retired: the service was shut down
        ├── SourceConfigProblem   source_config: e.g. Unpaywall's 422 for a bad e-mail
        └── SourceBadResponse     source_bad_response: an answer that cannot be parsed (any
                                  JSON or XML failure, too deep nesting included) or lacks
                                  the shape its source's recordings show (sources/http.py
                                  ``require``); an adapter's own bug reading an answer is
                                  ``internal`` instead. Neither is ever an "ok" answer
"""

from __future__ import annotations


class OAHelperError(Exception):
    """Base of every error oahelper raises on purpose."""

    code: str = "internal"
    status: int = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_json(self) -> dict[str, dict[str, str]]:
        """The API's one error shape."""
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(OAHelperError):
    code = "bad_request"
    status = 400


class Unauthorized(OAHelperError):
    code = "unauthorized"
    status = 401


class Forbidden(OAHelperError):
    code = "forbidden"
    status = 403


class NotFoundError(OAHelperError):
    code = "not_found"
    status = 404


class MethodNotAllowed(OAHelperError):
    code = "method_not_allowed"
    status = 405


class PayloadTooLarge(OAHelperError):
    code = "body_too_large"
    status = 413


class UnsupportedMediaType(OAHelperError):
    code = "unsupported_media_type"
    status = 415


class RateLimited(OAHelperError):
    code = "rate_limited"
    status = 429


class ConfigError(OAHelperError):
    code = "config"
    status = 500


class PortTaken(ConfigError):
    code = "port_taken"


class ReadingListError(OAHelperError):
    code = "bad_reading_list"
    status = 400


class KeyringUnavailable(OAHelperError):
    code = "keyring_unavailable"
    status = 503


class ScrapeError(OAHelperError):
    code = "bad_html"
    status = 422


class PageOverBudget(ScrapeError):
    code = "page_budget"


class FetchError(OAHelperError):
    code = "fetch_failed"
    status = 502


class FetchRefused(FetchError):
    code = "fetch_refused"
    status = 400


class SnapshotError(OAHelperError):
    code = "snapshot"
    status = 503


class SnapshotBusy(SnapshotError):
    code = "snapshot_busy"


class SourceError(OAHelperError):
    code = "source_error"
    status = 502


class SourceTimeout(SourceError):
    code = "source_timeout"


class SourceRateLimited(SourceError):
    code = "source_rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourceThrottled(SourceError):
    code = "source_throttled"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourceRetired(SourceError):
    code = "source_retired"


class SourceConfigProblem(SourceError):
    code = "source_config"


class SourceBadResponse(SourceError):
    code = "source_bad_response"
