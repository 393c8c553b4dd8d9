"""Every documented input rule, enforced with a message naming field, rule and what came."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flux2_spec.validation import input_defaults, schema_set
from tests.support.mock_client import MakeMock, MockClient, body
from tests.support.spec import MODES, RATIOS, RESOLUTIONS, TEXT_MODES

URL = "https://example.com/input.jpg"


def rejected(mock: MockClient, payload: Any, **kwargs: Any) -> str:
    """Submit `payload`, assert the documented 400 envelope, and return its message."""
    response = mock.submit(payload, **kwargs)
    assert response.status_code == 400, response.get_json()
    answer = response.get_json()
    assert answer["code"] == 400 and answer["message"] == "Invalid request"
    assert answer["data"]["errors"][0]["message"] == answer["data"]["error"]
    message: str = answer["data"]["error"]
    return message


def accepted(mock: MockClient, payload: Any) -> None:
    response = mock.submit(payload)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"]["taskId"].startswith("task_")


def test_short_prompt_message_names_field_rule_and_value(mock: MockClient) -> None:
    assert rejected(mock, body("ab")) == "input.prompt must be between 3 and 5000 characters, got 2"
    errors = mock.submit(body("ab")).get_json()["data"]["errors"]
    assert errors == [{"field": "input.prompt", "rule": "minLength",
                       "message": "input.prompt must be between 3 and 5000 characters, got 2"}]


def test_prompt_is_counted_in_characters_not_bytes(mock: MockClient) -> None:
    wide = "\u732b\U0001f308\u00e9"  # 3, 4 and 2 bytes in UTF-8
    accepted(mock, body((wide * 2000)[:5000]))
    accepted(mock, body("\U0001f308" * 3))  # 12 bytes, 3 characters
    message = rejected(mock, body((wide * 2000)[:5001]))
    assert message == "input.prompt must be between 3 and 5000 characters, got 5001"
    assert rejected(mock, body("\u732b\u732b")).endswith("got 2")


def test_prompt_bounds_are_inclusive(mock: MockClient) -> None:
    accepted(mock, body("abc"))
    accepted(mock, body("x" * 5000))


@pytest.mark.parametrize(("payload", "message"), [
    ({"input": {"prompt": "hello"}}, "Missing required field: request_type"),
    ({"request_type": "async"}, "Missing required field: input"),
    ({"request_type": "async", "input": {}}, "Missing required field: input.prompt"),
    (body(prompt=None), "Missing required field: input.prompt"),
    (body(prompt=5), "input.prompt must be a string, got integer"),
    ({"request_type": "async", "input": "draw"}, "input must be an object, got string"),
    ([body()], "request body must be an object, got array"),
    ("text", "request body must be an object, got string"),
    (body(image_urls=URL), "input.image_urls must be an array, got string"),
    (body(image_urls=[5]), "input.image_urls[0] must be a string, got integer"),
    (body(image_urls=["/relative.jpg"]),
     'input.image_urls[0] must be an absolute http(s) URL, got "/relative.jpg"'),
])
def test_shape_errors_name_the_field(mock: MockClient, payload: Any, message: str) -> None:
    assert rejected(mock, payload) == message


def test_eight_image_urls_accepted_nine_rejected(mock: MockClient) -> None:
    accepted(mock, body(image_urls=[URL] * 8))
    accepted(mock, body(mode="pro-image-to-image", image_urls=[URL] * 8))
    assert rejected(mock, body(image_urls=[URL] * 9)) == \
        "input.image_urls must hold at most 8 image URLs, got 9"
    assert "at most 8" in rejected(mock, body(mode="flex-image-to-image", image_urls=[URL] * 9))


@pytest.mark.parametrize("mode", [m for m in MODES if m not in TEXT_MODES])
def test_image_to_image_modes_need_1_to_8_image_urls(mock: MockClient, mode: str) -> None:
    assert rejected(mock, body(mode=mode)) == \
        "Missing required field: input.image_urls (is required in image-to-image modes)"
    assert rejected(mock, body(mode=mode, image_urls=[])) == \
        "input.image_urls must hold 1 to 8 image URLs in image-to-image modes, got 0"
    accepted(mock, body(mode=mode, image_urls=[URL]))


@pytest.mark.parametrize("mode", TEXT_MODES)
def test_text_to_image_modes_need_no_image_urls(mock: MockClient, mode: str) -> None:
    accepted(mock, body(mode=mode))
    accepted(mock, body(mode=mode, image_urls=[]))


def callback_body(url: Any = None) -> dict[str, Any]:
    payload = {**body(), "request_type": "callback"}
    if url is not None:
        payload["callback_url"] = url
    return payload


def test_callback_mode_needs_a_callback_url(mock: MockClient) -> None:
    assert rejected(mock, callback_body()) == \
        "Missing required field: callback_url (is required when request_type is callback)"


@pytest.mark.parametrize("url", ["/callback", "ftp://127.0.0.1/cb", "127.0.0.1:9/cb",
                                 "http://", "http:///path", "https://exa mple.com/cb", ""])
def test_callback_url_must_be_an_absolute_http_url(mock: MockClient, url: str) -> None:
    message = rejected(mock, callback_body(url))
    assert message.startswith("callback_url must be an absolute http(s) URL, got ")


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/cb", "https://localhost/hook?x=1",
                                 "HTTP://[::1]:8080/cb"])
def test_callback_urls_on_loopback_are_accepted(mock: MockClient, url: str) -> None:
    accepted(mock, callback_body(url))


@pytest.mark.parametrize(("field", "value"), [
    *[("mode", m) for m in MODES],
    *[("aspect_ratio", r) for r in RATIOS],
    *[("resolution", r) for r in RESOLUTIONS],
])
def test_every_enum_member_is_accepted(mock: MockClient, field: str, value: str) -> None:
    extra = {"image_urls": [URL]} if field == "mode" and "image-to" in value else {}
    accepted(mock, body(**{field: value, **extra}))


@pytest.mark.parametrize(("field", "value"), [
    ("mode", "pro-text-to-Image"), ("mode", "pro_text_to_image"), ("mode", "text-to-image"),
    ("mode", " pro-text-to-image"),
    ("aspect_ratio", "16:10"), ("aspect_ratio", "1x1"), ("aspect_ratio", "Auto"),
    ("aspect_ratio", "1:1 "), ("aspect_ratio", 1),
    ("resolution", "1k"), ("resolution", "4K"), ("resolution", "1024"), ("resolution", None),
])
def test_enum_near_misses_are_rejected(mock: MockClient, field: str, value: Any) -> None:
    payload = body()
    payload["input"][field] = value
    message = rejected(mock, payload)
    assert message.startswith(f"input.{field} must be one of ")
    assert message.endswith(f"got {json.dumps(value)}")


@pytest.mark.parametrize("value", ["sync", "Async", "CALLBACK", "", None])
def test_request_type_near_misses_are_rejected(mock: MockClient, value: Any) -> None:
    assert rejected(mock, {**body(), "request_type": value}).startswith(
        "request_type must be one of async, callback; got ")


def test_documented_defaults_apply_when_fields_are_left_out(mock: MockClient) -> None:
    task_id = mock.task({"request_type": "async", "input": {"prompt": "just a prompt"}})
    record = mock.app.extensions["flux2_mock"].store.get_task(task_id)
    assert record.request["input"] == {"prompt": "just a prompt", **input_defaults()}
    assert (record.width, record.height) == (1024, 1024)


@pytest.mark.parametrize("field", ["mode", "aspect_ratio", "resolution"])
def test_strict_required_reads_required_yes_literally(make_mock: MakeMock, field: str) -> None:
    payload = body(**{field: None})
    lenient, strict = make_mock(), make_mock(strict_required=True)
    accepted(lenient, payload)
    assert rejected(strict, payload) == f"Missing required field: input.{field}"
    accepted(strict, body())


def test_every_broken_rule_is_listed(mock: MockClient) -> None:
    payload = {"request_type": "sync", "input": {"prompt": "ab", "resolution": "8K"}}
    errors = mock.submit(payload).get_json()["data"]["errors"]
    assert {e["field"] for e in errors} == {"request_type", "input.prompt", "input.resolution"}
    assert all(set(e) == {"field", "rule", "message"} for e in errors)


def test_messages_come_from_the_schema_set_directly() -> None:
    problems = schema_set().errors("generate-request.json", body("hi"))
    assert [(p.field, p.rule) for p in problems] == [("input.prompt", "minLength")]
    assert schema_set().is_valid("generate-request.json", body())
