"""Upstream findings: per rule, how often it was checked and broken, first and last seen,
with the exchanges that showed it. Served at `GET /_mock/upstream`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from mock_server.proxy.db import ProxyDB
from mock_server.proxy.judge import Breach, Verdict
from mock_server.proxy.rules import BY_NAME, RULES


def note(db: ProxyDB, verdict: Verdict, at_ms: int) -> None:
    """Count every rule the verdict checked and keep each breach's evidence (one transaction)."""
    if not verdict.checked:
        return
    broken: dict[str, Breach] = {}
    for breach in verdict.breaches:
        broken.setdefault(breach.rule, breach)
    with db.transaction() as conn:
        for rule in set(verdict.checked) | set(broken):
            found = broken.get(rule)
            shown = None if found is None else json.dumps(
                {"what": found.what, "exchanges": found.evidence})
            conn.execute(
                "INSERT INTO proxy_rules (rule, checked, breaches, first_ms, last_ms, "
                "first_json, last_json) VALUES (:rule, 1, :b, :at, :at, :shown, :shown) "
                "ON CONFLICT (rule) DO UPDATE SET checked = checked + 1, "
                "breaches = breaches + :b, "
                "first_ms = CASE WHEN first_ms IS NULL THEN excluded.first_ms ELSE first_ms END, "
                "first_json = COALESCE(first_json, excluded.first_json), "
                "last_ms = CASE WHEN :b = 1 THEN :at ELSE last_ms END, "
                "last_json = CASE WHEN :b = 1 THEN :shown ELSE last_json END",
                {"rule": rule, "b": 0 if found is None else 1,
                 "at": None if found is None else at_ms, "shown": shown})


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def upstream_report(db: ProxyDB, upstream: str) -> dict[str, Any]:
    """Every rule's result and every finding, as JSON-ready data."""
    rows = {row[0]: row for row in db.conn.execute(
        "SELECT rule, checked, breaches, first_ms, last_ms, first_json, last_json "
        "FROM proxy_rules")}
    findings, results = [], []
    for rule in RULES:
        row = rows.get(rule.name)
        checked, breaches = (row[1], row[2]) if row else (0, 0)
        result = "fail" if breaches else ("pass" if checked else "unexercised")
        results.append({"rule": rule.name, "result": result, "checked": checked,
                        "breaches": breaches})
        if not breaches or row is None:
            continue
        first, last = json.loads(row[5]), json.loads(row[6])
        evidence = [{"seen": "first", "time": row[3], **first}]
        if row[4] != row[3] or last != first:
            evidence.append({"seen": "last", "time": row[4], **last})
        findings.append({"rule": rule.name, "section": rule.section, "doc": rule.doc,
                         "message": last["what"], "count": breaches,
                         "firstSeen": _iso(row[3]), "lastSeen": _iso(row[4]),
                         "evidence": evidence})
    return {"upstream": upstream, "exchanges": db.counted("exchanges"),
            "callbacks": db.counted("callbacks"), "tasks": db.counted("tasks"),
            "conformant": not findings, "findings": findings, "rules": results}


def render_upstream(report: dict[str, Any]) -> str:
    """The upstream report as a plain-text table for terminals and CI logs."""
    lines = [f"upstream {report['upstream']}: {report['exchanges']} exchanges, "
             f"{report['tasks']} tasks, {report['callbacks']} callbacks judged"]
    rows = [("RULE", "RESULT", "CHECKED", "BREACHES")]
    rows += [(r["rule"], r["result"], str(r["checked"]), str(r["breaches"]))
             for r in report["rules"]]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in rows]
    for finding in report["findings"]:
        lines += ["", f"BREACH {finding['rule']} x{finding['count']}: {finding['message']}",
                  f"  docs ({finding['section']}): \"{finding['doc']}\"",
                  f"  first seen {finding['firstSeen']}, last seen {finding['lastSeen']}"]
        for item in finding["evidence"][-1]["exchanges"][-2:]:
            where = f"{item.get('method', 'POST')} {item.get('path', '')}".strip()
            lines.append(f"  {where} -> {item.get('status')}: "
                         f"{json.dumps(item.get('answer'))[:160]}")
    verdict = "AS DOCUMENTED" if report["conformant"] else "NOT AS DOCUMENTED"
    lines += ["", f"{verdict}: {len(report['findings'])} rule(s) broken"]
    return "\n".join(lines)


__all__ = ["BY_NAME", "note", "render_upstream", "upstream_report"]
