"""Replay (`serve --replay DIR`): the mock answers recorded tasks exactly as recorded.

A submit whose body (callback_url aside) matches a recorded task's gets that task's
recorded answer and id; its status answers follow the recorded timeline relative to
submission: at each moment, the latest recorded answer of the state the timeline puts the
task in. A body no recording matches gets a 404 naming the nearest recording, or normal
planning with `--replay-fallback plan`.
"""

from __future__ import annotations

import copy
import io
import json
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

from flux2_spec.resources import image_size
from mock_server.domain.errors import ApiError
from mock_server.domain.lifecycle import state_at
from mock_server.domain.recorded import RecordingError, read_format
from mock_server.domain.tasks import TaskRecord
from mock_server.proxy.exchange import mask_body
from mock_server.proxy.relay import Relay
from mock_server.proxy.timeline import Timeline
from mock_server.proxy.views import json_of as json_body_of
from mock_server.web.requests import body_bytes

SUBMIT, STATUS = "/api/v1/generateTask/", "/api/v1/statusTask/"
DEFAULTS = {"mode": "pro-text-to-image", "aspect_ratio": "1:1", "resolution": "1K"}


class NoRecording(ApiError):
    """HTTP 404: no recording (left) matches the request body."""

    status, message = 404, "No matching recording"


def match_key(body: Any) -> str:
    """What a submit is matched by: its masked body without callback_url, canonical."""
    shown = mask_body(body)
    if isinstance(shown, dict):
        shown = {k: v for k, v in shown.items() if k != "callback_url"}
    return json.dumps(shown, sort_keys=True, separators=(",", ":"))


def _state(answer: dict[str, Any]) -> str | None:
    body = answer.get("body")
    data = body.get("data") if isinstance(body, dict) else None
    state = data.get("state") if isinstance(data, dict) else None
    return state if isinstance(state, str) else None


@dataclass(frozen=True)
class Recorded:
    """One recorded task, ready to answer."""

    name: str
    task_id: str
    request: dict[str, Any]
    submit: dict[str, Any]
    answers: list[dict[str, Any]]
    timeline: Timeline
    callbacks: list[dict[str, Any]]
    submitted_ms: int = 0

    def answer_for(self, state: str, elapsed_ms: int) -> dict[str, Any]:
        """The latest recorded answer in `state` by `elapsed_ms`, else its first one."""
        of_state = [a for a in self.answers if _state(a) == state]
        before = [a for a in of_state if a["atMs"] <= elapsed_ms]
        if before:
            return before[-1]
        if of_state:
            return of_state[0]
        # The polls never saw this state (the first poll came later): say it in the
        # recorded answers' own envelope, with only what that state documents.
        template = next((a for a in self.answers if _state(a)), None)
        data: dict[str, Any] = {"taskId": self.task_id, "state": state}
        if template is not None:
            created = template["body"]["data"].get("createTime")
            if created is not None:
                data["createTime"] = created
        return {"atMs": elapsed_ms, "status": 200,
                "body": {"code": 200, "message": "success", "data": data}}


def _recorded(path: Path) -> Recorded:
    try:
        doc = json.loads(path.read_text("utf-8"))
        life = doc["lifecycle"]
        timeline = Timeline(int(life["pendingMs"]), life["processingMs"], life["outcome"],
                            life.get("failCode"), life.get("failMsg"))
        return Recorded(f"tasks/{path.name}", str(doc["taskId"]), doc["request"], doc["submit"],
                        list(doc["answers"]), timeline, list(doc.get("callbacks", [])),
                        int(doc.get("submittedAt") or 0))
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordingError(f"{path} is not a task file of format 1: {exc}") from None


@dataclass
class ReplayBook:
    """Every recorded task of a folder, by match key and by task id."""

    folder: Path
    recordings: list[Recorded]

    def __post_init__(self) -> None:
        self.by_key: dict[str, list[Recorded]] = defaultdict(list)
        for recorded in self.recordings:
            self.by_key[match_key(recorded.request)].append(recorded)
        self.by_name = {r.name: r for r in self.recordings}

    def candidates(self, body: Any) -> list[Recorded]:
        return self.by_key.get(match_key(body), [])

    def nearest(self, body: Any) -> tuple[Recorded | None, list[str]]:
        """The recording whose request differs from `body` in the fewest fields."""
        mine = _leaves(json.loads(match_key(body)))
        best: tuple[Recorded | None, list[str]] = (None, [])
        for recorded in self.recordings:
            theirs = _leaves(json.loads(match_key(recorded.request)))
            differs = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
            if best[0] is None or len(differs) < len(best[1]):
                best = (recorded, differs)
        return best


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_leaves(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix or "request body": value}


