"""Each bad control-plane input of the issue answers a 4xx envelope naming the problem."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.control.params import api_key_arg, parse_value, query_args
from mock_server.domain.errors import ApiError
from mock_server.domain.keys import key_id, mask_key

from .conftest import JSON_AUTH, SUBMIT, assert_envelope

KEY = "flux2-mock-key"


def problem(response: Any, status: int = 400) -> dict[str, Any]:
    return assert_envelope(response.status_code, response.get_json(), status)


@pytest.mark.parametrize(("query", "name"), [
    ("limit=--5", "limit"), ("limit=%C2%B2", "limit"), ("limit=-5", "limit"),
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=1.5", "limit"), ("limit=", "limit"),
    ("limit=+5", "limit"), ("limit=%EF%BC%95", "limit"), ("limit=5%00", "limit"),
    ("after=1e23", "after"), ("after=99999999999999999999999", "after"), ("after=-1", "after"),
    ("after=0x10", "after"), ("since=nan", "since"), ("until=" + "9" * 5000, "until"),
    ("state=", "state"), ("state=PENDING", "state"), ("state=%00", "state"),
    ("order=sideways", "order"), ("order=", "order"),
])
def test_bad_task_list_parameters_are_400(client: FlaskClient, query: str, name: str) -> None:
    answer = problem(client.get(f"/_mock/tasks?{query}"))
    assert answer["data"]["errors"][0]["field"] == name
    assert name in answer["data"]["error"]


@pytest.mark.parametrize("query", ["after=99999999999999999999999", "after=1e23", "limit=--5",
                                   "limit=10001", "limit=%C2%B2", "after="])
def test_bad_journal_parameters_are_400(client: FlaskClient, query: str) -> None:
    name = query.split("=")[0]
    assert problem(client.get(f"/_mock/journal?{query}"))["data"]["errors"][0]["field"] == name


@pytest.mark.parametrize(("path", "query"), [
    ("/_mock/conformance", "format=AAA"), ("/_mock/spend", "tasks=null"),
    ("/_mock/spend", "tasks=maybe"),
])
def test_bad_report_parameters_are_400(client: FlaskClient, path: str, query: str) -> None:
    problem(client.get(f"{path}?{query}"))


@pytest.mark.parametrize("body", [
    b'{"seconds":1e400}', b'{"ms":9223372036854775808}', b'{"ms":-1}', b'{"seconds":-0.5}',
    b'{"seconds":"60"}', b'{"ms":1.5}', b'{"seconds":true}', b'{"ms":null}', b'{}',
    b'{"seconds":1,"ms":1}', b'{"seconds":1,"extra":1}', b'{"ms":' + b"9" * 5000 + b"}",
    b'[]', b'"60"', b'{"seconds":NaN}', b'{"seconds":1e308}',
])
def test_bad_clock_advances_are_400(client: FlaskClient, body: bytes) -> None:
    before = client.get("/_mock/clock").get_json()["offsetMs"]
    problem(client.post("/_mock/clock/advance", data=body, headers=JSON_AUTH))
    assert client.get("/_mock/clock").get_json()["offsetMs"] == before


def test_an_integral_float_is_a_whole_number_of_ms(client: FlaskClient) -> None:
    before = client.get("/_mock/clock").get_json()["offsetMs"]
    response = client.post("/_mock/clock/advance", json={"ms": 167166.0})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["offsetMs"] == before + 167166


@pytest.mark.parametrize("body", [
    {"outcome": {}}, {"outcome": []}, {"outcome": None}, {"outcome": 1}, {"outcome": "won"},
    {"outcome": "failed", "failCode": {}}, {"outcome": "failed", "failCode": "a b"},
    {"outcome": "success", "failCode": "NSFW"}, {"outcome": "failed", "extra": True}, [], {},
])
def test_bad_force_bodies_are_400(client: FlaskClient, body: Any) -> None:
    task_id = client.post(SUBMIT, json={"request_type": "async", "input": {"prompt": "abc"}},
                          headers=JSON_AUTH).get_json()["data"]["taskId"]
    problem(client.post(f"/_mock/tasks/{task_id}/force", json=body))
    assert client.get(f"/_mock/tasks/{task_id}").get_json()["outcome"] == "success"


def test_forcing_an_unknown_task_is_404(client: FlaskClient) -> None:
    problem(client.post("/_mock/tasks/X/force", json={"outcome": "failed"}), 404)
    problem(client.get("/_mock/tasks/X"), 404)


@pytest.mark.parametrize(("body", "field"), [
    ({"profile": "turbo"}, "profile"), ({"profile": 3}, "profile"),
    ({"failure_rate": False}, "failure_rate"), ({"failure_rate": 1.5}, "failure_rate"),
    ({"failure_rate": "0.5"}, "failure_rate"), ({"pending_ms": 1.5}, "pending_ms"),
    ({"pending_ms": -1}, "pending_ms"), ({"processing_ms": 10**30}, "processing_ms"),
    ({"api_keys": ["x"]}, "api_keys"), ({"profile": "fast", "nope": 1}, "nope"),
])
def test_settings_follow_the_document(client: FlaskClient, body: dict[str, Any],
                                      field: str) -> None:
    answer = problem(client.patch("/_mock/settings", json=body))
    assert field in answer["data"]["error"]
    assert client.get("/_mock/settings").get_json()["overrides"] == {}


def test_documented_settings_are_accepted(client: FlaskClient) -> None:
    response = client.patch("/_mock/settings", json={"profile": "realistic", "failure_rate": 0,
                                                     "pending_ms": 10.0})
    assert response.status_code == 200, response.get_json()
    overrides = response.get_json()["overrides"]
    assert overrides["profile"] == "realistic" and overrides["pending_ms"] == 10


@pytest.mark.parametrize("body", [{"scenario": "fail", "count": 1.5},
                                  {"scenario": "fail", "count": True},
                                  {"scenario": "fail", "colour": "red"},
                                  {"scenario": "pending=\u00b2"}, {"scenario": 5}])
def test_bad_queue_entries_are_400(client: FlaskClient, body: dict[str, Any]) -> None:
    problem(client.post("/_mock/scenario-queue", json=body))


# -- keys in query strings: by id or masked form, never needed in full ---------------------

@pytest.mark.parametrize("form", [key_id(KEY), mask_key(KEY), KEY])
@pytest.mark.parametrize("path", ["/_mock/tasks", "/_mock/journal", "/_mock/spend",
                                  "/_mock/conformance"])
def test_a_key_is_named_by_id_or_masked_form(client: FlaskClient, path: str, form: str) -> None:
    client.post(SUBMIT, json={"request_type": "async", "input": {"prompt": "abc"}},
                headers=JSON_AUTH)
    by_form = client.get(path, query_string={"apiKey": form})
    by_id = client.get(path, query_string={"apiKeyId": key_id(KEY)})
    assert by_form.status_code == by_id.status_code == 200
    if path == "/_mock/tasks":
        assert len(by_form.get_json()["tasks"]) == len(by_id.get_json()["tasks"]) == 1


@pytest.mark.parametrize("query", ["apiKey=nobody", "apiKeyId=000000000000", "apiKey=%00"])
@pytest.mark.parametrize("path", ["/_mock/tasks", "/_mock/journal", "/_mock/spend",
                                  "/_mock/conformance"])
def test_a_key_the_server_does_not_have_is_404_and_not_echoed(client: FlaskClient, path: str,
                                                              query: str) -> None:
    answer = problem(client.get(f"{path}?{query}"), 404)
    assert "nobody" not in answer["data"]["error"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_any_integer_parameter_text_parses_or_is_refused(raw: str) -> None:
    schema = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
    try:
        value = parse_value("after", raw, schema)
    except ApiError as exc:
        assert exc.status == 400 and exc.data and exc.data["errors"][0]["field"] == "after"
        return
    assert isinstance(value, int) and 0 <= value < 2**63 and raw.isascii()


def test_every_documented_query_parameter_has_a_parser() -> None:
    assert query_args("controlListTasks", {}) == {
        "state": None, "apiKey": None, "apiKeyId": None, "since": None, "until": None,
        "limit": 50, "after": None, "order": "asc"}
    assert api_key_arg({"apiKey": mask_key(KEY)}, [KEY, "other-key"]) == KEY
