"""A compiled yes/no check for the JSON Schema keywords the request schemas use.

jsonschema interprets a schema on every call, and a submit spent a fifth of its
time there. `compile_check` turns a schema (its refs inlined) into closures once.
A valid request needs only the closures; an invalid one goes to jsonschema for
the messages. The verdict must equal jsonschema's (a Hypothesis test checks it):
a keyword this module does not know makes it give up, and jsonschema does it all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

# Keywords that never change a verdict.
ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "$defs", "title", "description",
                         "default", "examples", "contentMediaType", "contentSchema", "x-rule"})


class Unsupported(Exception):
    """A keyword or value this compiler does not handle."""


def compile_check(schema: Any) -> Check | None:
    """Return a function telling whether an instance is valid, or None if it cannot."""
    try:
        return _compile(schema)
    except Unsupported:
        return None


def _is_type(value: Any, name: str) -> bool:
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if name == "number":
        return number
    if name == "integer":  # 2020-12: 1.0 is an integer
        return number and (isinstance(value, int) or float(value).is_integer())
    raise Unsupported(f"type {name!r}")


def _type(expected: Any) -> Check:
    names = [expected] if isinstance(expected, str) else list(expected)
    for name in names:
        _is_type(None, name)  # raises for an unknown type name
    return lambda v: any(_is_type(v, n) for n in names)


def _strings(values: list[Any]) -> frozenset[str]:
    if not all(isinstance(v, str) for v in values):
        raise Unsupported("enum/const of non-strings")
    return frozenset(values)


def _enum(values: Any) -> Check:
    allowed = _strings(list(values))
    return lambda v: isinstance(v, str) and v in allowed


def _const(value: Any) -> Check:
    if isinstance(value, str):
        return lambda v: v == value and isinstance(v, str)
    if isinstance(value, int) and not isinstance(value, bool):
        return lambda v: _is_type(v, "number") and v == value
    raise Unsupported("const of a non-string, non-integer")


def _bound(kind: type, measure: Callable[[Any], float], limit: Any,
           compare: Callable[[float, Any], bool]) -> Check:
    return lambda v: not isinstance(v, kind) or compare(measure(v), limit)


def _minimum(limit: Any) -> Check:
    return lambda v: not _is_type(v, "number") or v >= limit


def _maximum(limit: Any) -> Check:
    return lambda v: not _is_type(v, "number") or v <= limit


def _pattern(regex: str) -> Check:
    compiled = re.compile(regex)
    return lambda v: not isinstance(v, str) or compiled.search(v) is not None


def _required(names: list[str]) -> Check:
    return lambda v: not isinstance(v, dict) or all(n in v for n in names)


def _properties(props: Mapping[str, Any]) -> Check:
    checks = [(name, _compile(sub)) for name, sub in props.items()]
    return lambda v: not isinstance(v, dict) or all(c(v[n]) for n, c in checks if n in v)


def _items(sub: Any) -> Check:
    if not isinstance(sub, dict | bool):
        raise Unsupported("items as a list")
    check = _compile(sub)
    return lambda v: not isinstance(v, list) or all(check(x) for x in v)


def _all_of(subs: list[Any]) -> Check:
    checks = [_compile(s) for s in subs]
    return lambda v: all(c(v) for c in checks)


def _any_of(subs: list[Any]) -> Check:
    checks = [_compile(s) for s in subs]
    return lambda v: any(c(v) for c in checks)


def _one_of(subs: list[Any]) -> Check:
    checks = [_compile(s) for s in subs]
    return lambda v: sum(1 for c in checks if c(v)) == 1


def _not(sub: Any) -> Check:
    check = _compile(sub)
    return lambda v: not check(v)


def _if(condition: Any, then: Any, otherwise: Any) -> Check:
    test, when_true, when_false = _compile(condition), _compile(then), _compile(otherwise)
    return lambda v: when_true(v) if test(v) else when_false(v)


def _length(v: Any) -> int:
    return len(v)


_KEYWORDS: dict[str, Callable[[Any], Check]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "minLength": lambda n: _bound(str, _length, n, lambda a, b: a >= b),
    "maxLength": lambda n: _bound(str, _length, n, lambda a, b: a <= b),
    "minItems": lambda n: _bound(list, _length, n, lambda a, b: a >= b),
    "maxItems": lambda n: _bound(list, _length, n, lambda a, b: a <= b),
    "minimum": _minimum,
    "maximum": _maximum,
    "pattern": _pattern,
    "required": _required,
    "properties": _properties,
    "items": _items,
    "allOf": _all_of,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "not": _not,
}


def _compile(schema: Any) -> Check:
    if schema is True:
        return lambda v: True
    if schema is False:
        return lambda v: False
    if not isinstance(schema, dict):
        raise Unsupported("a schema that is not an object")
    checks: list[Check] = []
    for key, value in schema.items():
        if key in ANNOTATIONS or key in ("then", "else"):
            continue
        if key == "if":
            checks.append(_if(value, schema.get("then", True), schema.get("else", True)))
        elif key in _KEYWORDS:
            checks.append(_KEYWORDS[key](value))
        else:
            raise Unsupported(f"keyword {key!r}")
    return lambda v: all(c(v) for c in checks)
