"""Conformance: does a client use the API as documented? Rules as data, findings with evidence.

The rules' metadata (id, severity, the sentence of the docs each rests on) is
`data/conformance_rules.json`; each rule's check is a small named function in
`conformance_checks.py`. Evaluation is pure: journal entries, task records,
callback attempts and thresholds in; a report out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mock_server.domain.journal_entries import JournalEntry
from mock_server.domain.tables import load_table
from mock_server.domain.tasks import TaskRecord
from mock_server.settings import Settings

Severity = Literal["error", "warning"]
MAX_EVIDENCE = 20


@dataclass(frozen=True)
class Rule:
    """One documented expectation of a client."""

    id: str
    severity: Severity
    title: str
    doc: str
    source: str
    timed: bool = False


def rules() -> list[Rule]:
    """Return every rule, in the order reports list them."""
    return [Rule(**entry) for entry in load_table("conformance_rules")["rules"]]


@dataclass(frozen=True)
class Thresholds:
    """The docs' numbers, scaled to the timing profile, in milliseconds."""

    time_scale: float
    first_poll_ms: int
    poll_interval_ms: int
    max_wait_ms: int
    window_ms: int
    callback_timeout_ms: int
    repolls_allowed: int
    result_ttl_ms: int

    @classmethod
    def from_settings(cls, settings: Settings, profile_scale: float) -> Thresholds:
        """Scale each threshold setting by the profile's (or the overriding) time scale."""
        scale = settings.conformance_time_scale
        scale = profile_scale if scale is None else scale

        def ms(seconds: float) -> int:
            return round(seconds * 1000 * scale)

        return cls(scale, ms(settings.conformance_first_poll_s),
                   ms(settings.conformance_poll_interval_s), ms(settings.conformance_max_wait_s),
                   ms(60.0), ms(settings.conformance_callback_timeout_s),
                   settings.conformance_repolls_allowed, settings.result_url_ttl_s * 1000)

    def as_dict(self) -> dict[str, Any]:
        return {"timeScale": self.time_scale, "firstPollMs": self.first_poll_ms,
                "pollIntervalMs": self.poll_interval_ms, "maxWaitMs": self.max_wait_ms,
                "rateWindowMs": self.window_ms, "callbackTimeoutMs": self.callback_timeout_ms,
                "repollsAllowed": self.repolls_allowed, "resultTtlMs": self.result_ttl_ms}


@dataclass(frozen=True)
class Limits:
    """What a key's plan allows; None is no limit."""

    requests_per_minute: int | None = None
    max_in_flight: int | None = None


@dataclass(frozen=True)
class Attempt:
    """One callback delivery attempt, as the callback sender journaled it."""

    task_id: str
    url: str
    time_ms: int
    status: int | None
    error: str | None = None
    latency_ms: int = 0


@dataclass(frozen=True)
class Evidence:
    """One thing the client did (or did not do) that breaks a rule, and when."""

    time_ms: int
    what: str
    method: str = ""
    path: str = ""
    status: int | None = None
    task_id: str | None = None
    api_key: str = ""

    @classmethod
    def of(cls, entry: JournalEntry, what: str) -> Evidence:
        path = entry.path + (f"?{entry.query}" if entry.query else "")
        return cls(entry.time_ms, what, entry.method, path, entry.status, entry.task_id,
                   entry.key_hint)

    def as_dict(self) -> dict[str, Any]:
        return {"time": self.time_ms, "what": self.what, "method": self.method,
                "path": self.path, "status": self.status, "taskId": self.task_id,
                "apiKey": self.api_key}


@dataclass
class Finding:
    """A rule the client broke, with the evidence."""

    rule: Rule
    message: str
    evidence: list[Evidence] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule.id, "severity": self.rule.severity, "title": self.rule.title,
                "doc": self.rule.doc, "source": self.rule.source, "message": self.message,
                "count": len(self.evidence),
                "evidence": [e.as_dict() for e in self.evidence[:MAX_EVIDENCE]]}


@dataclass
class Inputs:
    """Everything one evaluation reads."""

    entries: Sequence[JournalEntry]
    tasks: Sequence[TaskRecord]
    attempts: Sequence[Attempt]
    thresholds: Thresholds
    now_ms: int
    limits_for: Callable[[str], Limits] = lambda _key_id: Limits()
    exempt_hosts: tuple[str, ...] = ()


Check = Callable[[Inputs, Rule], list[Finding]]


