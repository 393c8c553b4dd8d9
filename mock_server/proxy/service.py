"""The proxy's operations, knowing nothing of Flask: forward a submit, a poll or any other
API request; take a callback from the upstream. Each judges the upstream's answer, keeps
what was seen of the task, and records it when a recording is on."""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from flux2_spec.resources import image_size
from flux2_spec.validation import schema_set
from mock_server.domain.clock import Clock
from mock_server.domain.errors import InvalidRequest, NotFound
from mock_server.domain.keys import key_id
from mock_server.domain.tasks import TaskRecord
from mock_server.proxy import findings
from mock_server.proxy.callback_judge import judge_callback
from mock_server.proxy.db import ProxyDB
from mock_server.proxy.exchange import Exchange, mask_body, parse_json
from mock_server.proxy.forward import Forwarder
from mock_server.proxy.judge import judge_answer, result_urls
from mock_server.proxy.observed import TaskSeen, seen_callback, seen_poll
from mock_server.proxy.recording import Recorder, probe_results
from mock_server.proxy.relay import Relay
from mock_server.proxy.spend_guard import SpendGuard, price_micro
from mock_server.proxy.timeline import timeline_of
from mock_server.settings import Settings
from mock_server.storage.protocols import TaskStore

log = logging.getLogger(__name__)
DEFAULTS = {"mode": "pro-text-to-image", "aspect_ratio": "1:1", "resolution": "1K"}


def _task_id(body: Any) -> str | None:
    data = body.get("data") if isinstance(body, dict) else None
    task_id = data.get("taskId") if isinstance(data, dict) else None
    return task_id if isinstance(task_id, str) and task_id else None


