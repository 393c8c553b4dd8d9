"""`GET /_mock/conformance`: the conformance report of one API key (or every key), as JSON."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_server.conformance.evaluation import evaluate
from mock_server.conformance.rules import Attempt, Inputs, Limits, Thresholds
from mock_server.domain.clock import Clock
from mock_server.domain.deliveries import Delivery
from mock_server.domain.keys import key_id, mask_key
from mock_server.domain.tasks import TaskRecord
from mock_server.journal.buffer import Journal
from mock_server.paid.limits import parse_assignments, plan_table
from mock_server.settings import Settings
from mock_server.storage.paging import iter_tasks
from mock_server.storage.protocols import TaskStore

KEY_HEADER = "X-Flux2-Api-Key"


@dataclass(frozen=True)
class ReportSources:
    """What a conformance report reads: the journal, the tasks and their callback attempts."""

    settings: Settings
    store: TaskStore
    journal: Journal
    clock: Clock
    deliveries: Callable[[str], list[Delivery]]
    time_scale: float


def build_report(state: ReportSources, *, api_key: str | None = None) -> dict[str, Any]:
    """Gather the journal, the tasks and the callback attempts of `api_key`, and evaluate."""
    journal: Journal = state.journal
    journal.settle()  # other worker processes write their buffers within one interval
    tasks = list(iter_tasks(state.store, api_key=api_key))
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
        thresholds=Thresholds.from_settings(settings, state.time_scale),
        now_ms=state.clock.now_ms(), limits_for=limits_source(settings),
        exempt_hosts=tuple(settings.conformance_callback_exempt_hosts),
    )
    return evaluate(inputs, api_key_hint=None if api_key is None else mask_key(api_key))


def limits_source(settings: Settings) -> Callable[[str], Limits]:
    """Return key id -> Limits: the key's plan where plans exist, else the settings."""
    fallback = Limits(settings.conformance_requests_per_minute or None,
                      settings.conformance_max_in_flight or None)
    by_key: dict[str, Any] = {}
    default = None
    if settings.key_plans or settings.default_plan:
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


def callback_attempts(state: ReportSources, tasks: list[TaskRecord]) -> list[Attempt]:
    """Every callback delivery attempt for these tasks, from the callback sender's journal."""
    deliveries = state.deliveries
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
