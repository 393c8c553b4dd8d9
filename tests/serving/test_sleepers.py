"""Latency sleepers are counted and capped; over the cap a fault is a 503 at once."""

from __future__ import annotations

import threading

import pytest

from mock_server.paid import faults, sleepers


def test_sleepers_are_counted_and_capped() -> None:
    pool = sleepers.Sleepers(sleepers=2)
    asleep = threading.Barrier(3)
    results: list[bool] = []

    def sleeper() -> None:
        asleep.wait()
        results.append(pool.sleep(0.5))

    threads = [threading.Thread(target=sleeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    asleep.wait()
    deadline = threading.Event()
    while pool.sleeping < 2 and not deadline.wait(0.01):
        pass
    assert pool.sleep(10) is False  # a third is refused at once, not after 10 s
    for thread in threads:
        thread.join(5)
    assert results == [True, True]
    assert pool.sleeping == 0


def test_over_the_cap_a_latency_fault_is_a_503_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sleepers, "current", sleepers.Sleepers(sleepers=0))
    with pytest.raises(faults.TooManySleepers) as caught:
        faults.pause(10_000)
    assert caught.value.status == 503
    assert caught.value.headers == {"Retry-After": "1"}
    assert "at most 0 per worker" in str(caught.value)


def test_latency_beyond_the_maximum_is_refused_naming_it() -> None:
    with pytest.raises(faults.InvalidRequest) as caught:
        faults.requested(f"latency={faults.MAX_LATENCY_MS + 1}", None)
    error = caught.value.data["errors"][0]  # type: ignore[index]
    assert error["field"] == "X-Mock-Scenario" and error["rule"] == "latency"
    assert str(faults.MAX_LATENCY_MS) in error["message"]
    assert faults.requested(f"latency={faults.MAX_LATENCY_MS}", None).latency_ms == 60_000
    with pytest.raises(ValueError, match="at most 60000"):
        faults.fault_kinds(["latency=60001"])
