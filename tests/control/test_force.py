"""Forcing a task's outcome: now, only forward, never once it ended."""

from __future__ import annotations

import pytest

from mock_server.control.tasks import forced_plan
from mock_server.domain.errors import Conflict
from mock_server.domain.lifecycle import TaskPlan, state_at
from tests.support.mock_client import START_MS, MockClient
from tests.support.spec import STATES

PLAN = TaskPlan(START_MS, 1000, 2000, "success")


@pytest.mark.parametrize("now", [START_MS, START_MS + 500, START_MS + 1000, START_MS + 2999])
@pytest.mark.parametrize("outcome", ["success", "failed"])
def test_forcing_an_end_ends_the_task_now_and_moves_only_forward(now: int, outcome: str) -> None:
    before = state_at(PLAN, now)
    plan = forced_plan(PLAN, now, outcome, "NSFW" if outcome == "failed" else None, "legacy")
    assert plan.complete_ms == now and plan.create_ms == PLAN.create_ms
    assert state_at(plan, now) == outcome
    order = STATES
    # Every instant before `now` shows a state no later than the one shown before forcing.
    for earlier in range(START_MS, now, 250):
        assert order.index(state_at(plan, earlier)) <= order.index(before)


def test_forced_failure_takes_the_code_and_its_message() -> None:
    plan = forced_plan(PLAN, START_MS + 1500, "failed", "CONTENT_VIOLATION", "legacy")
    assert (plan.fail_code, plan.fail_msg) == ("CONTENT_VIOLATION",
                                               "Content does not meet safety guidelines")
    default = forced_plan(PLAN, START_MS + 1500, "failed", None, "legacy")
    assert default.fail_code and default.fail_msg


def test_forcing_stuck_keeps_timings_and_never_ends() -> None:
    plan = forced_plan(PLAN, START_MS + 10, "stuck", None, "legacy")
    assert (plan.pending_ms, plan.complete_ms) == (1000, None)
    assert state_at(plan, START_MS + 10**9) == "processing"


@pytest.mark.parametrize("outcome", ["success", "failed", "stuck"])
def test_an_ended_task_cannot_be_forced(outcome: str) -> None:
    with pytest.raises(Conflict, match="already ended"):
        forced_plan(PLAN, START_MS + 3000, outcome, None, "legacy")


def test_force_endpoint_fails_a_running_task(mock: MockClient) -> None:
    task_id = mock.task(scenario="stuck")
    mock.clock.advance(1.5)
    assert mock.state(task_id) == "processing"
    response = mock.post(f"/_mock/tasks/{task_id}/force", {"outcome": "fail",
                                                              "failCode": "NSFW"})
    assert response.status_code == 200
    assert response.get_json()["state"] == "failed"
    status = mock.client.get("/api/v1/statusTask/flux-2", query_string={"taskId": task_id},
                                headers={"Authorization": "Bearer flux2-mock-key"}).get_json()
    assert status["data"]["state"] == "failed" and status["data"]["failCode"] == "NSFW"
    assert status["data"]["completeTime"] == mock.clock.now_ms()


def test_force_complete_gives_a_result_image(mock: MockClient) -> None:
    task_id = mock.task()
    mock.post(f"/_mock/tasks/{task_id}/force", {"outcome": "complete"})
    assert mock.state(task_id) == "success"
    image = mock.get(f"/output/{task_id}/0.jpg")
    assert image.status_code == 200 and image.data[:2] == b"\xff\xd8"


def test_force_refuses_an_ended_task_with_409_and_keeps_it(mock: MockClient) -> None:
    task_id = mock.task()
    mock.clock.advance(5)
    response = mock.post(f"/_mock/tasks/{task_id}/force", {"outcome": "failed"})
    assert response.status_code == 409
    assert response.get_json()["code"] == 409 and "already ended" in response.get_json()["data"][
        "error"]
    assert mock.state(task_id) == "success"


def test_force_bodies_are_checked(mock: MockClient) -> None:
    task_id = mock.task()
    for bad, field in [({"outcome": "explode"}, "outcome"), ({}, "outcome"),
                       ({"outcome": "failed", "failCode": "no spaces"}, "failCode"),
                       ({"outcome": "success", "failCode": "NSFW"}, "failCode")]:
        response = mock.post(f"/_mock/tasks/{task_id}/force", bad)
        assert response.status_code == 400, bad
        assert response.get_json()["data"]["errors"][0]["field"] == field
    assert mock.post("/_mock/tasks/task_nope/force", {"outcome": "stuck"}).status_code == 404
