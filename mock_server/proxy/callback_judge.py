"""Judge the upstream's callbacks (the `callback_*` rules of rules.py), as the proxy's relay
receives them: pure, a payload and what was seen of its task in, breaches out."""

from __future__ import annotations

from typing import Any

from flux2_spec.validation import schema_set
from mock_server.proxy.judge import OK, Verdict, data_of
from mock_server.proxy.observed import TERMINAL, TaskSeen

FAILURE_SCHEMAS = {"flux-2": ("callback-failure.json",),
                   "webhooks": ("callback-failure-webhooks.json",)}


def judge_callback(payload: Any, evidence: dict[str, Any], *, seen: TaskSeen | None,
                   failure_envelope: str) -> Verdict:
    """Check one callback the upstream sent through the proxy's relay."""
    verdict = Verdict()
    if not isinstance(payload, dict):
        verdict.run("callback_is_post_json", "the callback body is not a JSON object", evidence)
        return verdict
    verdict.run("callback_is_post_json", OK, evidence)
    data = data_of(payload) or {}
    state = data.get("state")
    verdict.run("callback_terminal_state", OK if state in TERMINAL else
                f"the callback reports state {state!r}; only a completed task is called back",
                evidence)
    if state == "success":
        problems = schema_set().errors("callback-success.json", payload)
        verdict.run("callback_success_envelope", OK if not problems else
                    "the success callback does not match the docs: "
                    + "; ".join(p.message for p in problems[:4]), evidence)
    elif state == "failed":
        names = FAILURE_SCHEMAS.get(failure_envelope, FAILURE_SCHEMAS["flux-2"])
        problems = schema_set().errors(names[0], payload)
        verdict.run("callback_failure_envelope", OK if not problems else
                    f"the failure callback does not match the {failure_envelope} reading: "
                    + "; ".join(p.message for p in problems[:4]), evidence)
    if seen is not None:
        got = data.get("taskId")
        verdict.run("callback_task_id", OK if got == seen.task_id else
                    f"the callback for task {seen.task_id} names taskId {got!r}", evidence)
        verdict.run("callback_agrees_with_status", _agrees(data, seen), evidence)
    return verdict


def _agrees(data: dict[str, Any], seen: TaskSeen) -> str | tuple[str, list[dict[str, Any]]] \
        | None:
    status, done = seen.terminal_data, seen.terminal
    if status is None or done is None:
        return None
    for name in ("taskId", "state", "createTime", "completeTime", "costTime", "failCode",
                 "failMsg", "resultJson"):
        if name in data and name in status and data[name] != status[name]:
            return (f"the callback says {name}={data[name]!r}, the status endpoint said "
                    f"{name}={status[name]!r}", [done["evidence"]])
    return OK
