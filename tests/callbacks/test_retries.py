"""Retries as apixo documents them: no 200 within the time-out -> after 30 s, 2 min, 10 min."""

from __future__ import annotations

import pytest

from mock_server.callbacks import dispatcher as dispatcher_module
from mock_server.callbacks.dispatcher import RetryPolicy
from mock_server.config import load_settings
from mock_server.domain.profiles import get_profile
from tests.support.mock_client import MakeMock, MockClient, callback_body
from tests.support.receiver import HANG, Receiver, receiving, unused_port_url


def test_a_500_is_retried_after_30_s_and_the_retry_gets_through(mock: MockClient) -> None:
    with receiving([500]) as receiver:
        task_id = mock.task(callback_body(receiver.url))
        assert mock.advance_and_deliver(1) == 1
        assert mock.advance_and_deliver(29.999) == 0  # not a millisecond early
        assert mock.advance_and_deliver(0.001) == 1
        first, second = receiver.wait_for(2)
        assert first.json() == second.json()
        delivery = mock.callbacks(task_id)["deliveries"][0]
        assert [a["status"] for a in delivery["attempts"]] == [500, 200]
        assert delivery["attempts"][1]["time"] - delivery["attempts"][0]["time"] == 30_000
        assert delivery["state"] == "delivered"
        assert mock.advance_and_deliver(3600) == 0


def test_a_hanging_receiver_is_retried_after_the_time_out(make_mock: MakeMock) -> None:
    mock = make_mock(callback_timeout_s=0.3)
    with receiving([HANG]) as receiver:
        task_id = mock.task(callback_body(receiver.url))
        assert mock.advance_and_deliver(1) == 1
        assert mock.advance_and_deliver(30) == 1
        attempts = mock.callbacks(task_id)["deliveries"][0]["attempts"]
        assert attempts[0]["status"] is None
        assert attempts[0]["error"] == "no answer within 0.3 s"
        assert attempts[0]["latencyMs"] >= 300
        assert attempts[1]["status"] == 200
        assert len(receiver.received) == 2


def test_a_receiver_that_is_down_exhausts_the_schedule(mock: MockClient) -> None:
    url = unused_port_url()
    task_id = mock.task(callback_body(url))
    assert mock.advance_and_deliver(1) == 1
    for wait in (30, 120, 600):
        assert mock.advance_and_deliver(wait - 0.001) == 0
        assert mock.advance_and_deliver(0.001) == 1
    assert mock.advance_and_deliver(86_400) == 0  # abandoned: never tried again
    delivery = mock.callbacks(task_id)["deliveries"][0]
    assert delivery["state"] == "abandoned"
    assert delivery["dueTime"] is None
    attempts = delivery["attempts"]
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4]
    assert all(a["status"] is None and a["error"].startswith("connection error")
               and a["url"] == url for a in attempts)
    start = attempts[0]["time"]
    assert [a["time"] - start for a in attempts] == [0, 30_000, 150_000, 750_000]
    assert mock.data(task_id)["state"] == "success"  # polling still works


def test_the_journal_shows_when_the_next_attempt_is_due(mock: MockClient) -> None:
    task_id = mock.task(callback_body(unused_port_url()))
    mock.advance_and_deliver(1)
    delivery = mock.callbacks(task_id)["deliveries"][0]
    assert delivery["state"] == "waiting"
    assert delivery["dueTime"] == delivery["attempts"][0]["time"] + 30_000


def test_retry_count_and_schedule_are_settings(make_mock: MakeMock) -> None:
    mock = make_mock(callback_retry_s="5", callback_max_retries=1)
    task_id = mock.task(callback_body(unused_port_url()))
    assert mock.advance_and_deliver(1) == 1
    assert mock.advance_and_deliver(5) == 1
    assert mock.advance_and_deliver(600) == 0
    assert mock.callbacks(task_id)["deliveries"][0]["state"] == "abandoned"


def test_the_policy_follows_the_webhooks_page_by_default_on_realistic() -> None:
    policy = RetryPolicy.from_settings(load_settings(env={}, overrides={"profile": "realistic"}),
                                       get_profile("realistic"))
    assert policy == RetryPolicy((30_000, 120_000, 600_000), 30_000, 3)
    assert [policy.wait_after(n) for n in (1, 2, 3, 4)] == [30_000, 120_000, 600_000, None]


def test_fast_and_instant_profiles_compress_the_schedule_into_seconds() -> None:
    for name in ("fast", "instant"):
        profile = get_profile(name)
        policy = RetryPolicy.from_settings(load_settings(env={}, overrides={"profile": name}),
                                           profile)
        assert sum(policy.delays_ms) + 4 * policy.timeout_ms <= 20_000
        assert len(policy.delays_ms) == 3


def test_a_schedule_shorter_than_the_retries_repeats_its_last_wait() -> None:
    policy = RetryPolicy((1_000, 2_000), 500, 4)
    assert [policy.wait_after(n) for n in range(1, 6)] == [1_000, 2_000, 2_000, 2_000, None]


def test_an_internal_error_is_journaled_and_retried_not_looped(
        mock: MockClient, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("the store fell over")

    task_id = mock.task(callback_body(receiver.url))
    monkeypatch.setattr(dispatcher_module, "task_data", broken)
    assert mock.advance_and_deliver(1) == 1
    monkeypatch.undo()
    (attempt,) = mock.callbacks(task_id)["deliveries"][0]["attempts"]
    assert attempt["error"] == "internal error: RuntimeError: the store fell over"
    assert receiver.received == []
    assert mock.advance_and_deliver(30) == 1
    assert len(receiver.wait_for(1)) == 1
