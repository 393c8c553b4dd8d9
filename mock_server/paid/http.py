"""The paid part's HTTP face: limits and faults around each API request, the balance
endpoint, and the spend meter under /_mock/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from mock_server.domain.clock import Clock
from mock_server.domain.errors import ApiError, envelope
from mock_server.paid import faults
from mock_server.paid.credits import (
    UNLIMITED_BALANCE_USD,
    Admission,
    Credits,
    parse_balance,
)
from mock_server.paid.faults import FaultInjector
from mock_server.paid.limits import Limits, parse_assignments
from mock_server.settings import Settings
from mock_server.storage import Storage
from mock_server.storage.protocols import UsageState
from mock_server.web.errors import error_response

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
                faults.pause(fault.latency_ms)
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


def build_paid_part(settings: Settings, storage: Storage, clock: Clock, *,
                    seed: str) -> PaidPart:
    """Build the paid part on the storage's usage and ledger."""
    usage, ledger, store = storage.usage, storage.ledger, storage.tasks
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
