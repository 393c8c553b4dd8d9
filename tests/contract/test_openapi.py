"""schemas/openapi.yaml: a valid OpenAPI 3.1 document over the schema files, served as JSON."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from flux2_spec.resources import schemas_dir
from tests.support.serve import serving

from .breakages import KEY

DOCUMENT = Path(schemas_dir()) / "openapi.yaml"
QUICKSTART = {"request_type": "async", "input": {
    "mode": "pro-text-to-image", "prompt": "A beautiful sunset over the mountains",
    "aspect_ratio": "1:1", "resolution": "1K"}}


@pytest.fixture
def no_remote_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail on any connection off loopback: a validator must never fetch a $ref remotely."""
    real = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"network access to {address!r}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


@pytest.fixture(scope="module")
def served_document() -> dict[str, Any]:
    with serving("--profile", "instant", "--store", "memory") as server:
        answer = requests.get(server.url("/openapi.json"), timeout=10)
        submit = requests.post(server.url("/api/v1/generateTask/flux-2"), json=QUICKSTART,
                               headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    if server.proc is not None and server.proc.stdout is not None:
        server.proc.stdout.close()
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    document: dict[str, Any] = answer.json()
    document["x-test-submit-answer"] = submit.json()
    return document


def test_yaml_is_valid_openapi_31_with_refs_resolved_from_the_files(
        no_remote_network: None) -> None:
    spec = yaml.safe_load(DOCUMENT.read_text("utf-8"))
    assert spec["openapi"].startswith("3.1")
    validate(spec, base_uri=DOCUMENT.as_uri())
    broken = yaml.safe_load(DOCUMENT.read_text("utf-8").replace("submit-response.json",
                                                               "missing.json"))
    with pytest.raises(Exception, match=r"missing\.json"):
        validate(broken, base_uri=DOCUMENT.as_uri())


def test_yaml_references_the_schema_files() -> None:
    text = DOCUMENT.read_text("utf-8")
    for name in ("generate-request.json", "submit-response.json", "status-response.json",
                 "error-response.json", "callback-success.json", "callback-failure.json"):
        assert f"$ref: {name}" in text or f"$ref: \"{name}\"" in text
        assert (DOCUMENT.parent / name).is_file()


def test_served_document_is_valid_and_self_contained(served_document: dict[str, Any],
                                                     no_remote_network: None) -> None:
    document = {k: v for k, v in served_document.items() if not k.startswith("x-test")}
    validate(document)
    refs = [r for r in _refs(document) if not r.startswith("#/")]
    assert refs == []


def test_security_errors_link_and_callbacks(served_document: dict[str, Any]) -> None:
    assert served_document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "Authorization: Bearer YOUR_API_KEY"}
    assert served_document["security"] == [{"bearerAuth": []}]
    submit = served_document["paths"]["/api/v1/generateTask/flux-2"]["post"]
    assert {"400", "401", "404", "429", "500"} <= set(submit["responses"])
    link = submit["responses"]["200"]["links"]["QueryTaskStatus"]
    assert link == {"operationId": "statusTask",
                    "parameters": {"taskId": "$response.body#/data/taskId"},
                    "description": link["description"]}
    callback = submit["callbacks"]["taskCompleted"]["{$request.body#/callback_url}"]["post"]
    variants = callback["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert len(variants) == 3
    status = served_document["paths"]["/api/v1/statusTask/flux-2"]["get"]
    assert status["operationId"] == "statusTask"


def test_bundled_schemas_validate_what_the_mock_sends_and_takes(
        served_document: dict[str, Any]) -> None:
    resource = Resource.from_contents(served_document, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:openapi", resource)

    def validator(path: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": f"urn:openapi#{path}"}, registry=registry)

    submit = served_document["paths"]["/api/v1/generateTask/flux-2"]["post"]
    request_ref = submit["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    answer_ref = submit["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert validator(request_ref[1:]).is_valid(QUICKSTART)
    assert not validator(request_ref[1:]).is_valid({"request_type": "async",
                                                    "input": {"prompt": "ab"}})
    assert validator(answer_ref[1:]).is_valid(served_document["x-test-submit-answer"])


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_document_is_json_serialisable_as_served(served_document: dict[str, Any]) -> None:
    assert json.loads(json.dumps(served_document)) == served_document
