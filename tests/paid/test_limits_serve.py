"""Plans through real HTTP against `flux2-mock serve`: bursts, slots, stuck tasks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.paid.keys import FREE, KEYS, PRO, RICH
from tests.support.serve import ServeProcess, auth, serving, status, submit, text_request

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server() -> Iterator[ServeProcess]:
    with serving(*KEYS, "--plan", f"{FREE}=free", "--plan", f"{PRO}=pro",
                 "--profile", "instant", "--store", "memory", "--seed", "3") as started:
        yield started


def spend_tasks(server: ServeProcess, key: str) -> int:
    spend = requests.get(server.url("/_mock/spend"), params={"apiKey": key, "tasks": "0"},
                         timeout=10).json()
    return int(spend["taskCount"])


def test_a_burst_on_free_gets_exactly_ten_through_then_429s(server: ServeProcess) -> None:
    answers = [submit(server.base_url, text_request(), key=FREE) for _ in range(13)]
    assert [a.status_code for a in answers] == [200] * 10 + [429] * 3
    for refused in answers[10:]:
        body = refused.json()
        assert (body["code"], body["message"]) == (429, "Too many requests")
        assert "the free plan allows 10 requests per minute" in body["data"]["error"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert spend_tasks(server, FREE) == 10  # the refused submissions created nothing
    # The status endpoint counts against the same window.
    task_id = answers[0].json()["data"]["taskId"]
    assert status(server.base_url, task_id, key=FREE).status_code == 429
    assert submit(server.base_url, text_request(), key=RICH).status_code == 200


def test_pro_runs_ten_slow_tasks_at_once_and_the_eleventh_waits(server: ServeProcess) -> None:
    slow = "processing=1500"
    accepted = [submit(server.base_url, text_request(), key=PRO, scenario=slow)
                for _ in range(10)]
    assert [a.status_code for a in accepted] == [200] * 10
    refused = submit(server.base_url, text_request(), key=PRO, scenario=slow)
    assert refused.status_code == 429
    assert "10 concurrent tasks" in refused.json()["data"]["error"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    assert spend_tasks(server, PRO) == 10
    # Once the first task ends a slot is free (bounded: a few more requests of 60/min).
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        retry = submit(server.base_url, text_request(), key=PRO)
        if retry.status_code == 200:
            break
        assert retry.status_code == 429
        time.sleep(float(retry.headers["Retry-After"]) / 2)
    assert retry.status_code == 200


def test_balance_requests_answer_on_every_plan(server: ServeProcess) -> None:
    answer = requests.get(server.url("/api/v1/apikeys/current-balance"), headers=auth(RICH),
                          timeout=10)
    assert answer.json() == {"code": 200, "message": "success", "data": 1_000_000.0}


def test_a_stuck_task_occupies_its_slot() -> None:
    with serving("--api-key", FREE, "--plan", f"{FREE}=free", "--store", "memory") as server:
        for _ in range(3):
            assert submit(server.base_url, text_request(), key=FREE,
                          scenario="stuck").status_code == 200
        refused = submit(server.base_url, text_request(), key=FREE)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "60"  # no slot will ever free itself


def test_parallel_bursts_across_workers_never_exceed_a_limit() -> None:
    """Both worker processes admit at once: the shared store must keep every count exact."""
    with serving(*KEYS, "--plan", f"{FREE}=free", "--plan", f"{PRO}=pro",
                 "--balance", f"{RICH}=0.20", "--store", "memory", "--workers", "2") as server:

        def burst(key: str, count: int, scenario: str | None = None) -> list[int]:
            with ThreadPoolExecutor(max_workers=8) as pool:
                answers = pool.map(lambda _: submit(server.base_url, text_request(), key=key,
                                                    scenario=scenario), range(count))
                return sorted(a.status_code for a in answers)

        assert burst(FREE, 16, "processing=0;pending=0") == [200] * 10 + [429] * 6
        assert burst(PRO, 16, "stuck") == [200] * 10 + [429] * 6
        assert burst(RICH, 8) == [200] * 4 + [402] * 4  # 0.20 pays for four 0.05 tasks
        assert spend_tasks(server, FREE) + spend_tasks(server, PRO) + spend_tasks(
            server, RICH) == 24
