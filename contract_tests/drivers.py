"""Drivers: they create and follow tasks so that the poll, finished and callback checks see them.

A driver enforces nothing itself; every assertion is a check with its own row.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis.errors import HypothesisException

from .checks.callbacks import CallbackCase
from .context import Context
from .fuzz import SIZES
from .payloads import quickstart_text_to_image, request
from .receiver import Delivery
from .registry import CheckSkipped, Kind, Phase, check
from .stateful import run_lifecycle
from .tracker import TrackedTask, follow, rewatch, track
from .transport import Transport
from .verdicts import accepted_task_id, expect_accepted, is_rejected, success_data

FAIL_SCENARIO = "fail:CONTENT_VIOLATION"


@dataclass(frozen=True)
class Driver:
    """Something that creates tasks for the observation checks."""

    name: str
    phase: Phase
    feeds: tuple[Kind, ...]
    fn: Callable[[Context], None]
    plan: Callable[[Any], list[Any]]
    after_probes: bool = False  # waits for the phase's probes (it follows their task)


def follow_reference(ctx: Context) -> None:
    """Follow the docs' Quick Start task to its end."""
    exchange, task_id = ctx.reference_task()
    if task_id is None:
        ctx.mark_unavailable("success-task", "the docs' Quick Start request was not accepted")
        return
    started = time.monotonic() - (time.time() * 1000 - exchange.sent_ms) / 1000
    follow(ctx, [track(ctx, task_id, "quickstart", quickstart_text_to_image(),
                       exchange.sent_ms, started, exchange)])


def stateful_lifecycle(ctx: Context) -> None:
    if not ctx.budget.can_afford(ctx.budget.prices.highest):
        ctx.mark_unavailable("stateful", "the spend cap leaves no room for the stateful test")
        return
    try:
        run_lifecycle(ctx)
    except CheckSkipped as exc:
        ctx.mark_unavailable("stateful", str(exc))
    except AssertionError:
        pass  # the failing check recorded itself before Hypothesis re-raised it
    except HypothesisException:
        # Replaying a failure against a live target can take other paths (the budget, the
        # target's own state): fine once the failing check has recorded itself.
        if not any(o.failures for o in ctx.outcomes.values()):
            raise


def _submit_tracked(ctx: Context, payload: dict[str, Any], scenario: str | None,
                    label: str) -> tuple[Any, TrackedTask | None]:
    at = time.monotonic()
    exchange = ctx.submit(payload, scenario=scenario)
    task_id = accepted_task_id(exchange)
    if task_id is None:
        return exchange, None
    return exchange, track(ctx, task_id, label, payload, exchange.sent_ms, at, exchange)


def scenarios(ctx: Context) -> None:
    """Ask for a failed, a slow and a stuck task with X-Mock-Scenario (skipped if ignored)."""
    try:
        _scenarios(ctx)
    finally:
        ctx.scenarios_done.set()


def _scenarios(ctx: Context) -> None:
    if not ctx.options.scenarios:
        ctx.mark_unavailable("failed-task", "--no-scenarios: failed tasks were not requested")
        return
    # All three at once: a slow target is waited on once.
    slow_ms = 400 if ctx.options.loopback else 30_000
    watch_s = 0.6 if ctx.options.loopback else 40.0
    exchange, task = _submit_tracked(ctx, request(), FAIL_SCENARIO, "fail scenario")
    _, slow = _submit_tracked(ctx, request(), f"processing={slow_ms}", "slow scenario")
    _, stuck = _submit_tracked(ctx, request(), "stuck", "stuck scenario")
    watchers = [threading.Thread(target=follow, args=(ctx, [t]), daemon=True)
                for t in (task, slow) if t is not None]
    if stuck is not None:
        watchers.append(threading.Thread(target=follow, args=(ctx, [stuck]), daemon=True,
                                         kwargs={"limit_s": watch_s, "expect_end": False}))
    for watcher in watchers:
        watcher.start()
    for watcher in watchers:
        watcher.join()
    if task is None:
        if is_rejected(exchange):
            ctx.mark_unavailable("failed-task", f"the target rejected a submission with "
                                 f"X-Mock-Scenario: {FAIL_SCENARIO}")
        return
    if task.last is None or task.last.state != "failed":
        ctx.mark_unavailable("failed-task", f"the target ignores X-Mock-Scenario (a task sent "
                             f"with '{FAIL_SCENARIO}' ended "
                             f"{task.last.state if task.last else 'unanswered'!r})")


