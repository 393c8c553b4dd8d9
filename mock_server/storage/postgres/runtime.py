"""Run-time settings and the scenario queue in PostgreSQL, shared by every instance."""

from __future__ import annotations

import json
from typing import Any

from mock_server.domain.runtime import QueuedScenario

from .db import PgDatabase

# Take one use of the oldest entry that applies: decrement it, or delete its last use.
_TAKE = """
WITH picked AS (
    SELECT id, scenario, remaining FROM mock_scenario_queue
    WHERE api_key IS NULL OR api_key = %(key)s ORDER BY id LIMIT 1 FOR UPDATE),
decremented AS (
    UPDATE mock_scenario_queue q SET remaining = q.remaining - 1 FROM picked
    WHERE q.id = picked.id AND picked.remaining > 1),
deleted AS (
    DELETE FROM mock_scenario_queue q USING picked WHERE q.id = picked.id
    AND picked.remaining <= 1)
SELECT (SELECT scenario FROM picked),
       EXISTS (SELECT 1 FROM mock_scenario_queue WHERE api_key IS NULL OR api_key = %(key)s)
"""


class PgRuntime:
    """Overrides and the queue: every read goes to the database, so all instances agree."""

    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def overrides(self) -> dict[str, Any]:
        with self.db.connection() as conn:
            rows = conn.execute("SELECT name, value FROM mock_runtime").fetchall()
        return {name: json.loads(value) for name, value in rows}

    def set_overrides(self, values: dict[str, Any]) -> None:
        with self.db.transaction() as conn:
            for name, value in values.items():
                if value is None:
                    conn.execute("DELETE FROM mock_runtime WHERE name = %s", (name,))
                else:
                    conn.execute("INSERT INTO mock_runtime (name, value) VALUES (%s, %s) "
                                 "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                                 (name, json.dumps(value)))

    def enqueue(self, scenario: str, count: int, api_key: str | None) -> QueuedScenario:
        with self.db.connection() as conn:
            row = conn.execute(
                "INSERT INTO mock_scenario_queue (scenario, remaining, api_key) "
                "VALUES (%s, %s, %s) RETURNING id", (scenario, count, api_key)).fetchone()
        assert row is not None
        return QueuedScenario(int(row[0]), scenario, count, api_key)

    def queue(self) -> list[QueuedScenario]:
        with self.db.connection() as conn:
            rows = conn.execute("SELECT id, scenario, remaining, api_key "
                                "FROM mock_scenario_queue ORDER BY id").fetchall()
        return [QueuedScenario(int(i), s, int(r), k) for i, s, r, k in rows]

    def take_scenario(self, api_key: str) -> str | None:
        with self.db.connection() as conn:
            # One round trip: the scenario taken, and whether any entry applied at all.
            # An entry whose last use another instance took meanwhile yields nothing
            # though entries remain: look again, a bounded number of times.
            for _ in range(5):
                row = conn.execute(_TAKE, {"key": api_key}).fetchone()
                assert row is not None
                scenario, any_applied = row
                if scenario is not None or not any_applied:
                    return None if scenario is None else str(scenario)
        return None

    def clear_queue(self, *, api_key: str | None = None) -> None:
        with self.db.connection() as conn:
            if api_key is None:
                conn.execute("DELETE FROM mock_scenario_queue")
            else:
                conn.execute("DELETE FROM mock_scenario_queue WHERE api_key = %s", (api_key,))

    def reset(self, *, api_key: str | None = None) -> None:
        with self.db.transaction() as conn:
            if api_key is None:
                conn.execute("DELETE FROM mock_scenario_queue")
                conn.execute("DELETE FROM mock_runtime")
            else:
                conn.execute("DELETE FROM mock_scenario_queue WHERE api_key = %s", (api_key,))
