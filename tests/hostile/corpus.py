"""A corpus of hostile HTTP requests, as raw bytes: each must be answered with a 4xx envelope."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from mock_server.domain.keys import key_id, mask_key

KEY = "flux2-mock-key"
OTHER_KEY = "other-hostile-key"  # the server under test accepts it too
SUBMIT = "/api/v1/generateTask/flux-2"
STATUS = "/api/v1/statusTask/flux-2"
GOOD = {"request_type": "async", "input": {"prompt": "a quiet harbour at dawn"}}
# Strings no field may hold (a lone surrogate), and strings enum/URL fields must refuse.
LONE = ["\\ud800", "\\udfff", "a\\udbff", "\\udc00\\ud800"]
ODD = ["\\u0000", "\u202e", "\u2066x\u2069", "\ufeff", "a\\u0000b", "\u200b", "\\u001c"]
FIELDS = ["request_type", "callback_url", "provider", "input.mode", "input.aspect_ratio",
          "input.resolution", "input.image_urls[0]", "input.prompt"]


@dataclass(frozen=True)
class Hostile:
    """One request: a name for the report and the bytes sent."""

    name: str
    data: bytes
    status: int | None = None  # a precise status, when one is the only right answer


def request(method: str, path: str, body: bytes | None = None, *, key: str | None = KEY,
            content_type: str | None = "application/json", extra: str = "",
            length: bool = True) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if key is not None:
        head += f"Authorization: Bearer {key}\r\n"
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    if body is not None and length:
        head += f"Content-Length: {len(body)}\r\n"
    return (head + extra + "\r\n").encode("utf-8", "surrogateescape") + (body or b"")


def submit(body: bytes, **kwargs: object) -> bytes:
    return request("POST", SUBMIT, body, **kwargs)  # type: ignore[arg-type]


def with_field(path: str, raw_value: str) -> bytes:
    """The GOOD body (callback mode, image-to-image) with `path` set to a raw JSON string."""
    body = {"request_type": "callback", "callback_url": "http://127.0.0.1:9/cb",
            "input": {"mode": "pro-image-to-image", "prompt": "a quiet harbour",
                      "image_urls": ["http://127.0.0.1:9/in.jpg"], "aspect_ratio": "1:1",
                      "resolution": "1K"}}
    marker = "\u0001MARK\u0001"
    node: dict[str, object] = body
    *parents, last = path.replace("[0]", "").split(".")
    for name in parents:
        node = node[name]  # type: ignore[assignment]
    node[last] = [marker] if path.endswith("[0]") else marker
    text = json.dumps(body).replace(json.dumps(marker), f'"{raw_value}"')
    return text.encode("utf-8")


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


def corpus() -> Iterator[Hostile]:
    """Yield every hostile request."""
    good = json.dumps(GOOD).encode()
    # -- malformed, truncated and non-object bodies
    for i, raw in enumerate([b"{", b"}", b"[", b'{"a":', b'{"a" 1}', b"{'a': 1}", b"nul",
                             b"tru", b'"unterminated', b"\xef\xbb\xbf" + good[:-1], good[:-1],
                             good[: len(good) // 2], b"\xff\xfe{\x00}\x00", b"\xc3\x28",
                             b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"{}" * 3, b"1 2",
                             b'{"a":1,}', b"[1,]", b"--", b"\x00", b" ", b"null", b"[]",
                             b"12", b'"text"', b"true"]):
        yield Hostile(f"body {i}: {raw[:24]!r}", submit(raw), 400)
    # -- huge
    yield Hostile("5,000-digit integer", submit(b'{"n":' + b"7" * 5000 + b"}"), 400)
    yield Hostile("5,000-digit negative", submit(b'{"n":-' + b"7" * 5000 + b"}"), 400)
    yield Hostile("1e400", submit(b'{"n":1e400}'), 400)
    yield Hostile("-1e400", submit(b'{"n":-1e400}'), 400)
    yield Hostile("NaN", submit(b'{"n":NaN}'), 400)
    yield Hostile("Infinity", submit(b'{"n":Infinity}'), 400)
    yield Hostile("nested 100,000 deep", submit(b"[" * 100_000 + b"]" * 100_000), 400)
    yield Hostile("nested objects", submit(b'{"a":' * 50_000 + b"1" + b"}" * 50_000), 400)
    yield Hostile("prompt of 5,001", submit(json.dumps(
        {"request_type": "async", "input": {"prompt": "x" * 5001}}).encode()), 400)
    yield Hostile("nine image URLs", submit(json.dumps(
        {"request_type": "async", "input": {"mode": "pro-image-to-image", "prompt": "abc",
                                            "image_urls": ["http://a.b/c.jpg"] * 9}}).encode()),
                  400)
    yield Hostile("body over the limit", submit(b'{"p":"' + b"x" * 1_100_000 + b'"}'), 413)
    yield Hostile("Content-Length over the limit, no body",
                  request("POST", SUBMIT, b"", extra="Content-Length: 99999999\r\n",
                          length=False), 413)
    # -- lone surrogates in every string field; odd characters in every checked field
    for field in FIELDS:
        for value in LONE:
            yield Hostile(f"{field} = {value}", submit(with_field(field, value)), 400)
        if field != "input.prompt":  # a prompt may hold any Unicode text
            for value in ODD:
                yield Hostile(f"{field} = {value!r}", submit(with_field(field, value)), 400)
    yield Hostile("surrogate in a key", submit(b'{"\\ud800":1,"request_type":"async"}'), 400)
    # -- wrong and missing Content-Type
    for content_type in (None, "text/plain", "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=x", "application/jsonx", "json",
                         "application/xml", "", "*/*", "application/javascript"):
        yield Hostile(f"Content-Type {content_type!r}", submit(good, content_type=content_type),
                      415)
    # -- chunked oddities
    te = "Transfer-Encoding: chunked\r\n"
    for name, body in [("size zz", b"zz\r\nabc\r\n0\r\n\r\n"),
                       ("size -1", b"-1\r\nabc\r\n0\r\n\r\n"),
                       ("size overflow", b"ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"),
                       ("size with garbage", b"3 x\r\nabc\r\n0\r\n\r\n"),
                       ("missing CRLF after data", b"3\r\nabcdef\r\n0\r\n\r\n"),
                       ("size larger than data", b"ff\r\nabc\r\n0\r\n\r\n"),
                       ("no last chunk", b"3\r\nabc\r\n"),
                       ("over the limit", chunked(*[b" " * 65_536] * 17))]:
        yield Hostile(f"chunked {name}", request("POST", SUBMIT, body, extra=te, length=False))
    for coding in ("bogus", "gzip", "chunked, gzip", "identity", "chunked, chunked"):
        yield Hostile(f"Transfer-Encoding {coding}", request(
            "POST", SUBMIT, chunked(good), extra=f"Transfer-Encoding: {coding}\r\n",
            length=False))
    yield Hostile("chunked and Content-Length", request(
        "POST", SUBMIT, chunked(good), extra=f"{te}Content-Length: 5\r\n", length=False))
    yield Hostile("two Content-Lengths", request(
        "POST", SUBMIT, good, extra=f"Content-Length: {len(good)}\r\nContent-Length: 3\r\n",
        length=False))
    yield Hostile("Content-Length not a number", request(
        "POST", SUBMIT, good, extra="Content-Length: 1e3\r\n", length=False))
    yield Hostile("Content-Length negative", request(
        "POST", SUBMIT, good, extra="Content-Length: -5\r\n", length=False))
    # -- header and path tricks
    for path in ("/output/../../etc/passwd", "/output/task_x/0.jpg", "/output/task_x/99.jpg",
                 "/api/v1/generateTask/flux-3", "/api/v1/generateTask/flux-2%00",
                 "/api/v1/generateTask/../statusTask/flux-2", "/API/V1/GENERATETASK/FLUX-2",
                 "/" + "a" * 9000, "/%ff%fe", "/api/v1/statusTask/flux-2?taskId=%00",
                 "/api/v1/statusTask/flux-2?taskId=" + "x" * 3000,
                 "/api/v1/statusTask/flux-2", "/_mock/tasks/%2e%2e", "/_mock/nope",
                 "/_mock/ui/../../pyproject.toml", "/openapi.json/x"):
        yield Hostile(f"GET {path[:40]}", request("GET", path, content_type=None))
    for method in ("PUT", "DELETE", "PATCH", "FOO", "OPTIONS-X"):
        yield Hostile(f"{method} submit", request(method, SUBMIT, good))
    yield Hostile("HTTP/2.0 request line", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")
    yield Hostile("garbled request line", b"GET\x00 / HTTP/1.1\r\nHost: x\r\n\r\n")
    yield Hostile("no version", b"GET /\r\n\r\n")
    yield Hostile("header without colon", b"GET / HTTP/1.1\r\nHost x\r\n\r\n")
    yield Hostile("header name with space", b"GET / HTTP/1.1\r\nBad Header: 1\r\n\r\n")
    yield Hostile("header of 20,000 bytes", b"GET / HTTP/1.1\r\nX-Big: " + b"x" * 20_000
                  + b"\r\n\r\n")
    yield Hostile("too many headers", b"GET / HTTP/1.1\r\n" + b"".join(
        b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n")
    yield Hostile("absolute-form target elsewhere", request(
        "GET", "http://evil.example/api/v1/statusTask/flux-2?taskId=x", content_type=None))
    yield Hostile("CR in header value", b"GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n")
    yield Hostile("obsolete line folding", b"GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n")
    # -- credentials: missing, malformed, another key's id or masked form
    for key in (None, "", "Bearer", "nope", key_id(KEY), mask_key(KEY), KEY.upper(),
                KEY + " x", f"{KEY}\u0000", "\u202e" + KEY, KEY[:-1]):
        auth = None if key is None else f"Authorization: {'Bearer ' + key if key else ''}\r\n"
        yield Hostile(f"submit with key {key!r}", request(
            "POST", SUBMIT, good, key=None, extra=auth or ""))
    yield Hostile("Basic auth", request("POST", SUBMIT, good, key=None,
                                        extra="Authorization: Basic Zm9vOmJhcg==\r\n"), 401)
    yield Hostile("another key's task", request(
        "GET", f"{STATUS}?taskId=task_0000000000000000", key=OTHER_KEY, content_type=None), 404)
    yield Hostile("missing taskId", request("GET", STATUS, content_type=None), 400)
    yield Hostile("empty taskId", request("GET", f"{STATUS}?taskId=", content_type=None), 400)
    # -- scenario header oddities
    for scenario in ("explode", "pending=\u00b2", "http=٤٠٠", "latency=99999999999999999999",
                     "fail:a b", "success; fail", "pending=-1", "http=200", "close; truncate",
                     "\u0000", "callback-delay=1e3"):
        yield Hostile(f"X-Mock-Scenario {scenario!r}", request(
            "POST", SUBMIT, good, extra=f"X-Mock-Scenario: {scenario}\r\n"))
    # -- the control plane
    for query in ("limit=--5", "limit=%C2%B2", "after=1e23", "state=", "state=%00",
                  "order=sideways", "since=-1", "apiKey=nobody", f"apiKeyId={key_id(KEY)}x",
                  "limit=" + "9" * 5000):
        yield Hostile(f"/_mock/tasks?{query[:30]}", request(
            "GET", f"/_mock/tasks?{query}", key=None, content_type=None))
    yield Hostile("journal after 23 digits", request(
        "GET", "/_mock/journal?after=99999999999999999999999", key=None, content_type=None), 400)
    for body in (b'{"seconds":1e400}', b'{"ms":9223372036854775808}', b'{"ms":-1}',
                 b'{"ms":1.5}', b'{"seconds":1,"ms":1}', b'{"minutes":1}', b"[]", b"{"):
        yield Hostile(f"clock advance {body!r}", request("POST", "/_mock/clock/advance", body,
                                                         key=None), 400)
    for body in (b'{"outcome":{}}', b'{"outcome":"won"}', b'{"outcome":"success","x":1}'):
        yield Hostile(f"force {body!r}", request("POST", "/_mock/tasks/X/force", body,
                                                 key=None))
    for body in (b'{"profile":"turbo"}', b'{"failure_rate":false}', b'{"failure_rate":2}',
                 b'{"pending_ms":1.5}', b'{"x":1}', b"{}"):
        yield Hostile(f"settings {body!r}", request("PATCH", "/_mock/settings", body,
                                                    key=None), 400)
    yield Hostile("queue count 0", request("POST", "/_mock/scenario-queue",
                                           b'{"scenario":"fail","count":0}', key=None), 400)
    yield Hostile("spend tasks=null", request("GET", "/_mock/spend?tasks=null", key=None,
                                              content_type=None), 400)
    yield Hostile("conformance format=AAA", request(
        "GET", "/_mock/conformance?format=AAA", key=None, content_type=None), 400)
    yield Hostile("redeliver unknown", request("POST", "/_mock/tasks/X/callbacks/redeliver",
                                               key=None, content_type=None), 404)
