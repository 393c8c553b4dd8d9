"""Request metrics of a one-process server: nothing to share, so nothing to keep."""

from __future__ import annotations

from typing import Any


class MemoryMetricsSink:
    """The sink of a server that is one process: its own counts are all there is."""

    def write(self, process: str, snapshot: dict[str, Any]) -> None:
        """Keep nothing: the process reads its own counts directly."""

    def read(self, *, skip: str) -> list[dict[str, Any]]:
        """Return the other processes' snapshots: there are none."""
        return []

    def read_others(self) -> list[dict[str, Any]]:
        """Return other servers' snapshots: a memory store has no other server."""
        return []