def _callback_plan(options: Any) -> list[Any]:
    return [request(), request()]


@check(phase="task", section="Top-Level Parameters", plan=_callback_plan,
       quote="request_type | callback (webhook notification); callback_url | Webhook URL for "
             "callback mode")
def callback_mode_accepted(ctx: Context, _: None) -> None:
    """A callback-mode request with a callback_url is accepted (its callbacks are then checked)."""
    receiver = ctx.receiver
    if receiver is None:
        reason = ("the target is not on loopback and no --callback-url forwards to the local "
                  "receiver")
        ctx.mark_unavailable("callbacks", reason)
        ctx.mark_unavailable("failure-callback", reason)
        raise CheckSkipped(reason)
    # Whether a failed task can be asked for is known once the scenarios ended.
    ctx.scenarios_done.wait(ctx.options.task_timeout + 60)
    cases: list[tuple[str, str | None]] = [("success", None)]
    if "failed-task" in ctx.unavailable:
        ctx.mark_unavailable("failure-callback", ctx.unavailable["failed-task"])
    else:
        cases.append(("failed", FAIL_SCENARIO))
    tokens: dict[str, str] = {}
    watcher = Transport(ctx.options.base_url, ctx.options.api_key,
                        timeout_s=ctx.options.request_timeout_s)

    def on_delivery(delivery: Delivery) -> None:
        if delivery.token in tokens:
            delivery.status_after = success_data(watcher.status(tokens[delivery.token]))

    receiver.on_delivery = on_delivery
    started: list[tuple[str, str, TrackedTask]] = []
    for expected, scenario in cases:
        token = f"{ctx.rng.getrandbits(64):016x}"
        payload = request()
        payload["request_type"] = "callback"
        payload["callback_url"] = receiver.url_for(token)
        at = time.monotonic()
        exchange = ctx.submit(payload, scenario=scenario)
        task_id = expect_accepted(exchange, f"a callback-mode request ({expected})")
        tokens[token] = task_id
        started.append((expected, token, track(ctx, task_id, f"callback {expected}", payload,
                                               exchange.sent_ms, at, exchange)))
    follow(ctx, [t for _, _, t in started])
    wait_s = ctx.options.callback_wait_s
    arrived: list[tuple[str, TrackedTask, list[Delivery], float]] = []
    for expected, token, task in started:
        waited = time.monotonic()
        deliveries = receiver.wait(token, wait_s)
        if not deliveries:
            ctx.note_deadline(f"no callback for task {task.task_id} within {wait_s:.1f} s")
        arrived.append((expected, task, deliveries, max(wait_s, time.monotonic() - waited)))
    # Watch the finished tasks again, after their callbacks: the status must still agree.
    rewatch(ctx, [task for _, task, deliveries, _ in arrived if deliveries])
    for expected, task, deliveries, waited_s in arrived:
        final = task.last.data if task.last else None
        ctx.emit("callback", CallbackCase(task, expected, deliveries, final, waited_s))
    receiver.on_delivery = None  # a late (repeated) delivery must not use a closed watcher
    watcher.close()


DRIVERS: tuple[Driver, ...] = (
    Driver("quickstart lifecycle", "task", ("poll", "finished"), follow_reference,
           lambda options: [], after_probes=True),
    Driver("stateful lifecycle", "task", ("poll", "finished"), stateful_lifecycle,
           lambda options: [None] * _stateful_tasks(options)),
    Driver("scenarios", "task", ("poll", "finished"), scenarios,
           lambda options: [request()] * 3 if options.scenarios else []),
)


def _stateful_tasks(options: Any) -> int:
    sizes = SIZES[options.profile]
    return sizes.stateful * sizes.tasks_per_run
