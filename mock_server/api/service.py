"""The fake Flux-2 service: its operations, knowing nothing of HTTP."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import random
import re
from collections.abc import Callable
from typing import Any, cast

from flux2_spec.resources import fail_message, image_size, load
from flux2_spec.validation import schema_set
from mock_server.callbacks.sender import private_reason
from mock_server.domain import images, scenarios
from mock_server.domain.clock import Clock
from mock_server.domain.errors import (
    InvalidRequest,
    NotFound,
    ResultExpired,
    TaskNotFound,
    Unauthorized,
)
from mock_server.domain.lifecycle import Outcome, TaskPlan, status_at
from mock_server.domain.profiles import TimingProfile, get_profile
from mock_server.paid.credits import Admission
from mock_server.settings import Settings
from mock_server.storage.memory.runtime import Runtime
from mock_server.storage.memory.tasks import TaskRecord, TaskStore

MODEL_ID = "flux-2"
IMAGE_TO_IMAGE = frozenset({"pro-image-to-image", "flex-image-to-image"})
_OWN_RESULT = re.compile(r"/output/(task_[0-9a-f]+)/\d+\.jpg$")
_BEARER = re.compile(r"^Bearer +(\S+)$", re.IGNORECASE)


def task_id_for(seed: str, seq: int) -> str:
    """Return the task id of sequence number `seq` under `seed`: unique, reproducible."""
    return "task_" + hashlib.sha256(f"{seed}:{seq}".encode()).hexdigest()[:16]


def profile_of(settings: Settings) -> TimingProfile:
    """Return the timing profile `settings` choose, with their fixed durations applied."""
    return get_profile(settings.profile).with_overrides(settings.pending_ms,
                                                        settings.processing_ms)


def result_urls(record: TaskRecord) -> list[str]:
    return [f"{record.base_url.rstrip('/')}/output/{record.task_id}/0.jpg"]


def task_data(record: TaskRecord, now_ms: int) -> dict[str, Any]:
    """Return the documented `data` object of a task at `now_ms`, in the docs' field order."""
    status = status_at(record.plan, now_ms)
    data: dict[str, Any] = {"taskId": record.task_id, "state": status.state}
    if status.state == "success":
        data["resultJson"] = json.dumps({"resultUrls": result_urls(record)},
                                        separators=(",", ":"))
    elif status.state == "failed":
        data["failCode"] = status.fail_code
        data["failMsg"] = status.fail_msg
    if status.terminal:
        data["costTime"] = status.cost_ms
    data["createTime"] = status.create_ms
    if status.terminal:
        data["completeTime"] = status.complete_ms
    return data


