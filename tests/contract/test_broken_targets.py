"""Proof that each check can fail: a target breaking exactly that promise, and the check fails.

The broken targets are run side by side (they mostly wait on polling cadences), once per
session; each check's test then reads its own run.
"""

from __future__ import annotations

import importlib
import pkgutil
from concurrent.futures import ThreadPoolExecutor

import pytest

import mock_server
from contract_tests import RunResult
from contract_tests.registry import CHECKS
from contract_tests.runner import run as _registers_checks  # noqa: F401
from tests.support.apps import make_app

from .breakages import BREAKAGES
from .conftest import broken_target, failed, run_suite, statuses

FAST = {"hypothesis_profile": "live", "cadence": "fast"}
# Only these need failed tasks (X-Mock-Scenario); the others run without the scenarios.
NEED_SCENARIOS = {"failed_has_code_and_message", "fail_code_vocabulary",
                  "callback_failure_envelope", "terminal_state_final", "state_only_forward"}


def run_broken(name: str) -> RunResult:
    """Run the suite, narrowed to `name`, against the target that breaks it."""
    breakage = BREAKAGES[name]
    with broken_target(breakage) as url:
        return run_suite(url, select=(name, *breakage.also),
                         **{**FAST, "scenarios": name in NEED_SCENARIOS, **breakage.options})


@pytest.fixture(scope="module")
def broken_runs() -> dict[str, RunResult]:
    # Modules imported lazily would be imported (and assertion-rewritten by pytest, which is
    # not thread-safe) from ten threads at once: import every one of them here first.
    for module in pkgutil.walk_packages(mock_server.__path__, prefix="mock_server."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    make_app({"store": "memory"})
    with ThreadPoolExecutor(max_workers=10) as pool:
        return dict(zip(BREAKAGES, pool.map(run_broken, BREAKAGES), strict=True))


def test_every_check_has_a_breakage() -> None:
    assert sorted(BREAKAGES) == sorted(CHECKS)


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_check_fails_against_a_target_breaking_it(broken_runs: dict[str, RunResult],
                                                  name: str) -> None:
    result = broken_runs[name]
    assert statuses(result)[name] == "failed", (statuses(result), failed(result))
    outcome = next(o for o in result.outcomes if o.check.name == name)
    assert outcome.check.quote
    if outcome.failures[0].exchanges:
        details = outcome.failures[0].details()
        assert "curl " in details and "sent:" in details and "got:" in details
