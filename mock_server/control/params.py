"""The control plane's query parameters and bodies, read by the rules openapi-control.yaml gives.

The document is the truth: each view asks for its operation's parameters and
body by operationId, and gets values of the documented types and bounds, or
a 400 naming the parameter and the rule it broke. Integers are ASCII digits
within 64 bits (`limit=--5`, `limit=²`, `after=1e23` and 23-digit cursors are
refused, never a 500); an enum parameter sent empty (`state=`) is refused;
bodies are validated as a whole (types, enums, `additionalProperties: false`).
API keys are named in query strings by key id or masked form, so that URLs and
access logs need never hold one; a full key is still understood.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import relevance
from referencing import Registry, Resource

from flux2_spec.resources import schemas_dir
from flux2_spec.validation import describe
from mock_server.domain.errors import InvalidRequest, NotFound
from mock_server.domain.keys import key_id, mask_key
from mock_server.web.body import INT64_MAX, INT64_MIN

CONTROL_DOCUMENT = "openapi-control.yaml"
_DOC_URI = "https://flux2-mock.dev/schemas/openapi-control.yaml"
_INTEGER = re.compile(r"^-?[0-9]{1,19}$")
_NUMBER = re.compile(r"^-?[0-9]{1,20}(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,3})?$")


@dataclass(frozen=True)
class Operation:
    """One documented operation: its query parameters and its body's schema."""

    operation_id: str
    query: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    body: Draft202012Validator | None = None


def field_error(name: str, rule: str, message: str) -> InvalidRequest:
    """Return a 400 whose data names the field and the rule, like the API's own."""
    return InvalidRequest(message, data={"errors": [{"field": name, "rule": rule,
                                                     "message": message}]})


@cache
def control_document() -> dict[str, Any]:
    """Return openapi-control.yaml, parsed once."""
    loaded: dict[str, Any] = yaml.safe_load(
        (schemas_dir() / CONTROL_DOCUMENT).read_text("utf-8"))
    return loaded


@cache
def operations() -> dict[str, Operation]:
    """Return every operation of the control document by operationId."""
    document = control_document()
    registry: Registry = Registry().with_resource(_DOC_URI, Resource.opaque(document))
    resolver = registry.resolver(_DOC_URI)
    found: dict[str, Operation] = {}
    for item in document["paths"].values():
        shared = item.get("parameters", [])
        for method, spec in item.items():
            if method == "parameters" or not isinstance(spec, dict):
                continue
            query: dict[str, Mapping[str, Any]] = {}
            for param in [*shared, *spec.get("parameters", [])]:
                if "$ref" in param:
                    param = resolver.lookup(param["$ref"]).contents
                if param.get("in") == "query":
                    query[param["name"]] = param.get("schema", {})
            body = None
            content = spec.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                schema = {**content["application/json"]["schema"], "$id": _DOC_URI}
                body = Draft202012Validator(schema, registry=registry,
                                            format_checker=Draft202012Validator.FORMAT_CHECKER)
            found[spec["operationId"]] = Operation(spec["operationId"], query, body)
    return found


def query_args(operation_id: str, args: Mapping[str, str]) -> dict[str, Any]:
    """Return the operation's documented query parameters, parsed; absent ones as defaults."""
    out: dict[str, Any] = {}
    for name, schema in operations()[operation_id].query.items():
        raw = args.get(name)
        out[name] = schema.get("default") if raw is None else parse_value(name, raw, schema)
    return out


def parse_value(name: str, raw: str, schema: Mapping[str, Any]) -> Any:
    """Read one query value as `schema` types it, or raise a 400 naming `name`."""
    kind = schema.get("type", "string")
    if kind == "integer":
        if not _INTEGER.match(raw) or not INT64_MIN <= int(raw) <= INT64_MAX:
            raise field_error(name, "integer", f"{name} must be a whole number "
                              f"{_bounds(schema)}, got {raw[:40]!r}")
        value: Any = int(raw)
    elif kind == "number":
        if not _NUMBER.match(raw):
            raise field_error(name, "number", f"{name} must be a number {_bounds(schema)}, "
                              f"got {raw[:40]!r}")
        value = float(raw)
    elif kind == "boolean":
        if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise field_error(name, "boolean", f"{name} must be true or false, got {raw[:40]!r}")
        value = raw.lower() in ("true", "1", "yes")
    else:
        value = raw
        if "enum" in schema and value not in schema["enum"]:
            raise field_error(name, "enum", f"{name} must be one of "
                              f"{', '.join(map(str, schema['enum']))}; got {raw[:40]!r}")
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength",
                                                                             len(value)):
            raise field_error(name, "length", f"{name} must be {schema.get('minLength', 0)} to "
                              f"{schema.get('maxLength', 'any number of')} characters, "
                              f"got {len(value)}")
        return value
    low, high = schema.get("minimum"), schema.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        raise field_error(name, "range", f"{name} must be {_bounds(schema)}, got {raw[:40]!r}")
    return value


def _bounds(schema: Mapping[str, Any]) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"from {low} to {high}"
    if low is not None:
        return f"of at least {low}"
    return f"of at most {high}" if high is not None else "within 64 bits"


def checked_body(operation_id: str, body: Any) -> Any:
    """Return `body` if it follows the operation's documented schema, else raise a 400."""
    validator = operations()[operation_id].body
    if validator is None:
        return body
    found = sorted(validator.iter_errors(body), key=relevance, reverse=True)
    if not found:
        return body
    problems = [describe(_leaf(e)) for e in found]
    raise InvalidRequest(problems[0].message, data={"errors": [p.as_dict() for p in problems]})


def _leaf(error: Any) -> Any:
    # oneOf/anyOf: the branch that got furthest says the most.
    while error.context and error.validator in ("oneOf", "anyOf"):
        error = max(error.context, key=lambda e: (len(e.absolute_path), -len(e.message)))
    return error


def api_key_arg(args: Mapping[str, str], keys: Iterable[str]) -> str | None:
    """Return the API key that `apiKeyId` or `apiKey` (key, id or masked form) names, or None.

    Raise a 404 for a value that names none of `keys`, a 400 for a masked form naming several.
    """
    known = [k for k in keys if k]
    wanted_id = args.get("apiKeyId")
    if wanted_id:
        match = [k for k in known if key_id(k) == wanted_id]
        if not match:
            raise _unknown("apiKeyId", f"apiKeyId {wanted_id[:40]!r} names none of the "
                           f"server's API keys")
        return match[0]
    value = args.get("apiKey")
    if not value:
        return None
    if value in known:
        return value
    match = [k for k in known if key_id(k) == value] or \
        [k for k in known if mask_key(k) == value]
    if len(match) > 1:
        raise field_error("apiKey", "unique", "apiKey's masked form fits several API keys; "
                          "name the key by its key id (apiKeyId)")
    if not match:
        # The value itself is never echoed: it may be a real key of somewhere else.
        raise _unknown("apiKey", "apiKey names none of the server's API keys (give its key "
                       "id, its masked form, or the key)")
    return match[0]


def _unknown(name: str, message: str) -> NotFound:
    return NotFound(message, data={"errors": [{"field": name, "rule": "known",
                                               "message": message}]})
