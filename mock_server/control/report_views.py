"""The control plane's reports: metrics, the spend meter, and client conformance."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from mock_server.conformance.evaluation import render_table
from mock_server.conformance.report import KEY_HEADER
from mock_server.control.views import control
from mock_server.domain.errors import field_error

bp = Blueprint("control_reports", __name__, url_prefix="/_mock")


def key_param() -> str | None:
    """The key a report is about: `?apiKeyId=`, `?apiKey=` or the X-Flux2-Api-Key header."""
    api_key = request.args.get("apiKey") or request.headers.get(KEY_HEADER) or None
    wanted_id = request.args.get("apiKeyId")
    if api_key is None and wanted_id:  # a key named by its id, as the control plane shows it
        api_key = control().key_named(wanted_id)
        if api_key is None:
            raise field_error("apiKeyId", "known",
                              f"apiKeyId {wanted_id!r} names none of the server's API keys")
    return api_key


@bp.get("/metrics")
def metrics() -> Response:
    """This server's metrics; `?instances=all` adds every server sharing its database."""
    every = request.args.get("instances") == "all"
    return Response(control().metrics_text(every_instance=every), mimetype="text/plain",
                    content_type="text/plain; version=0.0.4")


@bp.get("/spend")
def spend() -> Response:
    """The spend meter: what the tasks would have cost on the real API, and balances."""
    include = request.args.get("tasks", "1").lower() not in ("0", "false", "no")
    return jsonify(control().spend(key_param(), include_tasks=include))


@bp.get("/conformance")
def conformance() -> Response:
    """Report on one key (by id, key or header); on every key without one."""
    report = control().conformance(key_param())
    if request.args.get("format") == "text":
        return Response(render_table(report) + "\n", mimetype="text/plain")
    return jsonify(report)
