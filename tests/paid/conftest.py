"""Fixtures of the paid-part tests: in-process mocks on a virtual clock, and real servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from mock_server.domain.clock import VirtualClock
from tests.core.conftest import KEY, START_MS, Mock
from tests.support.apps import make_app
from tests.support.serve import ServeProcess

FREE, PRO, RICH = "free-key", "pro-key", "rich-key"
KEYS = ("--api-key", FREE, "--api-key", PRO, "--api-key", RICH)

MakeMock = Callable[..., Mock]


@pytest.fixture
def make_mock() -> MakeMock:
    """Return a factory of in-process mocks (memory store, virtual clock, three keys)."""

    def make(**settings: Any) -> Mock:
        clock = VirtualClock(START_MS)
        app = make_app({"store": "memory", "profile": "instant", "seed": 7,
                          "api_keys": f"{KEY},{FREE},{PRO},{RICH}", **settings}, clock=clock)
        return Mock(app, clock)

    return make


@contextmanager
def running(*args: str, env: dict[str, str] | None = None) -> Iterator[ServeProcess]:
    """Run `flux2-mock serve` for the block; kill it and close its pipe after."""
    server = ServeProcess(*args, env=env).start()
    try:
        yield server
    finally:
        server.kill()
        if server.proc is not None and server.proc.stdout is not None:
            server.proc.stdout.close()  # else: a ResourceWarning, an error under our settings
