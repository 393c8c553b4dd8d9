"""Record through `flux2-mock proxy --record`, then `flux2-mock serve --replay` gives the
client identical answers; `--profile recorded:DIR` and `calibrate` draw from the recording."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from flux2_spec.resources import image_size
from tests.support.serve import DEFAULT_KEY

from .support import client_flows, proxying, request_body, serving, submit

pytestmark = pytest.mark.e2e  # starts flux2-mock serve (and proxy) processes

BODIES = [request_body(), request_body("A red fox in snow"),
          {"request_type": "async", "input": {"mode": "flex-text-to-image",
                                              "prompt": "A bowl of ramen, studio light",
                                              "aspect_ratio": "16:9", "resolution": "2K"}}]
# The upstream runs each task for 2 s; every poll is more than 1.5 s from that moment, so a
# busy machine delaying a request does not move it to the other side.
PROCESSING_MS = 2000
POLL_AT_S = [0.3, 3.5, 4.5]


def _flow(base: str) -> list[list[tuple[int, Any]]]:
    failing = request_body("A storm at sea [mock:fail:CONTENT_VIOLATION]")
    return client_flows(base, [*BODIES, failing], poll_at_s=POLL_AT_S)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[tuple[int,
                                                                                        Any]]]]:
    """A recording of one client flow through the proxy, and what the client got."""
    folder = tmp_path_factory.mktemp("recording") / "rec"
    store = tmp_path_factory.mktemp("proxy") / "proxy.sqlite3"
    with serving("--pending-ms", "0", "--processing-ms", str(PROCESSING_MS),
                 "--store", "memory") as upstream, \
            proxying("--upstream", upstream.base_url, "--record", str(folder),
                     "--store", str(store), "--profile", "fast") as proxy:
        answers = _flow(proxy.base_url)
        # The proxy notes result image sizes in the background after a task succeeds.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(
                bool(json.loads(p.read_text())["results"])
                for p in (folder / "tasks").glob("*.json")) < 3:
            time.sleep(0.1)
    return folder, answers


def test_recording_is_documented_and_holds_no_secret(recording: Any) -> None:
    folder, _answers = recording
    meta = json.loads((folder / "format.json").read_text())
    assert meta["format"] == "flux2-mock-recording" and meta["version"] == 1
    tasks = sorted((folder / "tasks").glob("*.json"))
    assert len(tasks) == 4
    assert len(list((folder / "exchanges").glob("*.json"))) == 4 * (1 + len(POLL_AT_S))
    every_file = "".join(p.read_text() for p in folder.rglob("*.json"))
    assert DEFAULT_KEY not in every_file
    assert "Bearer flu…key" in every_file
    failed = [json.loads(p.read_text()) for p in tasks
              if json.loads(p.read_text())["lifecycle"]["outcome"] == "failed"]
    assert len(failed) == 1 and failed[0]["lifecycle"]["failCode"] == "CONTENT_VIOLATION"
    for task in tasks:  # the upstream's own duration, between the polls around it
        life = json.loads(task.read_text())["lifecycle"]
        assert life["pendingMs"] == 0
        assert POLL_AT_S[0] * 1000 < life["processingMs"] < POLL_AT_S[1] * 1000
        assert life["processingMs"] >= PROCESSING_MS
    images = [json.loads(p.read_text())["results"] for p in tasks]
    sizes = sorted((r[0]["width"], r[0]["height"]) for r in images if r)
    # What the upstream made: its size table's 1:1 at 1K twice, and 16:9 at 2K.
    assert sizes == sorted([image_size("1:1", "1K")] * 2 + [image_size("16:9", "2K")])


def test_replay_gives_identical_answers(recording: Any) -> None:
    folder, recorded = recording
    with serving("--replay", str(folder), "--store", "memory") as server:
        replayed = _flow(server.base_url)
        assert replayed == recorded
        # Each recording answers once: the same body again is refused, naming why.
        again = submit(server.base_url, BODIES[0])
        assert again.status_code == 404
        assert "has been replayed" in again.json()["data"]["error"]
        other = submit(server.base_url, request_body("A red fox in the rain"))
        assert other.status_code == 404
        data = other.json()["data"]
        assert data["differs"] == ["input.prompt"] and data["nearest"].startswith("tasks/")
        assert data["errors"][0] == {"field": "request body", "rule": "replay",
                                     "message": data["error"]}
        assert "the nearest is tasks/" in data["error"]


def test_replay_fallback_plans_unmatched_requests(recording: Any) -> None:
    folder, _recorded = recording
    with serving("--replay", str(folder), "--replay-fallback", "plan",
                 "--store", "memory") as server:
        answer = submit(server.base_url, request_body("Nothing like what was recorded"))
        assert answer.status_code == 200
        task_id = answer.json()["data"]["taskId"]
        assert task_id not in {a[0][1]["data"]["taskId"] for a in recording[1]}


def test_recorded_profile_draws_recorded_timings(recording: Any) -> None:
    folder, _recorded = recording
    with serving("--profile", f"recorded:{folder}", "--seed", "3",
                 "--store", "memory") as server:
        plans = []
        for n in range(8):
            task_id = submit(server.base_url, request_body(f"A new prompt number {n}")).json()[
                "data"]["taskId"]
            plans.append(requests.get(server.url(f"/_mock/tasks/{task_id}"),
                                      timeout=10).json()["plan"])
    recorded = {json.loads(p.read_text())["lifecycle"]["processingMs"]
                for p in (folder / "tasks").glob("*.json")}
    assert {p["pendingMs"] for p in plans} == {0}
    assert {p["processingMs"] for p in plans} <= recorded
    outcomes = {p["outcome"] for p in plans}
    # One of the four recorded tasks failed: with seed 3, eight draws see both outcomes.
    assert outcomes == {"success", "failed"}
    assert {p["failCode"] for p in plans if p["outcome"] == "failed"} == {"CONTENT_VIOLATION"}


def test_calibrate_prints_the_distribution_beside_realistic(recording: Any) -> None:
    folder, _recorded = recording
    done = subprocess.run([sys.executable, "-m", "mock_server", "calibrate", str(folder)],
                          capture_output=True, text=True, timeout=60, check=True)
    out = done.stdout
    assert "4 recorded task(s) (failed 1, success 3)" in out
    assert "realistic" in out and "recorded" in out and "drawn" in out
    assert "failure rate  recorded 25.0% (failCodes: CONTENT_VIOLATION x1)" in out
    as_json = json.loads(subprocess.run(
        [sys.executable, "-m", "mock_server", "calibrate", str(folder), "--json"],

        capture_output=True, text=True, timeout=60, check=True).stdout)
    assert as_json["recorded"]["processingMs"]["p50"] >= PROCESSING_MS
    assert as_json["realistic"]["processingMs"]["p50"] == 23500
