"""Every control endpoint through the Flask test client, on a virtual clock."""

from __future__ import annotations

from mock_server.domain.keys import mask_key

from .conftest import KEY, OTHER_KEY, START_MS, Control


def test_health_says_ready_version_store_and_profile(control: Control) -> None:
    data = control.get("/_mock/health").get_json()
    assert data == {"ready": True, "version": "0.1.0", "store": "memory", "profile": "custom"}


def test_tasks_list_shows_state_timings_and_plan(control: Control) -> None:
    task_id = control.submit()
    listed = control.get("/_mock/tasks").get_json()
    assert listed["now"] == START_MS and listed["next"] is None
    (task,) = listed["tasks"]
    assert task["taskId"] == task_id and task["apiKey"] == mask_key(KEY) != KEY
    assert (task["state"], task["outcome"]) == ("pending", "success")
    assert (task["createTime"], task["startTime"], task["completeTime"]) == (
        START_MS, START_MS + 1000, START_MS + 3000)
    control.clock.advance(3)
    (task,) = control.get("/_mock/tasks").get_json()["tasks"]
    assert task["state"] == "success" and task["costTime"] == 3000
    assert task["resultUrls"] == [f"http://localhost/output/{task_id}/0.jpg"]


def test_tasks_filter_by_state_key_and_time(control: Control) -> None:
    first = control.submit()
    control.clock.advance(1.5)
    second = control.submit(key=OTHER_KEY)
    third = control.submit(scenario="stuck")

    def ids(query: str) -> list[str]:
        return [t["taskId"] for t in control.get(f"/_mock/tasks?{query}").get_json()["tasks"]]

    assert ids("state=processing") == [first]
    assert ids("state=pending") == [second, third]
    assert ids(f"apiKey={OTHER_KEY}") == [second]
    assert ids(f"since={START_MS + 1}") == [second, third]
    assert ids(f"until={START_MS + 1}") == [first]
    assert ids("order=desc") == [third, second, first]


def test_tasks_paginate_with_a_cursor_both_ways(control: Control) -> None:
    made = [control.submit() for _ in range(5)]
    seen, after = [], 0
    while True:
        page = control.get(f"/_mock/tasks?limit=2&after={after}").get_json()
        seen += [t["taskId"] for t in page["tasks"]]
        if page["next"] is None:
            break
        after = page["next"]
    assert seen == made
    page = control.get("/_mock/tasks?limit=2&order=desc").get_json()
    assert [t["taskId"] for t in page["tasks"]] == made[:2:-1][:2] == [made[4], made[3]]
    rest = control.get(f"/_mock/tasks?limit=10&order=desc&after={page['next']}").get_json()
    assert [t["taskId"] for t in rest["tasks"]] == [made[2], made[1], made[0]]


