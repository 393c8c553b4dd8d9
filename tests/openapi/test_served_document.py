"""The served /openapi.json is the truth: every route, fully described, and Schemathesis agrees."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from openapi_spec_validator import validate

from mock_server import create_app
from mock_server.api.openapi import bundled_document
from mock_server.control.params import operations
from tests.support.serve import ServeProcess

from .fuzzing import fuzz

METHODS = ("get", "post", "put", "patch", "delete")
BODY_OPERATIONS = {"generateTask", "controlForceTask", "controlAdvanceClock",
                   "controlChangeSettings", "controlEnqueueScenario"}


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, Any]]:
    server = ServeProcess("--store", "memory").start()
    try:
        answer = requests.get(server.url("/openapi.json"), timeout=10)
        assert answer.status_code == 200
        yield answer.json()
    finally:
        server.kill()


def every_operation(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_the_served_document_is_valid_openapi_31(served: dict[str, Any]) -> None:
    validate(served)
    assert served == bundled_document()


def test_every_route_of_the_app_is_an_operation(served: dict[str, Any]) -> None:
    app = create_app({"store": "memory"})
    documented = {(path, method) for path, method, _ in every_operation(served)}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or (rule.rule.endswith("/") and rule.rule != "/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        path = path.replace("{task_id}", "{taskId}").replace("{model}", "flux-2")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            assert (path, method.lower()) in documented, f"{method} {path}"


def test_every_operation_is_described_fully(served: dict[str, Any]) -> None:
    for path, method, operation in every_operation(served):
        where = f"{method.upper()} {path}"
        assert operation.get("operationId") and operation.get("summary"), where
        assert "see openapi-control.yaml" not in str(operation), f"{where} is only a stub"
        responses = operation["responses"]
        assert any(code.startswith("2") for code in responses), where
        for code, answer in responses.items():
            assert "$ref" in answer or answer.get("content") or code in ("204",), \
                f"{where} {code} has no body schema"
        placeholders = set(re.findall(r"{(\w+)}", path))
        params = {p.get("name") for p in [*served["paths"][path].get("parameters", []),
                                          *operation.get("parameters", [])]
                  if isinstance(p, dict)}
        refs = {p["$ref"].rsplit("/", 1)[1] for p in [
            *served["paths"][path].get("parameters", []), *operation.get("parameters", [])]
            if "$ref" in p}
        names = params | {served["components"]["parameters"][r]["name"] for r in refs}
        assert placeholders <= names, f"{where}: path parameters {placeholders - names}"
        if operation["operationId"] in BODY_OPERATIONS:
            assert operation["requestBody"]["content"]["application/json"]["schema"], where
            assert {"400", "415"} <= set(responses), f"{where}: 400 and 415 documented"


@pytest.mark.parametrize(("operation_id", "codes"), [
    ("generateTask", {"200", "400", "401", "413", "415", "429"}),
    ("controlGetTask", {"200", "404"}), ("controlForceTask", {"200", "400", "404", "409", "415"}),
    ("controlListTasks", {"200", "400", "404"}), ("controlJournal", {"200", "400"}),
    ("controlAdvanceClock", {"200", "400", "415"}), ("controlTaskCallbacks", {"200", "404"}),
])
def test_the_answers_the_issue_named_are_documented(served: dict[str, Any], operation_id: str,
                                                    codes: set[str]) -> None:
    found = {op["operationId"]: op for _, _, op in every_operation(served)}
    assert codes <= set(found[operation_id]["responses"])


def test_control_parameters_the_views_read_are_the_documented_ones(
        served: dict[str, Any]) -> None:
    found = {op["operationId"]: op for _, _, op in every_operation(served)}
    for operation_id, operation in operations().items():
        listed = found[operation_id].get("parameters", [])
        names = {served["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"]
                 if "$ref" in p else p["name"] for p in listed}
        assert set(operation.query) <= names, operation_id


@pytest.mark.e2e
@pytest.mark.slow
def test_schemathesis_finds_nothing_in_a_bounded_run() -> None:
    run = fuzz(3, seed=11)
    summary = run.output.split("SUMMARY")[-1]
    assert run.returncode == 0, summary[-3000:]
    assert run.generated >= 200, summary[-2000:]
