"""`flux2-mock calibrate DIR`: a recording's timing and outcome distribution, seeded draws
from the `recorded:DIR` profile (domain/profiles.py, domain/recorded.py), and the built-in
`realistic` profile, side by side."""

from __future__ import annotations

import random
from typing import Any

from mock_server.domain.profiles import Span, get_profile
from mock_server.domain.recorded import recorded_outcomes, samples_of

PREFIX = "recorded:"


def _stats(values: list[int] | tuple[int, ...]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return float(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))])

    return {"n": len(ordered), "min": float(ordered[0]), "p10": at(0.1), "p50": at(0.5),
            "p90": at(0.9), "max": float(ordered[-1]),
            "mean": round(sum(ordered) / len(ordered), 1)}


def _uniform(span: Span) -> dict[str, float]:
    low, high = max(0, span.mean_ms - span.jitter_ms), span.mean_ms + span.jitter_ms
    return {"min": float(low), "p10": low + 0.1 * (high - low), "p50": float(span.mean_ms),
            "p90": low + 0.9 * (high - low), "max": float(high), "mean": float(span.mean_ms)}


def calibration(folder: str, *, seed: int = 0, draws: int = 1000) -> dict[str, Any]:
    """The recording's distribution, seeded draws from its profile, and `realistic`."""
    found = samples_of(str(folder))
    profile = get_profile(PREFIX + str(folder))
    rate, codes = recorded_outcomes(str(folder))
    rng = random.Random(seed)
    drawn = [(profile.pending.draw(rng), profile.processing.draw(rng)) for _ in range(draws)]
    realistic = get_profile("realistic")
    return {
        "folder": str(folder), "tasks": found.tasks, "outcomes": dict(found.outcomes),
        "recorded": {"pendingMs": _stats(found.pending), "processingMs": _stats(found.processing),
                     "totalMs": _stats([p + q for p, q in zip(found.pending, found.processing,
                                                              strict=True)]),
                     "failureRate": round(rate, 4), "failCodes": dict(found.fail_codes)},
        "draws": {"seed": seed, "count": draws,
                  "pendingMs": _stats([p for p, _ in drawn]),
                  "processingMs": _stats([q for _, q in drawn]),
                  "totalMs": _stats([p + q for p, q in drawn]),
                  "failCodesDrawnFrom": list(dict.fromkeys(codes))},
        "realistic": {"pendingMs": _uniform(realistic.pending),
                      "processingMs": _uniform(realistic.processing),
                      "totalMs": _uniform(Span(realistic.pending.mean_ms
                                               + realistic.processing.mean_ms,
                                               realistic.pending.jitter_ms
                                               + realistic.processing.jitter_ms)),
                      "failureRate": 0.0},
    }


def render_calibration(found: dict[str, Any]) -> str:
    """The comparison as a table: recorded, seeded draws, realistic."""
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(found["outcomes"].items()))
    lines = [f"calibration of {found['folder']}: {found['tasks']} recorded task(s) ({outcomes})",
             "", f"{'':14}{'':11}{'min':>8}{'p10':>8}{'p50':>8}{'p90':>8}{'max':>8}{'mean':>9}"]
    for measure in ("pendingMs", "processingMs", "totalMs"):
        for source, label in (("recorded", "recorded"), ("draws", "drawn"),
                              ("realistic", "realistic")):
            row = found[source][measure]
            lines.append(f"{measure if label == 'recorded' else '':14}{label:11}"
                         + "".join(f"{row[k]:8.0f}" for k in ("min", "p10", "p50", "p90",
                                                               "max"))
                         + f"{row['mean']:9.1f}")
    recorded = found["recorded"]
    codes = ", ".join(f"{c} x{n}" for c, n in sorted(recorded["failCodes"].items())) or "none"
    lines += ["", f"failure rate  recorded {recorded['failureRate']:.1%} (failCodes: {codes});"
                  f"  realistic {found['realistic']['failureRate']:.1%} (failure_rate setting)",
              f"drawn: {found['draws']['count']} draws with seed {found['draws']['seed']}; "
              f"use it with: flux2-mock serve --profile recorded:{found['folder']} --seed N"]
    return "\n".join(lines)
