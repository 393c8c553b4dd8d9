"""Every control endpoint through the Flask test client, on a virtual clock."""

from __future__ import annotations

from mock_server.domain.keys import mask_key
from tests.support.mock_client import KEY, OTHER_KEY, START_MS, MockClient, body


def test_health_says_ready_version_store_and_profile(mock: MockClient) -> None:
    data = mock.get("/_mock/health").get_json()
    assert data == {"ready": True, "version": "0.1.0", "store": "memory", "profile": "custom"}


def test_tasks_list_shows_state_timings_and_plan(mock: MockClient) -> None:
    task_id = mock.task()
    listed = mock.get("/_mock/tasks").get_json()
    assert listed["now"] == START_MS and listed["next"] is None
    (task,) = listed["tasks"]
    assert task["taskId"] == task_id and task["apiKey"] == mask_key(KEY) != KEY
    assert (task["state"], task["outcome"]) == ("pending", "success")
    assert (task["createTime"], task["startTime"], task["completeTime"]) == (
        START_MS, START_MS + 1000, START_MS + 3000)
    mock.clock.advance(3)
    (task,) = mock.get("/_mock/tasks").get_json()["tasks"]
    assert task["state"] == "success" and task["costTime"] == 3000
    assert task["resultUrls"] == [f"http://localhost/output/{task_id}/0.jpg"]


def test_tasks_filter_by_state_key_and_time(mock: MockClient) -> None:
    first = mock.task()
    mock.clock.advance(1.5)
    second = mock.task(key=OTHER_KEY)
    third = mock.task(scenario="stuck")

    def ids(query: str) -> list[str]:
        return [t["taskId"] for t in mock.get(f"/_mock/tasks?{query}").get_json()["tasks"]]

    assert ids("state=processing") == [first]
    assert ids("state=pending") == [second, third]
    assert ids(f"apiKey={OTHER_KEY}") == [second]
    assert ids(f"since={START_MS + 1}") == [second, third]
    assert ids(f"until={START_MS + 1}") == [first]
    assert ids("order=desc") == [third, second, first]


def test_tasks_paginate_with_a_cursor_both_ways(mock: MockClient) -> None:
    made = [mock.task() for _ in range(5)]
    seen, after = [], 0
    while True:
        page = mock.get(f"/_mock/tasks?limit=2&after={after}").get_json()
        seen += [t["taskId"] for t in page["tasks"]]
        if page["next"] is None:
            break
        after = page["next"]
    assert seen == made
    page = mock.get("/_mock/tasks?limit=2&order=desc").get_json()
    assert [t["taskId"] for t in page["tasks"]] == made[:2:-1][:2] == [made[4], made[3]]
    rest = mock.get(f"/_mock/tasks?limit=10&order=desc&after={page['next']}").get_json()
    assert [t["taskId"] for t in rest["tasks"]] == [made[2], made[1], made[0]]


