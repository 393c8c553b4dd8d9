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
            assert set(codes) <= {200, 503}, codes
            assert codes[503] >= 1  # the restart was felt ...
            for code, body in answers:
                if code == 503:
                    assert body["code"] == 503 and body["message"] == "Service unavailable"
                    assert "is unavailable" in body["data"]["error"]
            tail = [code for code, _ in answers[-20:]]
            assert tail.count(200) >= 15  # ... and service came back
            accepted = [body["data"]["taskId"] for code, body in answers if code == 200]
            missing = [t for t in accepted if status(mocks.url, t).status_code != 200]
            assert missing == []  # nothing accepted was lost
