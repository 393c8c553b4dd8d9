"""No hidden state across runs: reset means reset, a restart applies the configuration afresh,
and `serve` says what an earlier run left and how to start clean."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.support.serve import ServeProcess, auth, serving, status, submit, text_request

pytestmark = pytest.mark.e2e
PAID = ("--profile", "instant", "--api-key", "free-key", "--api-key", "paid-key",
        "--plan", "free-key=free", "--balance", "paid-key=0.12")


def balance(base_url: str) -> float:
    answer = requests.get(f"{base_url}/api/v1/apikeys/current-balance", headers=auth("paid-key"),
                          timeout=10).json()
    return float(answer["data"])


def use_everything_up(base_url: str) -> str:
    """Hit the free plan's limit, spend the balance, move the clock, change settings, queue."""
    codes = [submit(base_url, text_request(), key="free-key").status_code for _ in range(11)]
    assert codes == [200] * 10 + [429]
    codes = [submit(base_url, text_request(), key="paid-key").status_code for _ in range(3)]
    assert codes == [200, 200, 402]
    kept = submit(base_url, text_request("kept across runs"), key="paid-key")
    assert kept.status_code == 402
    control = f"{base_url}/_mock"
    assert requests.post(f"{control}/clock/advance", json={"seconds": 60}, timeout=10).ok
    assert requests.patch(f"{control}/settings", json={"failure_rate": 1.0}, timeout=10).ok
    assert requests.post(f"{control}/scenario-queue", json={"scenario": "stuck", "count": 5},
                         timeout=10).ok
    task_id: str = requests.get(f"{control}/tasks?limit=1", timeout=10).json()["tasks"][0][
        "taskId"]
    return task_id


def assert_configured_afresh(base_url: str) -> None:
    assert submit(base_url, text_request(), key="free-key").status_code == 200
    assert balance(base_url) == 0.12
    settings = requests.get(f"{base_url}/_mock/settings", timeout=10).json()
    assert settings["failure_rate"] == 0.0 and settings["overrides"] == {}
    assert requests.get(f"{base_url}/_mock/scenario-queue", timeout=10).json()["queue"] == []


def test_reset_returns_the_clock_and_restores_rates_balances_and_settings(tmp_path: Path) -> None:
    with serving(*PAID, store=tmp_path / "tasks.sqlite3") as server:
        use_everything_up(server.base_url)
        done = requests.post(server.url("/_mock/reset"), timeout=10).json()["reset"]
        assert {"clock", "paid", "runtime", "store", "outbox", "journal"} <= set(done)
        assert requests.get(server.url("/_mock/clock"), timeout=10).json()["offsetMs"] == 0
        assert_configured_afresh(server.base_url)


def test_a_restart_keeps_tasks_renews_the_configuration_and_says_what_is_left(
        tmp_path: Path) -> None:
    store = tmp_path / "tasks.sqlite3"
    with serving(*PAID, store=store) as server:
        task_id = use_everything_up(server.base_url)
        banner = "".join(server.output)
        assert "the store holds" not in banner and "/_mock/ui" in banner

    with serving(*PAID, store=store) as server:
        banner = "".join(server.output)
        assert "the store holds 12 tasks from earlier runs" in banner
        assert "the clock 60 s ahead of real time" in banner
        assert "--fresh" in banner and "POST /_mock/reset" in banner
        assert_configured_afresh(server.base_url)  # rates, charges, overrides, queue: renewed
        kept = status(server.base_url, task_id, key="free-key")  # tasks: kept, answered
        assert kept.status_code == 200 and kept.json()["data"]["state"] == "success"
        assert requests.get(server.url("/_mock/clock"), timeout=10).json()["offsetMs"] == 60_000

    fresh = ServeProcess(*PAID, "--fresh", store=store).start()
    try:
        assert "the store holds" not in "".join(fresh.output)
        assert requests.get(fresh.url("/_mock/journal"), timeout=10).json()["entries"] == []
        assert requests.get(fresh.url("/_mock/clock"), timeout=10).json()["offsetMs"] == 0
        assert status(fresh.base_url, task_id, key="free-key").status_code == 404
    finally:
        fresh.kill()
