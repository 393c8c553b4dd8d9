"""Journal entries: one request as the mock saw and answered it, and its table row."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class JournalEntry:
    """One request as the mock saw and answered it."""

    time_ms: int
    method: str
    path: str
    status: int
    key_id: str = ""
    key_hint: str = ""
    task_id: str | None = None
    state: str | None = None
    errors: tuple[dict[str, str], ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    query: str = ""
    seq: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "time": self.time_ms, "method": self.method,
                "path": self.path, "query": self.query, "status": self.status,
                "apiKey": self.key_hint, "keyId": self.key_id, "taskId": self.task_id,
                "state": self.state, "errors": list(self.errors), "headers": self.headers}

Row = tuple[Any, ...]  # the journal table's columns after seq, in _COLUMNS order

def entry_row(entry: JournalEntry) -> Row:
    """Return the table row of an entry (its seq left to the sink)."""
    return (entry.time_ms, entry.method, entry.path, entry.query, entry.status, entry.key_id,
            entry.key_hint, entry.task_id, entry.state, json.dumps(list(entry.errors)),
            json.dumps(entry.headers))

def entry_from_row(row: Row) -> JournalEntry:
    """Return the entry of a table row that starts with its seq."""
    (seq, time_ms, method, path, query, status, kid, hint, task_id, state,
     errors_json, headers_json) = row
    return JournalEntry(time_ms, method, path, status, kid, hint, task_id, state,
                        tuple(json.loads(errors_json)), json.loads(headers_json), query, seq)
