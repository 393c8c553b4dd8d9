"""The lifecycle as a Hypothesis state machine: submit and poll in any order, invariants after
every step, every task followed to its end in teardown."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from hypothesis import Phase, seed
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from .context import Context
from .fuzz import SIZES, profile_settings, run_hypothesis
from .registry import CheckFailed
from .strategies import valid_requests
from .tracker import TERMINAL, Observation, TrackedTask, follow, poll, track
from .transport import now_ms
from .verdicts import expect_accepted


class LifecycleMachine(RuleBasedStateMachine):
    """Submits valid requests and polls the tasks; the documented lifecycle is the invariant."""

    ctx: ClassVar[Context]
    tasks = Bundle("tasks")

    def __init__(self) -> None:
        super().__init__()
        self.tracked: list[TrackedTask] = []
        self.unchecked: list[Observation] = []

    def _room(self) -> bool:
        sizes = SIZES[self.ctx.options.profile]
        created = self.ctx.shared.get("stateful_tasks", 0)
        return len(self.tracked) < sizes.tasks_per_run and \
            created < sizes.stateful * sizes.tasks_per_run and \
            self.ctx.budget.can_afford(self.ctx.budget.prices.highest)

    @precondition(lambda self: self._room())
    @rule(target=tasks, payload=valid_requests())
    def submit(self, payload: dict[str, Any]) -> TrackedTask:
        if "image_urls" in payload["input"]:
            base = self.ctx.options.image_url
            payload["input"]["image_urls"] = [f"{base}?v={i}" for i, _ in
                                              enumerate(payload["input"]["image_urls"])]
        submitted_ms, at = now_ms(), time.monotonic()
        exchange = self.ctx.submit(payload, strict=True)
        try:
            task_id = expect_accepted(exchange, "a valid generated request")
        except CheckFailed as failure:
            self.ctx.record_failure("valid_requests_accepted", failure)
            raise
        task = track(self.ctx, task_id, "stateful", payload, submitted_ms, at, exchange)
        self.tracked.append(task)
        self.ctx.shared["stateful_tasks"] = self.ctx.shared.get("stateful_tasks", 0) + 1
        return task

    @rule()
    def time_passes(self) -> None:
        """Let one polling interval go by (tasks advance on their own); always possible."""
        time.sleep(self.ctx.options.poll_cadence.every_s)

    @rule(task=tasks)
    def poll(self, task: TrackedTask) -> None:
        wait = task.next_poll - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        observation = poll(self.ctx, task, strict=True, check=False)
        task.next_poll = time.monotonic() + self.ctx.options.poll_cadence.every_s
        if observation.state in TERMINAL:
            task.terminal_seen = True
        self.unchecked.append(observation)

    @invariant()
    def lifecycle_as_documented(self) -> None:
        """States documented and only forward, terminal final, taskId echoed, times sane."""
        pending, self.unchecked = self.unchecked, []
        for observation in pending:
            self.ctx.emit("poll", observation, strict=True)

    def teardown(self) -> None:
        # Every task must end within the documented 3 minutes.
        follow(self.ctx, self.tracked, strict=True, window=False)


def run_lifecycle(ctx: Context) -> None:
    """Run the state machine under the run's Hypothesis profile and seed."""
    sizes = SIZES[ctx.options.profile]
    machine = type("Flux2Lifecycle", (LifecycleMachine,), {"ctx": ctx})
    machine = seed(ctx.options.seed)(machine)
    # No shrinking: each step waits on the target, and the failing check has recorded itself.
    test_settings = profile_settings(ctx, sizes.stateful, stateful_step_count=sizes.steps,
                                     phases=[Phase.explicit, Phase.reuse, Phase.generate])

    def test() -> None:
        run_state_machine_as_test(machine, settings=test_settings)

    run_hypothesis(ctx, test)
