"""Evaluating conformance: every check over the inputs, and the report as a table."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from mock_server.conformance.rules import Finding, Inputs, rules


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
