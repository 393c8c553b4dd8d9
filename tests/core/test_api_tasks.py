"""Submitting and polling: ids, the lifecycle over HTTP, scenarios, failure rate and seeds."""

from __future__ import annotations

import json
import re

import pytest

from flux2_spec.resources import load
from tests.support.mock_client import START_MS, MakeMock, MockClient, body

TASK_ID = re.compile(r"^task_[A-Za-z0-9]{8,}$")


def test_submit_answers_the_documented_envelope(mock: MockClient) -> None:
    response = mock.submit()
    assert response.status_code == 200
    answer = response.get_json()
    assert list(answer) == ["code", "message", "data"]
    assert (answer["code"], answer["message"], list(answer["data"])) == (200, "success",
                                                                         ["taskId"])
    assert TASK_ID.match(answer["data"]["taskId"])


def test_task_ids_are_unique(mock: MockClient) -> None:
    ids = [mock.task() for _ in range(200)]
    assert len(set(ids)) == len(ids)
    assert all(TASK_ID.match(i) for i in ids)


def test_task_ids_are_reproducible_under_a_seed(make_mock: MakeMock) -> None:
    run_a, run_b, other = make_mock(seed=42), make_mock(seed=42), make_mock(seed=43)
    ids_a = [run_a.task() for _ in range(5)]
    assert ids_a == [run_b.task() for _ in range(5)]
    assert set(ids_a).isdisjoint(other.task() for _ in range(5))


def test_unseeded_runs_differ(make_mock: MakeMock) -> None:
    assert make_mock().task() != make_mock().task()


def test_lifecycle_over_http_follows_the_clock(mock: MockClient) -> None:
    task_id = mock.task()
    pending = mock.data(task_id)
    assert pending == {"taskId": task_id, "state": "pending", "createTime": START_MS}
    mock.clock.advance(0.999)
    assert mock.data(task_id)["state"] == "pending"
    mock.clock.advance(0.001)
    assert mock.data(task_id) == {"taskId": task_id, "state": "processing",
                                  "createTime": START_MS}
    mock.clock.advance(1.999)
    assert mock.data(task_id)["state"] == "processing"
    mock.clock.advance(0.001)
    done = mock.data(task_id)
    assert list(done) == ["taskId", "state", "resultJson", "costTime", "createTime",
                          "completeTime"]
    assert done["completeTime"] == START_MS + 3000
    assert done["costTime"] == done["completeTime"] - done["createTime"] == 3000
    urls = json.loads(done["resultJson"])["resultUrls"]
    assert urls == [f"http://localhost/output/{task_id}/0.jpg"]
    mock.clock.advance(3600)
    assert mock.data(task_id) == done


def test_status_reads_change_nothing(mock: MockClient) -> None:
    task_id = mock.task()
    record = mock.app.extensions["flux2_mock"].store.get_task(task_id)
    for _ in range(3):
        mock.data(task_id)
        mock.clock.advance(2)
    assert mock.app.extensions["flux2_mock"].store.get_task(task_id) == record


def test_forced_failure_by_header(mock: MockClient) -> None:
    task_id = mock.task(scenario="fail:NSFW_DETECTED; pending=0; processing=10")
    mock.clock.advance(0.01)
    data = mock.data(task_id)
    assert list(data) == ["taskId", "state", "failCode", "failMsg", "costTime", "createTime",
                          "completeTime"]
    assert (data["state"], data["failCode"], data["failMsg"]) == ("failed", "NSFW_DETECTED",
                                                                  "NSFW content detected")
    assert data["costTime"] == 10


def test_plain_fail_uses_the_documented_code(mock: MockClient) -> None:
    task_id = mock.task(scenario="fail")
    mock.clock.advance(3)
    data = mock.data(task_id)
    assert (data["failCode"], data["failMsg"]) == ("CONTENT_VIOLATION",
                                                   "Content does not meet safety guidelines")


def test_unknown_fail_code_gets_a_generic_message(mock: MockClient) -> None:
    task_id = mock.task(scenario="fail:Quota_Weird")
    mock.clock.advance(3)
    assert mock.data(task_id)["failMsg"] == "Generation failed (Quota_Weird)"


def test_forced_failure_by_prompt_marker(mock: MockClient) -> None:
    task_id = mock.task(body("A red fox [mock:fail:CONTENT_VIOLATION; processing=5]"))
    mock.clock.advance(1.005)
    assert mock.data(task_id)["failCode"] == "CONTENT_VIOLATION"


