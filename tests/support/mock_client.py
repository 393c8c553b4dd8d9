"""An in-process mock on a virtual clock, and the requests the test suite sends it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from flux2_spec.validation import input_defaults
from mock_server.callbacks.dispatcher import Dispatcher
from mock_server.domain.clock import VirtualClock
from mock_server.state import MockState
from tests.support.apps import make_app

KEY = "flux2-mock-key"
OTHER_KEY = "other-key"
SUBMIT = "/api/v1/generateTask/flux-2"
STATUS = "/api/v1/statusTask/flux-2"
START_MS = 1_698_765_400_000
PROMPT = "A beautiful sunset over the mountains"


def auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def body(prompt: Any = PROMPT, **input_fields: Any) -> dict[str, Any]:
    """Return a valid async request (the schema's defaults) with `input_fields` changed."""
    fields: dict[str, Any] = {**input_defaults(), "prompt": prompt, **input_fields}
    return {"request_type": "async", "input": {k: v for k, v in fields.items() if v is not None}}


def callback_body(url: str, prompt: str = "A lighthouse at dusk",
                  **input_fields: Any) -> dict[str, Any]:
    """Return a valid callback request to `url`."""
    return {**body(prompt, **input_fields), "request_type": "callback", "callback_url": url}


class MockClient:
    """An app, its virtual clock, and a test client that speaks the API and the control plane."""

    def __init__(self, app: Flask, clock: VirtualClock) -> None:
        self.app = app
        self.clock = clock
        self.client: FlaskClient = app.test_client()

    @property
    def mock_state(self) -> MockState:
        state: MockState = self.app.extensions["flux2_mock"]
        return state

    @property
    def dispatcher(self) -> Dispatcher:
        """The app's callback dispatcher, which this harness drives (never in the background)."""
        dispatcher = self.mock_state.dispatcher
        assert not dispatcher.background
        return dispatcher

    def submit(self, payload: Any = None, *, key: str = KEY, scenario: str | None = None,
               headers: dict[str, str] | None = None) -> Any:
        """POST `payload` (a valid request by default) and return the response."""
        sent = {**auth(key), **(headers or {})}
        if scenario is not None:
            sent["X-Mock-Scenario"] = scenario
        return self.client.post(SUBMIT, json=body() if payload is None else payload, headers=sent)

    def task(self, payload: Any = None, **kwargs: Any) -> str:
        """Submit and return the new taskId, asserting the submission was accepted."""
        response = self.submit(payload, **kwargs)
        assert response.status_code == 200, response.get_json()
        task_id: str = response.get_json()["data"]["taskId"]
        return task_id

    def status(self, task_id: str | None, *, key: str = KEY) -> Any:
        query = {} if task_id is None else {"taskId": task_id}
        return self.client.get(STATUS, query_string=query, headers=auth(key))

    def data(self, task_id: str, *, key: str = KEY) -> dict[str, Any]:
        """Return the task's `data`, asserting the status read succeeded."""
        response = self.status(task_id, key=key)
        assert response.status_code == 200, response.get_json()
        data: dict[str, Any] = response.get_json()["data"]
        return data

    def state(self, task_id: str, *, key: str = KEY) -> str:
        state: str = self.data(task_id, key=key)["state"]
        return state

    def callbacks(self, task_id: str) -> dict[str, Any]:
        """Return the control plane's callback journal of one task."""
        response = self.client.get(f"/_mock/tasks/{task_id}/callbacks")
        assert response.status_code == 200, response.get_json()
        journal: dict[str, Any] = response.get_json()
        return journal

    def deliver(self) -> int:
        """Send the callbacks that are due now; return how many attempts were made."""
        return self.dispatcher.deliver_due()

    def advance_and_deliver(self, seconds: float) -> int:
        self.clock.advance(seconds)
        return self.deliver()

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.post(path, json=json, **kwargs)


MakeMock = Callable[..., MockClient]


def new_mock(settings: dict[str, Any], *, start_ms: int = START_MS) -> MockClient:
    """Build a mock (memory store, instant profile unless told) on a clock at `start_ms`."""
    clock = VirtualClock(start_ms)
    return MockClient(make_app({"profile": "instant", **settings}, clock=clock), clock)
