"""Run-time changes the control plane makes: which settings, and queued scenarios."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock_server.domain.keys import mask_key

# Settings the control plane may change at run time (the names are the setting names).
RUNTIME_SETTINGS = ("profile", "failure_rate", "pending_ms", "processing_ms")

@dataclass(frozen=True)
class QueuedScenario:
    """'The next `remaining` submissions (of `api_key`, or anyone's) get `scenario`.'"""

    id: int
    scenario: str
    remaining: int
    api_key: str | None = None

    def as_dict(self) -> dict[str, Any]:
        # Keys never appear in full in any answer.
        return {"id": self.id, "scenario": self.scenario, "remaining": self.remaining,
                "apiKey": None if self.api_key is None else mask_key(self.api_key)}
