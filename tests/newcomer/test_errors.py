"""Errors a person can act on: one or two lines naming the problem and the fix, exit 2."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mock_server.testing.fixture import InProcessMock
from tests.support.serve import mock_env

pytestmark = pytest.mark.e2e


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120,
                          env={**mock_env(), **(env or {})}, check=False)


def assert_actionable(done: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2, one or two lines on stderr holding `words`, no traceback, nothing on stdout."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert 1 <= len(lines) <= 2, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    for word in words:
        assert word in done.stderr, done.stderr


def test_a_busy_port_says_so_and_how_to_pick_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run("-m", "mock_server", "serve", "--port", str(port),
                   "--store", str(tmp_path / "t.db"))
    assert_actionable(done, f"port {port} on 127.0.0.1 is already in use", "--port")
    assert "Connection in use" not in done.stderr  # gunicorn never got to retry


def test_a_port_that_is_not_a_number_is_named_in_words(tmp_path: Path) -> None:
    done = run("-m", "mock_server", "serve", "--store", str(tmp_path / "t.db"),
               env={"FLUX2_MOCK_PORT": "abc"})
    assert_actionable(done, "environment: port must be a whole number, got 'abc'")
    assert "<class" not in done.stderr


def test_report_against_a_stopped_mock_says_to_start_one() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = run("-m", "mock_server", "report", "--base-url", f"http://127.0.0.1:{port}")
    assert_actionable(done, "is the mock stopped?", "make run")


def test_contract_suite_lists_its_checks_without_a_target() -> None:
    listed = run("-m", "contract_tests", "--list")
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) > 10
    refused = run("-m", "contract_tests")
    assert refused.returncode == 2 and "Missing option '--base-url'" in refused.stderr


def test_a_failing_assert_conformant_says_what_failed_first_and_last() -> None:
    mock = InProcessMock.start()
    try:
        mock.reset()
        message = impatient_failure(mock)
    finally:
        mock.close()
    lines = message.splitlines()
    assert lines[0].startswith("the client does not use the API as documented: "
                               "first-poll-too-early (warning:")
    assert lines[-1].startswith("FAILED: 1 rule(s) broken: 0 error(s), 1 warning(s)")
    assert "warnings=False" in lines[-1]
    assert "CONFORMANT: 0 error(s)" not in message  # the report's verdict counts errors only


def impatient_failure(mock: Any) -> str:
    import requests

    headers = {"Authorization": f"Bearer {mock.api_key}"}
    task = requests.post(mock.url("/api/v1/generateTask/flux-2"), headers=headers, timeout=10,
                         json={"request_type": "async", "input": {"prompt": "hurry"}})
    requests.get(mock.url("/api/v1/statusTask/flux-2"), headers=headers, timeout=10,
                 params={"taskId": task.json()["data"]["taskId"]})
    with pytest.raises(AssertionError) as failed:
        mock.assert_conformant()
    return str(failed.value)
