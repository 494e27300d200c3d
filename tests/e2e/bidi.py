"""A small WebDriver BiDi client (https://w3c.github.io/webdriver-bidi/) for the
Firefox tests, over aiohttp's websocket: Firefox speaks BiDi itself, so neither
geckodriver nor a second test language is needed.

The tests are synchronous, like the Chromium ones, and Playwright's sync API keeps an
event loop of its own in the main thread; so the websocket lives on an asyncio loop in
a thread of its own, and `command()` blocks the test until the answer comes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Callable
from typing import Any

import aiohttp

COMMAND_TIMEOUT = 30.0


class BiDiError(Exception):
    """The browser answered a command with an error."""

    def __init__(self, method: str, error: str, message: str) -> None:
        super().__init__(f"{method}: {error}: {message}")
        self.error = error


class BiDi:
    """One BiDi session: commands in, answers and events out."""

    def __init__(self, ws_url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="bidi", daemon=True)
        self._thread.start()
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._run(self._connect(ws_url), timeout=COMMAND_TIMEOUT)

    def _run(self, coro: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _connect(self, ws_url: str) -> None:
        self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(ws_url, max_msg_size=0, timeout=aiohttp.ClientWSTimeout(ws_close=5))
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            future = self._pending.pop(data.get("id"), None) if "id" in data else None
            if future is not None and not future.done():
                future.set_result(data)
            elif data.get("type") == "event":
                for listener in list(self._listeners):
                    listener(data["method"], data["params"])
        for future in self._pending.values():  # the browser went away
            if not future.done():
                future.set_exception(ConnectionError("the browser closed the BiDi connection"))

    async def _send(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        number = next(self._ids)
        future = self._loop.create_future()
        self._pending[number] = future
        await self._ws.send_str(json.dumps({"id": number, "method": method, "params": params}))
        return await future

    def command(self, method: str, params: dict[str, Any] | None = None,
                timeout: float = COMMAND_TIMEOUT) -> dict[str, Any]:
        """Send one command; its result, or BiDiError."""
        answer = self._run(self._send(method, params or {}), timeout)
        if answer.get("type") == "error":
            raise BiDiError(method, answer.get("error", "?"), answer.get("message", ""))
        return answer["result"]

    def on_event(self, listener: Callable[[str, dict[str, Any]], None]) -> None:
        """Call listener(method, params) for every event (on the client's thread)."""
        self._listeners.append(listener)

    def close(self) -> None:
        async def shut() -> None:
            await self._ws.close()
            await self._session.close()
            self._reader.cancel()

        try:
            self._run(shut(), timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)


def value(remote: dict[str, Any]) -> Any:
    """A BiDi RemoteValue as a Python value (nodes and other handles stay as they are)."""
    kind, v = remote.get("type"), remote.get("value")
    if kind in ("undefined", "null"):
        return None
    if kind == "number" and isinstance(v, str):
        return {"NaN": float("nan"), "-0": -0.0, "Infinity": float("inf"), "-Infinity": float("-inf")}[v]
    if kind in ("string", "number", "boolean"):
        return v
    if kind in ("array", "set"):
        return [value(item) for item in v or []]
    if kind in ("object", "map"):
        return {(k if isinstance(k, str) else json.dumps(value(k))): value(item) for k, item in v or []}
    return remote  # node, window, function, …: a handle for later calls


def local(arg: Any) -> dict[str, Any]:
    """A Python value as a BiDi LocalValue (a handle from `value` passes as itself)."""
    if isinstance(arg, dict) and ("sharedId" in arg or "handle" in arg):
        return {k: arg[k] for k in ("sharedId", "handle") if k in arg}
    if arg is None:
        return {"type": "null"}
    if isinstance(arg, bool):
        return {"type": "boolean", "value": arg}
    if isinstance(arg, (int, float)):
        return {"type": "number", "value": arg}
    if isinstance(arg, str):
        return {"type": "string", "value": arg}
    if isinstance(arg, (list, tuple)):
        return {"type": "array", "value": [local(a) for a in arg]}
    if isinstance(arg, dict):
        return {"type": "object", "value": [[str(k), local(v)] for k, v in arg.items()]}
    raise TypeError(f"cannot pass {type(arg).__name__} to the browser")
