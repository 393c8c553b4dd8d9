"""PostgreSQL restarted under load: clear 503 envelopes while it is away, then service resumes.

Nothing accepted is lost: a submit answers 200 only after its transaction committed.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
import requests

from tests.support.postgres import postgres
from tests.support.serve import status, submit, text_request

from .cluster import cluster

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_database_restart_under_load_answers_503_then_recovers() -> None:
    with postgres() as server:
        dsn = server.create_database("restarted")
        with cluster(dsn, "--profile", "fast") as mocks:
            answers: list[tuple[int, Any]] = []
            stop = threading.Event()

            def load() -> None:
                n = 0
                while not stop.is_set() and n < 5000:
                    n += 1
                    try:
                        reply = submit(mocks.url, text_request(f"load {n}"), timeout=15)
                    except requests.RequestException as exc:  # never expected: counted
                        answers.append((-1, repr(exc)))
                        continue
                    body = reply.json()
                    answers.append((reply.status_code, body))

            workers = [threading.Thread(target=load) for _ in range(4)]
            for worker in workers:
                worker.start()
            time.sleep(1.0)
            server.restart()
            time.sleep(2.0)  # load goes on against the restarted database
            stop.set()
            for worker in workers:
                worker.join(60)

            codes = Counter(code for code, _ in answers)
            print(f"\nPostgreSQL restart under load: {dict(codes)}")
            # In flight during the restart a request may fail, as a 503 envelope; most
            # wait for the pool's new connection instead and succeed.
            assert set(codes) <= {200, 503}, codes
            for code, body in answers:
                if code == 503:
                    _assert_unavailable(body)
            tail = [code for code, _ in answers[-20:]]
            assert tail.count(200) >= 15  # service resumed
            accepted = [body["data"]["taskId"] for code, body in answers if code == 200]

            # A database that stays away: every request answers 503 (after the pool's
            # wait), nothing else; back again, service resumes by itself.
            server.stop()
            down = [submit(mocks.url, text_request("while down"), timeout=30),
                    status(mocks.url, accepted[0], timeout=30)]
            assert [d.status_code for d in down] == [503, 503]
            for answer in down:
                _assert_unavailable(answer.json())
                assert answer.headers["Retry-After"] == "1"
            server.start()
            assert _recovered(mocks.url)
            checked = {t: _status_when_up(mocks.url, t) for t in accepted}
            missing = [(t, a.status_code, a.text[:300]) for t, a in checked.items()
                       if a.status_code != 200]
            assert missing == []  # nothing accepted was lost


def _recovered(url: str, within_s: float = 30.0) -> bool:
    """Submit until one is accepted, as a client honouring Retry-After does (bounded)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        answer = submit(url, text_request("after"), timeout=30)
        if answer.status_code == 200:
            return True
        _assert_unavailable(answer.json())
        time.sleep(float(answer.headers["Retry-After"]))
    return False


def _status_when_up(url: str, task_id: str) -> requests.Response:
    """The task's status; a 503 (a worker's pool still reconnecting) is asked again."""
    for _ in range(30):
        answer = status(url, task_id, timeout=30)
        if answer.status_code != 503:
            return answer
        time.sleep(1)
    return answer


def _assert_unavailable(body: dict[str, Any]) -> None:
    assert (body["code"], body["message"]) == (503, "Service unavailable")
    assert body["data"]["error"].startswith("store postgresql://")
    assert "is unavailable" in body["data"]["error"]
