"""The run as one HTML page: every check, its sentence of the docs, verdict, evidence, a curl."""

from __future__ import annotations

from html import escape

from .registry import Outcome
from .runner import RunResult

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .4em .6em; vertical-align: top;
         text-align: left; }
.passed { color: #176317; } .failed { color: #a31515; } .skipped { color: #8a6d00; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: .5em; margin: .3em 0; }
q { font-style: italic; }
"""


def _evidence(outcome: Outcome, result: RunResult) -> str:
    parts = [f"<div>{escape(outcome.reason(result.unavailable))}</div>"]
    for failure in outcome.failures:
        parts.append(f"<pre>{escape(failure.details())}</pre>")
    return "".join(parts)


def _curl(outcome: Outcome, result: RunResult) -> str:
    for failure in outcome.failures:
        if failure.exchanges:
            return failure.exchanges[0].curl()
    evidence = result.evidence.get(outcome.check.name)
    return evidence.curl() if evidence is not None else ""


def _row(outcome: Outcome, result: RunResult) -> str:
    spec = outcome.check
    curl = _curl(outcome, result)
    reading = f"<div>reading: --{spec.reading.replace('_', '-')} " \
              f"{escape(str(getattr(result.options, spec.reading)))}</div>" if spec.reading else ""
    return (f'<tr id="{escape(spec.name)}"><td class="{outcome.status}">'
            f"{outcome.status.upper()}</td><td><b>{escape(spec.name)}</b><div>"
            f"{escape(spec.section)}</div>{reading}</td><td><q>{escape(spec.quote)}</q></td>"
            f"<td>{_evidence(outcome, result)}</td>"
            f"<td>{f'<pre>{escape(curl)}</pre>' if curl else 'no request of its own'}</td></tr>")


def render_html(result: RunResult) -> str:
    """Return the whole report as a standalone HTML document."""
    options = result.options
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in
                       result.phase_seconds.items())
    counts = ", ".join(f"{result.count(s)} {s}" for s in ("passed", "failed", "skipped"))
    rows = "\n".join(_row(o, result) for o in result.outcomes)
    errors = "".join(f"<pre>{escape(e)}</pre>" for e in result.errors)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flux-2 contract: {escape(counts)}</title>
<style>{STYLE}</style></head><body>
<h1>Flux-2 contract suite</h1>
<p>target <code>{escape(options.base_url)}</code>, seed {options.seed}
(re-run with <code>--seed {options.seed}</code>), {result.seconds:.1f} s ({escape(phases)});
<b>{escape(counts)}</b>. The curl commands read the key from <code>$FLUX2_API_KEY</code>.</p>
{errors}
<table><thead><tr><th>verdict</th><th>check</th><th>the docs say</th><th>evidence</th>
<th>replay</th></tr></thead><tbody>
{rows}
</tbody></table></body></html>
"""
