"""Showing a run: the table of statements, failure details, the summary line, JUnit XML."""

from __future__ import annotations

import textwrap
from xml.etree import ElementTree as ET

from .registry import Outcome
from .runner import RunResult

MARK = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}


def table(result: RunResult, width: int = 110) -> str:
    """Return one row per documented statement: status, check, why."""
    rows = []
    name_width = max(len(o.check.name) for o in result.outcomes)
    for outcome in result.outcomes:
        reason = outcome.reason(result.unavailable).splitlines()[0]
        room = max(20, width - name_width - 8)
        rows.append(f"{MARK[outcome.status]}  {outcome.check.name:<{name_width}}  "
                    f"{textwrap.shorten(reason, room, placeholder='...')}")
        rows.append(" " * 6 + "docs: " + textwrap.shorten(outcome.check.quote, width - 12,
                                                          placeholder="..."))
    return "\n".join(rows)


def failures(result: RunResult) -> str:
    """Return what was sent, what came back and a curl command, for every failure."""
    blocks = []
    for outcome in result.outcomes:
        for failure in outcome.failures:
            blocks.append(f"--- {outcome.check.name}\n  docs: {outcome.check.quote}\n"
                          + textwrap.indent(failure.details(), "  "))
    blocks += [f"--- error in the suite\n{textwrap.indent(e, '  ')}" for e in result.errors]
    return "\n".join(blocks)


def summary_line(result: RunResult) -> str:
    return (f"{result.count('passed')} passed, {result.count('failed')} failed, "
            f"{result.count('skipped')} skipped")


def phases_line(result: RunResult) -> str:
    """Say how long each phase took."""
    return "phases: " + ", ".join(f"{name} {seconds:.1f} s"
                                  for name, seconds in result.phase_seconds.items())


def spend_line(result: RunResult) -> str:
    where = "spent" if not result.options.loopback else "would have cost on the paid API"
    return f"spend: ${result.spend:.2f} {where} ({result.tasks} tasks)"


def render(result: RunResult) -> str:
    """Return the whole human report."""
    parts = [table(result)]
    details = failures(result)
    if details:
        parts += ["", "Failures:", details]
    parts += ["", f"target: {result.options.base_url}  seed: {result.options.seed}  "
                  f"({result.seconds:.1f} s; re-run with --seed {result.options.seed})",
              phases_line(result), spend_line(result), summary_line(result)]
    return "\n".join(parts)


def _case(suite: ET.Element, outcome: Outcome, unavailable: dict[str, str]) -> None:
    case = ET.SubElement(suite, "testcase", classname=f"contract_tests.{outcome.check.section}",
                         name=outcome.check.name)
    ET.SubElement(case, "system-out").text = outcome.check.quote
    if outcome.status == "failed":
        failure = ET.SubElement(case, "failure", message=outcome.failures[0].message[:500])
        failure.text = "\n".join(f.details() for f in outcome.failures)
    elif outcome.status == "skipped":
        ET.SubElement(case, "skipped", message=outcome.reason(unavailable))


def junit_xml(result: RunResult) -> bytes:
    """Return the run as a JUnit XML document, one testcase per check."""
    suite = ET.Element("testsuite", name="flux2-contract", tests=str(len(result.outcomes)),
                       failures=str(result.count("failed")), errors=str(len(result.errors)),
                       skipped=str(result.count("skipped")), time=f"{result.seconds:.3f}")
    properties = ET.SubElement(suite, "properties")
    for name, value in (("base_url", result.options.base_url),
                        ("seed", str(result.options.seed)),
                        ("spend_usd", f"{result.spend:.2f}"), ("tasks", str(result.tasks))):
        ET.SubElement(properties, "property", name=name, value=value)
    for outcome in result.outcomes:
        _case(suite, outcome, result.unavailable)
    for error in result.errors:
        case = ET.SubElement(suite, "testcase", classname="contract_tests", name="suite_error")
        ET.SubElement(case, "error", message=error.splitlines()[0]).text = error
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True)
