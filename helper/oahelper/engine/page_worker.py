"""A page-reading worker process: ``python -m oahelper.engine.page_worker MEMORY_BYTES``.

The daemon's ``PageReader`` (engine/pages.py) runs a few of these. Each caps its own
address space (RLIMIT_AS: what it has after start-up plus MEMORY_BYTES), then reads
requests on stdin and answers on stdout, one at a time, in frames: a 4-byte
big-endian length, then that many bytes.

    request:  frame(JSON {"url": str|null, "kind": "text"|"bytes"}), frame(page)
    answer:   frame(JSON {"article": {...}} | {"error": "...", "code": "..."})

Text pages travel as UTF-8 with lone surrogates passed through (JavaScript's
outerHTML can hold half an emoji). Only plain JSON comes back, never a pickle: the
daemon trusts nothing a process that read a hostile page says beyond its fields.
After a MemoryError the worker answers and exits (its heap may be in a poor state);
the daemon starts another.
"""

from __future__ import annotations

import dataclasses
import json
import resource
import struct
import sys
import typing
from typing import Any, BinaryIO, TypeVar

from oahelper.errors import ScrapeError
from oahelper.models import Article

_LENGTH = struct.Struct(">I")
T = TypeVar("T")


def write_frame(stream: BinaryIO, data: bytes) -> None:
    stream.write(_LENGTH.pack(len(data)) + data)


def read_frame(stream: BinaryIO) -> bytes | None:
    """One frame, or None at the end of the stream."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    data = stream.read(size)
    return data if len(data) == size else None


def to_plain(value: Any) -> Any:
    """A dataclass (Article and what it holds) as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [to_plain(item) for item in value]
    return value


def from_plain(cls: type[T], data: Any) -> T:
    """The ``cls`` dataclass ``data`` describes, its field types checked (what a worker
    says is not trusted beyond the shape of an Article)."""
    if not isinstance(data, dict):
        raise ValueError(f"a {cls.__name__} must be an object")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            values[f.name] = _typed(hints[f.name], data[f.name], f.name)
    return cls(**values)


def _typed(hint: Any, value: Any, name: str) -> Any:
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise ValueError(f"{name} must be a list")
        return tuple(_typed(item, v, name) for v in value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_plain(hint, value)
    allowed = tuple(t for t in typing.get_args(hint) or (hint,) if isinstance(t, type))
    if (value is None and type(None) in allowed) or (isinstance(value, allowed) and \
            not (isinstance(value, bool) and bool not in allowed)):
        return value
    raise ValueError(f"{name} has the wrong type")


def article_to_json(article: Article) -> dict[str, Any]:
    plain: dict[str, Any] = to_plain(article)
    return plain


def article_from_json(data: dict[str, Any]) -> Article:
    """The Article a worker described; fields of the wrong shape are refused."""
    return from_plain(Article, data)


def _vm_size() -> int:
    """This process's address space now, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def cap_memory(extra: int) -> None:
    """Allow the address space this process has now plus ``extra`` bytes."""
    limit = _vm_size() + extra
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def answer(request: bytes, page: bytes) -> dict[str, Any]:
    from oahelper.scrape import scrape

    header = json.loads(request)
    url = header.get("url")
    html: str | bytes = page.decode("utf-8", "surrogatepass") if header.get("kind") == "text" else page
    try:
        return {"article": article_to_json(scrape(url, html))}
    except ScrapeError as exc:
        if isinstance(exc.__cause__, MemoryError):  # scrape() wraps whatever an extractor raised
            raise MemoryError from exc
        return {"error": exc.message, "code": "bad_html"}


def main(argv: list[str]) -> int:
    import oahelper.scrape  # noqa: F401  (loaded before the cap: it is part of the base)

    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must never corrupt the answers
    cap_memory(int(argv[0]))
    write_frame(out, b'{"ready": true}')
    out.flush()
    while (request := read_frame(inp)) is not None and (page := read_frame(inp)) is not None:
        try:
            reply = answer(request, page)
        except MemoryError:
            reply = None
        if reply is None:
            del page
            write_frame(out, b'{"error": "memory", "code": "page_memory"}')
            out.flush()
            return 3
        write_frame(out, json.dumps(reply).encode("utf-8"))
        out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
