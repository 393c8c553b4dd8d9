"""Fast unit tests of the proxy's pure parts: judging, timelines, masking, replay choices."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from mock_server.domain.profiles import EmpiricalSpan
from mock_server.domain.recorded import RecordingError, read_format
from mock_server.proxy.callback_judge import judge_callback
from mock_server.proxy.exchange import Exchange, mask_body, mask_url
from mock_server.proxy.judge import judge_answer
from mock_server.proxy.observed import TaskSeen, seen_poll
from mock_server.proxy.recording import Recorder
from mock_server.proxy.replay import Recorded
from mock_server.proxy.timeline import Timeline, timeline_of

T0 = 1_796_000_000_000
TASK = "task_0001"


def _exchange(data: dict[str, Any] | None, *, at: int = T0, status: int = 200,
              raw: bytes | None = None) -> Exchange:
    body = raw if raw is not None else json.dumps(
        {"code": 200, "message": "success", "data": data}).encode()
    return Exchange(at, "GET", "/api/v1/statusTask/flux-2", f"taskId={TASK}", {}, None, status,
                    {}, body, 5, key="secret-key-123456")


def _seen() -> TaskSeen:
    return TaskSeen(TASK, "kid", T0, {}, {})


def _after(seen: TaskSeen, ex: Exchange) -> TaskSeen:
    return seen_poll(seen, ex.time_ms, ex.status, ex.json, ex.summary(),
                     done_ms=ex.time_ms + ex.elapsed_ms)


def _rules(ex: Exchange, seen: TaskSeen | None = None) -> set[str]:
    verdict = judge_answer(ex, kind="poll", seen=seen, asked=TASK, time_scale=1.0)
    return {b.rule for b in verdict.breaches}


PROCESSING = {"taskId": TASK, "state": "processing", "createTime": T0}
SUCCESS = {"taskId": TASK, "state": "success", "createTime": T0, "completeTime": T0 + 900,
           "costTime": 900, "resultJson": json.dumps({"resultUrls": ["https://r.example/1.jpg"]})}


def test_a_documented_story_breaks_nothing() -> None:
    seen = _seen()
    for at, data in ((T0 + 100, PROCESSING), (T0 + 1000, SUCCESS), (T0 + 2000, SUCCESS)):
        ex = _exchange(data, at=at)
        assert _rules(ex, seen) == set()
        seen = _after(seen, ex)


def test_going_back_is_judged_only_against_answers_that_had_arrived() -> None:
    done = _after(_seen(), _exchange(SUCCESS, at=T0 + 1000))
    # A poll sent after the success answer arrived that says processing: a breach.
    assert "state_only_forward" in _rules(_exchange(PROCESSING, at=T0 + 2000), done)
    # A poll sent before it arrived (two in flight at once) may come back older: no breach.
    assert "state_only_forward" not in _rules(_exchange(PROCESSING, at=T0 + 1001), done)


@pytest.mark.parametrize(("data", "rule"), [
    ({**SUCCESS, "resultJson": {"resultUrls": ["https://r.example/1.jpg"]}},
     "success_result_json"),
    ({**SUCCESS, "resultJson": json.dumps({"resultUrls": ["/relative.jpg"]})},
     "success_result_json"),
    ({**SUCCESS, "resultJson": "not json"}, "success_result_json"),
    ({"taskId": TASK, "state": "failed", "failMsg": "x", "createTime": T0,
      "completeTime": T0}, "failed_has_code_and_message"),
    ({**SUCCESS, "completeTime": T0 - 1}, "complete_time_not_before_create"),
    ({**SUCCESS, "costTime": "900"}, "cost_time_non_negative"),
    ({**PROCESSING, "createTime": T0 // 1000}, "create_time_epoch_ms"),
    ({**PROCESSING, "state": "queued"}, "state_documented"),
])
def test_each_promise_has_its_rule(data: dict[str, Any], rule: str) -> None:
    assert rule in _rules(_exchange(data), _seen())


def test_envelope_rules() -> None:
    assert _rules(_exchange(None, raw=b"<html>")) == {"answers_are_json"}
    assert "envelope_fields_typed" in _rules(_exchange(None, raw=b'{"code":"200"}'))
    assert "code_is_http_status" in _rules(_exchange(PROCESSING, status=201))
    no_answer = Exchange(T0, "GET", "/x", "", {}, None, None, {}, b"", 0,
                         error="ConnectionError: refused")
    verdict = judge_answer(no_answer, kind="other", seen=None, asked=None, time_scale=1.0)
    assert [b.what for b in verdict.breaches] == ["the upstream sent no answer: "
                                                  "ConnectionError: refused"]


def test_still_unfinished_past_three_minutes_scaled() -> None:
    ex = _exchange(PROCESSING, at=T0 + 181_000)
    assert "finishes_within_limit" in _rules(ex, _seen())
    verdict = judge_answer(ex, kind="poll", seen=_seen(), asked=TASK, time_scale=2.0)
    assert "finishes_within_limit" not in {b.rule for b in verdict.breaches}


def test_callback_rules_follow_the_failure_envelope_setting() -> None:
    failed = {"taskId": TASK, "state": "failed", "failCode": "X", "failMsg": "m",
              "createTime": T0, "completeTime": T0 + 1, "costTime": 1}
    webhooks = {"code": 200, "message": "success", "data": failed}
    for reading, broken in (("flux-2", {"callback_failure_envelope"}), ("webhooks", set())):
        verdict = judge_callback(webhooks, {}, seen=None, failure_envelope=reading)
        assert {b.rule for b in verdict.breaches} == broken


def test_timeline_takes_the_upstreams_duration_between_the_polls() -> None:
    seen = _seen()
    for at, data in ((T0 + 200, {**PROCESSING, "state": "pending"}), (T0 + 500, PROCESSING),
                     (T0 + 5000, SUCCESS)):
        seen = _after(seen, _exchange(data, at=at))
    # Pending at 200 ms, processing at 500 ms: it started between them, at 350 ms (the
    # middle, so replayed polls near either fall on the recorded side). The upstream says
    # it finished 900 ms after creation; a poll at 5 s saw it done.
    assert timeline_of(seen) == Timeline(350, 550, "success")
    assert timeline_of(seen).plan(T0).complete_ms == T0 + 900


def test_timeline_never_contradicts_a_poll() -> None:
    seen = _seen()
    for at, data in ((T0 + 2000, PROCESSING), (T0 + 3000, SUCCESS)):
        seen = _after(seen, _exchange(data, at=at))
    # costTime says 900 ms, but a poll at 2 s still saw processing: completion came after.
    assert timeline_of(seen) == Timeline(0, 2001, "success")


def test_timeline_counts_the_last_of_many_equal_answers() -> None:
    seen = _seen()
    for at in range(1000, 20_001, 1000):  # twenty equal answers: one kept in `answers`
        seen = _after(seen, _exchange(PROCESSING, at=T0 + at))
    seen = _after(seen, _exchange({**SUCCESS, "completeTime": T0 + 1500}, at=T0 + 21_000))
    assert len(seen.answers) == 2
    assert timeline_of(seen) == Timeline(0, 20_001, "success")
    no_times = {k: v for k, v in SUCCESS.items() if k not in ("completeTime", "costTime")}
    other = _after(_after(_seen(), _exchange(PROCESSING, at=T0 + 1000)),
                   _exchange(no_times, at=T0 + 3000))
    assert timeline_of(other) == Timeline(0, 2000, "success")  # between the polls


def test_replay_answers_the_latest_recorded_answer_of_the_state() -> None:
    answers = [{"atMs": 300, "status": 200, "body": {"data": {"state": "processing", "n": 1}}},
               {"atMs": 600, "status": 200, "body": {"data": {"state": "processing", "n": 2}}},
               {"atMs": 1200, "status": 200, "body": {"data": {"state": "success", "n": 3}}}]
    recorded = Recorded("tasks/t.json", TASK, {}, {}, answers, Timeline(0, 1000, "success"), [])
    assert recorded.answer_for("processing", 100)["body"]["data"]["n"] == 1
    assert recorded.answer_for("processing", 700)["body"]["data"]["n"] == 2
    assert recorded.answer_for("success", 1001)["body"]["data"]["n"] == 3
    pending = recorded.answer_for("pending", 0)["body"]
    assert pending == {"code": 200, "message": "success",
                       "data": {"taskId": TASK, "state": "pending"}}


def test_empirical_span_is_seeded_and_draws_only_recorded_values() -> None:
    span = EmpiricalSpan(500, 0, (100, 500, 900))
    first = [span.draw(random.Random(7)) for _ in range(3)]
    assert first == [span.draw(random.Random(7)) for _ in range(3)]
    assert {span.draw(random.Random(n)) for n in range(200)} == {100, 500, 900}


def test_masking_keeps_no_secret() -> None:
    assert mask_url("https://u:p@cdn.example/a.jpg?X-Amz-Signature=abcdef123456&w=2") == \
        "https://cdn.example/a.jpg?X-Amz-Signature=abc…456&w=2"
    body = {"callback_url": "https://me.example/cb?token=supersecret99", "input": {"prompt": "p"}}
    assert "supersecret99" not in json.dumps(mask_body(body))


def test_a_recording_of_another_version_is_refused(tmp_path: Path) -> None:
    Recorder(tmp_path / "rec", "http://127.0.0.1:1", T0)
    assert read_format(tmp_path / "rec")["version"] == 1
    (tmp_path / "rec" / "format.json").write_text(json.dumps(
        {"format": "flux2-mock-recording", "version": 99}))
    with pytest.raises(RecordingError, match="version 99"):
        Recorder(tmp_path / "rec", "http://127.0.0.1:1", T0)
    with pytest.raises(RecordingError, match="holds no recording"):
        read_format(tmp_path)
