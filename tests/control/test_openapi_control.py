"""schemas/openapi-control.yaml: a valid OpenAPI document that matches the control plane."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.support.mock_client import MockClient

DOC_PATH = Path(__file__).resolve().parents[2] / "schemas" / "openapi-control.yaml"
DOC: dict[str, Any] = yaml.safe_load(DOC_PATH.read_text("utf-8"))


def test_the_document_is_valid_openapi() -> None:
    validate(DOC)
    assert [t["name"] for t in DOC["tags"]] == ["control"]
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            assert operation["tags"] == ["control"], f"{method} {path}"


def test_every_control_route_is_described(mock: MockClient) -> None:
    app: Flask = mock.app
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(("control.", "dashboard.page")):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).replace("{task_id}", "{taskId}")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert method.lower() in DOC["paths"].get(path.rstrip("/") or path, {}), \
                f"{method} {path} is missing from openapi-control.yaml"


def check(response: Any, path: str, method: str, status: int) -> None:
    """Validate an answer against the document's schema for it."""
    assert response.status_code == status, response.get_data(as_text=True)
    answer = DOC["paths"][path][method]["responses"][str(status)]
    if "$ref" in answer:
        answer = DOC["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    schema = answer["content"]["application/json"]["schema"]
    # The schema's local refs ("#/components/...") resolve against a root holding them.
    validator = Draft202012Validator({"components": DOC["components"], "$defs": {"it": schema},
                                      "$ref": "#/$defs/it"})
    errors = [e.message for e in validator.iter_errors(response.get_json())]
    assert errors == [], f"{method.upper()} {path} {status}: {errors}"


@pytest.mark.parametrize("outcome", ["failed", "stuck"])
def test_answers_match_the_document(mock: MockClient, outcome: str) -> None:
    task_id = mock.task()
    check(mock.get("/_mock/health"), "/_mock/health", "get", 200)
    check(mock.get("/_mock/tasks?limit=5"), "/_mock/tasks", "get", 200)
    check(mock.get(f"/_mock/tasks/{task_id}"), "/_mock/tasks/{taskId}", "get", 200)
    check(mock.post(f"/_mock/tasks/{task_id}/force", {"outcome": outcome}),
          "/_mock/tasks/{taskId}/force", "post", 200)
    check(mock.post(f"/_mock/tasks/{task_id}/force", {"outcome": outcome}),
          "/_mock/tasks/{taskId}/force", "post", 409 if outcome == "failed" else 200)
    check(mock.get("/_mock/tasks/nope"), "/_mock/tasks/{taskId}", "get", 404)
    check(mock.post("/_mock/clock/advance", {"seconds": 1}), "/_mock/clock/advance", "post",
          200)
    check(mock.client.patch("/_mock/settings", json={"failure_rate": 0.5}),
          "/_mock/settings", "patch", 200)
    check(mock.post("/_mock/scenario-queue", {"scenario": "fail", "count": 2}),
          "/_mock/scenario-queue", "post", 201)
    check(mock.get("/_mock/scenario-queue"), "/_mock/scenario-queue", "get", 200)
    check(mock.get("/_mock/journal"), "/_mock/journal", "get", 200)
    check(mock.post("/_mock/callbacks/deliver-due"), "/_mock/callbacks/deliver-due", "post", 200)
    check(mock.post("/_mock/reset"), "/_mock/reset", "post", 200)
    check(mock.get("/_mock/tasks?state=nope"), "/_mock/tasks", "get", 400)


def test_the_api_document_lists_every_control_operation_under_the_control_tag() -> None:
    main = yaml.safe_load((DOC_PATH.parent / "openapi.yaml").read_text("utf-8"))
    assert "control" in [t["name"] for t in main["tags"]]
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            listed = main["paths"][path][method]
            assert listed["tags"] == ["control"]
            assert listed["operationId"] == operation["operationId"]
    listed_control = {p for p, item in main["paths"].items()
                      if any("control" in op.get("tags", []) for op in item.values()
                             if isinstance(op, dict))}
    assert listed_control == set(DOC["paths"])