class Flux2Backend:
    """Accepts, plans and answers tasks; every method is one operation of the API."""

    def __init__(self, settings: Settings, store: TaskStore, clock: Clock, *,
                 runtime: Runtime | None = None) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.runtime = runtime
        # Plans and credits (set by create_app); None admits every task unchecked.
        self.admission: Admission | None = None
        # Called with each accepted task (the callback dispatcher wakes on callback-mode ones).
        self.submitted: list[Callable[[TaskRecord], None]] = []
        self.seed = str(settings.seed) if settings.seed is not None else os.urandom(8).hex()
        self.models = frozenset({MODEL_ID, *settings.model_aliases})
        self._keys = tuple(k.encode() for k in settings.api_keys)

    def current_settings(self) -> Settings:
        """Return the settings with the control plane's run-time changes applied."""
        changed = self.runtime.overrides() if self.runtime is not None else None
        if not changed:
            return self.settings
        if "profile" in changed:  # a profile chosen at run time brings its own timings
            changed = {"pending_ms": None, "processing_ms": None, **changed}
        return self.settings.updated(changed, source="runtime")

    @property
    def profile(self) -> TimingProfile:
        """The timing profile new tasks draw from, as of now."""
        return profile_of(self.current_settings())

    # -- auth and routing -------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> str:
        """Return the API key of an `Authorization: Bearer <key>` header, or raise Unauthorized."""
        if not authorization:
            raise Unauthorized("the Authorization header is missing; send 'Bearer <API key>'")
        match = _BEARER.match(authorization.strip())
        if not match:
            raise Unauthorized("the Authorization header must be 'Bearer <API key>'")
        key = match.group(1)
        if not any(hmac.compare_digest(key.encode(), k) for k in self._keys):
            raise Unauthorized("the API key is not valid")
        return key

    def check_model(self, model: str) -> None:
        if model not in self.models:
            raise NotFound(f"unknown model {model!r}; this server serves "
                           f"{', '.join(sorted(self.models))}",)

    # -- operations -----------------------------------------------------------------

    def submit(self, *, api_key: str, body: Any, scenario_header: str | None,
               base_url: str) -> TaskRecord:
        """Validate a generation request, fix the task's plan, and store it."""
        request = self._validated(body)
        self._check_callback_url(request)
        scenario = self._scenario(scenario_header, request["input"]["prompt"])
        queued = self.runtime.take_scenario(api_key) if self.runtime is not None else None
        if queued is not None:  # the control plane's queue outranks the request's own tokens
            scenario = scenario.merged(scenarios.parse(queued, source="scenario queue"))
        width, height = self._size(request["input"])
        now = self.clock.now_ms()

        def build(seq: int) -> TaskRecord:
            plan = self._plan(seq, now, scenario)
            return TaskRecord(task_id_for(self.seed, seq), seq, api_key, request, plan,
                              base_url, width, height,
                              {k: v for k, v in vars(scenario).items() if v is not None})

        if self.admission is not None and self.admission.applies(api_key):
            record = self.admission.create(api_key, request["input"], build)
        else:
            record = self.store.create_task(build)
        for listener in self.submitted:
            listener(record)
        return record

    def status(self, *, api_key: str, task_id: str | None) -> dict[str, Any]:
        """Return the task's documented `data` object as of now."""
        if not task_id:
            raise InvalidRequest("Missing required field: taskId",
                                 data={"errors": [{"field": "taskId", "rule": "required",
                                                   "message": "Missing required field: taskId"}]})
        record = self.store.get_task(task_id)
        if record is None or record.api_key != api_key:
            raise TaskNotFound(f"no task with taskId {task_id!r} for this API key")
        return task_data(record, self.clock.now_ms())

    def result_image(self, task_id: str, index: int) -> bytes:
        """Return the JPEG behind a result URL; 404 unless the task succeeded, 410 once expired."""
        record = self.store.get_task(task_id)
        now = self.clock.now_ms()
        if record is None or index != 0 or task_data(record, now)["state"] != "success":
            raise NotFound(f"no result image {index} for task {task_id!r}")
        complete = record.plan.complete_ms or 0
        if now >= complete + self.settings.result_url_ttl_s * 1000:
            raise ResultExpired(f"result URLs expire {self.settings.result_url_ttl_s} s after "
                                f"the task completes; download and store results you keep")
        prompt = scenarios.strip_markers(record.prompt) or record.prompt
        return images.render(task_id, prompt, record.width, record.height, index)

    # -- the parts of submit ---------------------------------------------------------

    def _validated(self, body: Any) -> dict[str, Any]:
        name = "generate-request-strict.json" if self.settings.strict_required \
            else "generate-request.json"
        problems = schema_set().errors(name, body)
        if problems:
            raise InvalidRequest(problems[0].message,
                                 data={"errors": [p.as_dict() for p in problems]})
        request: dict[str, Any] = copy.deepcopy(body)
        defaults = {"mode": "pro-text-to-image", "aspect_ratio": "1:1", "resolution": "1K"}
        for name, value in defaults.items():
            request["input"].setdefault(name, value)
        return request

    def _check_callback_url(self, request: dict[str, Any]) -> None:
        url = request.get("callback_url")
        reason = private_reason(str(url)) if url and self.settings.callback_reject_private \
            else None
        if reason:
            message = (f"callback_url must be publicly reachable: {reason} "
                       f"(callback_reject_private is on)")
            raise InvalidRequest(message, data={"errors": [
                {"field": "callback_url", "rule": "public", "message": message}]})

    def _scenario(self, header: str | None, prompt: str) -> scenarios.Scenario:
        try:
            return scenarios.resolve(header, prompt)
        except scenarios.ScenarioError as exc:
            raise InvalidRequest(str(exc), data={"errors": [
                {"field": "X-Mock-Scenario", "rule": "scenario", "message": str(exc)}]}) from None

    def _size(self, params: dict[str, Any]) -> tuple[int, int]:
        ratio, resolution = params["aspect_ratio"], params["resolution"]
        if ratio == "auto":
            ratio = self._input_ratio(params.get("image_urls") or []) or ratio
        return image_size(ratio, resolution)

    def _input_ratio(self, urls: list[str]) -> str | None:
        """Return the table ratio nearest the first input image's, when it is known."""
        match = _OWN_RESULT.search(urls[0]) if urls else None
        source = self.store.get_task(match.group(1)) if match else None
        if source is None:
            return None
        wanted = source.width / source.height
        table = load("sizes")["sizes"]
        return min(table, key=lambda r: abs(table[r]["1K"][0] / table[r]["1K"][1] - wanted))

    def _plan(self, seq: int, now_ms: int, scenario: scenarios.Scenario) -> TaskPlan:
        # Every draw happens in the same order whatever the scenario: reproducible per seq.
        rng = random.Random(f"{self.seed}:{seq}")
        current = self.current_settings()
        profile = profile_of(current)
        pending = profile.pending.draw(rng)
        processing = profile.processing.draw(rng)
        fails = rng.random() < current.failure_rate
        vocabulary = self.settings.fail_code_vocabulary
        drawn_code = rng.choice(self.settings.fail_codes
                                or load("fail_codes")["random_failures"][vocabulary])
        outcome = scenario.outcome or ("failed" if fails else "success")
        fail_code = fail_msg = None
        if outcome == "failed":
            if scenario.fail_code:
                fail_code = scenario.fail_code
            elif scenario.outcome == "failed":
                fail_code = load("fail_codes")["default_fail_code"][vocabulary]
            else:
                fail_code = drawn_code
            fail_msg = fail_message(vocabulary, fail_code)
        return TaskPlan(
            create_ms=now_ms,
            pending_ms=pending if scenario.pending_ms is None else scenario.pending_ms,
            processing_ms=processing if scenario.processing_ms is None else scenario.processing_ms,
            outcome=cast(Outcome, outcome),
            fail_code=fail_code,
            fail_msg=fail_msg,
        )
