"""The task lifecycle, checked on every status answer the drivers see."""

from __future__ import annotations

from typing import Any

from flux2_spec.validation import schema_set

from ..context import Context, NotApplicable
from ..facts import input_facts
from ..registry import CheckFailed, CheckSkipped, check
from ..tracker import Finished, Observation

SECTION = "Status Query Response"
STATE = "data.state | string | Task state: pending, processing, success, failed"
RANK = {"pending": 0, "processing": 1, "success": 2, "failed": 2}
TERMINAL = ("success", "failed")
# Fields judged by a check of their own (so that one broken promise fails one check).
OWNED_ELSEWHERE = frozenset({"message", "data.taskId", "data.createTime", "data.costTime",
                             "data.resultJson", "data.failCode", "data.failMsg"})
NEAR_NOW_MS = {True: 60_000, False: 600_000}  # loopback target: same clock; live: skew


def _data(observation: Observation) -> dict[str, Any]:
    if observation.data is None:
        raise NotApplicable
    return observation.data


@check(on="poll", section=SECTION,
       quote="GET /api/v1/statusTask/flux-2?taskId={taskId} answers {code: 200, message, "
             "data: {taskId, state, ...}} for a task the key submitted")
def status_answers_task(ctx: Context, observation: Observation) -> None:
    """The status of a task the run created is a code 200 answer with a data object."""
    if observation.data is None:
        raise CheckFailed(f"the status query for task {observation.task.task_id} (submitted "
                          f"by this run) was not answered with code 200 and a data object",
                          observation.exchange)


@check(on="poll", section=SECTION, quote=STATE)
def state_documented(ctx: Context, observation: Observation) -> None:
    """The state is one of the four documented states."""
    state = _data(observation).get("state")
    if state not in input_facts().states:
        raise CheckFailed(f"data.state is {state!r}, not one of "
                          f"{', '.join(input_facts().states)}", observation.exchange)


@check(on="poll", section=SECTION,
       quote="Status Query Response: processing {taskId, state, createTime}; success {taskId, "
             "state, resultJson, costTime, createTime, completeTime}; failed {taskId, state, "
             "failCode, failMsg, createTime, completeTime} (field types per Response Fields)")
def status_fields_typed(ctx: Context, observation: Observation) -> None:
    """The answer matches the documented shape of its state (schemas/status-*.json), for the
    fields no other check owns."""
    state = _data(observation).get("state")
    if state not in input_facts().states:
        raise NotApplicable
    problems = [p for p in schema_set().errors(f"status-{state}.json", observation.exchange.json)
                if p.field not in OWNED_ELSEWHERE]
    if problems:
        raise CheckFailed(f"the {state} answer does not match the documented shape: "
                          + "; ".join(p.message for p in problems[:4]), observation.exchange)


@check(on="poll", section=SECTION, quote="data.taskId | string | Unique task identifier")
def task_id_echoed(ctx: Context, observation: Observation) -> None:
    """The status answer names the task that was asked for."""
    got = _data(observation).get("taskId")
    if got != observation.task.task_id:
        raise CheckFailed(f"asked for task {observation.task.task_id!r}, the answer names "
                          f"{got!r}", observation.exchange)


@check(on="poll", section=SECTION, quote=STATE + " (a task moves forward: pending, "
       "processing, then success or failed)")
def state_only_forward(ctx: Context, observation: Observation) -> None:
    """A task not yet finished never goes back to an earlier state (processing to pending).

    What follows a terminal state is judged by success_stays_final and failure_stays_final.
    """
    state = _data(observation).get("state")
    if state not in RANK:
        raise NotApplicable
    for earlier in observation.previous:
        before = earlier.state
        if before in TERMINAL:
            raise NotApplicable
        if before in RANK and RANK[before] > RANK[state]:
            raise CheckFailed(f"task {observation.task.task_id} went back from {before!r} to "
                              f"{state!r}", earlier.exchange, observation.exchange)


def _stays(observation: Observation, ended: str, fields: tuple[str, ...]) -> None:
    """Fail when a task first seen `ended` later answers another state or other `fields`."""
    data = _data(observation)
    terminal = [o for o in observation.previous if o.state in TERMINAL]
    if not terminal or terminal[0].state != ended:
        raise NotApplicable
    first = terminal[0].data or {}
    for name in fields:
        if name in first and data.get(name) != first[name]:
            raise CheckFailed(f"task {observation.task.task_id} was {name}={first[name]!r} and "
                              f"{(observation.at_ms - terminal[0].at_ms) / 1000:.2f} s later "
                              f"{name}={data.get(name)!r}", terminal[0].exchange,
                              observation.exchange)


FINAL = ("Status Query Response: Success ... Failed (a completed task stays completed; watched "
         "for --terminal-watch seconds, --terminal-polls polls)")