def test_bad_list_queries_name_the_field(mock: MockClient) -> None:
    for query, field in [("state=done", "state"), ("limit=0", "limit"), ("since=soon", "since"),
                         ("order=up", "order"), ("limit=501", "limit")]:
        response = mock.get(f"/_mock/tasks?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["data"]["errors"][0]["field"] == field


def test_one_task_in_full_has_plan_timeline_and_requests(mock: MockClient) -> None:
    task_id = mock.task(body("A lighthouse at dawn"))
    mock.clock.advance(1.5)
    mock.state(task_id)
    task = mock.get(f"/_mock/tasks/{task_id}").get_json()
    assert task["plan"] == {"createTime": START_MS, "pendingMs": 1000, "processingMs": 2000,
                            "outcome": "success", "failCode": None, "failMsg": None}
    assert task["timeline"] == [
        {"state": "pending", "at": START_MS, "reached": True},
        {"state": "processing", "at": START_MS + 1000, "reached": True},
        {"state": "success", "at": START_MS + 3000, "reached": False},
    ]
    assert task["request"]["input"]["prompt"] == "A lighthouse at dawn"
    paths = [(r["method"], r["path"], r["state"]) for r in task["requests"]]
    assert paths == [("POST", "/api/v1/generateTask/flux-2", None),
                     ("GET", "/api/v1/statusTask/flux-2", "processing")]


def test_unknown_task_is_a_404_envelope(mock: MockClient) -> None:
    response = mock.get("/_mock/tasks/task_nope")
    assert response.status_code == 404
    assert response.get_json()["code"] == 404


def test_clock_advance_moves_tasks_and_never_goes_back(mock: MockClient) -> None:
    task_id = mock.task()
    response = mock.post("/_mock/clock/advance", {"seconds": 3})
    assert response.status_code == 200 and response.get_json()["now"] == START_MS + 3000
    assert mock.state(task_id) == "success"
    assert mock.post("/_mock/clock/advance", {"ms": 500}).get_json()["now"] == START_MS + 3500
    for bad in [{"seconds": -1}, {"seconds": "1"}, {}, {"seconds": 1, "ms": 1}, {"ms": 1.5}]:
        assert mock.post("/_mock/clock/advance", bad).status_code == 400, bad
    assert mock.get("/_mock/clock").get_json()["now"] == START_MS + 3500


def test_settings_change_at_run_time_and_back(mock: MockClient) -> None:
    changed = mock.client.patch("/_mock/settings", json={"profile": "instant",
                                                             "failure_rate": 1.0})
    assert changed.status_code == 200
    assert changed.get_json()["profile"] == "instant"
    task_id = mock.task()
    assert mock.state(task_id) == "failed"  # instant profile, every task fails
    assert mock.get("/_mock/health").get_json()["profile"] == "instant"
    back = mock.client.patch("/_mock/settings", json={"profile": None, "failure_rate": None})
    assert back.get_json()["profile"] == "custom" and back.get_json()["overrides"] == {}
    assert mock.state(mock.task()) == "pending"


def test_bad_settings_name_the_setting(mock: MockClient) -> None:
    for change, field in [({"failure_rate": 2}, "failure_rate"), ({"profile": "warp"}, "profile"),
                          ({"pending_ms": -5}, "pending_ms"), ({"host": "0.0.0.0"}, "host")]:
        response = mock.client.patch("/_mock/settings", json=change)
        assert response.status_code == 400, change
        assert response.get_json()["data"]["errors"][0]["field"] == field, change


def test_scenario_queue_gives_the_next_n_submissions_the_scenario(mock: MockClient) -> None:
    created = mock.post("/_mock/scenario-queue", {"scenario": "fail:NSFW; processing=10",
                                                      "count": 2})
    assert created.status_code == 201 and created.get_json()["remaining"] == 2
    tasks = [mock.task() for _ in range(3)]
    mock.clock.advance(1.1)
    assert [mock.state(t) for t in tasks] == ["failed", "failed", "processing"]
    assert mock.get("/_mock/scenario-queue").get_json()["queue"] == []


def test_scenario_queue_for_one_key_leaves_others_alone(mock: MockClient) -> None:
    mock.post("/_mock/scenario-queue", {"scenario": "stuck", "apiKey": OTHER_KEY})
    mine, theirs = mock.task(), mock.task(key=OTHER_KEY)
    mock.clock.advance(60)
    assert mock.state(mine) == "success"
    assert mock.state(theirs, key=OTHER_KEY) == "processing"


def test_queued_callback_tokens_reach_the_task(mock: MockClient) -> None:
    mock.post("/_mock/scenario-queue", {"scenario": "callback-drop; processing=5"})
    task_id = mock.task()
    assert mock.get(f"/_mock/tasks/{task_id}").get_json()["scenario"] == {
        "processing_ms": 5, "callback_drop": True}


def test_queue_outranks_the_request_header(mock: MockClient) -> None:
    mock.post("/_mock/scenario-queue", {"scenario": "fail"})
    task_id = mock.task(scenario="success")
    mock.clock.advance(5)
    assert mock.state(task_id) == "failed"


def test_bad_queue_entries_are_refused_and_the_queue_clears(mock: MockClient) -> None:
    for entry, field in [({"scenario": "explode"}, "scenario"), ({"scenario": ""}, "scenario"),
                         ({"scenario": "fail", "count": 0}, "count"),
                         ({"scenario": "fail", "apiKey": "nobody"}, "apiKey"),
                         ({"scenario": "fail; http=503"}, "scenario")]:
        response = mock.post("/_mock/scenario-queue", entry)
        # A key the server does not have is not found (404), as in every query string.
        assert response.status_code == (404 if field == "apiKey" else 400), entry
        assert response.get_json()["data"]["errors"][0]["field"] == field
    mock.post("/_mock/scenario-queue", {"scenario": "fail", "count": 3})
    mock.post("/_mock/scenario-queue", {"scenario": "stuck", "apiKey": OTHER_KEY})
    left = mock.client.delete(f"/_mock/scenario-queue?apiKey={OTHER_KEY}").get_json()["queue"]
    assert [e["scenario"] for e in left] == ["fail"]
    assert mock.client.delete("/_mock/scenario-queue").get_json()["queue"] == []


def test_reset_everything(mock: MockClient) -> None:
    mock.task()
    mock.post("/_mock/scenario-queue", {"scenario": "fail"})
    mock.client.patch("/_mock/settings", json={"failure_rate": 1})
    done = mock.post("/_mock/reset").get_json()
    assert {"store", "runtime", "journal"} <= set(done["reset"])
    assert mock.get("/_mock/tasks").get_json()["tasks"] == []
    assert mock.get("/_mock/scenario-queue").get_json()["queue"] == []
    assert mock.get("/_mock/settings").get_json()["overrides"] == {}
    assert mock.get("/_mock/journal").get_json()["entries"] == []


def test_reset_one_key_keeps_the_others(mock: MockClient) -> None:
    mine, theirs = mock.task(), mock.task(key=OTHER_KEY)
    response = mock.post(f"/_mock/reset?apiKey={OTHER_KEY}")
    assert response.status_code == 200 and response.get_json()["apiKey"] == mask_key(OTHER_KEY)
    assert [t["taskId"] for t in mock.get("/_mock/tasks").get_json()["tasks"]] == [mine]
    assert theirs not in str(mock.get("/_mock/journal").get_json())
    assert mock.post("/_mock/reset?apiKey=nobody").status_code == 404  # no such key


def test_journal_lists_requests_by_key_and_task(mock: MockClient) -> None:
    mine, theirs = mock.task(), mock.task(key=OTHER_KEY)
    mock.state(mine)
    entries = mock.get("/_mock/journal").get_json()["entries"]
    assert [e["taskId"] for e in entries] == [mine, theirs, mine]
    by_key = mock.get(f"/_mock/journal?apiKey={OTHER_KEY}").get_json()["entries"]
    assert [e["taskId"] for e in by_key] == [theirs]
    by_task = mock.get(f"/_mock/journal?taskId={mine}").get_json()["entries"]
    assert [e["method"] for e in by_task] == ["POST", "GET"]
    assert all("/_mock/" not in e["path"] for e in entries)


def test_control_paths_answer_json_errors(mock: MockClient) -> None:
    for response in (mock.get("/_mock/nothing"), mock.client.put("/_mock/reset"),
                     mock.client.post("/_mock/clock/advance", data="x",
                                         content_type="text/plain")):
        assert response.is_json and response.get_json()["code"] in (404, 405, 415)
