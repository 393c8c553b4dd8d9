"""One test file, two places, the same results: in-process and against `flux2-mock serve`.

The served mock is started with the command docs/conformance.md gives for it, and the
inner pytest run gets the arguments the same block shows.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.support.serve import serving

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.e2e

DOC = (Path(__file__).resolve().parents[2] / "docs" / "conformance.md").read_text("utf-8")

TESTS = '''
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from mock_server.examples.flux2_client import CallbackReceiver, Flux2Client, TaskTimedOut

JPEG = b"\\xff\\xd8"


def client_of(mock):
    return Flux2Client(mock.base_url, mock.api_key, sleep=mock.advance, clock=mock.now)


def test_success(flux2_mock):
    images = client_of(flux2_mock).generate("a red fox in the snow")
    assert images[0].startswith(JPEG)
    assert flux2_mock.count_requests("submit") == 1
    assert flux2_mock.count_requests("result") == 1
    polls = flux2_mock.requests("status")
    assert polls and all(r.status == 200 and r.kind == "status" for r in polls)
    flux2_mock.assert_conformant()


def test_failure_queued_for_the_next_submit(flux2_mock):
    assert flux2_mock.queue("fail:CONTENT_VIOLATION", count=1).remaining == 1
    client = client_of(flux2_mock)
    data = client.wait(client.submit("a cat on a mat"))
    assert (data["state"], data["failCode"]) == ("failed", "CONTENT_VIOLATION")
    task = flux2_mock.task(data["taskId"])
    assert [s.state for s in task.timeline] == ["pending", "processing", "failed"]
    assert task.reached("failed") and task.outcome == "failed"
    flux2_mock.assert_conformant()


def test_stuck_task_times_out_at_3_minutes(flux2_mock):
    client = client_of(flux2_mock)
    other = client.submit("another task")
    client.status(other)
    task_id = client.submit("never finishes", scenario="stuck")
    with pytest.raises(TaskTimedOut):
        client.wait(task_id)
    assert flux2_mock.task(task_id).state == "processing"
    polls = flux2_mock.requests("status", task_id=task_id)
    assert len(polls) >= 30 and {r.task_id for r in polls} == {task_id}
    assert flux2_mock.count_requests("status") == len(polls) + 1  # and the other task's
    flux2_mock.assert_conformant(ignore=("first-poll-too-early",))  # the other's early poll


def test_forced_outcome(flux2_mock):
    client = client_of(flux2_mock)
    task_id = client.submit("stop me", scenario="stuck")
    view = flux2_mock.force(task_id, "failed", "NSFW")
    assert (view.state, view.fail_code) == ("failed", "NSFW")
    assert client.status(task_id)["state"] == "failed"


def test_callback_made_by_the_time_advance_returns(flux2_mock):
    with CallbackReceiver() as receiver:
        task_id = client_of(flux2_mock).submit("a harbour", callback_url=receiver.url)
        flux2_mock.advance(60)
        assert receiver.payload(task_id)["data"]["state"] == "success"  # no waiting here
    attempts = flux2_mock.callback_attempts(task_id)
    assert [a.delivered for a in attempts] == [True]
    assert flux2_mock.task(task_id).callbacks == tuple(attempts)
    flux2_mock.assert_conformant()


class SlowReceiver(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(1.5)  # an attempt still in flight when a plain clock move would return
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_advance_returns_after_a_slow_receiver_answered(flux2_mock):
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        task_id = client_of(flux2_mock).submit("a slow receiver", callback_url=url)
        flux2_mock.advance(60)
        assert [a.delivered for a in flux2_mock.callback_attempts(task_id)] == [True]
    finally:
        server.shutdown()
        server.server_close()


def test_impatient_client_is_flagged(flux2_mock):
    client = client_of(flux2_mock)
    client.status(client.submit("hurry up"))  # the first poll at once, not after 15 s
    assert [f["rule"] for f in flux2_mock.findings()] == ["first-poll-too-early"]
    with pytest.raises(AssertionError, match="first-poll-too-early"):
        flux2_mock.assert_conformant()
'''


def documented_commands() -> tuple[list[str], list[str]]:
    """Return the serve arguments and the pytest arguments docs/conformance.md gives."""
    block = next(b for b in re.findall(r"```(?:sh|bash)\n(.*?)```", DOC, re.DOTALL)
                 if "--flux2-mock-url" in b)
    serve_line, pytest_line = [line for line in block.splitlines()
                               if line.strip() and not line.startswith("#")]
    serve_words, pytest_words = shlex.split(serve_line), shlex.split(pytest_line)
    assert serve_words[:2] == ["flux2-mock", "serve"] and pytest_words[0] == "pytest"
    return serve_words[2:], pytest_words[1:]


def test_the_same_file_passes_in_process(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_client=TESTS)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=7)


def test_the_same_file_passes_against_serve_started_as_documented(
        pytester: pytest.Pytester) -> None:
    serve_args, pytest_args = documented_commands()
    pytester.makepyfile(test_client=TESTS)
    with serving(*serve_args) as server:
        args = [a.replace("http://127.0.0.1:8000", server.base_url) for a in pytest_args]
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=7)
