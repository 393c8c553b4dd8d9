"""The control plane of a real `flux2-mock serve` with 2 workers: every change reaches both."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.serve import ServeProcess, serving, status, submit, text_request, worker_count

pytestmark = pytest.mark.e2e
READS = 12  # enough reads that both workers answer some (sync workers share one socket)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    store = tmp_path_factory.mktemp("control") / "tasks.sqlite3"
    with serving("--workers", "2", "--pending-ms", "0", "--processing-ms", "60000",
                     "--seed", "11", store=store) as proc:
        yield proc


@pytest.fixture(autouse=True)
def clean(server: ServeProcess) -> None:
    assert requests.post(server.url("/_mock/reset"), timeout=10).ok


def control(server: ServeProcess, method: str, path: str, **kwargs: object) -> requests.Response:
    return requests.request(method, server.url(path), timeout=10, **kwargs)  # type: ignore[arg-type]


def new_task(server: ServeProcess, scenario: str | None = None) -> str:
    response = submit(server.base_url, text_request(), scenario=scenario)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["data"]["taskId"]
    return task_id


def states(server: ServeProcess, task_id: str) -> set[str]:
    return {status(server.base_url, task_id).json()["data"]["state"] for _ in range(READS)}


def test_the_server_runs_two_workers(server: ServeProcess) -> None:
    # What the other tests show only means something if two processes answer them.
    assert worker_count(server, 2) == 2


def test_advancing_the_clock_moves_time_for_every_worker(server: ServeProcess) -> None:
    task_id = new_task(server)
    assert states(server, task_id) == {"processing"}
    before = control(server, "GET", "/_mock/clock").json()
    moved = control(server, "POST", "/_mock/clock/advance", json={"seconds": 61}).json()
    assert moved["offsetMs"] >= before["offsetMs"] + 61_000
    assert states(server, task_id) == {"success"}
    offsets = {control(server, "GET", "/_mock/clock").json()["offsetMs"] for _ in range(READS)}
    assert offsets == {moved["offsetMs"]}


def test_forcing_a_failure_shows_on_every_worker(server: ServeProcess) -> None:
    task_id = new_task(server)
    forced = control(server, "POST", f"/_mock/tasks/{task_id}/force",
                     json={"outcome": "failed", "failCode": "NSFW"})
    assert forced.status_code == 200 and forced.json()["state"] == "failed"
    assert states(server, task_id) == {"failed"}
    again = control(server, "POST", f"/_mock/tasks/{task_id}/force", json={"outcome": "success"})
    assert again.status_code == 409


def test_the_scenario_queue_is_shared_by_the_workers(server: ServeProcess) -> None:
    made = control(server, "POST", "/_mock/scenario-queue",
                   json={"scenario": "fail:CONTENT_VIOLATION; processing=0", "count": 3})
    assert made.status_code == 201
    tasks = [new_task(server) for _ in range(5)]
    finals = [status(server.base_url, t).json()["data"] for t in tasks]
    assert [d["state"] for d in finals] == ["failed"] * 3 + ["processing"] * 2
    assert {d.get("failCode") for d in finals[:3]} == {"CONTENT_VIOLATION"}
    assert control(server, "GET", "/_mock/scenario-queue").json()["queue"] == []


def test_run_time_settings_reach_every_worker(server: ServeProcess) -> None:
    changed = control(server, "PATCH", "/_mock/settings", json={"profile": "instant",
                                                                 "failure_rate": 1.0})
    assert changed.status_code == 200
    tasks = [new_task(server) for _ in range(6)]
    assert {status(server.base_url, t).json()["data"]["state"] for t in tasks} == {"failed"}
    profiles = {control(server, "GET", "/_mock/health").json()["profile"] for _ in range(READS)}
    assert profiles == {"instant"}


def test_reset_empties_the_shared_store(server: ServeProcess) -> None:
    task_id = new_task(server)
    control(server, "POST", "/_mock/scenario-queue", json={"scenario": "stuck", "count": 5})
    assert control(server, "POST", "/_mock/reset").ok
    listed = {len(control(server, "GET", "/_mock/tasks").json()["tasks"]) for _ in range(READS)}
    assert listed == {0}
    assert status(server.base_url, task_id).status_code == 404
    assert control(server, "GET", "/_mock/scenario-queue").json()["queue"] == []


def test_metrics_add_up_every_workers_requests(server: ServeProcess) -> None:
    task_id = new_task(server)
    for _ in range(20):
        status(server.base_url, task_id)
    route = 'flux2_mock_requests_total{route="/api/v1/statusTask/<model>",method="GET",' \
            'status="200"}'
    deadline = time.monotonic() + 10  # other workers copy their counts once a second
    seen = 0
    while time.monotonic() < deadline:
        text = control(server, "GET", "/_mock/metrics").text
        seen = sum(int(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith(route))
        if seen >= 20:
            break
        time.sleep(0.2)
    assert seen >= 20
    assert 'flux2_mock_tasks{state="processing"} 1' in text


def test_journal_is_shared_by_the_workers(server: ServeProcess) -> None:
    task_id = new_task(server)
    for _ in range(6):
        status(server.base_url, task_id)
    deadline = time.monotonic() + 10
    entries: list[dict[str, object]] = []
    while time.monotonic() < deadline and len(entries) < 7:
        entries = control(server, "GET", f"/_mock/journal?taskId={task_id}").json()["entries"]
        time.sleep(0.1)
    assert len(entries) == 7


def test_the_store_file_holds_the_clock(server: ServeProcess) -> None:
    clock_files = [a for a in server.args if a.endswith(".sqlite3")]
    assert clock_files and Path(clock_files[0] + ".clock").stat().st_size == 8
