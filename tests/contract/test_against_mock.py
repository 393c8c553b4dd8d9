"""The suite against `flux2-mock serve`, a real process, in each timing profile: all pass."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from contract_tests import RunResult
from contract_tests.registry import CHECKS
from contract_tests.runner import run as _registers_checks  # noqa: F401
from tests.support.serve import ServeProcess

from .conftest import failed, run_suite

# Checks whose reading the user chooses; by default they run too (either reading passes).
READINGS = {"omitted_fields_reading", "i2i_image_urls_reading"}


@contextmanager
def mock_serving(*args: str) -> Iterator[ServeProcess]:
    """`flux2-mock serve` for the block; its output pipe closed after (no ResourceWarning)."""
    with _started(*args) as server:
        yield server
    if server.proc is not None and server.proc.stdout is not None:
        server.proc.stdout.close()


@contextmanager
def _started(*args: str) -> Iterator[ServeProcess]:
    # tests/support/serve.py waits for health with a 2 s read timeout and retries only refused
    # connections: on a busy machine the first request to a worker still booting takes longer.
    # Give that first answer more time instead of failing the test.
    server = ServeProcess(*args)
    try:
        try:
            server.start()
        except requests.Timeout:
            requests.get(server.url("/_mock/health"), timeout=60).raise_for_status()
        yield server
    finally:
        server.kill()


def assert_all_pass(result: RunResult, *, skipped: frozenset[str] = frozenset()) -> None:
    assert failed(result) == {}
    assert not result.errors, result.errors
    skips = {o.check.name for o in result.outcomes if o.status == "skipped"}
    assert skips == skipped & {o.check.name for o in result.outcomes}


@pytest.mark.e2e
def test_whole_suite_passes_against_the_fast_profile() -> None:
    with mock_serving("--profile", "fast", "--store", "memory") as server:
        started = time.monotonic()
        result = run_suite(server.base_url)
        took = time.monotonic() - started
    print(f"\nwhole suite against flux2-mock serve --profile fast: {took:.1f} s, "
          f"{len(result.outcomes)} checks, {result.tasks} tasks")
    assert_all_pass(result)
    assert len(result.outcomes) == len(CHECKS)


@pytest.mark.e2e
def test_whole_suite_passes_against_the_instant_profile() -> None:
    with mock_serving("--profile", "instant", "--store", "memory") as server:
        result = run_suite(server.base_url)
    assert_all_pass(result)


@pytest.mark.e2e
def test_readings_pass_when_chosen_to_match_the_mock() -> None:
    with mock_serving("--profile", "instant", "--store", "memory") as server:
        result = run_suite(server.base_url, select=tuple(READINGS), omitted_fields="default",
                           i2i_image_urls="required")
    assert_all_pass(result)


@pytest.mark.e2e
@pytest.mark.slow
def test_lifecycle_passes_against_the_realistic_profile() -> None:
    # Tasks take 20-30 s here: only the lifecycle statements, one stateful example, no
    # scenarios or callbacks (those are timing-independent and covered above).
    lifecycle = tuple(n for n, c in CHECKS.items() if c.kind in ("poll", "finished"))
    with mock_serving("--profile", "realistic", "--store", "memory") as server:
        result = run_suite(server.base_url, select=lifecycle, hypothesis_profile="live",
                           scenarios=False)
    assert_all_pass(result, skipped=frozenset({"failed_has_code_and_message",
                                               "fail_code_vocabulary", "failure_stays_final"}))
    assert {o.check.name for o in result.outcomes} == set(lifecycle)
    assert "--no-scenarios" in result.unavailable["failed-task"]
