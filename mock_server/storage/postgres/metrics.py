"""Request metrics in PostgreSQL: one row per worker process of each instance.

An instance is one `flux2-mock serve` (a gunicorn master and its workers) on
one host. A scrape of any instance shows its own counts and, apart, the total
over every instance that wrote within `STALE_AFTER_S`.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any

from .db import PgDatabase

STALE_AFTER_S = 300  # rows of an instance silent this long are dropped (it is gone)


def instance_id() -> str:
    """This server's name: host and the pid of its master (a worker's parent)."""
    return f"{socket.gethostname()}:{os.getppid()}"


class PgMetricsSink:
    """Snapshots of every worker of every instance."""

    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def write(self, process: str, snapshot: dict[str, Any]) -> None:
        with self.db.connection() as conn:
            conn.execute(
                "INSERT INTO mock_metrics (process, instance, data, updated_at) "
                "VALUES (%s, %s, %s, now()) ON CONFLICT (process) DO UPDATE SET "
                "instance = EXCLUDED.instance, data = EXCLUDED.data, updated_at = now()",
                (process, instance_id(), json.dumps(snapshot)))

    def read(self, *, skip: str) -> list[dict[str, Any]]:
        """Return the snapshots of this instance's other processes."""
        return [s for instance, process, s in self._rows()
                if instance == instance_id() and process != skip]

    def read_others(self) -> list[dict[str, Any]]:
        """Return the snapshots of every other instance's processes."""
        return [s for instance, _process, s in self._rows() if instance != instance_id()]

    def _rows(self) -> list[tuple[str, str, dict[str, Any]]]:
        with self.db.connection() as conn:
            conn.execute("DELETE FROM mock_metrics WHERE updated_at < now() - "
                         "make_interval(secs => %s)", (STALE_AFTER_S,))
            rows = conn.execute("SELECT instance, process, data FROM mock_metrics").fetchall()
        return [(i, p, json.loads(d)) for i, p, d in rows]
