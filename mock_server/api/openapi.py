"""GET /openapi.json: schemas/openapi.yaml with every schema file it references bundled in."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import yaml
from flask import Blueprint, Response, current_app

from flux2_spec.resources import schemas_dir

bp = Blueprint("openapi", __name__)
COMPONENTS = "#/components/schemas/"


def _pointer(ref: str, current: str | None) -> tuple[str, str | None]:
    """Return the bundled form of a `$ref` and the schema file it names (None: same file)."""
    target, _, fragment = ref.partition("#")
    if not target:
        if current is None:
            return ref, None
        return COMPONENTS + current + fragment, None
    stem = target.removesuffix(".json")
    return COMPONENTS + stem + fragment, target


def _rewrite(node: Any, current: str | None, wanted: set[str]) -> Any:
    """Return `node` with file references turned into references inside the bundle."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in ("$id", "$schema") and current is not None:
                continue  # embedded schemas take the document's base
            if key == "$ref" and isinstance(value, str):
                value, file = _pointer(value, current)
                if file:
                    wanted.add(file)
                out[key] = value
            else:
                out[key] = _rewrite(value, current, wanted)
        return out
    if isinstance(node, list):
        return [_rewrite(item, current, wanted) for item in node]
    return node


@cache
def bundled_document() -> dict[str, Any]:
    """Return the OpenAPI document with only local references, ready to serve as JSON."""
    folder = schemas_dir()
    document = yaml.safe_load((folder / "openapi.yaml").read_text("utf-8"))
    wanted: set[str] = set()
    bundle = _rewrite(document, None, wanted)
    schemas = bundle.setdefault("components", {}).setdefault("schemas", {})
    done: set[str] = set()
    while wanted - done:
        file = sorted(wanted - done)[0]
        done.add(file)
        contents = json.loads((folder / file).read_text("utf-8"))
        schemas[file.removesuffix(".json")] = _rewrite(contents, file.removesuffix(".json"),
                                                       wanted)
    return dict(bundle)


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return current_app.response_class(json.dumps(bundled_document()),
                                      mimetype="application/json")
