"""Safety against a paid API: caps, cadence, refusing to start, skips instead of guesses."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from contract_tests import Options, UsageError
from contract_tests.budget import Budget, BudgetExhausted, PriceTable
from contract_tests.context import Context
from contract_tests.drivers import callback_mode_accepted
from contract_tests.fuzz import valid_requests_accepted
from contract_tests.receiver import Receiver
from contract_tests.registry import CheckSkipped
from contract_tests.runner import estimate, run

from .breakages import KEY, Breakage
from .conftest import broken_target, failed, run_suite
from .wsgi_target import Req

LIVE = "https://api.apixo.ai"


@pytest.fixture
def no_remote_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if not (isinstance(address, tuple) and address[0] in ("127.0.0.1", "::1")):
            raise AssertionError(f"the suite tried to reach {address!r}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


@pytest.mark.parametrize(("url", "loopback"), [
    ("http://127.0.0.1:8000", True), ("http://127.5.6.7", True), ("http://localhost:1", True),
    ("http://[::1]:8000", True), (LIVE, False), ("http://10.0.0.5:8000", False),
    ("http://localhost.example.com", False),
])
def test_loopback_targets_get_the_fast_cadence_and_no_caps(url: str, loopback: bool) -> None:
    options = Options(base_url=url, api_key=KEY)
    assert options.loopback is loopback
    cadence = options.poll_cadence
    if loopback:
        assert cadence.first_s < 1 and options.task_cap is None and options.spend_cap is None
    else:
        # "Wait 15 seconds before first poll, then poll every 5 seconds", "3 minutes"
        assert (cadence.first_s, cadence.every_s, cadence.limit_s) == (15.0, 5.0, 180.0)
        assert options.task_cap == 30 and options.spend_cap == 2.0
        assert options.profile == "live"


def test_prices_come_from_the_table_and_every_submission_is_counted() -> None:
    prices = PriceTable.default()
    assert prices.price({"input": {"mode": "pro-text-to-image", "resolution": "1K"}}) == 0.05
    assert prices.price({"input": {"mode": "flex-image-to-image", "resolution": "2K"}}) == 0.13
    assert prices.price({"input": {"mode": "no-such-mode"}}) == prices.highest
    budget = Budget(prices, max_tasks=2, max_spend=0.2)
    first = budget.reserve({"input": {}})
    budget.reserve({"input": {}})
    with pytest.raises(BudgetExhausted):
        budget.reserve({"input": {}})
    budget.refund(first)  # a rejected submission created no task
    assert budget.can_afford(0.05) and budget.tasks == 1


def test_default_live_run_fits_the_default_caps(no_remote_network: None) -> None:
    ctx = Context.create(Options(base_url=LIVE, api_key=KEY))
    planned = estimate(ctx)
    assert 0 < planned.tasks <= 30 and 0 < planned.spend <= 2.0


def test_refuses_above_the_spend_cap_before_sending(no_remote_network: None) -> None:
    logged: list[str] = []
    with pytest.raises(UsageError, match="above --max-spend"):
        run(Options(base_url=LIVE, api_key=KEY, max_spend=0.10), log=logged.append)
    assert logged[0].startswith("estimate: up to ")


@pytest.mark.slow
def test_hypothesis_examples_stop_at_the_task_cap() -> None:
    submissions: list[Req] = []

    def count(target: Any, req: Req) -> Req:
        if req.is_submit:
            submissions.append(req)
        return req

    with broken_target(Breakage(on_request=count)) as url:
        ctx = Context.create(Options(base_url=url, api_key=KEY, max_tasks=3,
                                     hypothesis_profile="dev"))
        with pytest.raises(CheckSkipped, match="spend cap"):
            valid_requests_accepted(ctx, None)
    assert ctx.budget.tasks == 3 and len(submissions) == 3


def test_a_target_ignoring_scenarios_gets_skips_not_failures() -> None:
    def strip(target: Any, req: Req) -> Req:
        req.headers.pop("X-Mock-Scenario", None)
        return req

    with broken_target(Breakage(on_request=strip)) as url:
        result = run_suite(url, hypothesis_profile="live",
                           select=("failed_has", "fail_code", "callback_failure"))
    assert failed(result) == {}
    for outcome in result.outcomes:
        if outcome.check.name != "callback_mode_accepted":
            assert outcome.status == "skipped"
            assert "ignores X-Mock-Scenario" in outcome.reason(result.unavailable)


def test_callbacks_from_a_live_target_need_a_callback_url(no_remote_network: None) -> None:
    ctx = Context.create(Options(base_url=LIVE, api_key=KEY))
    with pytest.raises(CheckSkipped, match="--callback-url"):
        callback_mode_accepted(ctx, None)
    assert "--callback-url" in ctx.unavailable["callbacks"]


def test_callback_url_forwards_to_the_local_receiver() -> None:
    receiver = Receiver(public_url="https://hooks.example.com/fwd/").start()
    try:
        assert receiver.url_for("abc") == "https://hooks.example.com/fwd/flux2-callbacks/abc"
        assert receiver.local_url.startswith("http://127.0.0.1:")
    finally:
        receiver.stop()


def test_checks_that_create_no_task_run_first() -> None:
    answers: list[tuple[bool, int]] = []  # (had credentials, HTTP status) per submission

    def record(target: Any, req: Req, resp: Any) -> Any:
        if req.is_submit:
            answers.append(("Authorization" in req.headers, resp.status))
        return resp

    with broken_target(Breakage(on_response=record)) as url:
        result = run_suite(url, hypothesis_profile="live", scenarios=False,
                           select=("auth", "prompt_length", "enum", "invalid_requests"))
    assert failed(result) == {}
    first_task = next(i for i, (_, status) in enumerate(answers) if status == 200)
    assert first_task > 20
    assert all(status >= 400 for _, status in answers[:first_task])
    assert all(had_key for had_key, _ in answers[first_task:])
