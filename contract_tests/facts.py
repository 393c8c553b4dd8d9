"""The input rules, read from the schema files (the one source of truth), not restated here."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from flux2_spec.validation import SchemaSet, schema_set

REQUEST_SCHEMA = "generate-request.json"


def _resolve(schemas: SchemaSet, node: dict[str, Any], base: str) -> dict[str, Any]:
    """Follow a `$ref` relative to the schema file `base` (one level is all the files use)."""
    ref = node.get("$ref")
    if not ref:
        return node
    file, _, pointer = ref.partition("#")
    target: Any = schemas.schema(file or base)
    for part in filter(None, pointer.split("/")):
        target = target[part]
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


@dataclass(frozen=True)
class InputFacts:
    """Enums and bounds of a generation request."""

    request_types: tuple[str, ...]
    modes: tuple[str, ...]
    aspect_ratios: tuple[str, ...]
    resolutions: tuple[str, ...]
    prompt_min: int
    prompt_max: int
    image_urls_max: int
    image_to_image_modes: tuple[str, ...]
    defaults: dict[str, str]
    states: tuple[str, ...]
    terminal_states: tuple[str, ...]

    def is_image_to_image(self, mode: str) -> bool:
        return mode in self.image_to_image_modes


@cache
def input_facts() -> InputFacts:
    """Read every enum and bound of the request from schemas/generate-request.json."""
    schemas = schema_set()
    top = schemas.schema(REQUEST_SCHEMA)
    props = top["properties"]
    params = props["input"]["properties"]

    def enum(node: dict[str, Any]) -> tuple[str, ...]:
        return tuple(_resolve(schemas, node, REQUEST_SCHEMA)["enum"])

    i2i: tuple[str, ...] = ()
    for rule in props["input"].get("allOf", []):
        condition = rule.get("if", {}).get("properties", {}).get("mode", {})
        if "image_urls" in rule.get("then", {}).get("required", []):
            i2i = tuple(condition.get("enum", ()))
    defaults = {name: str(_resolve(schemas, params[name], REQUEST_SCHEMA)["default"])
                for name in ("mode", "aspect_ratio", "resolution")}
    states = tuple(schemas.schema("common.json")["$defs"]["state"]["enum"])
    return InputFacts(
        request_types=enum(props["request_type"]),
        modes=enum(params["mode"]),
        aspect_ratios=enum(params["aspect_ratio"]),
        resolutions=enum(params["resolution"]),
        prompt_min=int(params["prompt"]["minLength"]),
        prompt_max=int(params["prompt"]["maxLength"]),
        image_urls_max=int(params["image_urls"]["maxItems"]),
        image_to_image_modes=i2i,
        defaults=defaults,
        states=states,
        terminal_states=("success", "failed"),
    )
