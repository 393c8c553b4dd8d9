"""Fixtures for in-process tests: an app on a virtual clock and an in-memory store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mock_server.domain.clock import VirtualClock
from tests.support.apps import make_app

KEY = "flux2-mock-key"
SUBMIT = "/api/v1/generateTask/flux-2"
STATUS = "/api/v1/statusTask/flux-2"
START_MS = 1_698_765_400_000


def auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def body(prompt: Any = "A beautiful sunset over the mountains",
         **input_fields: Any) -> dict[str, Any]:
    """Return a valid async text-to-image request with `input_fields` changed."""
    fields: dict[str, Any] = {"mode": "pro-text-to-image", "prompt": prompt,
                              "aspect_ratio": "1:1", "resolution": "1K", **input_fields}
    return {"request_type": "async", "input": {k: v for k, v in fields.items() if v is not None}}


class Mock:
    """An app, its virtual clock, and a client that speaks the API."""

    def __init__(self, app: Flask, clock: VirtualClock) -> None:
        self.app = app
        self.clock = clock
        self.client: FlaskClient = app.test_client()

    def submit(self, payload: Any = None, *, key: str = KEY, scenario: str | None = None,
               headers: dict[str, str] | None = None) -> Any:
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

    def data(self, task_id: str) -> dict[str, Any]:
        response = self.status(task_id)
        assert response.status_code == 200, response.get_json()
        data: dict[str, Any] = response.get_json()["data"]
        return data


MakeMock = Callable[..., Mock]


@pytest.fixture
def make_mock() -> MakeMock:
    """Return a factory of mocks with the given settings (memory store, virtual clock)."""

    def make(**settings: Any) -> Mock:
        clock = VirtualClock(START_MS)
        app = make_app({"store": "memory", "profile": "instant", **settings}, clock=clock)
        return Mock(app, clock)

    return make


@pytest.fixture
def mock(make_mock: MakeMock) -> Mock:
    """A mock with fixed timings: 1 s pending, 2 s processing, seed 7."""
    return make_mock(pending_ms=1000, processing_ms=2000, seed=7)
