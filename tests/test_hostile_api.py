"""A storm of 10,000 random and mangled bodies against POST /v1/lookup.

The daemon reads whatever a local process sends it. Whatever that is, it answers:
200 with a well-formed payload, or 400/413/415 with the API's error shape; never a
500, never a dropped connection. After the storm it still answers /v1/health and
real lookups, and an answer cached before the storm is still served from the cache.

The bodies come from ``random.Random(SEED)``; a failure message names the seed and
the body's number, and ``OAHELPER_FUZZ_SEED=<seed>`` replays a storm.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from oahelper.identifiers import normalise_doi
from tests.support.api import assert_error
from tests.support.daemon import Daemon, start_daemon, upstream_server  # noqa: F401 (fixtures)
from tests.support.fake_upstream import CLOSED_DOI, GOLD_DOI, GREEN_DOI, MISSING_DOI, upstream_settings
from tests.support.payload import payload_problems

SEED = int(os.environ.get("OAHELPER_FUZZ_SEED", "20251118"))
BODIES = 10_000
# A small cap so that bodies near it are cheap to send; the rule is the same at 8 MiB.
CAP = 64 * 1024
CONCURRENCY = 8
ERROR_CODES = {400: "bad_request", 413: "body_too_large", 415: "unsupported_media_type"}
# The only page URLs a storm body names: loopback literals, which the daemon's page
# fetch refuses before any DNS query, so no mangled body can make it reach out.
PAGE_URL = "http://127.0.0.1/article/"
# DOIs the valid bodies ask about (GREEN and GOLD are kept out: the test's own).
POOL = [CLOSED_DOI, MISSING_DOI] + [f"10.5555/storm.{n}" for n in range(40)]


@dataclass(frozen=True)
class Body:
    """One request: its bytes, its Content-Type (None: no header) and the statuses
    a correct daemon may answer it with."""

    kind: str
    data: bytes
    content_type: str | None
    expect: frozenset[int]


OK, BAD, OK_OR_BAD = frozenset({200}), frozenset({400}), frozenset({200, 400})
JSON_TYPE = "application/json"


def _encode(value: Any, rng: random.Random) -> bytes:
    """JSON text of ``value``, escaped to ASCII or raw UTF-8 (lone surrogates then
    become bytes that are not UTF-8)."""
    return json.dumps(value, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")


def _page(rng: random.Random, doi: str) -> str:
    return (f'<html><head><meta name="citation_doi" content="{doi}">'
            f'<meta name="citation_title" content="Storm {rng.randrange(10**6)}"></head>'
            "<body><p>text</p></body></html>")


def _valid_value(rng: random.Random) -> dict[str, Any]:
    doi = rng.choice(POOL)
    return rng.choice([
        {"doi": doi},
        {"doi": f"doi:{doi.upper()}"},
        {"url": PAGE_URL + str(rng.randrange(100)), "html": _page(rng, doi)},
        {"url": PAGE_URL + "news", "html": "<html><head><title>Local news</title></head></html>"},
        {"doi": doi, "url": PAGE_URL + "x", "extra": [1, {"two": 3}]},
        {"doi": "pmid:23193287"},
    ])


# Strings no field should choke on: controls, NUL, lone surrogates, bidi overrides,
# combining marks, astral characters, HTML and JSON metacharacters.
JUNK_ALPHABET = ("a", "Z", "0", "9", ".", "/", "10.", "10.5555/", "doi:", " ", "\t", "\n", "\x00", "\x01",
                 "\x1b", "\x7f", "\ud800", "\udfff", "\ufffd", "\ufeff", "\u202e", "\u0301", "\U0001f600",
                 "漢", "ß", "İ", "<", ">", "&", '"', "\\", "'", "%00", "%zz", "\u2028")


def _junk(rng: random.Random, longest: int = 40) -> str:
    return "".join(rng.choice(JUNK_ALPHABET) for _ in range(rng.randrange(longest)))


def valid(rng: random.Random) -> Body:
    return Body("valid", _encode(_valid_value(rng), rng), JSON_TYPE, OK)


def random_bytes(rng: random.Random) -> Body:
    return Body("random bytes", rng.randbytes(rng.randrange(1, 400)), JSON_TYPE, BAD)


def truncated(rng: random.Random) -> Body:
    text = _encode(_valid_value(rng), rng)
    return Body("truncated", text[:rng.randrange(len(text))], JSON_TYPE, BAD)


# Mangling edits only JSON's own characters, so a page URL's host is never changed
# into a name that would need DNS.
STRUCTURAL = b'{}[]",:\\ \t0n'


def mangled(rng: random.Random) -> Body:
    data = bytearray(_encode(_valid_value(rng), rng))
    for _ in range(rng.randrange(1, 6)):
        at = rng.randrange(len(data) + 1)
        edit = rng.randrange(3)
        if edit == 0 and at < len(data) and data[at] in STRUCTURAL:
            del data[at]
        elif edit == 1:
            data.insert(at, rng.choice(STRUCTURAL))
        elif at < len(data) and data[at] in STRUCTURAL:
            data[at] = rng.choice(STRUCTURAL)
    return Body("mangled", bytes(data), JSON_TYPE, OK_OR_BAD)


def _wrong_value(rng: random.Random) -> Any:
    return rng.choice([0, -1, 2**70, 1.5, float("1e308"), True, False, [], ["10.5555/x"],
                       {"doi": "10.5555/x"}, [[[]]], {"": None}])


def wrong_types(rng: random.Random) -> Body:
    value = _valid_value(rng)
    for name in rng.sample(["url", "html", "doi"], rng.randrange(1, 4)):
        value[name] = _wrong_value(rng)
    return Body("wrong types", _encode(value, rng), JSON_TYPE, BAD)


def deep_nesting(rng: random.Random) -> Body:
    depth = rng.choice([10, 500, 999, 1_000, 1_001, 5_000, 20_000])
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    nested = opener * depth + "1" + closer * depth
    field = rng.choice(["url", "html", "doi", None])
    other = "doi" if field == "url" else "url"
    text = nested if field is None else f'{{"{field}": {nested}, "{other}": "{PAGE_URL}"}}'
    return Body("deep nesting", text.encode(), JSON_TYPE, BAD if len(text) <= CAP else frozenset({413}))


def wide_array(rng: random.Random) -> Body:
    items = ",".join(["0"] * rng.randrange(1, 15_000))
    return Body("wide array", f'{{"doi": [{items}], "url": "{PAGE_URL}"}}'.encode(), JSON_TYPE, BAD)


def odd_numbers(rng: random.Random) -> Body:
    number = rng.choice(["1" * 5_000, "1e999999", "-0", "NaN", "Infinity", "-Infinity", "0x10", "01"])
    return Body("odd numbers", f'{{"doi": {number}, "url": "{PAGE_URL}"}}'.encode(), JSON_TYPE, BAD)


def unicode_junk(rng: random.Random) -> Body:
    value = {name: _junk(rng) for name in rng.sample(["url", "html", "doi"], rng.randrange(1, 4))}
    return Body("unicode junk", _encode(value, rng), JSON_TYPE, OK_OR_BAD)


def hostile_page(rng: random.Random) -> Body:
    # A closed article whose citation is junk: the e-mail and library actions quote it.
    title, author = _junk(rng), _junk(rng, 10)
    html = (f'<html><head><meta name="citation_doi" content="{rng.choice(POOL)}">'
            f'<meta name="citation_title" content="{title}"><meta name="citation_author" content="{author}">'
            f'<meta name="citation_author_email" content="{_junk(rng, 8)}@uni.example.edu">'
            f'<script type="application/ld+json">{{"sameAs": "https://doi.org/10.5555/{_junk(rng, 8)}"}}'
            f"</script></head><body>{_junk(rng, 200)}</body></html>")
    data = json.dumps({"url": PAGE_URL + "hostile", "html": html}).encode()  # ASCII: always JSON
    return Body("hostile page", data, JSON_TYPE, OK)


def near_cap(rng: random.Random) -> Body:
    envelope = _encode({"url": PAGE_URL, "html": ""}, rng)
    filler = rng.choice(["x", "é", "\\u00e9"])  # one, two and six bytes a character
    count = (CAP - len(envelope) + rng.randrange(-24, 25)) // len(filler.encode())
    data = envelope[:-2] + (filler * count).encode() + b'"}'
    return Body("near the cap", data, JSON_TYPE, OK if len(data) <= CAP else frozenset({413}))


WRONG_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
               "application/ld+json", "text/json", "application/octet-stream", "application/jsonx", "",
               None)
RIGHT_TYPES = ("application/json", "Application/JSON", "application/json; charset=utf-8",
               "application/json;charset=UTF-8", "application/json; foo=bar")


def content_type(rng: random.Random) -> Body:
    data = _encode(_valid_value(rng), rng)
    if rng.random() < 0.3:
        return Body("right content type", data, rng.choice(RIGHT_TYPES), OK)
    return Body("wrong content type", data, rng.choice(WRONG_TYPES), frozenset({415}))


# charset parameters that cannot decode a JSON body, and ones that may (by luck).
BAD_CHARSETS = ("rot13", "hex", "base64", "zlib", "undefined", "punycode", "utf-32", "utf-16-be",
                "cp037", "x-no-such-charset")
LUCKY_CHARSETS = ("idna", "utf-7", "unicode_escape", "latin-1", "us-ascii", "utf-16")


def charset(rng: random.Random) -> Body:
    value = _valid_value(rng)
    if rng.random() < 0.3:  # a body really written in UTF-16, and saying so
        return Body("utf-16 body", json.dumps(value).encode("utf-16"), f"{JSON_TYPE}; charset=utf-16", OK)
    name = rng.choice(BAD_CHARSETS + LUCKY_CHARSETS)
    expect = BAD if name in BAD_CHARSETS else OK_OR_BAD
    ctype = f"{JSON_TYPE}; charset={name}".encode().decode("latin-1")  # as a header carries it
    return Body("charset", json.dumps(value).encode(), ctype, expect)


def not_an_object(rng: random.Random) -> Body:
    text = rng.choice(['["10.5555/x"]', '"10.5555/x"', "1", "null", "true", "{}", '{"url": null}',
                       '{"doi": "", "url": ""}', "\ufeff{}", " ", ""])
    return Body("not an object", text.encode(), JSON_TYPE, BAD)


# What the storm is made of, and how often each kind comes.
KINDS: tuple[tuple[Callable[[random.Random], Body], int], ...] = (
    (valid, 10), (random_bytes, 10), (truncated, 8), (mangled, 14), (wrong_types, 8),
    (deep_nesting, 6), (wide_array, 2), (odd_numbers, 3), (unicode_junk, 12), (hostile_page, 8),
    (near_cap, 3), (content_type, 7), (charset, 6), (not_an_object, 3),
)


@functools.cache
def storm(seed: int, count: int) -> tuple[Body, ...]:
    """``count`` bodies, the same ones for the same seed (made once per process)."""
    rng = random.Random(seed)
    makers, weights = zip(*KINDS)
    return tuple(rng.choices(makers, weights)[0](rng) for _ in range(count))


async def send(d: Daemon, body: Body) -> str | None:
    """Post one body; what is wrong with the answer, or None."""
    headers = dict(d.auth)
    skip: list[str] = []
    if body.content_type is None:
        skip.append("Content-Type")
    else:
        headers["Content-Type"] = body.content_type
    resp = await d.client.post("/v1/lookup", data=body.data, headers=headers, skip_auto_headers=skip)
    if resp.status not in body.expect:
        return f"HTTP {resp.status}, expected {sorted(body.expect)}: {(await resp.text())[:300]}"
    if resp.status != 200:
        try:
            await assert_error(resp, resp.status, ERROR_CODES[resp.status])
        except AssertionError as exc:
            return f"error shape: {exc}"
        return None
    problems = payload_problems(await resp.json())
    return f"payload: {problems}" if problems else None


async def test_ten_thousand_hostile_bodies_never_break_the_daemon(start_daemon) -> None:
    # The storm is about bodies, not the per-client budget (tests/test_call_budget.py):
    # every valid body goes the whole way to the sources.
    d = await start_daemon(max_body=CAP, openurl_base="https://resolver.example.edu/openurl",
                           lookups_per_minute=100_000)
    before = await d.lookup_json({"doi": GREEN_DOI})
    assert before["status"] == "open" and before["cached"] is False

    bodies = storm(SEED, BODIES)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int, body: Body) -> str | None:
        async with gate:
            problem = await send(d, body)
        return f"body #{i} ({body.kind}, {body.data[:80]!r}, {body.content_type!r}): {problem}" \
            if problem else None

    results = await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))
    failures = [r for r in results if r]
    assert not failures, (f"seed {SEED} (replay: OAHELPER_FUZZ_SEED={SEED}): {len(failures)} of "
                          f"{BODIES} bodies got a wrong answer; first ones:\n" + "\n".join(failures[:10]))

    # Still alive, still answering, nothing cached lost.
    assert (await d.client.get("/v1/health")).status == 200
    after = await d.lookup_json({"doi": GREEN_DOI})
    assert after["cached"] is True and after["best"] == before["best"]
    assert d.upstream.calls_for(GREEN_DOI, "unpaywall") == 1
    fresh = await d.lookup_json({"doi": GOLD_DOI})
    assert fresh["status"] == "open" and fresh["cached"] is False
    status = await d.client.get("/v1/status", headers=d.auth)
    assert status.status == 200


def test_the_storm_is_the_same_for_the_same_seed_and_mixes_every_kind() -> None:
    bodies = storm(SEED, BODIES)
    assert storm.__wrapped__(SEED, 300) == bodies[:300]  # made afresh: the same bodies
    assert storm(SEED + 1, 50) != bodies[:50]
    assert len({b.kind for b in bodies}) >= len(KINDS)
    assert {s for b in bodies for s in b.expect} == {200, 400, 413, 415}


# --- The holes the storm found, pinned down one by one ---------------------------------

async def test_json_nested_past_the_recursion_limit_is_a_400(start_daemon) -> None:
    d = await start_daemon()
    for depth in (1_000, 100_000):
        resp = await d.client.post("/v1/lookup", data="[" * depth + "]" * depth,
                                   headers={**d.auth, "Content-Type": JSON_TYPE})
        await assert_error(resp, 400, "bad_request")
    assert (await d.client.get("/v1/health")).status == 200


async def test_a_lone_surrogate_in_any_field_is_no_500(start_daemon) -> None:
    d = await start_daemon(openurl_base="https://resolver.example.edu/openurl")
    page = ('<html><head><meta name="citation_doi" content="10.5555/oahelper.unknown">'
            '<meta name="citation_title" content="A \ud800 title">'
            '<meta name="citation_author_email" content="a\udfff@uni.example.edu">'
            '<script type="application/ld+json">{"sameAs": "https://doi.org/10.5555/a\\ud800"}</script>'
            "</head></html>")
    bad_doi = await d.client.post("/v1/lookup", data=json.dumps({"doi": "10.5555/a\ud800b"}),
                                  headers={**d.auth, "Content-Type": JSON_TYPE})
    await assert_error(bad_doi, 400, "bad_request")  # not a DOI: said so, no 500
    for body in ({"url": PAGE_URL + "\ud800", "html": page},
                 {"url": "https://doi.org/10.5555/x\udfff"}):
        resp = await d.client.post("/v1/lookup", data=json.dumps(body),  # ASCII: "\ud800" escapes
                                   headers={**d.auth, "Content-Type": JSON_TYPE})
        assert resp.status == 200, await resp.text()
        payload = await resp.json()
        assert payload_problems(payload) == []
        doi = payload["article"]["doi"]
        assert doi is None or normalise_doi(doi) == doi


async def test_a_fetched_page_with_an_undecodable_charset_is_read_from_its_bytes(
        aiohttp_client, make_settings, keystore, upstream_server) -> None:  # noqa: F811
    """A server that labels its page ``charset=undefined`` (or idna) gets no 500."""
    from oahelper.daemon.clients import ClientStore
    from oahelper.net import FetchedPage
    from oahelper.daemon.app import init

    async def hostile_server(url: str) -> FetchedPage:
        charset = url.rsplit("=", 1)[-1]
        return FetchedPage(url=url, status=200, content_type="text/html", charset=charset,
                           body=b'<html><head><meta name="citation_doi" content="10.5555/oahelper.closed.1997">'
                                b"</head></html>")

    base = str(upstream_server.make_url("")).rstrip("/")
    settings = make_settings(**upstream_settings(base), unpaywall_email="researcher@uni.edu")
    client = await aiohttp_client(init(settings, keystore=keystore, fetch_page=hostile_server))
    token = ClientStore(settings.clients_db).create_token("tests")
    for charset in ("undefined", "idna", "rot13", "x-nonsense"):
        resp = await client.post("/v1/lookup", json={"url": f"https://pub.example.org/a?charset={charset}"},
                                 headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 200, (charset, await resp.text())
        payload = await resp.json()
        assert payload["article"]["doi"] == CLOSED_DOI and payload["status"] == "closed", charset