@check(on="poll", section=SECTION, quote=FINAL)
def success_stays_final(ctx: Context, observation: Observation) -> None:
    """Once success, a task keeps that state and its completeTime in every later answer."""
    _stays(observation, "success", ("state", "completeTime"))


@check(on="poll", section=SECTION, needs="failed-task", quote=FINAL)
def failure_stays_final(ctx: Context, observation: Observation) -> None:
    """Once failed, a task keeps that state, its completeTime and failCode in later answers."""
    _stays(observation, "failed", ("state", "completeTime", "failCode"))


# The fields every Status Query Response example of a state carries (pending has no example:
# it is read like processing). The Response Fields table lists fewer: the reading is a setting.
EXAMPLE_FIELDS = {"pending": ("createTime",), "processing": ("createTime",),
                  "success": ("createTime", "completeTime", "costTime"),
                  "failed": ("createTime", "completeTime")}


@check(on="poll", section=SECTION, reading="example_fields",
       quote="Status Query Response examples: processing {taskId, state, createTime}; success "
             "{..., costTime, createTime, completeTime}; failed {..., createTime, completeTime} "
             "(the reading of the examples: --example-fields examples|table)")
def example_fields_present(ctx: Context, observation: Observation) -> None:
    """Every status answer carries the fields each example of its state shows (createTime...)."""
    data = _data(observation)
    if ctx.options.example_fields == "table":
        raise CheckSkipped("--example-fields table: only the Response Fields table's fields "
                           "are required (judged by status_fields_typed)")
    state = data.get("state")
    missing = [f for f in EXAMPLE_FIELDS.get(str(state), ()) if f not in data]
    if missing:
        raise CheckFailed(f"the {state} answer lacks {', '.join(missing)}, which every "
                          f"{state} example in the docs carries", observation.exchange)


@check(on="poll", section=SECTION, quote='"createTime": 1698765400000 (the same in every '
       "answer about a task)")
def create_time_stable(ctx: Context, observation: Observation) -> None:
    """Every answer about a task gives the same createTime."""
    created = _data(observation).get("createTime")
    earlier = [(o, o.data["createTime"]) for o in observation.previous
               if o.data and "createTime" in o.data]
    if created is None or not earlier:
        raise NotApplicable
    last, before = earlier[-1]
    if before != created:
        raise CheckFailed(f"createTime changed from {before!r} to {created!r}",
                          last.exchange, observation.exchange)


@check(on="poll", section=SECTION, quote='"createTime": 1698765400000 (epoch milliseconds)')
def create_time_epoch_ms(ctx: Context, observation: Observation) -> None:
    """createTime is an integer in epoch milliseconds, near the time of submission."""
    created = _data(observation).get("createTime")
    if created is None:
        raise NotApplicable
    if not isinstance(created, int) or isinstance(created, bool):
        raise CheckFailed(f"createTime must be an integer, got {created!r}",
                          observation.exchange)
    tolerance = NEAR_NOW_MS[ctx.options.loopback]
    submitted = observation.task.submitted_ms
    if abs(created - submitted) > tolerance:
        raise CheckFailed(f"createTime {created} is {(created - submitted) / 1000:+.1f} s from "
                          f"the submission ({submitted} ms since the epoch); epoch milliseconds "
                          f"expected, within {tolerance // 1000} s", observation.exchange)


@check(on="poll", section=SECTION, quote='"createTime": 1698765400000, "completeTime": '
       "1698765412000 (completion follows creation)")
def complete_time_not_before_create(ctx: Context, observation: Observation) -> None:
    """completeTime is not earlier than createTime."""
    data = _data(observation)
    created, completed = data.get("createTime"), data.get("completeTime")
    if not isinstance(created, int) or not isinstance(completed, int):
        raise NotApplicable
    if completed < created:
        raise CheckFailed(f"completeTime {completed} is before createTime {created}",
                          observation.exchange)


@check(on="poll", section=SECTION,
       quote="data.costTime | integer | Generation time in milliseconds")
def cost_time_non_negative(ctx: Context, observation: Observation) -> None:
    """costTime, when given, is a whole, non-negative number of milliseconds."""
    cost = _data(observation).get("costTime")
    if cost is None:
        raise NotApplicable
    if not isinstance(cost, int) or isinstance(cost, bool) or cost < 0:
        raise CheckFailed(f"costTime must be a non-negative integer, got {cost!r}",
                          observation.exchange)


@check(on="finished", section="Performance Tips",
       quote="Timeout: Set maximum wait time to 3 minutes")
def finishes_within_limit(ctx: Context, finished: Finished) -> None:
    """A task reaches success or failed within 3 minutes of its submission."""
    if finished.timed_out:
        last = finished.task.last
        raise CheckFailed(f"task {finished.task.task_id} was still "
                          f"{last.state if last else 'unanswered'!r} {finished.limit_s:.0f} s "
                          f"after submission", *([last.exchange] if last else []))
