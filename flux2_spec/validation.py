"""The schemas/ folder, loaded once, and request validation with one message per broken rule.

The same files validate the mock's input, the mock's output in its tests, and
any target in the contract suite.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import relevance
from referencing import Registry, Resource

from .fastcheck import Check, compile_check
from .resources import schemas_dir

BASE_URI = "https://flux2-mock.dev/schemas/"
_LITERAL_KEYWORDS = frozenset({"enum", "const", "default", "examples"})


@dataclass(frozen=True)
class FieldError:
    """One broken rule: which field, which rule, and a sentence for people."""

    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


class SchemaSet:
    """Every schema file of a folder in one immutable registry, with cached validators."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        resources = []
        for path in sorted(folder.glob("*.json")):
            contents = json.loads(path.read_text("utf-8"))
            resources.append((BASE_URI + path.name, Resource.from_contents(contents)))
        self.registry: Registry = Registry().with_resources(resources).crawl()
        self._validators: dict[str, Draft202012Validator] = {}
        self._fast: dict[str, Check | None] = {}

    def names(self) -> list[str]:
        return sorted(p.name for p in self.folder.glob("*.json"))

    def schema(self, name: str) -> dict[str, Any]:
        return dict(self.registry.contents(BASE_URI + name))

    def validator(self, name: str) -> Draft202012Validator:
        """Return a validator for schema file `name`, format checking on."""
        if name not in self._validators:
            # References inlined once: resolving them on every request was a third of the
            # cost of a submit (benchmarks/http_throughput.py); the rules are the same.
            self._validators[name] = Draft202012Validator(
                inline_refs(self.registry, BASE_URI + name),
                registry=self.registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
        return self._validators[name]

    def fast_check(self, name: str) -> Check | None:
        """Return the compiled yes/no check of schema `name`, or None where there is none."""
        if name not in self._fast:
            self._fast[name] = compile_check(inline_refs(self.registry, BASE_URI + name))
        return self._fast[name]

    def errors(self, name: str, instance: Any) -> list[FieldError]:
        """Return every rule `instance` breaks, most relevant first."""
        fast = self.fast_check(name)
        if fast is not None and fast(instance):
            return []
        found = sorted(self.validator(name).iter_errors(instance), key=relevance, reverse=True)
        return _dedupe(describe(e) for e in _leaves(found))

    def is_valid(self, name: str, instance: Any) -> bool:
        fast = self.fast_check(name)
        return fast(instance) if fast is not None else self.validator(name).is_valid(instance)


def inline_refs(registry: Registry, uri: str) -> Any:
    """Return the schema at `uri` with every `$ref` replaced by the schema it points at."""
    resolver = registry.resolver()

    def walk(node: Any, base: str, depth: int) -> Any:
        if depth > 32:
            raise ValueError(f"schema references nest too deep at {base} (a cycle?)")
        if isinstance(node, list):
            return [walk(item, base, depth) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: value if key in _LITERAL_KEYWORDS else walk(value, base, depth)
               for key, value in node.items() if key not in ("$ref", "$id", "$schema")}
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return out
        target = urljoin(base, ref)
        inner = walk(resolver.lookup(target).contents, urldefrag(target).url, depth + 1)
        if isinstance(inner, dict) and not set(inner) & set(out):
            return {**inner, **out}
        return {**out, "allOf": [inner, *out.get("allOf", [])]}

    return walk(registry.contents(uri), uri, 0)


@cache
def schema_set() -> SchemaSet:
    """Return the project's schemas, loaded once per process."""
    return SchemaSet(schemas_dir())


def _leaves(errors: Iterable[ValidationError]) -> list[ValidationError]:
    """Flatten allOf/if-then wrappers so each message speaks of one concrete rule."""
    out: list[ValidationError] = []
    for error in errors:
        if error.context and error.validator in ("anyOf", "oneOf"):
            out.extend(_leaves(error.context))
        else:
            out.append(error)
    return out


def _dedupe(errors: Iterable[FieldError]) -> list[FieldError]:
    seen: set[tuple[str, str]] = set()
    out = []
    for error in errors:
        if (error.field, error.rule) not in seen:
            seen.add((error.field, error.rule))
            out.append(error)
    return out


def field_name(path: Iterable[Any]) -> str:
    """Render a JSON path like `input.image_urls[3]`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "request body"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def describe(error: ValidationError) -> FieldError:
    """Turn one jsonschema error into a FieldError whose message names field, rule and value."""
    path = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = str(error.validator)
    value = error.instance
    rule = schema.get("x-rule")

    if kind == "required":
        missing = [r for r in error.validator_value if r not in (value or {})]
        name = field_name([*path, missing[0] if missing else "?"])
        suffix = f" ({rule})" if rule else ""
        return FieldError(name, "required", f"Missing required field: {name}{suffix}")

    name = field_name(path)
    if kind == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        article = "an" if str(expected)[0] in "aeiou" else "a"
        text = f"{name} must be {article} {expected}, got {_json_type(value)}"
    elif kind in ("minLength", "maxLength") and isinstance(value, str):
        text = f"{name} {rule or 'has the wrong length'}, got {len(value)}"
    elif kind in ("minItems", "maxItems") and isinstance(value, list):
        text = f"{name} {rule or 'has the wrong number of items'}, got {len(value)}"
    elif kind in ("enum", "const"):
        allowed = error.validator_value if kind == "enum" else [error.validator_value]
        text = f"{name} must be one of {', '.join(map(str, allowed))}; got {_show(value)}"
    elif kind in ("pattern", "not"):
        text = f"{name} {rule or 'has the wrong form'}, got {_show(value)}"
    else:
        text = f"{name}: {error.message}"
    return FieldError(name, kind, text)


@cache
def input_defaults() -> dict[str, Any]:
    """Return the documented defaults of a generation request's `input` fields (the schema's)."""
    properties = schema_set().schema("generate-request.json")["properties"]["input"]["properties"]
    return {name: rule["default"] for name, rule in properties.items() if "default" in rule}
