"""The control plane's reports: metrics, the spend meter, and client conformance."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from mock_server.conformance.evaluation import render_table
from mock_server.conformance.report import KEY_HEADER
from mock_server.control.params import query_args
from mock_server.control.views import control, key_arg

bp = Blueprint("control_reports", __name__, url_prefix="/_mock")


def key_param() -> str | None:
    """The key a report is about: `?apiKeyId=`, `?apiKey=` or the X-Flux2-Api-Key header."""
    return key_arg(request.args) or request.headers.get(KEY_HEADER) or None


@bp.get("/metrics")
def metrics() -> Response:
    """This server's metrics; `?instances=all` adds every server sharing its database."""
    every = request.args.get("instances") == "all"
    return Response(control().metrics_text(every_instance=every), mimetype="text/plain",
                    content_type="text/plain; version=0.0.4")


@bp.get("/spend")
def spend() -> Response:
    """The spend meter: what the tasks would have cost on the real API, and balances."""
    args = query_args("controlSpend", request.args)
    return jsonify(control().spend(key_param(), include_tasks=bool(args["tasks"])))


@bp.get("/conformance")
def conformance() -> Response:
    """Report on one key (by id, key or header); on every key without one."""
    args = query_args("controlConformance", request.args)
    report = control().conformance(key_param())
    if args["format"] == "text":
        return Response(render_table(report) + "\n", mimetype="text/plain")
    return jsonify(report)
