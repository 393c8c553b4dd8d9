"""`GET /_mock/conformance`: the conformance report of one API key (or every key), as JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from mock_server.conformance.rules import (
    Attempt,
    Inputs,
    Limits,
    Thresholds,
    evaluate,
    render_table,
)
from mock_server.domain.errors import InvalidRequest
from mock_server.journal.buffer import Journal, key_id, mask_key
from mock_server.storage.memory.tasks import TaskRecord, TaskStore

bp = Blueprint("conformance", __name__, url_prefix="/_mock")
KEY_HEADER = "X-Flux2-Api-Key"


@bp.get("/conformance")
def conformance() -> Response:
    """Report on the key in `?apiKey=` (or the X-Flux2-Api-Key header); every key without one."""
    api_key = request.args.get("apiKey") or request.headers.get(KEY_HEADER) or None
    wanted_id = request.args.get("apiKeyId")
    if api_key is None and wanted_id:  # a key named by its id, as the control plane shows it
        keys = current_app.extensions["flux2_mock"].settings.api_keys
        api_key = next((k for k in keys if key_id(k) == wanted_id), None)
        if api_key is None:
            raise InvalidRequest(f"apiKeyId {wanted_id!r} names none of the server's API keys",
                                 data={"errors": [{"field": "apiKeyId", "rule": "known",
                                                   "message": "names none of the API keys"}]})
    report = build_report(current_app.extensions["flux2_mock"], api_key=api_key)
    if request.args.get("format") == "text":
        return Response(render_table(report) + "\n", mimetype="text/plain")
    return jsonify(report)


def build_report(state: Any, *, api_key: str | None = None) -> dict[str, Any]:
    """Gather the journal, the tasks and the callback attempts of `api_key`, and evaluate."""
    journal: Journal = state.journal
    journal.settle()  # other worker processes write their buffers within one interval
    tasks = all_tasks(state.store, api_key)
    if api_key is None:
        entries = journal.entries()
    else:
        kid = key_id(api_key)
        # Result downloads carry no key: they belong to whoever owns the task.
        entries = [e for e in journal.entries(api_keys=[api_key],
                                              task_ids=[t.task_id for t in tasks])
                   if e.key_id == kid or e.path.startswith("/output/")]
    settings = state.settings
    inputs = Inputs(
        entries=entries, tasks=tasks, attempts=callback_attempts(state, tasks),
        thresholds=Thresholds.from_settings(settings, state.backend.profile.time_scale),
        now_ms=state.clock.now_ms(), limits_for=limits_source(state),
        exempt_hosts=tuple(settings.conformance_callback_exempt_hosts),
    )
    return evaluate(inputs, api_key_hint=None if api_key is None else mask_key(api_key))


def all_tasks(store: TaskStore, api_key: str | None) -> list[TaskRecord]:
    """Every task of `api_key` (or of every key), page by page."""
    tasks: list[TaskRecord] = []
    while True:
        page = store.list_tasks(api_key=api_key, limit=1000,
                                after_seq=tasks[-1].seq if tasks else 0)
        tasks += page
        if len(page) < 1000:
            return tasks


def limits_source(state: Any) -> Callable[[str], Limits]:
    """Return key id -> Limits: the key's plan where plans exist, else the settings."""
    settings = state.settings
    fallback = Limits(settings.conformance_requests_per_minute or None,
                      settings.conformance_max_in_flight or None)
    by_key: dict[str, Any] = {}
    default = None
    if getattr(settings, "key_plans", None) is not None:
        from mock_server.paid.limits import parse_assignments, plan_table

        table = plan_table()
        by_key = {key_id(k): table[name] for k, name in
                  parse_assignments(settings.key_plans, setting="key_plans").items()}
        default = table[settings.default_plan]

    def limits(kid: str) -> Limits:
        plan = by_key.get(kid, default)
        if plan is None:
            return fallback
        return Limits(plan.requests_per_minute or fallback.requests_per_minute,
                      plan.concurrent_tasks or fallback.max_in_flight)

    return limits


def callback_attempts(state: Any, tasks: list[TaskRecord]) -> list[Attempt]:
    """Every callback delivery attempt for these tasks, from the callback sender's journal."""
    sender = getattr(state, "dispatcher", None) or getattr(state, "outbox", None)
    deliveries = getattr(sender, "journal", None)
    if not callable(deliveries):
        return []
    return [Attempt(task.task_id, a.url, a.time_ms, a.status, a.error, a.latency_ms)
            for task in tasks if task.request.get("request_type") == "callback"
            for delivery in deliveries(task.task_id) for a in delivery.attempts]


def fetch_spend(base_url: str, *, api_key: str | None = None, admin_token: str | None = None,
                timeout: float = 30.0) -> dict[str, Any] | None:
    """Ask a running mock for its spend meter (docs/paid-and-faults.md); None if it has none."""
    import requests

    headers = {KEY_HEADER: api_key} if api_key else {}
    if admin_token:
        headers["Authorization"] = f"Bearer {admin_token}"
    try:
        response = requests.get(base_url.rstrip("/") + "/_mock/spend", params={"tasks": "0"},
                                headers=headers, timeout=timeout)
        spend: dict[str, Any] = response.json()
    except (requests.RequestException, ValueError):
        return None
    return spend if response.status_code == 200 and "totalUsd" in spend else None


class ReportUnavailable(Exception):
    """The mock could not be reached, or did not answer with a report."""


def fetch_report(base_url: str, *, api_key: str | None = None,
                 admin_token: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """Ask a running mock for its conformance report (the key travels in a header, not the URL)."""
    import requests

    headers = {KEY_HEADER: api_key} if api_key else {}
    if admin_token:
        headers["Authorization"] = f"Bearer {admin_token}"
    url = base_url.rstrip("/") + "/_mock/conformance"
    try:
        response = requests.get(url, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise ReportUnavailable(f"cannot reach {url}: {exc}") from None
    try:
        report: dict[str, Any] = response.json()
    except ValueError:
        report = {}
    if response.status_code != 200 or "findings" not in report:
        raise ReportUnavailable(f"{url} answered {response.status_code}: {response.text[:300]}")
    return report
