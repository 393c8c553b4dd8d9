"""Following tasks to the end at the chosen cadence, reporting each answer to the checks."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .context import Context
from .transport import Exchange, now_ms
from .verdicts import success_data

TERMINAL = ("success", "failed")


@dataclass
class Observation:
    """One status answer for a tracked task (data is None when it was no success envelope)."""

    task: TrackedTask
    exchange: Exchange
    data: dict[str, Any] | None
    at_ms: int
    previous: list[Observation]

    @property
    def state(self) -> Any:
        return self.data.get("state") if self.data else None


@dataclass
class TrackedTask:
    """A task the run created, with every answer seen for it."""

    task_id: str
    label: str
    payload: Any
    submitted_ms: int
    submitted_at: float = field(default_factory=time.monotonic)
    history: list[Observation] = field(default_factory=list)
    next_poll: float = 0.0
    terminal_seen: bool = False
    polls_after_terminal: int = 0
    finished: bool = False
    failed_check: bool = False
    reported: bool = False  # the finished checks have seen it
    submission: Exchange | None = None  # the request that created it, to show on failure

    @property
    def last(self) -> Observation | None:
        return self.history[-1] if self.history else None


@dataclass
class Finished:
    """A task the run stopped following: at a terminal state, or out of time."""

    task: TrackedTask
    timed_out: bool
    limit_s: float


def track(ctx: Context, task_id: str, label: str, payload: Any, submitted_ms: int,
          submitted_at: float | None = None, submission: Exchange | None = None) -> TrackedTask:
    cadence = ctx.options.poll_cadence
    task = TrackedTask(task_id, label, payload, submitted_ms, submission=submission)
    if submitted_at is not None:
        task.submitted_at = submitted_at
    task.next_poll = task.submitted_at + cadence.first_s
    return task


def poll(ctx: Context, task: TrackedTask, *, strict: bool = False,
         check: bool = True) -> Observation:
    """Ask for the task's status once and (unless `check` is False) run the poll checks."""
    exchange = ctx.status(task.task_id, strict=strict)
    data = success_data(exchange)
    observation = Observation(task, exchange, data, now_ms(), list(task.history))
    task.history.append(observation)
    if check and ctx.emit("poll", observation, strict=strict):
        # A promise is already broken for this task: following it further only waits.
        task.finished = task.failed_check = True
    return observation


def watch_interval(ctx: Context) -> float:
    """Return the spacing of the polls that watch a finished task stay finished."""
    return ctx.options.terminal_watch_s / ctx.options.terminal_polls


def follow(ctx: Context, tasks: Iterable[TrackedTask], *, limit_s: float | None = None,
           strict: bool = False, expect_end: bool = True, window: bool = True) -> None:
    """Poll every task at the cadence until it is terminal, then watch it for the terminal
    window (--terminal-watch, --terminal-polls polls) to see that it stays so; give up on a
    task older than the limit.

    With `expect_end` False the tasks are only watched for `limit_s` (a stuck task); with
    `window` False a terminal task is polled once more only (the state machine's many tasks:
    the Quick Start, scenario and callback tasks are watched for the whole window).
    """
    polls, interval = (ctx.options.terminal_polls, watch_interval(ctx)) if window else \
        (1, ctx.options.poll_cadence.every_s)
    cadence = ctx.options.poll_cadence
    limit = cadence.limit_s if limit_s is None else limit_s
    open_tasks = [t for t in tasks if not t.finished]
    while open_tasks:
        now = time.monotonic()
        for task in [t for t in open_tasks if t.next_poll <= now]:
            observation = poll(ctx, task, strict=strict)
            task.next_poll = time.monotonic() + cadence.every_s
            if task.finished:
                continue
            if task.terminal_seen:
                task.polls_after_terminal += 1
            elif observation.state in TERMINAL:
                task.terminal_seen = True
            if task.terminal_seen:
                task.next_poll = time.monotonic() + interval
                if task.polls_after_terminal >= polls:
                    _finish(ctx, task, False, limit, strict)
        for task in open_tasks:
            age = time.monotonic() - task.submitted_at
            if not task.finished and not task.terminal_seen and age > limit:
                if expect_end:
                    ctx.note_deadline(f"task {task.task_id} ({task.label}) was followed for "
                                      f"its whole {limit:.1f} s limit")
                    _finish(ctx, task, True, limit, strict)
                else:
                    task.finished = True
        open_tasks = [t for t in open_tasks if not t.finished]
        if open_tasks:
            wake = min(t.next_poll for t in open_tasks)
            time.sleep(max(0.0, min(wake - time.monotonic(), 1.0)))


def _finish(ctx: Context, task: TrackedTask, timed_out: bool, limit: float,
            strict: bool) -> None:
    task.finished = True
    if not task.reported:
        task.reported = True
        ctx.emit("finished", Finished(task, timed_out, limit), strict=strict)


def rewatch(ctx: Context, tasks: Iterable[TrackedTask]) -> None:
    """Watch finished tasks once more for the terminal window (after their callbacks)."""
    again = [t for t in tasks if t.terminal_seen and not t.failed_check]
    for task in again:
        task.finished, task.polls_after_terminal = False, 0
        task.next_poll = time.monotonic()
    follow(ctx, again)
