"""The proxy's HTTP face: the API paths forwarded, the relay for callbacks, and the
control plane (health, upstream findings, conformance, spend, reset) under /_mock/."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from mock_server import __version__
from mock_server.conformance.evaluation import render_table
from mock_server.conformance.report import KEY_HEADER, ReportSources, build_report
from mock_server.control.auth import check_admin
from mock_server.domain.errors import UnsupportedMediaType
from mock_server.domain.keys import bearer_key, key_id, mask_key
from mock_server.paid.credits import spend_summary
from mock_server.proxy.exchange import Exchange
from mock_server.proxy.findings import render_upstream, upstream_report
from mock_server.proxy.relay import RELAY_PATH
from mock_server.web.body import parse_json
from mock_server.web.errors import error_response
from mock_server.web.requests import body_bytes

api = Blueprint("proxy_api", __name__)
control = Blueprint("proxy_control", __name__, url_prefix="/_mock")
SUBMIT, STATUS = "/api/v1/generateTask/", "/api/v1/statusTask/"
# The upstream is judged on; the client's results come from the upstream's own host.
UNSEEN_RULES = {"result-never-downloaded": "result images are fetched from the upstream's "
                                          "host, which the proxy does not see"}


def _state() -> Any:
    return current_app.extensions["flux2_mock"]


def guard(app: Flask) -> None:
    """The mock's admin guard on /_mock/, except health and the relay (the upstream calls
    it; its unguessable token is the credential)."""
    if not app.extensions["flux2_mock"].settings.admin_token:
        return

    @app.before_request
    def _admin_only() -> None:
        path = request.path
        if path.startswith("/_mock/") and path != "/_mock/health" \
                and not path.startswith(RELAY_PATH):
            check_admin(_state().settings, request.headers.get("Authorization"))


def _answer(ex: Exchange) -> Response:
    """The upstream's answer, unchanged; no answer at all is a 502 envelope."""
    if ex.status is None:
        return error_response(502, "Bad gateway", {
            "error": f"the upstream {_state().options.upstream} did not answer: {ex.error}"})
    response = Response(ex.response_raw, status=ex.status)
    for name, value in ex.response_headers.items():
        response.headers[name] = value
    return response


def json_of(raw: bytes) -> Any:
    """The submit's JSON, judged as the mock's json_body judges it (the body is read once)."""
    if not request.mimetype or not (request.mimetype == "application/json"
                                    or request.mimetype.endswith("+json")):
        got = request.headers.get("Content-Type") or "none"
        raise UnsupportedMediaType(f"Content-Type must be application/json, got {got}")
    return parse_json(raw)


@api.route("/api/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def forward(rest: str) -> Response:
    service = _state().service
    path, query = request.path, request.query_string.decode("latin-1")
    key = bearer_key(request.headers.get("Authorization"))
    headers = dict(request.headers.items())
    raw = body_bytes()
    if request.method == "POST" and path.startswith(SUBMIT):
        body = service.validated(json_of(raw))
        return _answer(service.submit(path, query, headers, body, raw, key))
    if request.method == "GET" and path.startswith(STATUS):
        return _answer(service.poll(path, query, headers, key, request.args.get("taskId")))
    return _answer(service.other(request.method, path, query, headers, raw, key))


@control.post("/relay/<token>")
def relay(token: str) -> Response:
    _state().service.callback(token, request.get_data())
    return jsonify({"code": 200, "message": "success"})


@control.get("/health")
def health() -> Response:
    state = _state()
    return jsonify({"ready": True, "version": __version__, "mode": "proxy",
                    "upstream": state.options.upstream, "profile": state.backend.profile.name,
                    "recording": bool(state.options.record_dir)})


@control.get("/upstream")
def upstream() -> Response:
    """Every upstream rule's result and every breach, with the exchanges that show it."""
    state = _state()
    report = upstream_report(state.service.db, state.options.upstream)
    if request.args.get("format") == "text":
        return Response(render_upstream(report) + "\n", mimetype="text/plain")
    return jsonify(report)


@control.get("/conformance")
def conformance() -> Response:
    """The client's conformance, built as the mock builds it from the same journal."""
    api_key = request.args.get("apiKey") or request.headers.get(KEY_HEADER) or None
    state = _state()
    deliveries = state.dispatcher.journal if state.dispatcher is not None else (lambda _id: [])
    sources = ReportSources(state.settings, state.store, state.journal, state.clock, deliveries,
                            state.backend.profile.time_scale)
    report = unseen_skipped(build_report(sources, api_key=api_key))
    if request.args.get("format") == "text":
        return Response(render_table(report) + "\n", mimetype="text/plain")
    return jsonify(report)


def unseen_skipped(report: dict[str, Any]) -> dict[str, Any]:
    """Mark the rules the proxy cannot see (result downloads) skipped, with the reason."""
    for result in report["rules"]:
        reason = UNSEEN_RULES.get(result["id"])
        if reason:
            result.update(result="skipped", reason=reason)
    dropped = [f for f in report["findings"] if f["rule"] in UNSEEN_RULES]
    if dropped:
        report["findings"] = [f for f in report["findings"] if f["rule"] not in UNSEEN_RULES]
        report["warnings"] -= sum(1 for f in dropped if f["severity"] == "warning")
        report["errors"] -= sum(1 for f in dropped if f["severity"] == "error")
        report["conformant"] = report["errors"] == 0
    return report


@control.get("/spend")
def spend() -> Response:
    """What forwarded tasks cost by the price table, per key, and the spending guard."""
    state = _state()
    api_key = request.args.get("apiKey") or request.headers.get(KEY_HEADER) or None
    include = request.args.get("tasks", "1").lower() not in ("0", "false", "no")
    summary = spend_summary(state.store, api_key, include_tasks=include)
    for entry in [*summary["keys"], *summary.get("tasks", [])]:
        key = entry["apiKey"]
        entry["apiKey"], entry["apiKeyId"] = mask_key(key), key_id(key)
    summary["guard"] = state.service.guard.meter()
    return jsonify(summary)


@control.post("/reset")
def reset() -> Response:
    """Forget tasks, journal, findings, spend and relayed callbacks (not the recording)."""
    state = _state()
    state.store.reset()
    state.journal.reset()
    state.service.db.reset()
    if state.dispatcher is not None:
        state.dispatcher.reset()
    return jsonify({"reset": ["store", "journal", "upstream", "spend", "relay"]})
