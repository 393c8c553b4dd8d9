"""The spending guard: what forwarded submits cost (the price table), and a cap that
refuses a submit before it reaches the upstream.

A submit reserves its price in one write transaction (so two workers cannot both take the
last dollar); the reservation becomes a charge when the upstream accepts the task and is
released when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flux2_spec.resources import price_usd
from mock_server.domain.errors import ApiError
from mock_server.paid.credits import MICRO, usd
from mock_server.proxy.db import ProxyDB

DEFAULTS = {"mode": "pro-text-to-image", "resolution": "1K"}


class SpendLimitReached(ApiError):
    """HTTP 402: the submit would take the run past --max-spend; nothing was forwarded."""

    status, message = 402, "Spending limit reached"


def price_micro(body: Any) -> int:
    """What the task a (valid) submit body asks for costs, in micro-dollars."""
    params = body.get("input") if isinstance(body, dict) else None
    params = params if isinstance(params, dict) else {}
    mode = params.get("mode", DEFAULTS["mode"])
    resolution = params.get("resolution", DEFAULTS["resolution"])
    return round(price_usd(str(mode), str(resolution)) * MICRO)


@dataclass
class SpendGuard:
    """Reservations and charges of forwarded submits, against an optional cap."""

    db: ProxyDB
    max_micro: int | None

    def reserve(self, key_id: str, micro: int, at_ms: int) -> int:
        """Reserve `micro` for one submit; raise SpendLimitReached past the cap."""
        with self.db.transaction() as conn:
            spent = conn.execute("SELECT COALESCE(SUM(micro), 0) FROM proxy_spend").fetchone()[0]
            if self.max_micro is not None and spent + micro > self.max_micro:
                message = (f"this submit costs ${usd(micro):.2f} and ${usd(spent):.2f} of the "
                           f"${usd(self.max_micro):.2f} cap (--max-spend) is spent or reserved; "
                           f"nothing was sent to the upstream")
                raise SpendLimitReached(message, data={
                    "errors": [{"field": "max_spend", "rule": "cap", "message": message}],
                    "maxSpendUsd": usd(self.max_micro), "spentUsd": usd(spent),
                    "priceUsd": usd(micro)})
            cursor = conn.execute("INSERT INTO proxy_spend (key_id, micro, at_ms) "
                                  "VALUES (?, ?, ?)", (key_id, micro, at_ms))
            return int(cursor.lastrowid or 0)

    def charge(self, reservation: int, task_id: str) -> None:
        self.db.conn.execute("UPDATE proxy_spend SET task_id = ? WHERE id = ?",
                             (task_id, reservation))

    def release(self, reservation: int) -> None:
        self.db.conn.execute("DELETE FROM proxy_spend WHERE id = ?", (reservation,))

    def meter(self) -> dict[str, Any]:
        """The cap, what is charged, and what in-flight submits hold reserved."""
        charged, reserved = self.db.conn.execute(
            "SELECT COALESCE(SUM(CASE WHEN task_id IS NOT NULL THEN micro END), 0), "
            "COALESCE(SUM(CASE WHEN task_id IS NULL THEN micro END), 0) FROM proxy_spend"
        ).fetchone()
        cap = None if self.max_micro is None else usd(self.max_micro)
        left = None if self.max_micro is None else usd(max(0, self.max_micro - charged
                                                              - reserved))
        return {"maxSpendUsd": cap, "chargedUsd": usd(charged), "reservedUsd": usd(reserved),
                "remainingUsd": left}
