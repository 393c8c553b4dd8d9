"""Fixtures for callback tests: loopback receivers, and apps whose dispatcher a test drives."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mock_server.callbacks.dispatcher import Dispatcher
from mock_server.domain.clock import VirtualClock
from tests.support.apps import make_app

from .receiver import Receiver

KEY = "flux2-mock-key"
START_MS = 1_698_765_400_000
AUTH = {"Authorization": f"Bearer {KEY}"}


def callback_body(url: str, prompt: str = "A lighthouse at dusk") -> dict[str, Any]:
    return {"request_type": "callback", "callback_url": url,
            "input": {"mode": "pro-text-to-image", "prompt": prompt, "aspect_ratio": "1:1",
                      "resolution": "1K"}}


class CallbackMock:
    """An in-process mock on a virtual clock; its callbacks go out when the test says."""

    def __init__(self, app: Flask, clock: VirtualClock) -> None:
        self.app = app
        self.clock = clock
        self.client: FlaskClient = app.test_client()
        dispatcher = app.extensions["flux2_mock"].dispatcher
        assert dispatcher is not None and not dispatcher.background
        self.dispatcher: Dispatcher = dispatcher

    def submit(self, url: str, *, scenario: str | None = None, **extra: Any) -> Any:
        headers = {**AUTH, **({"X-Mock-Scenario": scenario} if scenario else {})}
        return self.client.post("/api/v1/generateTask/flux-2",
                                json={**callback_body(url), **extra}, headers=headers)

    def task(self, url: str, *, scenario: str | None = None) -> str:
        response = self.submit(url, scenario=scenario)
        assert response.status_code == 200, response.get_json()
        task_id: str = response.get_json()["data"]["taskId"]
        return task_id

    def status(self, task_id: str) -> dict[str, Any]:
        response = self.client.get("/api/v1/statusTask/flux-2", query_string={"taskId": task_id},
                                   headers=AUTH)
        assert response.status_code == 200, response.get_json()
        data: dict[str, Any] = response.get_json()["data"]
        return data

    def journal(self, task_id: str) -> dict[str, Any]:
        response = self.client.get(f"/_mock/tasks/{task_id}/callbacks")
        assert response.status_code == 200, response.get_json()
        journal: dict[str, Any] = response.get_json()
        return journal

    def advance_and_deliver(self, seconds: float) -> int:
        self.clock.advance(seconds)
        return self.dispatcher.deliver_due()


MakeMock = Callable[..., CallbackMock]


@pytest.fixture
def make_mock() -> MakeMock:
    """Return a factory of in-process mocks: memory store, virtual clock, tasks done in 1 s."""

    def make(**settings: Any) -> CallbackMock:
        clock = VirtualClock(START_MS)
        chosen = {"store": "memory", "profile": "instant", "pending_ms": 0,
                  "processing_ms": 1000, "seed": 7, "callback_retry_s": "30,120,600",
                  "callback_timeout_s": 2, **settings}
        return CallbackMock(make_app(chosen, clock=clock), clock)

    return make


@pytest.fixture
def mock(make_mock: MakeMock) -> CallbackMock:
    return make_mock()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver that answers 200."""
    server = Receiver()
    yield server
    server.close()
