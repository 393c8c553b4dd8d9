"""The paid part's HTTP face: limits and faults around each API request, the balance
endpoint, and the spend meter under /_mock/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from mock_server.domain.clock import Clock
from mock_server.domain.errors import ApiError, envelope, error_response
from mock_server.journal.buffer import key_id, mask_key
from mock_server.paid import faults
from mock_server.paid.credits import (
    UNLIMITED_BALANCE_USD,
    Admission,
    Credits,
    Ledger,
    MemoryLedger,
    SQLiteLedger,
    parse_balance,
    spend_summary,
    usd,
)
from mock_server.paid.faults import FaultInjector
from mock_server.paid.limits import (
    Limits,
    MemoryUsage,
    SQLiteUsage,
    UsageState,
    parse_assignments,
    plan_table,
)
from mock_server.settings import Settings
from mock_server.storage.memory.tasks import TaskStore
from mock_server.storage.sqlite.tasks import SQLiteStore

bp = Blueprint("billing", __name__)
_MARKER = re.compile(r"\[mock:", re.IGNORECASE)
_DAMAGED = ("truncate", "malformed")


@dataclass
class PaidPart:
    """Plans, credits and faults of one app, kept in its MockState."""

    limits: Limits
    credits: Credits
    faults: FaultInjector
    admission: Admission
    usage: UsageState

    def engaged(self, api_key: str, header: str | None, prompt: str | None = None) -> bool:
        """Whether a request needs anything of the paid part; no I/O, so cheap to ask."""
        return (header is not None or self.faults.active or self.limits.watches(api_key)
                or (prompt is not None and _MARKER.search(prompt) is not None))

    def answer(self, api_key: str, header: str | None, prompt: str | None,
               operation: Callable[[], Response]) -> Response:
        """Run one API operation behind the request's fault and the key's request rate.

        `http=` and `close` stand for a request that never reached the API: nothing is
        done and nothing is counted. `truncate` and `malformed` damage the API's real
        answer on its way back, so the operation did happen.
        """
        fault = self.faults.for_request(api_key, header, prompt)
        if fault is not None:
            if fault.latency_ms:
                time.sleep(fault.latency_ms / 1000)
            if fault.fault == "close":
                if faults.drop_connection(request.environ):
                    return Response(b"", status=500)
                raise ApiError("the close fault needs a server socket to close; this server "
                               "gives the app none (use flux2-mock serve)")
            if fault.http_status is not None:
                raise faults.InjectedError(fault.http_status)
        if fault is None or fault.fault not in _DAMAGED:
            self.limits.check_request(api_key)
            return operation()
        try:
            self.limits.check_request(api_key)
            response = operation()
        except ApiError as exc:
            response = error_response(exc.status, exc.message, exc.data, exc.headers)
        return faults.damage(response, str(fault.fault))

    def reset(self, *, api_key: str | None = None) -> None:
        """Forget request counts and charges (of one key, or all)."""
        self.usage.reset(api_key=api_key)
        self.credits.ledger.reset(api_key=api_key)


def check_paid_settings(settings: Settings) -> None:
    """Raise ValueError naming the first paid-part setting that cannot be used."""
    names = set(plan_table())
    plans = parse_assignments(settings.key_plans, setting="key_plans")
    for name in (settings.default_plan, *plans.values()):
        if name not in names:
            raise ValueError(f"unknown plan {name!r} (known: {', '.join(sorted(names))})")
    for value in parse_assignments(settings.key_balances, setting="key_balances").values():
        parse_balance(value, setting="key_balances")
    if settings.default_balance is not None:
        parse_balance(str(settings.default_balance), setting="default_balance")
    if not 0.0 <= settings.fault_rate <= 1.0:
        raise ValueError(f"fault_rate must be between 0 and 1, got {settings.fault_rate}")
    faults.fault_kinds(settings.fault_kinds)
    if settings.fault_rate > 0 and not settings.fault_kinds:
        raise ValueError("fault_rate needs at least one entry in fault_kinds")


def build_paid_part(settings: Settings, store: TaskStore, clock: Clock, *,
                    seed: str) -> PaidPart:
    """Build the paid part on the store's own medium: its SQLite file, or memory."""
    usage: UsageState
    ledger: Ledger
    if isinstance(store, SQLiteStore):
        usage, ledger = SQLiteUsage(store.path), SQLiteLedger(store.path)
    else:
        usage, ledger = MemoryUsage(store), MemoryLedger()
    limits = Limits(parse_assignments(settings.key_plans, setting="key_plans"),
                    settings.default_plan, usage, clock)
    balances = {key: parse_balance(value, setting="key_balances") for key, value
                in parse_assignments(settings.key_balances, setting="key_balances").items()}
    default = None if settings.default_balance is None \
        else parse_balance(str(settings.default_balance), setting="default_balance")
    credits = Credits(balances, default, ledger)
    injector = FaultInjector(settings.fault_rate, faults.fault_kinds(settings.fault_kinds),
                             seed, usage)
    admission = Admission(limits, credits, usage, store, clock,
                          form=settings.insufficient_credits_form,
                          vocabulary=settings.fail_code_vocabulary)
    return PaidPart(limits, credits, injector, admission, usage)


def _state() -> Any:
    return current_app.extensions["flux2_mock"]


@bp.get("/api/v1/apikeys/current-balance")
def current_balance() -> Response:
    """Answer as apixo documents it: `data` is the key's remaining balance in USD."""
    state = _state()
    api_key = state.backend.authenticate(request.headers.get("Authorization"))
    part: PaidPart = state.paid
    header = request.headers.get("X-Mock-Scenario")

    def balance() -> Response:
        left = part.credits.balance_usd(api_key)
        response = jsonify(envelope(200, "success",
                                    UNLIMITED_BALANCE_USD if left is None else round(left, 4)))
        if left is None:
            response.headers["X-Mock-Balance"] = "unlimited"
        return response

    if part.engaged(api_key, header):
        return part.answer(api_key, header, None, balance)
    return balance()


@bp.get("/_mock/spend")
def spend() -> Response:
    """The spend meter: what the tasks would have cost on the real API, and balances."""
    state = _state()
    # The key may travel in a header, so that it stays out of URLs and access logs.
    api_key = request.args.get("apiKey") or request.headers.get("X-Flux2-Api-Key") or None
    include = request.args.get("tasks", "1").lower() not in ("0", "false", "no")
    summary = spend_summary(state.store, api_key, include_tasks=include)
    part: PaidPart = state.paid
    for entry in summary["keys"]:
        left = part.credits.balance_micro(entry["apiKey"])
        entry["balanceUsd"] = None if left is None else usd(left)
        entry["plan"] = part.limits.plan_for(entry["apiKey"]).name
    for entry in [*summary["keys"], *summary.get("tasks", [])]:
        key = entry["apiKey"]  # keys never appear in full (docs/conformance.md)
        entry["apiKey"], entry["apiKeyId"] = mask_key(key), key_id(key)
    return jsonify(summary)
