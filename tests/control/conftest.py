"""Fixtures for the control plane's tests: an in-process app on a virtual clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mock_server.domain.clock import VirtualClock
from tests.support.apps import make_app

KEY = "flux2-mock-key"
OTHER_KEY = "other-key"
START_MS = 1_698_765_400_000


def body(prompt: str = "A lighthouse at dawn", **extra: Any) -> dict[str, Any]:
    return {"request_type": "async", "input": {"prompt": prompt, **extra}}


class Control:
    """An app on a virtual clock, with helpers for its API and its control plane."""

    def __init__(self, app: Flask, clock: VirtualClock) -> None:
        self.app = app
        self.clock = clock
        self.client: FlaskClient = app.test_client()

    def submit(self, *, key: str = KEY, scenario: str | None = None,
               prompt: str = "A lighthouse at dawn") -> str:
        headers = {"Authorization": f"Bearer {key}"}
        if scenario:
            headers["X-Mock-Scenario"] = scenario
        response = self.client.post("/api/v1/generateTask/flux-2", json=body(prompt),
                                    headers=headers)
        assert response.status_code == 200, response.get_json()
        task_id: str = response.get_json()["data"]["taskId"]
        return task_id

    def state(self, task_id: str, *, key: str = KEY) -> str:
        response = self.client.get("/api/v1/statusTask/flux-2", query_string={"taskId": task_id},
                                   headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, response.get_json()
        state: str = response.get_json()["data"]["state"]
        return state

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.post(path, json=json, **kwargs)


MakeControl = Callable[..., Control]


@pytest.fixture
def make_control() -> MakeControl:
    def make(**settings: Any) -> Control:
        clock = VirtualClock(START_MS)
        app = make_app({"store": "memory", "profile": "instant", "seed": 3,
                          "api_keys": [KEY, OTHER_KEY], **settings}, clock=clock)
        return Control(app, clock)

    return make


@pytest.fixture
def control(make_control: MakeControl) -> Control:
    """1 s pending, 2 s processing, two API keys."""
    return make_control(pending_ms=1000, processing_ms=2000)