def test_header_overrides_prompt_marker(mock: MockClient) -> None:
    task_id = mock.task(body("A red fox [mock:fail]"), scenario="success")
    mock.clock.advance(3)
    assert mock.data(task_id)["state"] == "success"


def test_stuck_task_stays_processing(mock: MockClient) -> None:
    task_id = mock.task(scenario="stuck; pending=0")
    for _ in range(3):
        mock.clock.advance(86_400)
        assert mock.data(task_id) == {"taskId": task_id, "state": "processing",
                                      "createTime": START_MS}


def test_custom_timings_in_settings(make_mock: MakeMock) -> None:
    mock = make_mock(profile="realistic", pending_ms=0, processing_ms=250)
    task_id = mock.task()
    assert mock.data(task_id)["state"] == "processing"
    mock.clock.advance(0.25)
    assert mock.data(task_id)["costTime"] == 250


def test_instant_profile_is_done_at_once(make_mock: MakeMock) -> None:
    mock = make_mock(profile="instant")
    data = mock.data(mock.task())
    assert data["state"] == "success" and data["costTime"] == 0


def outcomes(mock: MockClient, count: int) -> list[tuple[str, str | None]]:
    ids = [mock.task() for _ in range(count)]
    mock.clock.advance(3600)
    return [(d["state"], d.get("failCode")) for d in map(mock.data, ids)]


def test_failure_rate_zero_and_one(make_mock: MakeMock) -> None:
    assert {s for s, _ in outcomes(make_mock(failure_rate=0.0), 30)} == {"success"}
    codes = load("fail_codes")["random_failures"]["legacy"]
    drawn = outcomes(make_mock(failure_rate=1.0, seed=3), 60)
    assert {s for s, _ in drawn} == {"failed"}
    assert {c for _, c in drawn} <= set(codes)
    assert len({c for _, c in drawn}) > 1


def test_failure_rate_is_roughly_honoured_and_reproducible(make_mock: MakeMock) -> None:
    first = outcomes(make_mock(failure_rate=0.3, seed=5), 200)
    assert first == outcomes(make_mock(failure_rate=0.3, seed=5), 200)
    failed = sum(s == "failed" for s, _ in first)
    assert 30 <= failed <= 90  # 60 expected; bounds are many standard deviations wide


def test_current_vocabulary_draws_camelcase_codes(make_mock: MakeMock) -> None:
    mock = make_mock(failure_rate=1.0, fail_code_vocabulary="current", seed=1)
    codes = {c for _, c in outcomes(mock, 20)}
    assert codes <= set(load("fail_codes")["random_failures"]["current"])
    task_id = mock.task(scenario="fail")
    mock.clock.advance(10)
    assert mock.data(task_id)["failCode"] == "SensitiveContentDetected"


def test_seeded_timings_are_reproducible(make_mock: MakeMock) -> None:
    def costs(seed: int) -> list[int]:
        mock = make_mock(profile="realistic", seed=seed)
        ids = [mock.task() for _ in range(10)]
        mock.clock.advance(3600)
        return [mock.data(i)["costTime"] for i in ids]

    assert costs(9) == costs(9)
    assert costs(9) != costs(10)
    assert all(20_000 - 4_500 <= c <= 30_000 for c in costs(9))


@pytest.mark.parametrize("scenario", ["pending=500", "processing=500"])
def test_scenario_overrides_one_duration(make_mock: MakeMock, scenario: str) -> None:
    mock = make_mock(pending_ms=100, processing_ms=100)
    task_id = mock.task(scenario=scenario)
    mock.clock.advance(10)
    assert mock.data(task_id)["costTime"] == 600


def test_fail_codes_setting_chooses_what_failures_draw(make_mock: MakeMock) -> None:
    mock = make_mock(failure_rate=1.0, seed=4, fail_codes=("PROCESSING_TIMEOUT", "Quota_X"))
    drawn = outcomes(mock, 40)
    assert {c for _, c in drawn} == {"PROCESSING_TIMEOUT", "Quota_X"}
    task_id = mock.task(scenario="fail")  # a plain `fail` keeps the documented default code
    mock.clock.advance(10)
    assert mock.data(task_id)["failCode"] == "CONTENT_VIOLATION"
