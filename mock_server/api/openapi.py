"""GET /openapi.json: openapi.yaml and openapi-control.yaml as one document, files bundled."""

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


def _renamed_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: (renames.get(v, v) if k == "$ref" and isinstance(v, str)
                    else _renamed_refs(v, renames)) for k, v in node.items()}
    if isinstance(node, list):
        return [_renamed_refs(item, renames) for item in node]
    return node


def with_control_plane(document: dict[str, Any], control: dict[str, Any]) -> dict[str, Any]:
    """Return `document` with every control operation as openapi-control.yaml describes it.

    openapi.yaml lists the control operations by name only; the served document must
    describe each fully (parameters, bodies, every answer). A control component whose
    name the API document already uses for something else is renamed `Control<Name>`.
    """
    merged = dict(document)
    components = {kind: dict(items) for kind, items in document.get("components", {}).items()}
    renames: dict[str, str] = {}
    for kind, items in control.get("components", {}).items():
        for name, value in items.items():
            mine = components.get(kind, {}).get(name)
            if mine is not None and mine != value:
                renames[f"#/components/{kind}/{name}"] = f"#/components/{kind}/Control{name}"
    for kind, items in control.get("components", {}).items():
        target = components.setdefault(kind, {})
        for name, value in items.items():
            key = renames.get(f"#/components/{kind}/{name}", name).rsplit("/", 1)[-1]
            target.setdefault(key, _renamed_refs(value, renames))
    paths = dict(document.get("paths", {}))
    security = control.get("security")
    for path, item in control.get("paths", {}).items():
        item = _renamed_refs(item, renames)
        for method, operation in item.items():
            # The control document's default security, not the API's bearer key.
            if method != "parameters" and security is not None:
                operation.setdefault("security", security)
        paths[path] = item
    merged["paths"], merged["components"] = paths, components
    return merged


@cache
def bundled_document() -> dict[str, Any]:
    """Return the OpenAPI document with only local references, ready to serve as JSON."""
    folder = schemas_dir()
    document = with_control_plane(
        yaml.safe_load((folder / "openapi.yaml").read_text("utf-8")),
        yaml.safe_load((folder / "openapi-control.yaml").read_text("utf-8")))
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
