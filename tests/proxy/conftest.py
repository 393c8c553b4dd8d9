"""Fixtures: a well-behaved upstream (`flux2-mock serve` on loopback), reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.support.serve import ServeProcess

from .support import serving


@pytest.fixture(scope="module")
def mock_upstream_process() -> Iterator[ServeProcess]:
    # Timings far apart from the client's poll times, so a poll never races a transition.
    with serving("--pending-ms", "0", "--processing-ms", "600", "--seed", "7",
                 "--store", "memory") as server:
        yield server


@pytest.fixture
def mock_upstream(mock_upstream_process: ServeProcess) -> str:
    """The base URL of a real `flux2-mock serve`, with nothing in it yet."""
    requests.post(mock_upstream_process.url("/_mock/reset"), timeout=10).raise_for_status()
    return mock_upstream_process.base_url
