"""The fake Flux-2 service: its operations, knowing nothing of HTTP."""

from __future__ import annotations

import copy
import hmac
import re
from collections.abc import Callable, Sequence
from typing import Any

from flux2_spec.resources import image_size, load
from flux2_spec.validation import input_defaults, schema_set
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
from mock_server.domain.keys import bearer_token
from mock_server.domain.lifecycle import TaskPlan
from mock_server.domain.planning import PlanRules, draw_plan
from mock_server.domain.profiles import TimingProfile, get_profile
from mock_server.domain.tasks import TaskRecord, task_data, task_id_for
from mock_server.paid.credits import Admission
from mock_server.settings import Settings
from mock_server.storage.protocols import Runtime, TaskStore

MODEL_ID = "flux-2"
_OWN_RESULT = re.compile(r"/output/(task_[0-9a-f]+)/\d+\.jpg$")


def profile_of(settings: Settings) -> TimingProfile:
    """Return the timing profile `settings` choose, with their fixed durations applied."""
    return get_profile(settings.profile).with_overrides(settings.pending_ms,
                                                        settings.processing_ms)


def effective_settings(settings: Settings, runtime: Runtime) -> Settings:
    """Return `settings` with the control plane's run-time changes applied."""
    changed = runtime.overrides()
    if not changed:
        return settings
    if "profile" in changed:  # a profile chosen at run time brings its own timings
        changed = {"pending_ms": None, "processing_ms": None, **changed}
    return settings.updated(changed, source="runtime")


class Flux2Backend:
    """Accepts, plans and answers tasks; every method is one operation of the API."""

    def __init__(self, settings: Settings, store: TaskStore, clock: Clock, runtime: Runtime,
                 admission: Admission, *, seed: str,
                 submitted: Sequence[Callable[[TaskRecord], None]] = ()) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.runtime = runtime
        self.admission = admission
        # Called with each accepted task (the callback dispatcher wakes on callback-mode ones).
        self.submitted = tuple(submitted)
        self.seed = seed
        self.models = frozenset({MODEL_ID, *settings.model_aliases})
        self._keys = tuple(k.encode() for k in settings.api_keys)

    def current_settings(self) -> Settings:
        """Return the settings with the control plane's run-time changes applied."""
        return effective_settings(self.settings, self.runtime)

    @property
    def profile(self) -> TimingProfile:
        """The timing profile new tasks draw from, as of now."""
        return profile_of(self.current_settings())

    # -- auth and routing -------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> str:
        """Return the API key of an `Authorization: Bearer <key>` header, or raise Unauthorized."""
        if not authorization:
            raise Unauthorized("the Authorization header is missing; send 'Bearer <API key>'")
        key = bearer_token(authorization)
        if key is None:
            raise Unauthorized("the Authorization header must be 'Bearer <API key>'")
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
        queued = self.runtime.take_scenario(api_key)
        if queued is not None:  # the control plane's queue outranks the request's own tokens
            scenario = scenario.merged(scenarios.parse(queued, source="scenario queue"))
        width, height = self._size(request["input"])
        now = self.clock.now_ms()

        def build(seq: int) -> TaskRecord:
            plan = self._plan(seq, now, scenario)
            return TaskRecord(task_id_for(self.seed, seq), seq, api_key, request, plan,
                              base_url, width, height,
                              {k: v for k, v in vars(scenario).items() if v is not None})

        if self.admission.applies(api_key):
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
        for name, value in input_defaults().items():
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
        current = self.current_settings()
        rules = PlanRules(profile_of(current), current.failure_rate,
                          self.settings.fail_code_vocabulary, self.settings.fail_codes)
        return draw_plan(rules, seed=self.seed, seq=seq, now_ms=now_ms, scenario=scenario)
