"""The compiled schema checks judge exactly as jsonschema does, and give up when they can't."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from flux2_spec.fastcheck import compile_check
from flux2_spec.validation import schema_set
from tests.support.examples import scaled

from .strategies import answers, json_values, near_valid_requests, request_like

NAMES = schema_set().names()


def reference(name: str) -> Draft202012Validator:
    """jsonschema itself, resolving every $ref through the registry."""
    return Draft202012Validator(schema_set().schema(name), registry=schema_set().registry,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_every_schema_compiles() -> None:
    assert [n for n in NAMES if schema_set().fast_check(n) is None] == []


REQUESTS = ["generate-request.json", "generate-request-strict.json"]


def same_verdict(name: str, instance: Any) -> None:
    fast = schema_set().fast_check(name)
    assert fast is not None
    assert fast(instance) == reference(name).is_valid(instance), (name, instance)


@settings(max_examples=scaled(500), deadline=None)
@given(name=st.sampled_from(REQUESTS), instance=near_valid_requests())
def test_compiled_verdict_equals_jsonschema_on_requests(name: str, instance: Any) -> None:
    same_verdict(name, instance)


@pytest.mark.parametrize("name", [n for n in NAMES if n not in REQUESTS])
@settings(max_examples=scaled(100), deadline=None)
@given(instance=answers())
def test_compiled_verdict_equals_jsonschema_on_answers(name: str, instance: Any) -> None:
    same_verdict(name, instance)


@settings(max_examples=scaled(200), deadline=None)
@given(name=st.sampled_from(NAMES), instance=request_like() | json_values())
def test_compiled_verdict_equals_jsonschema_on_anything(name: str, instance: Any) -> None:
    same_verdict(name, instance)


def test_the_near_valid_strategy_reaches_both_verdicts() -> None:
    seen: set[bool] = set()

    @settings(max_examples=200, deadline=None)
    @given(instance=near_valid_requests())
    def collect(instance: Any) -> None:
        seen.add(schema_set().is_valid("generate-request.json", instance))

    collect()
    assert seen == {True, False}


@pytest.mark.parametrize(("schema", "instance", "valid"), [
    ({"type": "integer"}, 1.0, True),
    ({"type": "integer"}, 1.5, False),
    ({"type": "integer"}, True, False),
    ({"type": "number"}, False, False),
    ({"type": ["string", "null"]}, None, True),
    ({"enum": ["async"]}, True, False),
    ({"const": 200}, 200.0, True),
    ({"maximum": 599}, 599, True),
    ({"minimum": 0}, 0, True),
    ({"minItems": 1, "maxItems": 8}, [0] * 8, True),
    ({"const": 200}, True, False),
    ({"minLength": 3}, "\U0001f308" * 3, True),
    ({"maxLength": 2}, 12345, True),
    ({"required": ["a"]}, [1], True),
    ({"if": {"required": ["a"]}, "then": {"required": ["b"]}}, {"a": 1}, False),
    ({"if": {"required": ["a"]}, "else": {"required": ["b"]}}, {}, False),
    ({"oneOf": [{"type": "string"}, {"minLength": 1}]}, "x", False),
    ({"anyOf": [{"type": "string"}, {"type": "null"}]}, None, True),
    (False, "anything", False),
])
def test_keyword_semantics(schema: Any, instance: Any, valid: bool) -> None:
    check = compile_check(schema)
    assert check is not None
    assert check(instance) is valid
    assert Draft202012Validator(schema).is_valid(instance) is valid


@pytest.mark.parametrize("schema", [
    {"format": "uri"}, {"$ref": "#/x"}, {"enum": [1, 2]}, {"items": [{}]},
    {"properties": {"a": {"patternProperties": {}}}}, {"type": "decimal"}, [],
])
def test_unknown_keywords_make_it_give_up(schema: Any) -> None:
    assert compile_check(schema) is None
