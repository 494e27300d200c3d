"""The one helper that checks the API's error shape."""

from __future__ import annotations

from typing import Any


async def assert_error(resp: Any, status: int, code: str) -> dict[str, Any]:
    """Assert an API error: the status, the stable code, a message for humans, the headers."""
    assert resp.status == status, await resp.text()
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    body = await resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"].strip()
    return body["error"]
