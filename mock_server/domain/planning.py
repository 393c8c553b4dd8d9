"""Plan drawing: a task's timings, outcome and failCode, fixed at submission.

A pure function of its inputs: the same seed and sequence number give the same plan,
whatever the scenario asks, because every draw happens in the same order.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from flux2_spec.resources import fail_message, load
from mock_server.domain.lifecycle import Outcome, TaskPlan
from mock_server.domain.profiles import TimingProfile
from mock_server.domain.scenarios import Scenario


@dataclass(frozen=True)
class PlanRules:
    """What plans are drawn from: the timing profile, the failure rate and the failCodes."""

    profile: TimingProfile
    failure_rate: float = 0.0
    vocabulary: str = "legacy"
    # The failCodes random failures draw from; empty = the vocabulary's list.
    fail_codes: Sequence[str] = ()


def draw_plan(rules: PlanRules, *, seed: str, seq: int, now_ms: int,
              scenario: Scenario) -> TaskPlan:
    """Return the plan of task `seq` under `seed`, accepted at `now_ms`."""
    rng = random.Random(f"{seed}:{seq}")
    pending = rules.profile.pending.draw(rng)
    processing = rules.profile.processing.draw(rng)
    fails = rng.random() < rules.failure_rate
    table = load("fail_codes")
    drawn_code = rng.choice(list(rules.fail_codes)
                            or table["random_failures"][rules.vocabulary])
    outcome = scenario.outcome or ("failed" if fails else "success")
    fail_code = fail_msg = None
    if outcome == "failed":
        if scenario.fail_code:
            fail_code = scenario.fail_code
        elif scenario.outcome == "failed":
            fail_code = table["default_fail_code"][rules.vocabulary]
        else:
            fail_code = drawn_code
        fail_msg = fail_message(rules.vocabulary, fail_code)
    return TaskPlan(
        create_ms=now_ms,
        pending_ms=pending if scenario.pending_ms is None else scenario.pending_ms,
        processing_ms=processing if scenario.processing_ms is None else scenario.processing_ms,
        outcome=cast(Outcome, outcome),
        fail_code=fail_code,
        fail_msg=fail_msg,
    )


def seed_text(seed: int | None, fresh: str) -> str:
    """Return the seed plans are drawn under: the configured one, else `fresh` (random)."""
    return str(seed) if seed is not None else fresh
