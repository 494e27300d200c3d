"""No request body is ever decompressed: a body in any Content-Encoding but identity
is refused with 415 before it is read, on every endpoint, whatever its bytes (a valid
gzip, a gzip bomb, no gzip at all), before the token check and the handler."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest

from tests.support.api import assert_error
from tests.support.daemon import Daemon, start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import GREEN_DOI

LOOKUP = json.dumps({"doi": GREEN_DOI}).encode()


def bomb(mebibytes: int) -> bytes:
    """gzip of ``mebibytes`` MiB of zeros (about a thousandth of that on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(2**20)
    return b"".join(packer.compress(chunk) for _ in range(mebibytes)) + packer.flush()


BODIES = {
    "gzip": gzip.compress(LOOKUP),
    "not gzip at all": b"\x1f\x8b this is no gzip stream",
    "gzip bomb": bomb(256),
    "deflate": zlib.compress(LOOKUP),
}
ENCODINGS = ("gzip", "deflate", "br", "zstd", "x-gzip", "GZIP", "gzip, identity", "compress")


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("path", ["/v1/lookup", "/v1/pair", "/v1/health", "/v1/status"])
async def test_a_compressed_body_is_refused_on_every_endpoint(start_daemon, path: str,
                                                              encoding: str) -> None:
    daemon: Daemon = await start_daemon()
    headers = {"Content-Type": "application/json", "Content-Encoding": encoding}
    # No token either: the encoding is refused before anything else looks at the request.
    resp = await daemon.client.post(path, data=BODIES["gzip"], headers=headers)
    await assert_error(resp, 415, "unsupported_content_encoding")


@pytest.mark.parametrize("kind", sorted(BODIES))
async def test_whatever_the_compressed_bytes_the_answer_is_415_and_the_daemon_goes_on(
        start_daemon, kind: str) -> None:
    daemon: Daemon = await start_daemon()
    headers = {**daemon.auth, "Content-Type": "application/json", "Content-Encoding": "gzip"}
    resp = await daemon.client.post("/v1/lookup", data=BODIES[kind], headers=headers)
    await assert_error(resp, 415, "unsupported_content_encoding")
    assert (await daemon.lookup_json({"doi": GREEN_DOI}))["status"] == "open"
    assert (await daemon.client.get("/v1/health")).status == 200


async def test_every_content_encoding_header_counts(start_daemon) -> None:
    """A second Content-Encoding header is as good as the first: "identity" first
    does not let a "gzip" after it through."""
    daemon: Daemon = await start_daemon()
    for second in ("gzip", "identity, br"):
        headers = [("Content-Type", "application/json"), ("Content-Encoding", "identity"),
                   ("Content-Encoding", second), *daemon.auth.items()]
        resp = await daemon.client.post("/v1/lookup", data=BODIES["gzip"], headers=headers)
        await assert_error(resp, 415, "unsupported_content_encoding")


async def test_identity_is_no_compression(start_daemon) -> None:
    daemon: Daemon = await start_daemon()
    for encoding in ("identity", "Identity"):
        resp = await daemon.lookup({"doi": GREEN_DOI}, headers={"Content-Encoding": encoding})
        assert resp.status == 200, await resp.text()
