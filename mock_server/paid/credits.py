"""Credits: a balance per API key, one charge per accepted task, and the spend meter.

Prices come from data/prices.json (by mode and resolution). Money is counted in whole
micro-dollars so that sums never drift; it is shown in dollars.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from flux2_spec.resources import fail_message, price_usd
from mock_server.domain.clock import Clock
from mock_server.domain.errors import ApiError
from mock_server.domain.tasks import TaskRecord
from mock_server.paid.limits import Limits
from mock_server.storage.paging import iter_tasks
from mock_server.storage.protocols import Ledger, TaskStore, UsageState

MICRO = 1_000_000
INSUFFICIENT_CREDITS = "INSUFFICIENT_CREDITS"
FORMS = ("402", "400", "task")
# What the balance endpoint shows for a key without a balance: the docs' field is a number.
UNLIMITED_BALANCE_USD = 1_000_000.0


class InsufficientBalance(ApiError):
    """HTTP 402, as the newer apixo error page documents it."""

    status, message = 402, "Insufficient balance"


class InsufficientCredits(ApiError):
    """Code 400 "Insufficient credits", as an older apixo page documents it."""

    status, message = 400, "Insufficient credits"


def price_micro(params: Mapping[str, Any]) -> int:
    """Return what one task with these input parameters costs, in micro-dollars."""
    return round(price_usd(str(params["mode"]), str(params["resolution"])) * MICRO)


def unfunded(record: TaskRecord) -> bool:
    """Whether the task fails for want of credits: the real API charges nothing for it."""
    return record.plan.outcome == "failed" and record.plan.fail_code == INSUFFICIENT_CREDITS


def task_cost_micro(record: TaskRecord) -> int:
    """Return what the task would have cost on the real API, in micro-dollars."""
    return 0 if unfunded(record) else price_micro(record.request["input"])


def usd(micro: int) -> float:
    return round(micro / MICRO, 6)


def parse_balance(text: str, *, setting: str) -> int | None:
    """Return a balance setting in micro-dollars; `unlimited` is None."""
    if text.strip().lower() == "unlimited":
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{setting}: a balance is a number of USD or 'unlimited', "
                         f"got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{setting}: a balance must be 0 or more USD, got {text!r}")
    return round(value * MICRO)


class Credits:
    """Each key's starting balance (None: unlimited) less what its tasks were charged."""

    def __init__(self, key_balances: Mapping[str, int | None], default_micro: int | None,
                 ledger: Ledger) -> None:
        self.starting = dict(key_balances)
        self.default_micro = default_micro
        self.ledger = ledger

    def starting_micro(self, api_key: str) -> int | None:
        return self.starting.get(api_key, self.default_micro)

    def watches(self, api_key: str) -> bool:
        """Whether the key has a finite balance (no I/O)."""
        return self.starting_micro(api_key) is not None

    def balance_micro(self, api_key: str) -> int | None:
        """Return what the key has left, or None when its balance is unlimited."""
        start = self.starting_micro(api_key)
        return None if start is None else start - self.ledger.spent_micro(api_key)

    def balance_usd(self, api_key: str) -> float | None:
        left = self.balance_micro(api_key)
        return None if left is None else usd(left)


class Admission:
    """Concurrency and credits checked, the task created and charged, under one lock."""

    def __init__(self, limits: Limits, credits: Credits, usage: UsageState, store: TaskStore,
                 clock: Clock, *, form: str, vocabulary: str) -> None:
        self.limits, self.credits, self.usage = limits, credits, usage
        self.store, self.clock = store, clock
        self.form = form
        self.fail_msg = fail_message(vocabulary, INSUFFICIENT_CREDITS)

    def applies(self, api_key: str) -> bool:
        """Whether the key's tasks need admission at all (no I/O)."""
        return (self.limits.plan_for(api_key).concurrent_tasks is not None
                or self.credits.watches(api_key))

    def create(self, api_key: str, params: Mapping[str, Any],
               build: Callable[[int], TaskRecord]) -> TaskRecord:
        """Admit and store one task; a refused one is never created and costs nothing."""
        price = price_micro(params)
        with self.usage.admission():
            self.limits.check_concurrency(api_key)
            left = self.credits.balance_micro(api_key)
            if left is not None and left < price:
                return self._refuse(api_key, price, left, build)
            record = self.store.create_task(build)
            if left is not None:
                self.credits.ledger.charge(record.task_id, api_key, price, self.clock.now_ms())
            return record

    def _refuse(self, api_key: str, price: int, left: int,
                build: Callable[[int], TaskRecord]) -> TaskRecord:
        detail = (f"this task costs {usd(price)} USD and the API key has {usd(left)} USD left")
        if self.form == "402":
            raise InsufficientBalance(detail, data={"balance": usd(left)})
        if self.form == "400":
            raise InsufficientCredits(detail, data={"balance": usd(left)})

        def failing(seq: int) -> TaskRecord:
            record = build(seq)
            return replace(record, plan=replace(record.plan, outcome="failed",
                                                fail_code=INSUFFICIENT_CREDITS,
                                                fail_msg=self.fail_msg))

        return self.store.create_task(failing)


def spend_summary(store: TaskStore, api_key: str | None = None, *,
                  include_tasks: bool = True) -> dict[str, Any]:
    """Return what the tasks (of one key, or all) would have cost on the real API.

    This is the money the mock saved: a total, one entry per key, and one per task.
    """
    keys: dict[str, dict[str, Any]] = {}
    tasks: list[dict[str, Any]] = []
    total = 0
    for record in iter_tasks(store, api_key=api_key):
        cost = task_cost_micro(record)
        total += cost
        entry = keys.setdefault(record.api_key, {"apiKey": record.api_key, "taskCount": 0,
                                                 "micro": 0})
        entry["taskCount"] += 1
        entry["micro"] += cost
        if include_tasks:
            params = record.request["input"]
            tasks.append({"taskId": record.task_id, "apiKey": record.api_key,
                          "mode": params["mode"], "resolution": params["resolution"],
                          "costUsd": usd(cost), "createTime": record.plan.create_ms})
    summary: dict[str, Any] = {
        "currency": "USD",
        "totalUsd": usd(total),
        "taskCount": sum(k["taskCount"] for k in keys.values()),
        "keys": [{"apiKey": k["apiKey"], "taskCount": k["taskCount"],
                  "totalUsd": usd(k["micro"])} for k in keys.values()],
    }
    if include_tasks:
        summary["tasks"] = tasks
    return summary
