"""Conformance: does a client use the API as documented? Rules as data, findings with evidence.

The rules' metadata (id, severity, the sentence of the docs each rests on) is
`data/conformance_rules.json`; each rule's check is a small named function in
`conformance_checks.py`. Evaluation is pure: journal entries, task records,
callback attempts and thresholds in; a report out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from mock_server.domain.tables import load_table
from mock_server.journal.buffer import JournalEntry
from mock_server.settings import Settings
from mock_server.storage.memory.tasks import TaskRecord

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


def evaluate(inputs: Inputs, *, api_key_hint: str | None = None) -> dict[str, Any]:
    """Run every rule over the inputs and return the report as JSON-ready data."""
    from mock_server.conformance.checks import CHECKS

    # Worker processes flush in batches: the journal's order is not the order of time.
    inputs = replace(inputs, entries=sorted(inputs.entries, key=lambda e: (e.time_ms, e.seq)))
    findings: list[Finding] = []
    results = []
    for rule in rules():
        if rule.timed and inputs.thresholds.time_scale <= 0:
            results.append({"id": rule.id, "severity": rule.severity, "result": "skipped",
                            "reason": "the timing profile has no time (time_scale 0)"})
            continue
        found = CHECKS[rule.id](inputs, rule)
        findings += found
        results.append({"id": rule.id, "severity": rule.severity,
                        "result": "fail" if found else "pass"})
    errors = sum(1 for f in findings if f.rule.severity == "error")
    return {
        "apiKey": api_key_hint,
        "conformant": errors == 0,
        "errors": errors,
        "warnings": len(findings) - errors,
        "requests": len(inputs.entries),
        "tasks": len(inputs.tasks),
        "thresholds": inputs.thresholds.as_dict(),
        "findings": [f.as_dict() for f in findings],
        "rules": results,
    }


def _clock_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def render_table(report: dict[str, Any]) -> str:
    """Return a report as a plain-text table for terminals and CI logs."""
    lines = []
    who = report.get("apiKey") or "every key"
    lines.append(f"conformance of {who}: {report['requests']} requests, {report['tasks']} tasks, "
                 f"time scale {report['thresholds']['timeScale']}")
    rows = [("RULE", "SEVERITY", "RESULT", "COUNT", "WHAT")]
    by_rule = {f["rule"]: f for f in report["findings"]}
    for result in report["rules"]:
        finding = by_rule.get(result["id"])
        what = finding["message"] if finding else result.get("reason", "")
        count = str(finding["count"]) if finding else "-"
        rows.append((result["id"], result["severity"], result["result"], count, what))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True))
                     + "  " + row[4])
    for finding in report["findings"]:
        lines.append("")
        lines.append(f"{finding['severity'].upper()} {finding['rule']}: {finding['message']}")
        lines.append(f"  docs ({finding['source']}): \"{finding['doc']}\"")
        for item in finding["evidence"][:5]:
            where = f"{item['method']} {item['path']} -> {item['status']}" if item["method"] \
                else (item["taskId"] or "")
            lines.append(f"  at {_clock_time(item['time'])}: {where}: {item['what']}")
        if finding["count"] > 5:
            lines.append(f"  ... and {finding['count'] - 5} more")
    lines.append("")
    verdict = "CONFORMANT" if report["conformant"] else "NOT CONFORMANT"
    lines.append(f"{verdict}: {report['errors']} error(s), {report['warnings']} warning(s)")
    return "\n".join(lines)
