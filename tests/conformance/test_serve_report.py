"""Against `flux2-mock serve` processes: the journal across workers, and `flux2-mock report`."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import requests
from flux2_client import CallbackReceiver, Flux2Client

from tests.support.serve import DEFAULT_KEY, auth, serving, status, submit, text_request

pytestmark = pytest.mark.e2e
FAST = 0.01  # the `fast` profile's time_scale: 15 s -> 150 ms, 5 s -> 50 ms, 3 min -> 1.8 s


def journal_rows(store: Path) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(store)) as conn:
        return conn.execute("SELECT * FROM journal ORDER BY seq").fetchall()


def report(base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mock_server", "report", "--base-url",
                           base_url, *args], capture_output=True, text=True, timeout=60)


def misbehave(base_url: str) -> str:
    """Submit, then poll at once and in a tight loop, well past the end; one request sans key."""
    task_id = submit(base_url, text_request()).json()["data"]["taskId"]
    for _ in range(12):
        status(base_url, task_id)
        time.sleep(0.005)
    deadline = time.monotonic() + 10
    while status(base_url, task_id).json()["data"]["state"] != "success":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    for _ in range(3):
        status(base_url, task_id)
    return str(task_id)


def test_reference_client_passes_and_a_misbehaving_one_fails_in_ci(tmp_path: Path) -> None:
    with serving("--profile", "fast", "--workers", "2", store=tmp_path / "t.db") as mock:
        Flux2Client(mock.base_url, DEFAULT_KEY, time_scale=FAST).generate("a red fox")
        good = report(mock.base_url, "--api-key", DEFAULT_KEY)
        assert good.returncode == 0, good.stdout + good.stderr
        assert "CONFORMANT: 0 error(s), 0 warning(s)" in good.stdout
        assert DEFAULT_KEY not in good.stdout

        misbehave(mock.base_url)
        warned = report(mock.base_url, "--api-key", DEFAULT_KEY)
        assert warned.returncode == 0  # warnings alone do not fail CI
        for rule in ("first-poll-too-early", "poll-too-frequent", "finished-task-repolled"):
            assert f"WARNING {rule}:" in warned.stdout

        requests.get(mock.url("/api/v1/statusTask/flux-2?taskId=task_x"), timeout=5)
        failed = report(mock.base_url)  # every key: the request without one included
        assert failed.returncode == 1
        assert "ERROR auth-missing: 1 request(s)" in failed.stdout
        assert failed.stdout.rstrip().endswith("NOT CONFORMANT: 1 error(s), 3 warning(s)")


def test_every_worker_journals_every_request_and_no_key_in_full(tmp_path: Path) -> None:
    store = tmp_path / "t.db"
    with serving("--profile", "instant", "--workers", "2", store=store) as mock:
        for _ in range(30):
            status(mock.base_url, "task_missing")
        found = requests.get(mock.url("/_mock/conformance"), timeout=30,
                             headers={"X-Flux2-Api-Key": DEFAULT_KEY}).json()
        assert found["requests"] == 30
        assert found["findings"][0]["rule"] == "unknown-task-polled"
        assert found["findings"][0]["count"] == 30
    rows = journal_rows(store)
    assert len(rows) == 30
    assert DEFAULT_KEY not in repr(rows)
    assert json.loads(rows[0][-1])["Authorization"] == "Bearer flu…key"  # headers_json


def test_entries_buffered_at_shutdown_are_written(tmp_path: Path) -> None:
    store = tmp_path / "t.db"
    with serving("--profile", "instant", "--workers", "1", store=store) as mock:
        for _ in range(5):
            requests.get(mock.url("/api/v1/statusTask/flux-2"), headers=auth(), timeout=5)
        assert mock.stop() == 0  # SIGTERM at once: within the flush interval
    assert len(journal_rows(store)) == 5


def test_callback_client_is_conformant_against_serve(tmp_path: Path) -> None:
    env = {"FLUX2_MOCK_CONFORMANCE_CALLBACK_EXEMPT_HOSTS": "loopback",
           # A loaded CI machine may take longer than the scaled 300 ms to answer on loopback.
           "FLUX2_MOCK_CONFORMANCE_CALLBACK_TIMEOUT_S": "1000"}
    with serving("--profile", "fast", env=env, store=tmp_path / "t.db") as mock, \
            CallbackReceiver() as receiver:
        client = Flux2Client(mock.base_url, DEFAULT_KEY, time_scale=FAST)
        assert client.generate_with_callback("a harbour", receiver)[0][:2] == b"\xff\xd8"
        found: dict[str, Any] = requests.get(mock.url("/_mock/conformance"), timeout=30).json()
        assert found["findings"] == [], found["findings"]
        assert found["thresholds"]["timeScale"] == FAST


def test_report_shows_the_spend_meter_and_no_key_in_full(tmp_path: Path) -> None:
    with serving("--profile", "instant", store=tmp_path / "t.db") as mock:
        for resolution in ("1K", "2K"):  # pro text-to-image: $0.05 and $0.07 (prices.json)
            assert submit(mock.base_url, text_request(resolution=resolution)).status_code == 200
        shown = report(mock.base_url, "--api-key", DEFAULT_KEY)
        as_json = report(mock.base_url, "--api-key", DEFAULT_KEY, "--json")
    assert "spend: $0.12 for 2 tasks" in shown.stdout
    assert json.loads(as_json.stdout)["spend"]["totalUsd"] == 0.12
    assert DEFAULT_KEY not in shown.stdout + as_json.stdout


def test_report_of_an_unreachable_mock_exits_2() -> None:
    result = report("http://127.0.0.1:9")
    assert result.returncode == 2
    assert "cannot reach http://127.0.0.1:9/_mock/conformance" in result.stderr


def test_report_sends_the_admin_token_a_guarded_control_plane_needs(tmp_path: Path) -> None:
    with serving("--profile", "instant", "--admin-token", "admin-secret-123",
                 store=tmp_path / "t.db") as mock:
        refused = report(mock.base_url)
        assert refused.returncode == 2 and "answered 401" in refused.stderr
        allowed = report(mock.base_url, "--admin-token", "admin-secret-123", "--json")
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["conformant"] is True
    assert "admin-secret-123" not in refused.stderr + allowed.stdout