def load_book(folder: str | Path) -> ReplayBook:
    """Read a recording folder; raise RecordingError when it is not one."""
    path = Path(folder)
    read_format(path)
    # Tasks of one request body are replayed in the order they were submitted.
    tasks = sorted((_recorded(p) for p in (path / "tasks").glob("*.json")),
                   key=lambda r: (r.submitted_ms, r.name))
    return ReplayBook(path, tasks)


def _json(answer: dict[str, Any]) -> Response:
    return Response(json.dumps(answer["body"], separators=(",", ":")),
                    status=int(answer.get("status") or 200), mimetype="application/json")


def _callback_sender(state: Any) -> Relay:
    """The relay's sender, for recorded callbacks at their recorded moments."""
    from mock_server.api.service import profile_of
    from mock_server.callbacks.dispatcher import RetryPolicy
    from mock_server.callbacks.sender import HostPolicy, Sender

    settings = state.settings
    # Beside the tasks in their SQLite file; a one-process app in memory gets a scratch file.
    path = getattr(state.store, "path", None) or Path(tempfile.mkdtemp(prefix="flux2-replay-"))
    return Relay(path / "relay.sqlite3" if path.is_dir() else path, state.clock,
                 Sender(HostPolicy.parse(settings.callback_allowed_hosts)),
                 RetryPolicy.from_settings(settings, profile_of(settings)), "")


def install_replay(app: Flask, folder: str | Path, *, fallback: str | None = None) -> ReplayBook:
    """Make the mock `app` answer recorded tasks first (before its own views)."""
    book = load_book(folder)
    state = app.extensions["flux2_mock"]
    sender = _callback_sender(state)

    @app.before_request
    def _replayed() -> Response | None:
        path = request.path
        if request.method == "POST" and path.startswith(SUBMIT):
            return _submit(path[len(SUBMIT):])
        if request.method == "GET" and path.startswith(STATUS):
            return _status()
        return None

    def _submit(model: str) -> Response | None:
        backend = state.backend
        api_key = backend.authenticate(request.headers.get("Authorization"))
        backend.check_model(model)
        raw = body_bytes()
        # The mock's own view reads the body again on fallback: give it the same bytes.
        request.environ["wsgi.input"] = io.BytesIO(raw)
        request.__dict__.pop("stream", None)  # werkzeug's cached stream: rebuilt from the above
        body = json_body_of(raw)
        for recorded in book.candidates(body):
            if state.store.get_task(recorded.task_id) is None:
                record = _create(recorded, api_key, body)
                if record is not None:
                    return _json(recorded.submit)
        if fallback == "plan":
            return None
        raise _no_recording(body)

    def _create(recorded: Recorded, api_key: str, body: Any) -> TaskRecord | None:
        params = copy.deepcopy(body)
        for name, value in DEFAULTS.items():
            params.setdefault("input", {}).setdefault(name, value)
        ratio = params["input"]["aspect_ratio"]
        width, height = image_size("1:1" if ratio == "auto" else ratio,
                                   params["input"]["resolution"])
        now = state.clock.now_ms()
        plan = recorded.timeline.plan(now)
        url = params.get("callback_url")
        calls = recorded.callbacks if params.get("request_type") == "callback" and url else []
        # Recorded callbacks replace the mock's own (which would carry the mock's payload).
        scenario = {"replay": recorded.name, **({"callback_drop": True} if calls else {})}
        try:
            record: TaskRecord = state.store.create_task(lambda seq: TaskRecord(
                recorded.task_id, seq, api_key, params, plan, request.host_url, width, height,
                scenario))
        except Exception:  # another worker replayed it a moment ago
            return None
        for call in calls:
            sender.enqueue(recorded.task_id, str(url),
                           json.dumps(call["payload"], separators=(",", ":")).encode(),
                           now + int(call["atMs"]))
        return record

    def _status() -> Response | None:
        record = state.store.get_task(request.args.get("taskId") or "")
        if record is None or "replay" not in record.scenario:
            return None
        api_key = state.backend.authenticate(request.headers.get("Authorization"))
        recorded = book.by_name.get(record.scenario["replay"])
        if recorded is None or record.api_key != api_key:
            return None  # the mock's own answer: not found for this key
        now = state.clock.now_ms()
        current = state_at(record.plan, now)
        return _json(recorded.answer_for(current, now - record.plan.create_ms))

    def _no_recording(body: Any) -> NoRecording:
        near, differs = book.nearest(body)
        used = book.candidates(body)
        if used:
            message = (f"every recording of this request body ({len(used)}) has been replayed; "
                       f"POST /_mock/reset to replay them again")
        elif near is None:
            message = f"the recording {book.folder} holds no task"
        else:
            message = (f"no recording in {book.folder} matches this request body; the nearest "
                       f"is {near.name} (task {near.task_id}), which differs in "
                       f"{', '.join(differs[:6])}")
        return NoRecording(message, data={
            "nearest": None if near is None else near.name, "differs": differs[:20],
            "errors": [{"field": "request body", "rule": "replay", "message": message}]})

    return book
