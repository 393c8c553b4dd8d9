"""The test suite's shared fixtures (a pytest plugin loaded by tests/conftest.py).

`make_mock(**settings)` builds in-process mocks on a virtual clock; a folder whose tests
share settings overrides `mock_defaults` in its conftest. `make_served_mock` serves one on a
real loopback socket in a thread, and `receiver` is a callback receiver that answers 200.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mock_server.testing.fixture import InProcessMock
from tests.support.mock_client import START_MS, MakeMock, MockClient, new_mock
from tests.support.receiver import Receiver

MakeServedMock = Callable[..., InProcessMock]


@pytest.fixture
def mock_defaults() -> dict[str, Any]:
    """Settings every mock of `make_mock` starts from (a folder's conftest may add some)."""
    return {}


@pytest.fixture
def make_mock(mock_defaults: dict[str, Any]) -> MakeMock:
    """Return a factory of in-process mocks: memory store, instant profile, virtual clock."""

    def make(*, start_ms: int = START_MS, **settings: Any) -> MockClient:
        return new_mock({**mock_defaults, **settings}, start_ms=start_ms)

    return make


@pytest.fixture
def mock(mock_defaults: dict[str, Any]) -> MockClient:
    """A mock with 1 s pending, 2 s processing and seed 7, unless the folder's defaults say."""
    return new_mock({"pending_ms": 1000, "processing_ms": 2000, "seed": 7, **mock_defaults})


@pytest.fixture
def make_served_mock() -> Iterator[MakeServedMock]:
    """Serve in-process mocks on loopback in a thread, with a test's settings; stop them after."""
    started: list[InProcessMock] = []

    def make(**settings: Any) -> InProcessMock:
        served = InProcessMock.start(settings)
        started.append(served)
        return served

    yield make
    for served in started:
        served.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A callback receiver on loopback that answers 200."""
    server = Receiver()
    yield server
    server.close()
