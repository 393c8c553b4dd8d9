"""Proof that each check can fail: a target breaking exactly that promise makes exactly that
check fail, in a whole run of the suite, and fails fast (no wait runs to its limit).

The broken targets are run side by side (they mostly wait on polling cadences), once per
session; each check's test then reads its own run.
"""

from __future__ import annotations

import traceback
from concurrent.futures import ThreadPoolExecutor

import pytest

from contract_tests import Options, RunResult
from contract_tests.registry import CHECKS
from contract_tests.runner import run as _registers_checks  # noqa: F401

from .breakages import BREAKAGES, DEADLINE_OPTIONS, VARIANTS, Breakage
from .conftest import broken_target, failed, prepare_in_process_mock, run_suite

pytestmark = pytest.mark.slow  # the whole suite against 56 broken targets

TARGETS: dict[str, tuple[str, Breakage]] = {
    **{name: (name, breakage) for name, breakage in BREAKAGES.items()}, **VARIANTS}
# Hypothesis' examples decide whether these are caught: give them the dev profile's numbers.
MORE_EXAMPLES = {"valid_requests_accepted", "invalid_requests_rejected"}
DEFAULTS = Options(base_url="http://127.0.0.1:1", api_key="k")
# A shortened deadline must still be a small part of the one it stands for.
DEFAULT_DEADLINES = {"task_timeout": DEFAULTS.task_timeout,
                     "callback_wait": DEFAULTS.callback_wait_s}


def run_broken(label: str) -> RunResult | str:
    """Run the whole suite against the target that breaks `label`'s promise (or say why the
    run itself broke: that is its own test's failure, not every test's set-up error)."""
    check, breakage = TARGETS[label]
    profile = "dev" if check in MORE_EXAMPLES else "live"
    try:
        with broken_target(breakage) as url:
            return run_suite(url, **{"hypothesis_profile": profile, **breakage.options})
    except Exception:
        return traceback.format_exc()


@pytest.fixture(scope="module")
def broken_runs() -> dict[str, RunResult | str]:
    prepare_in_process_mock()
    with ThreadPoolExecutor(max_workers=6) as pool:
        return dict(zip(TARGETS, pool.map(run_broken, TARGETS), strict=True))


def run_of(broken_runs: dict[str, RunResult | str], label: str) -> RunResult:
    result = broken_runs[label]
    assert isinstance(result, RunResult), result
    return result


def test_every_check_has_a_breakage() -> None:
    assert sorted(BREAKAGES) == sorted(CHECKS)
    assert {check for check, _ in VARIANTS.values()} <= set(CHECKS)


@pytest.mark.parametrize("label", sorted(TARGETS))
def test_exactly_that_check_fails(broken_runs: dict[str, RunResult | str], label: str) -> None:
    result = run_of(broken_runs, label)
    check = TARGETS[label][0]
    assert set(failed(result)) == {check}, failed(result)
    assert not result.errors, result.errors
    outcome = next(o for o in result.outcomes if o.check.name == check)
    assert outcome.check.quote
    if outcome.failures[0].exchanges:
        details = outcome.failures[0].details()
        assert "curl " in details and "sent:" in details and "got:" in details


@pytest.mark.parametrize("label", sorted(TARGETS))
def test_each_broken_target_fails_fast(broken_runs: dict[str, RunResult | str],
                                      label: str) -> None:
    """No wait ran to its limit, unless the promise is the limit itself (then it is short)."""
    breakage = TARGETS[label][1]
    result = run_of(broken_runs, label)
    shortened = {k: v for k, v in breakage.options.items() if k in DEADLINE_OPTIONS}
    if not shortened:
        assert result.deadlines == []
        return
    for name, value in shortened.items():
        assert value <= DEFAULT_DEADLINES[name] / 10, (name, value)
    assert result.deadlines
