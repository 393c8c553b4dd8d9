"""Charges kept in memory, keyed by task id."""

from __future__ import annotations

import threading


class MemoryLedger:
    """Charges in a dict, for the one-process memory store."""

    def __init__(self) -> None:
        self._charges: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()

    def spent_micro(self, api_key: str) -> int:
        with self._lock:
            return sum(m for key, m in self._charges.values() if key == api_key)

    def charge(self, task_id: str, api_key: str, micro: int, at_ms: int) -> bool:
        with self._lock:
            if task_id in self._charges:
                return False
            self._charges[task_id] = (api_key, micro)
            return True

    def reset(self, *, api_key: str | None = None) -> None:
        with self._lock:
            self._charges = {t: c for t, c in self._charges.items()
                             if api_key is not None and c[0] != api_key}
