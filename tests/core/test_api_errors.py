"""Bad requests of every shape answer the JSON envelope with HTTP status == code, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.examples import scaled
from tests.support.mock_client import SUBMIT, MakeMock, MockClient, auth, body

from .strategies import json_values, request_like

JSON = {**auth(), "Content-Type": "application/json"}


def envelope(response: Any, status: int) -> dict[str, Any]:
    """Assert a JSON error envelope with the given status and return it."""
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == "application/json"
    assert b"<html" not in response.data.lower()
    answer: dict[str, Any] = response.get_json()
    assert answer["code"] == status
    assert isinstance(answer["message"], str) and answer["message"]
    assert isinstance(answer["data"]["error"], str) and answer["data"]["error"]
    return answer


@pytest.mark.parametrize(("raw", "words"), [
    (b"{", "not valid JSON"),
    (b'{"request_type": "async",}', "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not"),
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"null", "request body must be an object, got null"),
    (b"42", "request body must be an object, got integer"),
    (b'["a"]', "request body must be an object, got array"),
    (b'"text"', "request body must be an object, got string"),
])
def test_malformed_and_non_object_bodies_are_400(mock: MockClient, raw: bytes, words: str) -> None:
    answer = envelope(mock.client.post(SUBMIT, data=raw, headers=JSON), 400)
    assert answer["message"] == "Invalid request"
    assert words in answer["data"]["error"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_wrong_content_type_is_415(mock: MockClient, content_type: str | None) -> None:
    headers = auth() if content_type is None else {**auth(), "Content-Type": content_type}
    answer = envelope(mock.client.post(SUBMIT, data=json.dumps(body()), headers=headers), 415)
    assert "Content-Type must be application/json" in answer["data"]["error"]


def test_json_content_type_with_charset_is_accepted(mock: MockClient) -> None:
    headers = {**auth(), "Content-Type": "application/json; charset=utf-8"}
    assert mock.client.post(SUBMIT, data=json.dumps(body()), headers=headers).status_code == 200


def test_oversize_body_is_413(make_mock: MakeMock) -> None:
    mock = make_mock(max_body_bytes=1000)
    big = json.dumps(body("x" * 2000))
    answer = envelope(mock.client.post(SUBMIT, data=big, headers=JSON), 413)
    assert answer["message"] == "Request body too large"
    assert "at most 1000 bytes" in answer["data"]["error"]
    assert mock.client.post(SUBMIT, data=json.dumps(body("x" * 500)),
                            headers=JSON).status_code == 200


@pytest.mark.parametrize("path", ["/", "/api/v1/generateTask", "/api/v2/generateTask/flux-2",
                                  "/output/task_x/0.png", "/_mock/nothing"])
def test_unknown_route_is_404(mock: MockClient, path: str) -> None:
    answer = envelope(mock.client.get(path, headers=auth()), 404)
    assert answer["message"] == "Not found"


def test_unknown_model_is_404_naming_it(mock: MockClient) -> None:
    answer = envelope(mock.client.post("/api/v1/generateTask/flux-3", json=body(),
                                       headers=auth()), 404)
    assert "unknown model 'flux-3'" in answer["data"]["error"]
    envelope(mock.client.get("/api/v1/statusTask/flux2", query_string={"taskId": "t"},
                             headers=auth()), 404)


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("get", SUBMIT, "POST"), ("put", SUBMIT, "POST"), ("delete", SUBMIT, "POST"),
    ("post", "/api/v1/statusTask/flux-2", "GET"),
])
def test_wrong_method_is_405_with_allow(mock: MockClient, method: str, path: str,
                                       allowed: str) -> None:
    response = getattr(mock.client, method)(path, headers=auth())
    answer = envelope(response, 405)
    assert answer["message"] == "Method not allowed"
    assert allowed in response.headers["Allow"]
    assert allowed in answer["data"]["error"]


def test_missing_task_id_is_400(mock: MockClient) -> None:
    for query in ({}, {"taskId": ""}):
        response = mock.client.get("/api/v1/statusTask/flux-2", query_string=query,
                                   headers=auth())
        answer = envelope(response, 400)
        assert answer["data"]["error"] == "Missing required field: taskId"


def test_unknown_task_id_is_404(mock: MockClient) -> None:
    answer = envelope(mock.status("task_0000000000000000"), 404)
    assert answer["message"] == "Task not found"
    assert "task_0000000000000000" in answer["data"]["error"]


def test_unknown_scenario_token_is_400_naming_it(mock: MockClient) -> None:
    answer = envelope(mock.submit(scenario="success; explode"), 400)
    assert "unknown scenario token 'explode'" in answer["data"]["error"]
    assert answer["data"]["errors"][0]["field"] == "X-Mock-Scenario"
    answer = envelope(mock.submit(body("a cat [mock:bogus]")), 400)
    assert "[mock:] prompt marker: unknown scenario token 'bogus'" in answer["data"]["error"]


def test_error_status_200_keeps_the_code_in_the_body(make_mock: MakeMock) -> None:
    mock = make_mock(error_status="200")
    for response, code in ((mock.submit(body("ab")), 400), (mock.submit(key="nope"), 401),
                           (mock.status("task_nope"), 404), (mock.client.get("/x"), 404)):
        assert response.status_code == 200
        assert response.get_json()["code"] == code


def test_model_aliases_are_served(make_mock: MakeMock) -> None:
    plain, aliased = make_mock(), make_mock(model_aliases=("flux2",))
    path = "/api/v1/generateTask/flux2"
    assert plain.client.post(path, json=body(), headers=auth()).status_code == 404
    response = aliased.client.post(path, json=body(), headers=auth())
    assert response.status_code == 200
    task_id = response.get_json()["data"]["taskId"]
    status = aliased.client.get("/api/v1/statusTask/flux2", query_string={"taskId": task_id},
                                headers=auth())
    assert status.get_json()["data"]["taskId"] == task_id


def assert_handled(response: Any) -> None:
    assert response.status_code < 500, response.data[:300]
    assert response.mimetype == "application/json"
    answer = response.get_json()
    assert answer["code"] == response.status_code
    assert answer["message"]


_fuzz = settings(max_examples=scaled(150), deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


@_fuzz
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_crash_submit(mock: MockClient, raw: bytes) -> None:
    assert_handled(mock.client.post(SUBMIT, data=raw, headers=JSON))


@_fuzz
@given(payload=json_values() | request_like(),
       scenario=st.none() | st.text(max_size=30).filter(lambda s: "\n" not in s and "\r" not in s))
def test_arbitrary_json_never_crashes_submit(mock: MockClient, payload: Any,
                                             scenario: str | None) -> None:
    headers = dict(JSON)
    if scenario is not None:
        headers["X-Mock-Scenario"] = scenario
    response = mock.client.post(SUBMIT, data=json.dumps(payload), headers=headers)
    assert_handled(response)
    if response.status_code == 200:
        task_id = response.get_json()["data"]["taskId"]
        assert mock.status(task_id).status_code == 200


@pytest.mark.parametrize("raw", [
    b"[" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b'{"request_type":"async","input":{"prompt":"abc","image_urls":' + b"[" * 5000
    + b"]" * 5000 + b"}}",
    b'{"request_type":"async","input":{"prompt":"abc","extra":' + b"[" * 900 + b"]" * 900
    + b"}}",
])
def test_deeply_nested_bodies_are_400_not_500(mock: MockClient, raw: bytes) -> None:
    answer = envelope(mock.client.post(SUBMIT, data=raw, headers=JSON), 400)
    assert answer["data"]["error"] == "the request body is nested too deeply to process"
    assert mock.submit().status_code == 200  # the worker is none the worse


def test_moderately_nested_unknown_fields_are_accepted(mock: MockClient) -> None:
    payload = body()
    payload["input"]["extra"] = json.loads("[" * 50 + "]" * 50)
    assert mock.submit(payload).status_code == 200


def test_server_level_errors_are_whole_json_responses() -> None:
    from mock_server.serving.http_worker import json_error

    raw = json_error("HTTP/1.1 414 URI Too Long", "Request Line is too large (8192 > 4094)")
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 URI Too Long\r\n")
    assert b"Content-Type: application/json" in head
    assert f"Content-Length: {len(payload)}".encode() in head
    assert json.loads(payload) == {"code": 414, "message": "URI Too Long",
                                   "data": {"error": "Request Line is too large (8192 > 4094)"}}
    assert json.loads(json_error("garbled", "x").partition(b"\r\n\r\n")[2])["code"] == 400


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_rejected(mock: MockClient, constant: str) -> None:
    raw = '{"request_type":"async","input":{"prompt":"abc","seed":' + constant + "}}"
    answer = envelope(mock.client.post(SUBMIT, data=raw, headers=JSON), 400)
    assert answer["data"]["error"] == \
        f"the request body is not valid JSON: {constant} is not a JSON value"
