"""Many instances, one state: two servers on one PostgreSQL database behind nginx.

Every test starts two `flux2-mock serve` processes (two workers each) on a fresh
database and nginx as a round-robin balancer in front of them.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.support.receiver import HANG, receiving
from tests.support.serve import auth, status, submit, text_request, wait_terminal

from .cluster import FAST_RETRIES, cluster, route_count

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
STATUS_ROUTE = "/api/v1/statusTask/<model>"
FREE, RICH = "free-key", "rich-key"
KEYS = ("--api-key", "flux2-mock-key", "--api-key", FREE, "--api-key", RICH)


def callback_request(url: str, prompt: str = "A lighthouse at dusk") -> dict[str, Any]:
    return {"request_type": "callback", "callback_url": url,
            "input": {"mode": "pro-text-to-image", "prompt": prompt, "aspect_ratio": "1:1",
                      "resolution": "1K"}}


def submit_all(base_url: str, bodies: list[dict[str, Any]], *, key: str = "flux2-mock-key",
               threads: int = 8) -> list[requests.Response]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda body: submit(base_url, body, key=key), bodies))


def test_a_client_flow_through_the_balancer_is_answered_by_both(pg_dsn: str) -> None:
    with receiving() as receiver, cluster(pg_dsn, "--profile", "fast",
                                          env=FAST_RETRIES) as mocks:
        accepted = submit(mocks.url, callback_request(receiver.url))
        assert accepted.status_code == 200, accepted.text
        task_id = accepted.json()["data"]["taskId"]
        polls = [status(mocks.url, task_id) for _ in range(6)]  # round-robin: 3 each
        assert {p.status_code for p in polls} == {200}
        time.sleep(1.5)  # each worker copies its counts to the store once a second
        counts = [route_count(m.base_url, STATUS_ROUTE) for m in mocks.instances]
        assert sum(counts) == 6 and min(counts) >= 2, counts  # both instances answered
        # Each instance shows its own counts; ?instances=all the total over both.
        assert [route_count(m.base_url, STATUS_ROUTE, scope="all")
                for m in mocks.instances] == [6, 6]
        data = wait_terminal(mocks.url, task_id)
        assert data["state"] == "success"
        for mock in mocks.instances:  # either instance knows the task and tells the same
            assert status(mock.base_url, task_id).json()["data"] == data
        image_url = json.loads(str(data["resultJson"]))["resultUrls"][0]
        assert image_url.startswith(mocks.url)  # the client's own address: the balancer's
        image = requests.get(image_url, timeout=10)
        assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
        [delivered] = receiver.wait_for(1)
        assert delivered.json()["data"] == data


def test_a_free_plan_holds_exactly_across_both_instances(pg_dsn: str) -> None:
    with cluster(pg_dsn, *KEYS, "--plan", f"{FREE}=free", "--pending-ms", "600000") as mocks:
        # 3 concurrent tasks: a burst of 8 submits lands 3, whichever instance takes each.
        answers = submit_all(mocks.url, [text_request(f"burst {n}") for n in range(8)], key=FREE)
        assert Counter(a.status_code for a in answers) == {200: 3, 429: 5}
        # 10 requests a minute: the 8 submits counted; 2 more pass of a burst of 6.
        with ThreadPoolExecutor(6) as pool:
            balances = list(pool.map(
                lambda _: requests.get(f"{mocks.url}/api/v1/apikeys/current-balance",
                                       headers=auth(FREE), timeout=10), range(6)))
        assert Counter(b.status_code for b in balances) == {200: 2, 429: 4}
        assert all(b.json()["code"] == 429 for b in balances if b.status_code == 429)


def test_credits_run_out_at_exactly_the_right_task(pg_dsn: str) -> None:
    with cluster(pg_dsn, *KEYS, "--balance", f"{RICH}=0.22", "--profile", "instant") as mocks:
        answers = submit_all(mocks.url, [text_request(f"paid {n}") for n in range(10)],
                             key=RICH)
        assert Counter(a.status_code for a in answers) == {200: 4, 402: 6}  # 4 x 0.05 USD
        for mock in mocks.instances:
            left = requests.get(f"{mock.base_url}/api/v1/apikeys/current-balance",
                                headers=auth(RICH), timeout=10).json()["data"]
            assert left == pytest.approx(0.02)
            spend = requests.get(f"{mock.base_url}/_mock/spend", params={"apiKey": RICH},
                                 timeout=10).json()
            assert spend["taskCount"] == 4


def test_500_callbacks_with_both_dispatchers_are_all_delivered(pg_dsn: str) -> None:
    with receiving() as receiver, cluster(pg_dsn, "--profile", "fast",
                                          env=FAST_RETRIES) as mocks:
        answers = submit_all(mocks.url, [callback_request(receiver.url, f"cb {n}")
                                         for n in range(500)])
        assert {a.status_code for a in answers} == {200}
        ids = [a.json()["data"]["taskId"] for a in answers]
        receiver.wait_for(500, timeout=120)
        got = Counter(p["data"]["taskId"] for p in receiver.payloads())
        assert set(got) == set(ids)  # every callback delivered
        duplicates = sum(n - 1 for n in got.values())
        print(f"\n500 callbacks, two instances: {duplicates} duplicate deliveries")
        assert duplicates == 0  # leases: one attempt per delivery while every holder lives


def _submit_retrying_502(url: str, body: dict[str, Any]) -> requests.Response:
    for _ in range(3):
        answer = submit(url, body)
        if answer.status_code != 502:
            break
    return answer


def _journal(base_url: str, task_id: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{base_url}/_mock/tasks/{task_id}/callbacks", timeout=10)
    assert answer.status_code == 200, answer.text
    deliveries: list[dict[str, Any]] = answer.json()["deliveries"]
    return deliveries


def test_sigkill_of_one_instance_loses_no_task_and_no_callback(pg_dsn: str) -> None:
    # The receiver holds the first 30 attempts unanswered: the instance that made them
    # dies holding their leases.
    with receiving([HANG] * 30) as receiver, cluster(pg_dsn, "--profile", "fast",
                                                     env=FAST_RETRIES) as mocks:
        victim, survivor = mocks.instances
        first = submit_all(mocks.url, [callback_request(receiver.url, f"a {n}")
                                       for n in range(60)])
        receiver.wait_for(30)
        victim.kill()
        # A POST nginx had sent down a kept-alive connection to the dead instance comes
        # back 502 (nginx never resends a POST): the client sends it again, as a client would.
        after = [_submit_retrying_502(mocks.url, callback_request(receiver.url, f"b {n}"))
                 for n in range(60)]
        answers = first + after
        assert {a.status_code for a in answers} == {200}  # nginx passed the dead one over
        ids = [a.json()["data"]["taskId"] for a in answers]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            states = [d["state"] for t in ids for d in _journal(survivor.base_url, t)]
            if states.count("delivered") == len(ids):
                break
            time.sleep(0.5)
        for task_id in ids:  # 0 tasks lost, 0 callbacks lost
            assert status(survivor.base_url, task_id).status_code == 200
            [delivery] = _journal(survivor.base_url, task_id)
            assert delivery["state"] == "delivered", (task_id, delivery)
        received = receiver.payloads()
        answered = Counter(p["data"]["taskId"] for p in received[30:])  # the held ones: none
        assert set(answered) == set(ids)
        duplicates = sum(n - 1 for n in answered.values())
        print(f"\nSIGKILL under load: {len(received)} requests for {len(ids)} callbacks; "
              f"{duplicates} answered twice (at least once: an attempt the dead instance made "
              f"but never journaled is made again)")
        assert duplicates <= 30  # only attempts in flight at the kill can repeat


def test_clock_and_reset_through_one_instance_are_seen_by_the_other(pg_dsn: str) -> None:
    with cluster(pg_dsn, "--profile", "fast") as mocks:
        a, b = mocks.instances
        task_id = submit(a.base_url, text_request()).json()["data"]["taskId"]
        moved = requests.post(f"{a.base_url}/_mock/clock/advance", json={"seconds": 3600},
                              timeout=10)
        assert moved.status_code == 200
        seen = requests.get(f"{b.base_url}/_mock/clock", timeout=10).json()
        assert seen["offsetMs"] == 3_600_000
        assert abs(seen["now"] - moved.json()["now"]) < 60_000
        assert status(b.base_url, task_id).json()["data"]["state"] == "success"
        assert requests.post(f"{b.base_url}/_mock/reset", timeout=10).status_code == 200
        assert status(a.base_url, task_id).status_code == 404
        assert requests.get(f"{a.base_url}/_mock/clock", timeout=10).json()["offsetMs"] == 0
