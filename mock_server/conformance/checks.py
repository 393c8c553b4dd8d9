"""One small named check per conformance rule: it returns findings that say what broke and when."""

from __future__ import annotations

import ipaddress
import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from mock_server.conformance.rules import Attempt, Check, Evidence, Finding, Inputs, Rule
from mock_server.domain.journal_entries import JournalEntry
from mock_server.domain.keys import key_id, mask_key
from mock_server.domain.tasks import TaskRecord

SUBMIT, STATUS, OUTPUT, API = "/api/v1/generateTask/", "/api/v1/statusTask/", "/output/", "/api/"
UNFINISHED = frozenset({"pending", "processing"})
TERMINAL = frozenset({"success", "failed"})
CHECKS: dict[str, Check] = {}


def check(rule_id: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS[rule_id] = fn
        return fn
    return register


def secs(ms: int) -> str:
    return f"{ms / 1000:g} s"


def found(rule: Rule, message: str, evidence: list[Evidence]) -> list[Finding]:
    return [Finding(rule, message, evidence)] if evidence else []


def polls_by_task(inputs: Inputs) -> dict[str, list[JournalEntry]]:
    """Status polls answered with a task's state, per task, oldest first."""
    polls: dict[str, list[JournalEntry]] = defaultdict(list)
    for entry in inputs.entries:
        if entry.method == "GET" and entry.path.startswith(STATUS) and entry.state \
                and entry.task_id:
            polls[entry.task_id].append(entry)
    return polls


def created(inputs: Inputs) -> dict[str, TaskRecord]:
    return {t.task_id: t for t in inputs.tasks}


@check("auth-missing")
def auth_missing(inputs: Inputs, rule: Rule) -> list[Finding]:
    evidence = [Evidence.of(e, "no Authorization header" if not e.key_hint
                            else f"API key {e.key_hint} was not accepted")
                for e in inputs.entries if e.path.startswith(API) and e.status == 401]
    return found(rule, f"{len(evidence)} request(s) without a valid 'Bearer <API key>'", evidence)


@check("request-invalid")
def request_invalid(inputs: Inputs, rule: Rule) -> list[Finding]:
    def rejected(e: JournalEntry) -> bool:
        if not e.path.startswith(API):
            return False
        task_poll = e.status == 404 and e.path.startswith(STATUS) and e.task_id
        return e.status in (400, 405, 413, 415) or (e.status == 404 and not task_poll)

    def what(e: JournalEntry) -> str:
        parts = [f"{x['field']}: {x['rule']}: {x['message']}" if x.get("field")
                 else x.get("message", "") for x in e.errors]
        return "; ".join(parts) or f"answered {e.status}"

    evidence = [Evidence.of(e, what(e)) for e in inputs.entries if rejected(e)]
    return found(rule, f"{len(evidence)} request(s) rejected as invalid", evidence)


@check("first-poll-too-early")
def first_poll_too_early(inputs: Inputs, rule: Rule) -> list[Finding]:
    wait, tasks, evidence = inputs.thresholds.first_poll_ms, created(inputs), []
    for task_id, polls in polls_by_task(inputs).items():
        task = tasks.get(task_id)
        waited = polls[0].time_ms - task.plan.create_ms if task else wait
        if waited < wait:
            evidence.append(Evidence.of(polls[0], f"first poll {secs(waited)} after submission"))
    return found(rule, f"{len(evidence)} task(s) polled first before {secs(wait)} "
                       f"had passed since submission", evidence)


@check("poll-too-frequent")
def poll_too_frequent(inputs: Inputs, rule: Rule) -> list[Finding]:
    every, evidence = inputs.thresholds.poll_interval_ms, []
    for polls in polls_by_task(inputs).values():
        for before, after in itertools.pairwise(polls):
            gap = after.time_ms - before.time_ms
            if gap < every:
                evidence.append(Evidence.of(after, f"{secs(gap)} after the previous poll"))
    return found(rule, f"{len(evidence)} poll(s) less than {secs(every)} after the previous "
                       f"poll of the same task", evidence)


@check("poll-past-timeout")
def poll_past_timeout(inputs: Inputs, rule: Rule) -> list[Finding]:
    # A client that checks its deadline between polls may overrun it by one interval.
    limit = inputs.thresholds.max_wait_ms + inputs.thresholds.poll_interval_ms
    tasks, evidence = created(inputs), []
    for task_id, polls in polls_by_task(inputs).items():
        task = tasks.get(task_id)
        if task is None:
            continue
        evidence += [Evidence.of(p, f"still {p.state} {secs(p.time_ms - task.plan.create_ms)} "
                                    f"after submission, and polled anyway")
                     for p in polls
                     if p.state in UNFINISHED and p.time_ms - task.plan.create_ms > limit]
    return found(rule, f"{len(evidence)} poll(s) of unfinished tasks after the maximum wait of "
                       f"{secs(inputs.thresholds.max_wait_ms)}; give up and report a time-out",
                 evidence)


@check("finished-task-repolled")
def finished_task_repolled(inputs: Inputs, rule: Rule) -> list[Finding]:
    allowed, evidence = inputs.thresholds.repolls_allowed, []
    for polls in polls_by_task(inputs).values():
        done = next((i for i, p in enumerate(polls) if p.state in TERMINAL), None)
        if done is None or len(polls) - done - 1 <= allowed:
            continue
        evidence += [Evidence.of(p, f"polled again after it answered {polls[done].state}")
                     for p in polls[done + 1:]]
    return found(rule, f"{len(evidence)} poll(s) of tasks that had already finished "
                       f"({allowed} allowed per task)", evidence)


@check("unknown-task-polled")
def unknown_task_polled(inputs: Inputs, rule: Rule) -> list[Finding]:
    evidence = [Evidence.of(e, f"taskId {e.task_id!r} was never issued to this key")
                for e in inputs.entries
                if e.path.startswith(STATUS) and e.status == 404 and e.task_id]
    return found(rule, f"{len(evidence)} poll(s) of task ids this key never received", evidence)


def refused(inputs: Inputs, *, concurrency: bool) -> list[Evidence]:
    """The 429s the mock answered: for too many tasks at once, or for too many requests."""
    found = []
    for e in inputs.entries:
        if e.path.startswith(API) and e.status == 429:
            message = " ".join(x.get("message", "") for x in e.errors)
            if ("concurrent" in message) == concurrency:
                found.append(Evidence.of(e, f"the mock answered 429: {message or 'over the plan'}"))
    return found


@check("rate-limit-exceeded")
def rate_limit_exceeded(inputs: Inputs, rule: Rule) -> list[Finding]:
    evidence = refused(inputs, concurrency=False)
    window = inputs.thresholds.window_ms
    by_key: dict[str, list[JournalEntry]] = defaultdict(list)
    for entry in inputs.entries:
        if entry.path.startswith(API) and entry.key_id and entry.status != 429:
            by_key[entry.key_id].append(entry)
    for kid, entries in by_key.items():
        limit = inputs.limits_for(kid).requests_per_minute
        if not limit or window <= 0:
            continue
        start = 0
        for i, entry in enumerate(entries):
            while entry.time_ms - entries[start].time_ms >= window:
                start += 1
            if i - start + 1 > limit:
                evidence.append(Evidence.of(entry, f"request {i - start + 1} within "
                                                   f"{secs(window)} (limit {limit}/min)"))
    return found(rule, f"{len(evidence)} request(s) over the plan's requests per minute",
                 evidence)


@check("too-many-in-flight")
def too_many_in_flight(inputs: Inputs, rule: Rule) -> list[Finding]:
    submits = {e.task_id: e for e in inputs.entries
               if e.method == "POST" and e.path.startswith(SUBMIT) and e.task_id}
    by_key: dict[str, list[TaskRecord]] = defaultdict(list)
    for task in inputs.tasks:
        by_key[task.api_key].append(task)
    evidence = refused(inputs, concurrency=True)
    for key, tasks in by_key.items():
        limit = inputs.limits_for(key_id(key)).max_in_flight
        if not limit:
            continue
        for task in tasks:
            at = task.plan.create_ms
            running = sum(1 for t in tasks if t.plan.create_ms <= at and t.seq <= task.seq
                          and (t.plan.complete_ms is None or t.plan.complete_ms > at))
            if running > limit:
                what = f"task {running} in flight at once (limit {limit})"
                submit = submits.get(task.task_id)
                evidence.append(Evidence.of(submit, what) if submit else
                                Evidence(at, what, task_id=task.task_id, api_key=mask_key(key)))
    return found(rule, f"{len(evidence)} submission(s) over the plan's concurrent tasks",
                 evidence)


@check("callback-receiver-failed")
def callback_receiver_failed(inputs: Inputs, rule: Rule) -> list[Finding]:
    timeout = inputs.thresholds.callback_timeout_ms
    evidence = [Evidence(a.time_ms, _attempt_problem(a), "POST", _bare(a.url), a.status,
                         a.task_id)
                for a in inputs.attempts
                if a.status != 200 or (timeout > 0 and a.latency_ms > timeout)]
    return found(rule, f"{len(evidence)} callback attempt(s) not answered 200 within "
                       f"{secs(timeout)}", evidence)


def _attempt_problem(a: Attempt) -> str:
    if a.error:
        return f"delivery failed: {a.error}"
    if a.status != 200:
        return f"receiver answered {a.status}"
    return f"receiver took {secs(a.latency_ms)}"


@check("callback-url-unreachable")
def callback_url_unreachable(inputs: Inputs, rule: Rule) -> list[Finding]:
    evidence = []
    for task, url in _callback_urls(inputs.tasks):
        host = urlsplit(url).hostname or ""
        reason = unreachable_reason(host)
        if reason and not is_exempt(host, inputs.exempt_hosts):
            evidence.append(Evidence(task.plan.create_ms, f"callback_url {_bare(url)}: {reason}",
                                     "POST", SUBMIT + "flux-2", 200, task.task_id,
                                     mask_key(task.api_key)))
    return found(rule, f"{len(evidence)} task(s) with a callback_url the real API cannot reach",
                 evidence)


@check("callback-url-not-https")
def callback_url_not_https(inputs: Inputs, rule: Rule) -> list[Finding]:
    evidence = []
    for task, url in _callback_urls(inputs.tasks):
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme == "http" and not unreachable_reason(host) \
                and not is_exempt(host, inputs.exempt_hosts):
            evidence.append(Evidence(task.plan.create_ms, f"callback_url {_bare(url)} is plain "
                                     "http", "POST", SUBMIT + "flux-2", 200, task.task_id,
                                     mask_key(task.api_key)))
    return found(rule, f"{len(evidence)} task(s) with a plain-http callback_url", evidence)


@check("result-never-downloaded")
def result_never_downloaded(inputs: Inputs, rule: Rule) -> list[Finding]:
    ttl, evidence = inputs.thresholds.result_ttl_ms, []
    fetched: dict[str, list[int]] = defaultdict(list)
    for e in inputs.entries:
        if e.method == "GET" and e.path.startswith(OUTPUT) and e.status == 200 and e.task_id:
            fetched[e.task_id].append(e.time_ms)
    for task in inputs.tasks:
        complete = task.plan.complete_ms
        if task.plan.outcome != "success" or complete is None:
            continue
        expiry = complete + ttl
        if inputs.now_ms >= expiry and not any(t < expiry for t in fetched[task.task_id]):
            evidence.append(Evidence(expiry, f"result URL expired {secs(ttl)} after completion, "
                                     "never downloaded", task_id=task.task_id,
                                     api_key=mask_key(task.api_key)))
    return found(rule, f"{len(evidence)} result image(s) never downloaded before expiry",
                 evidence)


def _callback_urls(tasks: Sequence[TaskRecord]) -> list[tuple[TaskRecord, str]]:
    return [(t, str(t.request["callback_url"])) for t in tasks
            if t.request.get("callback_url") and t.request.get("request_type") == "callback"]


def _bare(url: str) -> str:
    """Return a URL without its query and fragment, where secrets are usually carried."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}{parts.path}"


def unreachable_reason(host: str) -> str | None:
    """Return why the public internet could not reach `host`, or None if it could."""
    name = host.strip("[]").lower().rstrip(".")
    if not name:
        return "no host"
    if name == "localhost" or name.endswith(".localhost"):
        return "a loopback name"
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        if "." not in name:
            return "a single-label name, not resolvable on the internet"
        if name.endswith((".local", ".internal", ".lan", ".home.arpa", ".invalid", ".test")):
            return "a local-network name"
        return None
    for test, reason in ((ip.is_loopback, "a loopback address"),
                         (ip.is_link_local, "a link-local address"),
                         (ip.is_private, "a private address"),
                         (ip.is_unspecified, "an unspecified address"),
                         (ip.is_reserved or ip.is_multicast, "a reserved address")):
        if test:
            return reason
    return None


def is_exempt(host: str, exempt: Sequence[str]) -> bool:
    """Whether `host` matches the exemption list: `loopback`, names, IPs or CIDRs."""
    name = host.strip("[]").lower().rstrip(".")
    for item in (x.strip().lower() for x in exempt):
        if item == name:
            return True
        if item == "loopback" and unreachable_reason(name) in ("a loopback name",
                                                               "a loopback address"):
            return True
        try:
            if "/" in item and ipaddress.ip_address(name) in ipaddress.ip_network(item, False):
                return True
        except ValueError:
            continue
    return False
