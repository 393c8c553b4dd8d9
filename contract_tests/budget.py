"""The spend meter: every submission is priced from the price table and checked against the caps."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flux2_spec.resources import load


class BudgetExhausted(RuntimeError):
    """A submission would take the run over --max-tasks or --max-spend; it was not sent."""


@dataclass(frozen=True)
class PriceTable:
    """USD per image by mode and resolution (mock_server/data/prices.json)."""

    per_image: dict[str, dict[str, float]]

    @classmethod
    def default(cls) -> PriceTable:
        table = load("prices")["per_image"]
        return cls({m: {r: float(p) for r, p in v.items()} for m, v in table.items()})

    @property
    def highest(self) -> float:
        return max(p for row in self.per_image.values() for p in row.values())

    def price(self, payload: Any) -> float:
        """Return what a request would cost if accepted; unknown modes cost the most."""
        params = payload.get("input") if isinstance(payload, dict) else None
        if not isinstance(params, dict):
            return self.highest
        mode = params.get("mode", "pro-text-to-image")
        resolution = params.get("resolution", "1K")
        row = self.per_image.get(mode) if isinstance(mode, str) else None
        if row is None or not isinstance(resolution, str) or resolution not in row:
            return self.highest
        return row[resolution]

    def estimate(self, payloads: Iterable[Any]) -> float:
        return sum(self.price(p) for p in payloads)


class Budget:
    """Reserves a submission's price before it is sent; rejected submissions are refunded."""

    def __init__(self, prices: PriceTable, *, max_tasks: int | None,
                 max_spend: float | None) -> None:
        self.prices = prices
        self.max_tasks = max_tasks
        self.max_spend = max_spend
        self.tasks = 0
        self.spent = 0.0
        self.submissions = 0
        self._lock = threading.Lock()

    def can_afford(self, price: float) -> bool:
        with self._lock:
            return self._fits(price)

    def _fits(self, price: float) -> bool:
        if self.max_tasks is not None and self.tasks + 1 > self.max_tasks:
            return False
        return self.max_spend is None or self.spent + price <= self.max_spend + 1e-9

    def reserve(self, payload: Any) -> float:
        """Count a submission as a paid task before it is sent; raise when it does not fit."""
        price = self.prices.price(payload)
        with self._lock:
            if not self._fits(price):
                raise BudgetExhausted(
                    f"the spend cap would be exceeded ({self.tasks} tasks, ${self.spent:.2f} "
                    f"spent; caps: {self.max_tasks} tasks, ${self.max_spend})")
            self.tasks += 1
            self.spent += price
            self.submissions += 1
        return price

    def refund(self, price: float) -> None:
        """Give back a reservation for a submission the target rejected (it created no task)."""
        with self._lock:
            self.tasks -= 1
            self.spent -= price

    def summary(self) -> str:
        caps = []
        if self.max_tasks is not None:
            caps.append(f"{self.max_tasks} tasks")
        if self.max_spend is not None:
            caps.append(f"${self.max_spend:.2f}")
        cap = f" (cap: {', '.join(caps)})" if caps else ""
        return f"spend: ${self.spent:.2f} for {self.tasks} tasks{cap}"