def test_bad_list_queries_name_the_field(control: Control) -> None:
    for query, field in [("state=done", "state"), ("limit=0", "limit"), ("since=soon", "since"),
                         ("order=up", "order"), ("limit=501", "limit")]:
        response = control.get(f"/_mock/tasks?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["data"]["errors"][0]["field"] == field


def test_one_task_in_full_has_plan_timeline_and_requests(control: Control) -> None:
    task_id = control.submit()
    control.clock.advance(1.5)
    control.state(task_id)
    task = control.get(f"/_mock/tasks/{task_id}").get_json()
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


def test_unknown_task_is_a_404_envelope(control: Control) -> None:
    response = control.get("/_mock/tasks/task_nope")
    assert response.status_code == 404
    assert response.get_json()["code"] == 404


def test_clock_advance_moves_tasks_and_never_goes_back(control: Control) -> None:
    task_id = control.submit()
    response = control.post("/_mock/clock/advance", {"seconds": 3})
    assert response.status_code == 200 and response.get_json()["now"] == START_MS + 3000
    assert control.state(task_id) == "success"
    assert control.post("/_mock/clock/advance", {"ms": 500}).get_json()["now"] == START_MS + 3500
    for bad in [{"seconds": -1}, {"seconds": "1"}, {}, {"seconds": 1, "ms": 1}, {"ms": 1.5}]:
        assert control.post("/_mock/clock/advance", bad).status_code == 400, bad
    assert control.get("/_mock/clock").get_json()["now"] == START_MS + 3500


def test_settings_change_at_run_time_and_back(control: Control) -> None:
    changed = control.client.patch("/_mock/settings", json={"profile": "instant",
                                                             "failure_rate": 1.0})
    assert changed.status_code == 200
    assert changed.get_json()["profile"] == "instant"
    task_id = control.submit()
    assert control.state(task_id) == "failed"  # instant profile, every task fails
    assert control.get("/_mock/health").get_json()["profile"] == "instant"
    back = control.client.patch("/_mock/settings", json={"profile": None, "failure_rate": None})
    assert back.get_json()["profile"] == "custom" and back.get_json()["overrides"] == {}
    assert control.state(control.submit()) == "pending"


def test_bad_settings_name_the_setting(control: Control) -> None:
    for change, field in [({"failure_rate": 2}, "failure_rate"), ({"profile": "warp"}, "profile"),
                          ({"pending_ms": -5}, "pending_ms"), ({"host": "0.0.0.0"}, "host")]:
        response = control.client.patch("/_mock/settings", json=change)
        assert response.status_code == 400, change
        assert response.get_json()["data"]["errors"][0]["field"] == field, change


def test_scenario_queue_gives_the_next_n_submissions_the_scenario(control: Control) -> None:
    created = control.post("/_mock/scenario-queue", {"scenario": "fail:NSFW; processing=10",
                                                      "count": 2})
    assert created.status_code == 201 and created.get_json()["remaining"] == 2
    tasks = [control.submit() for _ in range(3)]
    control.clock.advance(1.1)
    assert [control.state(t) for t in tasks] == ["failed", "failed", "processing"]
    assert control.get("/_mock/scenario-queue").get_json()["queue"] == []


def test_scenario_queue_for_one_key_leaves_others_alone(control: Control) -> None:
    control.post("/_mock/scenario-queue", {"scenario": "stuck", "apiKey": OTHER_KEY})
    mine, theirs = control.submit(), control.submit(key=OTHER_KEY)
    control.clock.advance(60)
    assert control.state(mine) == "success"
    assert control.state(theirs, key=OTHER_KEY) == "processing"


def test_queued_callback_tokens_reach_the_task(control: Control) -> None:
    control.post("/_mock/scenario-queue", {"scenario": "callback-drop; processing=5"})
    task_id = control.submit()
    assert control.get(f"/_mock/tasks/{task_id}").get_json()["scenario"] == {
        "processing_ms": 5, "callback_drop": True}


def test_queue_outranks_the_request_header(control: Control) -> None:
    control.post("/_mock/scenario-queue", {"scenario": "fail"})
    task_id = control.submit(scenario="success")
    control.clock.advance(5)
    assert control.state(task_id) == "failed"


def test_bad_queue_entries_are_refused_and_the_queue_clears(control: Control) -> None:
    for entry, field in [({"scenario": "explode"}, "scenario"), ({"scenario": ""}, "scenario"),
                         ({"scenario": "fail", "count": 0}, "count"),
                         ({"scenario": "fail", "apiKey": "nobody"}, "apiKey"),
                         ({"scenario": "fail; http=503"}, "scenario")]:
        response = control.post("/_mock/scenario-queue", entry)
        # A key the server does not have is not found (404), as in every query string.
        assert response.status_code == (404 if field == "apiKey" else 400), entry
        assert response.get_json()["data"]["errors"][0]["field"] == field
    control.post("/_mock/scenario-queue", {"scenario": "fail", "count": 3})
    control.post("/_mock/scenario-queue", {"scenario": "stuck", "apiKey": OTHER_KEY})
    left = control.client.delete(f"/_mock/scenario-queue?apiKey={OTHER_KEY}").get_json()["queue"]
    assert [e["scenario"] for e in left] == ["fail"]
    assert control.client.delete("/_mock/scenario-queue").get_json()["queue"] == []


def test_reset_everything(control: Control) -> None:
    control.submit()
    control.post("/_mock/scenario-queue", {"scenario": "fail"})
    control.client.patch("/_mock/settings", json={"failure_rate": 1})
    done = control.post("/_mock/reset").get_json()
    assert {"store", "runtime", "journal"} <= set(done["reset"])
    assert control.get("/_mock/tasks").get_json()["tasks"] == []
    assert control.get("/_mock/scenario-queue").get_json()["queue"] == []
    assert control.get("/_mock/settings").get_json()["overrides"] == {}
    assert control.get("/_mock/journal").get_json()["entries"] == []


def test_reset_one_key_keeps_the_others(control: Control) -> None:
    mine, theirs = control.submit(), control.submit(key=OTHER_KEY)
    response = control.post(f"/_mock/reset?apiKey={OTHER_KEY}")
    assert response.status_code == 200 and response.get_json()["apiKey"] == mask_key(OTHER_KEY)
    assert [t["taskId"] for t in control.get("/_mock/tasks").get_json()["tasks"]] == [mine]
    assert theirs not in str(control.get("/_mock/journal").get_json())
    assert control.post("/_mock/reset?apiKey=nobody").status_code == 404  # no such key


def test_journal_lists_requests_by_key_and_task(control: Control) -> None:
    mine, theirs = control.submit(), control.submit(key=OTHER_KEY)
    control.state(mine)
    entries = control.get("/_mock/journal").get_json()["entries"]
    assert [e["taskId"] for e in entries] == [mine, theirs, mine]
    by_key = control.get(f"/_mock/journal?apiKey={OTHER_KEY}").get_json()["entries"]
    assert [e["taskId"] for e in by_key] == [theirs]
    by_task = control.get(f"/_mock/journal?taskId={mine}").get_json()["entries"]
    assert [e["method"] for e in by_task] == ["POST", "GET"]
    assert all("/_mock/" not in e["path"] for e in entries)


def test_control_paths_answer_json_errors(control: Control) -> None:
    for response in (control.get("/_mock/nothing"), control.client.put("/_mock/reset"),
                     control.client.post("/_mock/clock/advance", data="x",
                                         content_type="text/plain")):
        assert response.is_json and response.get_json()["code"] in (404, 405, 415)
