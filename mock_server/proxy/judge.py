"""Judge the upstream: one small function per rule of rules.py, each returning what broke.

Pure: an exchange (and what was seen of its task before it) in, breaches out.
A check that does not apply returns None; one that held returns [].
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flux2_spec.validation import schema_set
from mock_server.proxy.exchange import Exchange
from mock_server.proxy.observed import RANK, TaskSeen, furthest_state

NEAR_NOW_MS = 600_000  # the upstream's clock may be skewed from ours
MAX_WAIT_MS = 180_000  # "Set maximum wait time to 3 minutes", in real time


@dataclass(frozen=True)
class Breach:
    """One broken promise: which rule, what was wrong, and the exchanges that show it."""

    rule: str
    what: str
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Verdict:
    """What one exchange was checked against, and what it broke."""

    checked: list[str] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)

    def run(self, rule: str, outcome: str | tuple[str, list[dict[str, Any]]] | None,
            evidence: dict[str, Any]) -> None:
        """Count `rule` as checked unless it did not apply; keep its breach, if any."""
        if outcome is None:
            return
        self.checked.append(rule)
        if outcome == "":
            return
        if isinstance(outcome, tuple):
            what, earlier = outcome
            self.breaches.append(Breach(rule, what, [*earlier, evidence]))
        else:
            self.breaches.append(Breach(rule, outcome, [evidence]))


OK = ""  # the rule applied and held


def _code(body: Any) -> int | None:
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def data_of(body: Any) -> dict[str, Any] | None:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else None


# -- every answer ----------------------------------------------------------------------------

def answers_are_json(ex: Exchange) -> str:
    if ex.error:
        return f"the upstream sent no answer: {ex.error}"
    return OK if isinstance(ex.json, dict) else \
        f"the answer (HTTP {ex.status}) is not a JSON object"


def envelope_fields_typed(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if _code(body) is None:
        return f"code must be an integer, got {body.get('code')!r}"
    if not isinstance(body.get("message"), str):
        return f"message must be a string, got {body.get('message')!r}"
    if body["code"] == 200 and not isinstance(body.get("data"), dict):
        return f"a code 200 answer must carry a data object, got {body.get('data')!r}"
    return OK


def code_is_http_status(ex: Exchange, body: Any) -> str | None:
    code = _code(body)
    if code is None or ex.status is None:
        return None
    if code == 200 and ex.status != 200:
        return f"code 200 (success) came with HTTP {ex.status}"
    if ex.status != 200 and code != ex.status:
        return f"HTTP {ex.status} carried code {code}; code is the HTTP status code"
    return OK


def submit_answer(body: Any) -> str | None:
    if _code(body) != 200:
        return None
    problems = schema_set().errors("submit-response.json", body)
    return OK if not problems else "the submit answer does not match the documented " \
        "shape: " + "; ".join(p.message for p in problems[:4])


# -- status answers ---------------------------------------------------------------------------

def state_documented(data: dict[str, Any]) -> str:
    state = data.get("state")
    return OK if state in RANK else \
        f"data.state is {state!r}, not one of pending, processing, success, failed"


def status_fields_typed(body: Any, data: dict[str, Any]) -> str | None:
    state = data.get("state")
    if state not in RANK:
        return None
    problems = schema_set().errors(f"status-{state}.json", body)
    return OK if not problems else f"the {state} answer does not match the documented " \
        "shape: " + "; ".join(p.message for p in problems[:4])


def task_id_echoed(data: dict[str, Any], asked: str | None) -> str | None:
    if not asked:
        return None
    got = data.get("taskId")
    return OK if got == asked else f"asked for task {asked!r}, the answer names {got!r}"


Earlier = tuple[str, list[dict[str, Any]]]


def _answered_before(answer: dict[str, Any] | None, sent_ms: int) -> bool:
    """Whether an earlier answer had arrived before this poll was sent (else: a race)."""
    return answer is not None and int(answer.get("doneMs", 0)) <= sent_ms


def state_only_forward(data: dict[str, Any], seen: TaskSeen,
                       sent_ms: int) -> Earlier | str | None:
    state, before = data.get("state"), furthest_state(seen)
    if state not in RANK or before is None or seen.furthest is None \
            or not _answered_before(seen.furthest, sent_ms):
        return None
    if RANK[before] > RANK[state]:
        return (f"task {seen.task_id} went back from {before!r} to {state!r}",
                [seen.furthest["evidence"]])
    return OK


def terminal_state_final(data: dict[str, Any], seen: TaskSeen,
                         sent_ms: int) -> Earlier | str | None:
    first, done = seen.terminal_data, seen.terminal
    if first is None or done is None or not _answered_before(done, sent_ms):
        return None
    for name in ("state", "completeTime", "failCode", "resultJson"):
        if name in first and data.get(name) != first[name]:
            return (f"task {seen.task_id} was {name}={first[name]!r} and later "
                    f"{name}={data.get(name)!r}", [done["evidence"]])
    return OK


def create_time_stable(data: dict[str, Any], seen: TaskSeen) -> Earlier | str | None:
    created = data.get("createTime")
    if created is None or seen.create_time is None or seen.create_evidence is None:
        return None
    if created != seen.create_time:
        return (f"createTime changed from {seen.create_time!r} to {created!r}",
                [seen.create_evidence])
    return OK


def create_time_epoch_ms(data: dict[str, Any], seen: TaskSeen | None) -> str | None:
    created = data.get("createTime")
    if created is None:
        return None
    if not isinstance(created, int) or isinstance(created, bool):
        return f"createTime must be an integer, got {created!r}"
    if seen is not None and abs(created - seen.submitted_ms) > NEAR_NOW_MS:
        return (f"createTime {created} is {(created - seen.submitted_ms) / 1000:+.1f} s from "
                f"the submission the proxy forwarded; epoch milliseconds expected")
    return OK


def complete_time_not_before_create(data: dict[str, Any]) -> str | None:
    created, completed = data.get("createTime"), data.get("completeTime")
    if not isinstance(created, int) or not isinstance(completed, int):
        return None
    return OK if completed >= created else \
        f"completeTime {completed} is before createTime {created}"


def cost_time_non_negative(data: dict[str, Any]) -> str | None:
    cost = data.get("costTime")
    if cost is None:
        return None
    ok = isinstance(cost, int) and not isinstance(cost, bool) and cost >= 0
    return OK if ok else f"costTime must be a non-negative integer, got {cost!r}"


def result_urls(data: dict[str, Any]) -> list[str]:
    """resultUrls decoded from resultJson; ValueError saying what is wrong otherwise."""
    raw = data.get("resultJson")
    if not isinstance(raw, str):
        raise ValueError(f"resultJson must be a string holding JSON, got "
                         f"{type(raw).__name__}: {json.dumps(raw)[:120]}")
    try:
        decoded = json.loads(raw)
    except ValueError:
        raise ValueError(f"resultJson is not JSON: {raw[:120]!r}") from None
    urls = decoded.get("resultUrls") if isinstance(decoded, dict) else None
    if not isinstance(urls, list) or not urls:
        raise ValueError(f"resultJson must decode to an object with a non-empty resultUrls "
                         f"array, got {raw[:120]!r}")
    bad = [u for u in urls if not isinstance(u, str)
           or urlsplit(u).scheme not in ("http", "https") or not urlsplit(u).netloc]
    if bad:
        raise ValueError(f"resultUrls must be absolute http(s) URLs, got {bad[:3]!r}")
    return urls


def success_result_json(data: dict[str, Any]) -> str | None:
    if data.get("state") != "success":
        return None
    try:
        result_urls(data)
    except ValueError as exc:
        return str(exc)
    return OK


def failed_has_code_and_message(data: dict[str, Any]) -> str | None:
    if data.get("state") != "failed":
        return None
    code, message = data.get("failCode"), data.get("failMsg")
    if not isinstance(code, str) or not code:
        return f"failCode must be a non-empty string, got {code!r}"
    if not isinstance(message, str):
        return f"failMsg must be a string, got {message!r}"
    return OK


def finishes_within_limit(data: dict[str, Any], seen: TaskSeen, at_ms: int,
                          time_scale: float) -> str | None:
    if time_scale <= 0 or data.get("state") not in ("pending", "processing"):
        return None
    waited, limit = at_ms - seen.submitted_ms, MAX_WAIT_MS * time_scale
    return OK if waited <= limit else \
        f"task {seen.task_id} still {data['state']} {waited / 1000:.1f} s after submission " \
        f"(limit {limit / 1000:g} s)"


def judge_answer(ex: Exchange, *, kind: str, seen: TaskSeen | None, asked: str | None,
                 time_scale: float) -> Verdict:
    """Check one forwarded exchange: its envelope, and for a status answer its task's story."""
    verdict, evidence, body = Verdict(), ex.summary(), ex.json
    verdict.run("answers_are_json", answers_are_json(ex), evidence)
    verdict.run("envelope_fields_typed", envelope_fields_typed(body), evidence)
    verdict.run("code_is_http_status", code_is_http_status(ex, body), evidence)
    if kind == "submit":
        verdict.run("submit_answer", submit_answer(body), evidence)
    data = data_of(body)
    if kind != "poll" or _code(body) != 200 or data is None:
        return verdict
    verdict.run("state_documented", state_documented(data), evidence)
    checks: list[tuple[str, Callable[[], Any]]] = [
        ("status_fields_typed", lambda: status_fields_typed(body, data)),
        ("task_id_echoed", lambda: task_id_echoed(data, asked)),
        ("create_time_epoch_ms", lambda: create_time_epoch_ms(data, seen)),
        ("complete_time_not_before_create", lambda: complete_time_not_before_create(data)),
        ("cost_time_non_negative", lambda: cost_time_non_negative(data)),
        ("success_result_json", lambda: success_result_json(data)),
        ("failed_has_code_and_message", lambda: failed_has_code_and_message(data)),
    ]
    if seen is not None:
        checks += [
            ("state_only_forward", lambda: state_only_forward(data, seen, ex.time_ms)),
            ("terminal_state_final", lambda: terminal_state_final(data, seen, ex.time_ms)),
            ("create_time_stable", lambda: create_time_stable(data, seen)),
            ("finishes_within_limit",
             lambda: finishes_within_limit(data, seen, ex.time_ms, time_scale)),
        ]
    for name, check in checks:
        verdict.run(name, check(), evidence)
    return verdict