@dataclass
class ProxyService:
    """Every part the proxy's views call; one per app (per worker process)."""

    settings: Settings
    upstream: str
    store: TaskStore
    clock: Clock
    db: ProxyDB
    forwarder: Forwarder
    guard: SpendGuard
    relay: Relay | None
    recorder: Recorder | None
    time_scale: float

    # -- the client's side ----------------------------------------------------------------------

    def validated(self, body: Any) -> dict[str, Any]:
        """The submit body, checked against the schema the mock uses (nothing is spent on a
        request the API documents as invalid)."""
        name = "generate-request-strict.json" if self.settings.strict_required \
            else "generate-request.json"
        problems = schema_set().errors(name, body)
        if problems:
            raise InvalidRequest(problems[0].message, data={
                "errors": [p.as_dict() for p in problems],
                "proxy": "refused by the proxy before reaching the upstream"})
        return dict(body)

    def submit(self, path: str, query: str, headers: Mapping[str, str], body: dict[str, Any],
               raw: bytes, key: str) -> Exchange:
        """Forward a valid submit within the spending cap; mirror the task it creates."""
        kid, now = key_id(key), self.clock.now_ms()
        reservation = self.guard.reserve(kid, price_micro(body), now)
        sent, relay_url = raw, None
        if self.relay is not None and isinstance(body.get("callback_url"), str):
            relay_url = self.relay.rewrite(body["callback_url"], kid)
            sent = json.dumps({**body, "callback_url": relay_url}).encode()
        try:
            ex = self.forwarder.forward("POST", path, query, headers, sent, key=key,
                                        shown_body=mask_body(body))
        except BaseException:
            self.guard.release(reservation)
            raise
        answer = ex.json
        task_id = _task_id(answer) if ex.status == 200 else None
        if task_id is None:
            self.guard.release(reservation)
        else:
            self.guard.charge(reservation, task_id)
        if relay_url is not None and self.relay is not None:
            self.relay.bind(relay_url, task_id)
        self._judge(ex, "submit", None, None)
        if task_id is not None:
            self._mirror(task_id, key, body, ex)
        if self.recorder is not None:
            self.recorder.exchange(ex, kind="submit", task_id=task_id)
        return ex

    def _mirror(self, task_id: str, key: str, body: dict[str, Any], ex: Exchange) -> None:
        """Keep the task as the mock keeps its own, so the conformance report reads it."""
        request = copy.deepcopy(body)
        for name, value in DEFAULTS.items():
            request["input"].setdefault(name, value)
        ratio = request["input"]["aspect_ratio"]
        width, height = image_size("1:1" if ratio == "auto" else ratio,
                                   request["input"]["resolution"])
        seen = TaskSeen(task_id, key_id(key), ex.time_ms, mask_body(body),
                        {"atMs": ex.elapsed_ms, "status": ex.status,
                         "body": mask_body(ex.json)})
        plan = timeline_of(seen).plan(ex.time_ms)
        try:
            self.store.create_task(lambda seq: TaskRecord(
                task_id, seq, key, request, plan, self.upstream, width, height,
                {"proxied": True}))
        except Exception:  # the upstream named a task id twice: judged, never fatal
            log.warning("upstream task id %s seen twice", task_id)
        self.db.add_task(seen)
        self.db.count("tasks")
        if self.recorder is not None:
            self.recorder.task(seen)

    def poll(self, path: str, query: str, headers: Mapping[str, str], key: str,
             task_id: str | None) -> Exchange:
        """Forward a status query; judge it against what was seen of the task before."""
        ex = self.forwarder.forward("GET", path, query, headers, b"", key=key, shown_body=None)
        changed = None
        if task_id and ex.status is not None:
            done = ex.time_ms + ex.elapsed_ms
            changed = self.db.update_task(task_id, lambda seen: seen_poll(
                seen, ex.time_ms, ex.status, mask_body(ex.json), ex.summary(), done_ms=done))
        before, after = changed if changed else (None, None)
        self._judge(ex, "poll", before, task_id)
        if after is not None and before is not None:
            self._follow(before, after)
        if self.recorder is not None:
            self.recorder.exchange(ex, kind="status", task_id=task_id)
        return ex

    def _follow(self, before: TaskSeen, after: TaskSeen) -> None:
        """Move the mirrored plan along what was seen; record the task; probe its images."""
        timeline = timeline_of(after)
        if timeline != timeline_of(before):
            record = self.store.get_task(after.task_id)
            if record is not None:
                self.store.replace_plan(after.task_id, timeline.plan(record.plan.create_ms))
        if self.recorder is None:
            return
        self.recorder.task(after)
        data = after.terminal_data
        if before.terminal is None and data is not None and data.get("state") == "success":
            threading.Thread(target=self._probe, args=(after.task_id, data), daemon=True).start()

    def _probe(self, task_id: str, data: dict[str, Any]) -> None:
        try:
            urls = result_urls(data)
        except ValueError:
            return  # judged already: success_result_json
        found = probe_results(urls)
        changed = self.db.update_task(task_id, lambda seen: replace(seen, results=found))
        if changed and self.recorder is not None:
            self.recorder.task(changed[1])

    def other(self, method: str, path: str, query: str, headers: Mapping[str, str],
              raw: bytes, key: str) -> Exchange:
        """Forward any other API request (the balance, say); judge its envelope."""
        ex = self.forwarder.forward(method, path, query, headers, raw, key=key,
                                    shown_body=mask_body(parse_json(raw)))
        self._judge(ex, "other", None, None)
        if self.recorder is not None:
            self.recorder.exchange(ex, kind="other", task_id=None)
        return ex

    def _judge(self, ex: Exchange, kind: str, seen: TaskSeen | None, asked: str | None) -> None:
        verdict = judge_answer(ex, kind=kind, seen=seen, asked=asked, time_scale=self.time_scale)
        findings.note(self.db, verdict, ex.time_ms)
        self.db.count("exchanges")

    # -- the upstream's side ----------------------------------------------------------------------

    def callback(self, token: str, raw: bytes) -> None:
        """Judge a callback the upstream sent to a rewritten URL; queue it for the client."""
        target = self.relay.target(token) if self.relay is not None else None
        if target is None or self.relay is None:
            raise NotFound("no relayed callback_url has this token")
        now, payload = self.clock.now_ms(), parse_json(raw)
        data = payload.get("data") if isinstance(payload, dict) else None
        task_id = target.task_id or (_task_id(payload) if isinstance(data, dict) else None)
        before = self.db.task(task_id) if task_id else None
        evidence = {"time": now, "method": "POST", "path": "(callback to the proxy's relay)",
                    "status": None, "answer": mask_body(payload) if payload is not None
                    else raw.decode("utf-8", "replace")[:2000]}
        verdict = judge_callback(payload, evidence, seen=before,
                                 failure_envelope=self.settings.failure_callback_envelope)
        findings.note(self.db, verdict, now)
        self.db.count("callbacks")
        changed = self.db.update_task(task_id, lambda seen: seen_callback(
            seen, now, mask_body(payload))) if task_id else None
        if self.recorder is not None:
            self.recorder.callback(now, task_id, mask_body(payload), 200)
            if changed:
                self.recorder.task(changed[1])
        self.relay.enqueue(task_id or "", target.url, raw)
