"""Any byte sequence in a body: stored and read back as sent, or refused at the door (4xx)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.domain.errors import InvalidRequest
from mock_server.web.body import lone_surrogate_at, parse_json
from tests.support.serve import ServeProcess

from .conftest import AUTH, JSON_AUTH, SUBMIT, assert_envelope, port_of, raw_exchange

PROMPT_OK = {"request_type": "async", "input": {"prompt": "a quiet harbour"}}


def submit_raw(client: FlaskClient, raw: bytes) -> Any:
    response = client.post(SUBMIT, data=raw, headers=JSON_AUTH)
    return response.status_code, response.get_json()


@pytest.mark.parametrize(("raw", "words"), [
    (b'{"request_type":"async","input":{"prompt":"abc"},"n":' + b"1" * 5000 + b"}",
     "more than 4300 digits"),
    (b'{"request_type":"async","input":{"prompt":"abc"},"n":-' + b"9" * 5000 + b"}",
     "more than 4300 digits"),
    (b'{"request_type":"async","input":{"prompt":"abc"},"n":1e400}', "64-bit float"),
    (b'{"request_type":"async","input":{"prompt":"abc"},"n":-1e400}', "64-bit float"),
    (b'{"request_type":"async","input":{"prompt":"abc"},"n":1' + b"0" * 400 + b'.5}',
     "64-bit float"),
    (b'{"request_type":"async","input":{"prompt":"abc"},"n":NaN}', "NaN is not a JSON value"),
    (b'{"request_type":"async","input":{"prompt":"abc"},"n":-Infinity}', "not a JSON value"),
])
def test_numbers_the_mock_cannot_keep_are_400(client: FlaskClient, raw: bytes,
                                             words: str) -> None:
    status, body = submit_raw(client, raw)
    assert words in assert_envelope(status, body, 400)["data"]["error"]


SURROGATE_PLACES = [
    ('{"request_type":"async","input":{"prompt":"abc\\ud800"}}', "input.prompt"),
    ('{"request_type":"callback","callback_url":"http://127.0.0.1:9/\\ud800",'
     '"input":{"prompt":"abcd"}}', "callback_url"),
    ('{"request_type":"async","input":{"prompt":"abcd"},"extra":["x","\\udfff"]}',
     "extra[1]"),
    ('{"request_type":"async","input":{"prompt":"abcd","\\udc00k":1}}', "input (a key)"),
    ('{"request_type":"async","input":{"prompt":"abcd"},"x":"\\udc00\\ud800"}', "x"),
]


@pytest.mark.parametrize(("raw", "where"), SURROGATE_PLACES)
def test_a_lone_surrogate_anywhere_is_refused_naming_its_field(client: FlaskClient, raw: str,
                                                               where: str) -> None:
    status, body = submit_raw(client, raw.encode())
    answer = assert_envelope(status, body, 400)
    assert answer["data"]["errors"][0] == {"field": where, "rule": "unicode",
                                           "message": "a lone surrogate is not text"}


def test_a_surrogate_pair_written_as_escapes_is_text(client: FlaskClient) -> None:
    raw = '{"request_type":"async","input":{"prompt":"emoji \\ud83d\\ude00 and \\\\ud800"}}'
    status, body = submit_raw(client, raw.encode())
    assert status == 200, body
    task = client.get(f"/_mock/tasks/{body['data']['taskId']}").get_json()
    assert task["request"]["input"]["prompt"] == "emoji \U0001F600 and \\ud800"


ODD_TEXT = ["nul \x00 inside", "rtl \u202e\u2067 override", "zero\u200bwidth", "tab\tand\nnew",
            "bom \ufeff", "astral \U0001F9EA \U000E0001", "combining e\u0301\u0301\u0301",
            "a" * 5000, "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "\x7f\x80\x9f c1"]


@pytest.mark.parametrize("prompt", ODD_TEXT)
def test_odd_text_is_stored_and_read_back_exactly(client: FlaskClient, prompt: str) -> None:
    body = {"request_type": "async", "input": {"prompt": prompt}, "note": prompt}
    response = client.post(SUBMIT, data=json.dumps(body), headers=JSON_AUTH)
    assert response.status_code == 200, response.get_json()
    task_id = response.get_json()["data"]["taskId"]
    task = client.get(f"/_mock/tasks/{task_id}").get_json()
    assert task["request"]["input"]["prompt"] == prompt
    assert task["request"]["note"] == prompt
    status = client.get("/api/v1/statusTask/flux-2", query_string={"taskId": task_id},
                        headers=AUTH)
    assert status.status_code == 200


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12))
def test_any_json_value_parses_or_is_refused_with_a_reason(value: Any) -> None:
    try:
        raw = json.dumps(value).encode()  # NaN, surrogates: all kept as Python writes them
    except ValueError:
        return
    try:
        parsed = parse_json(raw)
    except InvalidRequest as exc:
        assert str(exc)  # refused, with a reason
        return
    assert lone_surrogate_at(parsed) is None
    json.dumps(parsed, ensure_ascii=False).encode("utf-8")  # storable as UTF-8 text


def test_deep_nesting_is_400_not_a_crash(client: FlaskClient) -> None:
    status, body = submit_raw(client, b"[" * 100_000 + b"]" * 100_000)
    assert "nested too deeply" in assert_envelope(status, body, 400)["data"]["error"]


class _Exploding(io.RawIOBase):
    """A wsgi.input whose chunk parser fails, as a server's does on a chunk size `zz`."""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        raise ValueError("Invalid chunk size: 'zz'")


