"""schemas/ are valid, the docs' examples satisfy them, and so does everything the mock says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from flux2_spec.validation import schema_set
from tests.support.examples import scaled
from tests.support.mock_client import SUBMIT, MockClient, auth, body
from tests.support.spec import STATES

from .strategies import json_values, request_like

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = sorted((ROOT / "schemas").glob("*.json"))
FIXTURES = ROOT / "fixtures" / "docs"
INDEX = json.loads((FIXTURES / "index.json").read_text("utf-8"))["fixtures"]


def assert_valid(schema: str, instance: Any) -> None:
    problems = [e.message for e in schema_set().errors(schema, instance)]
    assert not problems, f"{schema}: {problems} in {instance}"


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_every_schema_file_is_a_valid_2020_12_schema(path: Path) -> None:
    contents = json.loads(path.read_text("utf-8"))
    Draft202012Validator.check_schema(contents)
    assert contents["$id"].endswith("/" + path.name)


def test_schema_set_loads_every_file() -> None:
    assert schema_set().names() == [p.name for p in SCHEMAS]


def test_every_fixture_file_is_indexed() -> None:
    on_disk = {p.name for p in FIXTURES.glob("*.json")} - {"index.json"}
    assert on_disk == set(INDEX)


@pytest.mark.parametrize("name", sorted(INDEX))
def test_docs_fixture_validates_against_its_schema(name: str) -> None:
    instance = json.loads((FIXTURES / name).read_text("utf-8"))
    assert_valid(INDEX[name]["schema"], instance)
    if "resultJson" in instance.get("data", {}):
        assert_valid("result-json.json", json.loads(instance["data"]["resultJson"]))


@pytest.mark.parametrize(("schema", "instance"), [
    ("status-success.json", {"code": 200, "message": "success",
                             "data": {"taskId": "task_1", "state": "processing"}}),
    ("status-failed.json", {"code": 200, "message": "success",
                            "data": {"taskId": "task_1", "state": "failed"}}),
    ("error-response.json", {"code": 200, "message": "success"}),
    ("submit-response.json", {"code": 200, "message": "success", "data": {}}),
])
def test_schemas_reject_wrong_answers(schema: str, instance: Any) -> None:
    assert not schema_set().is_valid(schema, instance)


def check_status(answer: dict[str, Any], state: str) -> None:
    assert_valid(f"status-{state}.json", answer)
    assert_valid("status-response.json", answer)
    if state == "success":
        assert_valid("result-json.json", json.loads(answer["data"]["resultJson"]))


def test_mock_output_validates_in_every_state(mock: MockClient) -> None:
    ok = mock.task()
    bad = mock.task(scenario="fail")
    submitted = mock.submit()
    assert_valid("submit-response.json", submitted.get_json())
    seen = {}
    for _ in range(4):
        for task_id in (ok, bad):
            answer = mock.status(task_id).get_json()
            state = answer["data"]["state"]
            check_status(answer, state)
            seen[state] = answer
        mock.clock.advance(1)
    assert set(seen) == set(STATES)


def error_answers(mock: MockClient) -> list[Any]:
    """One of every kind of error the API answers."""
    client = mock.client
    return [
        client.post(SUBMIT, json=body()),
        client.post(SUBMIT, json=body(), headers={"Authorization": "Basic abc"}),
        client.post(SUBMIT, json=body(), headers=auth("wrong")),
        mock.submit(body("ab")),
        mock.submit(scenario="explode"),
        client.post(SUBMIT, data="{", headers={**auth(), "Content-Type": "application/json"}),
        client.post(SUBMIT, data="x", headers={**auth(), "Content-Type": "text/plain"}),
        client.post("/api/v1/generateTask/flux-3", json=body(), headers=auth()),
        mock.status(None),
        mock.status("task_doesnotexist"),
        client.get("/nowhere"),
        client.delete(SUBMIT),
        client.post(SUBMIT, data=b"x" * 2_000_000,
                    headers={**auth(), "Content-Type": "application/json"}),
        client.get("/output/task_doesnotexist/0.jpg"),
    ]


def test_every_error_answer_validates_against_error_response(mock: MockClient) -> None:
    statuses = set()
    for response in error_answers(mock):
        answer = response.get_json()
        assert_valid("error-response.json", answer)
        assert response.status_code == answer["code"]
        statuses.add(answer["code"])
    assert statuses == {400, 401, 404, 405, 413, 415}


def reference_errors(name: str, instance: Any) -> list[str]:
    """Errors from a validator that resolves every $ref through the registry (no inlining)."""
    from jsonschema.exceptions import relevance

    from flux2_spec.validation import _leaves, describe

    plain = Draft202012Validator(schema_set().schema(name), registry=schema_set().registry,
                                 format_checker=Draft202012Validator.FORMAT_CHECKER)
    found = sorted(plain.iter_errors(instance), key=relevance, reverse=True)
    return sorted({describe(e).message for e in _leaves(found)})


@settings(max_examples=scaled(300), deadline=None)
@given(instance=request_like() | json_values(), name=st.sampled_from(
    ["generate-request.json", "generate-request-strict.json", "status-response.json",
     "status-failed.json", "callback-success.json", "error-response.json"]))
def test_inlined_validators_judge_like_the_registry(instance: Any, name: str) -> None:
    mine = sorted({e.message for e in schema_set().errors(name, instance)})
    assert mine == reference_errors(name, instance)


@pytest.mark.parametrize("name", [p.name for p in SCHEMAS])
def test_inlined_validators_accept_the_fixtures_like_the_registry(name: str) -> None:
    for fixture in INDEX:
        instance = json.loads((FIXTURES / fixture).read_text("utf-8"))
        assert schema_set().is_valid(name, instance) == (not reference_errors(name, instance))
