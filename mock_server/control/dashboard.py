"""The dashboard at /_mock/ui: one static page that reads the control API.

The page and its files hold no data, so they are served to anyone; the page
sends the admin token (when the server has one) with each control-API call.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response
from werkzeug.exceptions import NotFound

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
# Everything the page loads comes from this server: no outside host is ever contacted.
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
          "img-src 'self' data: http: https:; base-uri 'none'; form-action 'none'")

bp = Blueprint("dashboard", __name__, url_prefix="/_mock/ui")


def _file(name: str, mimetype: str) -> Response:
    response = Response((STATIC / name).read_bytes(), mimetype=mimetype)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("")
@bp.get("/")
def page() -> Response:
    response = _file("dashboard.html", "text/html")
    response.headers["Content-Security-Policy"] = POLICY
    return response


@bp.get("/<name>")
def asset(name: str) -> Response:
    if name not in ASSETS:
        raise NotFound()
    return _file(name, ASSETS[name])