def test_a_body_the_server_cannot_read_is_400_in_process(client: FlaskClient) -> None:
    response = client.post(SUBMIT, headers={**JSON_AUTH, "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input": _Exploding(),
                                              "wsgi.input_terminated": True})
    answer = assert_envelope(response.status_code, response.get_json(), 400)
    assert "could not be read" in answer["data"]["error"]


# -- framing, over real sockets ------------------------------------------------------------

def chunked(body: bytes, size: int = 65_536) -> bytes:
    pieces = [body[i:i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def head(extra: str) -> bytes:
    return (f"POST {SUBMIT} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {AUTH['Authorization']}"
            f"\r\nContent-Type: application/json\r\nConnection: close\r\n{extra}\r\n").encode()


def test_chunked_bodies_are_read_and_judged_like_any_other(served: ServeProcess) -> None:
    port = port_of(served)
    answer = raw_exchange(port, head("Transfer-Encoding: chunked\r\n")
                          + chunked(json.dumps(PROMPT_OK).encode(), 7))
    assert answer.status == 200 and answer.json()["data"]["taskId"].startswith("task_")


def test_a_chunked_body_over_the_limit_is_413(served: ServeProcess) -> None:
    big = b'{"request_type":"async","input":{"prompt":"' + b"x" * 1_200_000 + b'"}}'
    answer = raw_exchange(port_of(served), head("Transfer-Encoding: chunked\r\n") + chunked(big))
    body = assert_envelope(answer.status, answer.json(), 413)
    assert "at most 1048576 bytes" in body["data"]["error"]


def test_a_chunk_size_that_is_no_number_is_400(served: ServeProcess) -> None:
    answer = raw_exchange(port_of(served), head("Transfer-Encoding: chunked\r\n")
                          + b"zz\r\n{}\r\n0\r\n\r\n")
    assert_envelope(answer.status, answer.json(), 400)


@pytest.mark.parametrize("raw", [
    b'{"request_type":"async","input":{"prompt":"abc\\ud800"}}',
    b'{"request_type":"async","input":{"prompt":"abc"},"n":1e400}',
    b'{"request_type":"async","input":{"prompt":"abc"},"n":NaN}',
    b'{"request_type":"async","input":{"prompt":"abc"},"n":' + b"7" * 5000 + b"}",
    b'{"request_type":"async","input":{"prompt":"abc","\\udc00":1}}',
])
def test_a_real_server_has_one_door_for_every_submit_path(served: ServeProcess,
                                                          raw: bytes) -> None:
    # Exactly application/json with a Content-Length: the server's fastest path must refuse too.
    answer = requests.post(served.url(SUBMIT), data=raw, timeout=10,
                           headers={**AUTH, "Content-Type": "application/json"})
    assert_envelope(answer.status_code, answer.json(), 400)
