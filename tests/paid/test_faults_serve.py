"""Server faults as a client meets them, through real sockets against `flux2-mock serve`."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from werkzeug.serving import make_server

from tests.support.apps import make_app
from tests.support.serve import ServeProcess, auth, serving, status, submit, text_request

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server() -> Iterator[ServeProcess]:
    with serving("--profile", "instant", "--store", "memory", "--seed", "5") as started:
        yield started


@pytest.fixture(scope="module")
def task_id(server: ServeProcess) -> str:
    answer: str = submit(server.base_url, text_request()).json()["data"]["taskId"]
    return answer


def status_with(server: ServeProcess, task_id: str, scenario: str) -> requests.Response:
    """Read a task's status with `X-Mock-Scenario: <scenario>`."""
    return requests.get(server.url("/api/v1/statusTask/flux-2"), params={"taskId": task_id},
                        headers={**auth(), "X-Mock-Scenario": scenario}, timeout=10)


def task_count(server: ServeProcess) -> int:
    spend = requests.get(server.url("/_mock/spend"), params={"tasks": "0"}, timeout=10).json()
    return int(spend["taskCount"])


@pytest.mark.parametrize("code", [500, 503])
def test_http_faults_answer_in_the_documented_envelope(server: ServeProcess, task_id: str,
                                                       code: int) -> None:
    before = task_count(server)
    on_submit = submit(server.base_url, text_request(), scenario=f"http={code}")
    on_status = status_with(server, task_id, f"http={code}")
    for answer in (on_submit, on_status):
        assert answer.status_code == code
        body = answer.json()
        assert body["code"] == code and body["message"]
        assert body["data"]["error"] == f"fault injected on request: http={code}"
    assert task_count(server) == before  # the request never reached the API


def test_close_drops_the_connection_and_the_workers_live_on(server: ServeProcess,
                                                            task_id: str) -> None:
    before = task_count(server)
    for _ in range(6):  # more drops than there are workers
        with pytest.raises(requests.ConnectionError):
            submit(server.base_url, text_request(), scenario="close")
        with pytest.raises(requests.ConnectionError):
            status_with(server, task_id, "close")
    assert task_count(server) == before
    for _ in range(4):
        assert status(server.base_url, task_id).status_code == 200
    assert server.proc is not None and server.proc.poll() is None
    log = "".join(server.output)
    assert "Traceback" not in log and "exited" not in log, log


def test_truncate_cuts_the_body_short_of_its_content_length(server: ServeProcess,
                                                            task_id: str) -> None:
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        status_with(server, task_id, "truncate")
    # Read with http.client, what arrives is the start of the real answer, then the end.
    address = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    conn.request("GET", f"/api/v1/statusTask/flux-2?taskId={task_id}",
                 headers={**auth(), "X-Mock-Scenario": "truncate"})
    answer = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead) as caught:
        answer.read()
    conn.close()
    assert caught.value.partial.startswith(b'{"code":200,"message":"success"')
    assert 0 < len(caught.value.partial) < int(answer.getheader("Content-Length") or 0)


def test_malformed_answers_200_with_a_body_that_is_not_json(server: ServeProcess,
                                                           task_id: str) -> None:
    answer = status_with(server, task_id, "malformed")
    assert answer.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        answer.json()


def test_latency_adds_at_least_the_asked_delay(server: ServeProcess, task_id: str) -> None:
    started = time.monotonic()
    answer = submit(server.base_url, text_request(), scenario="latency=300")
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    answer = status_with(server, task_id, "latency=200")
    assert answer.status_code == 200 and answer.json()["data"]["taskId"] == task_id
    assert time.monotonic() - started >= 0.2


def test_an_unknown_token_on_a_status_request_is_a_400(server: ServeProcess,
                                                       task_id: str) -> None:
    answer = status_with(server, task_id, "http=503; explode")
    assert answer.status_code == 400
    assert "'explode'" in answer.json()["data"]["error"]


def observe(server: ServeProcess, requests_count: int = 40) -> list[str]:
    """Send a fixed sequence of submits and status reads; return what each one met."""
    seen = []
    for n in range(requests_count):
        try:
            if n % 2 == 0:
                answer = submit(server.base_url, text_request())
            else:
                answer = status(server.base_url, "task_0000000000000000")
            kind = f"http {answer.status_code}"
            answer.json()
        except requests.ConnectionError as exc:
            kind = "truncated" if isinstance(exc, requests.exceptions.ChunkedEncodingError) \
                else "closed"
        except requests.exceptions.ChunkedEncodingError:
            kind = "truncated"
        except requests.exceptions.JSONDecodeError:
            kind = "malformed"
        seen.append(kind)
    return seen


def test_a_fault_rate_under_a_seed_gives_the_same_faults_on_every_run() -> None:
    runs = []
    for seed in ("42", "42", "43"):
        with serving("--fault-rate", "0.1", "--seed", seed, "--store", "memory",
                     "--profile", "instant") as fresh:
            runs.append(observe(fresh))
    first, second, other_seed = runs
    assert first == second
    assert first != other_seed
    normal = {"http 200", "http 404"}
    faulted = [n for n, kind in enumerate(first) if kind not in normal]
    assert 1 <= len(faulted) <= 12, first  # about 10 % of 40
    assert set(first) - normal <= {"http 500", "http 503", "closed", "truncated", "malformed"}


def test_close_and_truncate_also_work_under_werkzeugs_server() -> None:
    """`flask run` and other werkzeug-served set-ups drop and cut connections the same way."""
    app = make_app({"store": "memory", "profile": "instant"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    try:
        with pytest.raises(requests.ConnectionError):
            submit(base_url, text_request(), scenario="close")
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            submit(base_url, text_request(), scenario="truncate")
        assert submit(base_url, text_request()).status_code == 200
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
