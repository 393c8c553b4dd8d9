"""The control plane under /_mock/: the mock's own endpoints, never part of the API."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from . import __version__

bp = Blueprint("control", __name__, url_prefix="/_mock")


@bp.get("/health")
def health() -> Response:
    state = current_app.extensions["flux2_mock"]
    settings = state.settings
    return jsonify({
        "ready": True,
        "version": __version__,
        "store": "memory" if settings.store_path == "memory" else "sqlite",
        "profile": state.backend.profile.name,
    })
