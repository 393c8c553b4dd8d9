"""Each rule flags a client that breaks it, with evidence (the flux2_mock fixture, virtual time)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mock_server.conformance.checks import is_exempt, unreachable_reason
from tests.support.fixtures import MakeServedMock
from tests.support.receiver import Receiver, receiving

from .conftest import STATUS, SUBMIT, Raw, finding, rule_ids


def test_request_without_auth_is_flagged_with_the_masked_key(flux2_mock: Any) -> None:
    requests.post(flux2_mock.url(SUBMIT), json={"request_type": "async",
                                                 "input": {"prompt": "no key at all"}}, timeout=5)
    requests.get(flux2_mock.url(STATUS), params={"taskId": "task_1"},
                 headers={"Authorization": "Bearer not-the-right-key-123"}, timeout=5)
    report = flux2_mock.conformance()
    found = finding(report, "auth-missing")
    assert found["severity"] == "error" and found["count"] == 2
    assert [e["what"] for e in found["evidence"]] == [
        "no Authorization header", "API key not-…-123 was not accepted"]
    assert "not-the-right-key-123" not in str(report)
    assert not report["conformant"]


def test_invalid_request_is_flagged_with_field_and_rule(flux2_mock: Any, raw: Raw) -> None:
    response = requests.post(flux2_mock.url(SUBMIT), headers=raw.auth(), timeout=5,
                             json={"request_type": "async", "input": {"prompt": "hi"}})
    assert response.status_code == 400
    found = finding(flux2_mock.conformance(), "request-invalid")
    assert found["evidence"][0]["what"].startswith("input.prompt: minLength: ")
    assert found["evidence"][0]["status"] == 400


def test_first_poll_before_15_s_is_flagged(flux2_mock: Any, raw: Raw) -> None:
    task_id = raw.submit()
    flux2_mock.advance(3)
    raw.poll(task_id)
    found = finding(flux2_mock.conformance(), "first-poll-too-early")
    assert found["severity"] == "warning"
    assert found["evidence"][0]["what"] == "first poll 3 s after submission"
    assert found["evidence"][0]["taskId"] == task_id


def test_polls_less_than_5_s_apart_are_flagged(flux2_mock: Any, raw: Raw) -> None:
    task_id = raw.submit()
    flux2_mock.advance(15)
    for _ in range(3):
        raw.poll(task_id)
        flux2_mock.advance(1)
    found = finding(flux2_mock.conformance(), "poll-too-frequent")
    assert found["count"] == 2
    assert found["evidence"][0]["what"] == "1 s after the previous poll"


def test_polling_a_stuck_task_past_3_minutes_is_flagged(flux2_mock: Any, raw: Raw) -> None:
    task_id = raw.submit(scenario="stuck")
    flux2_mock.advance(15)
    for _ in range(48):  # every 5 s up to 4 minutes: never gives up
        assert raw.poll(task_id)["data"]["state"] == "processing"
        flux2_mock.advance(5)
    report = flux2_mock.conformance()
    found = finding(report, "poll-past-timeout")
    # Polls after 180 s + one interval of grace: 190 s, 195 s, ..., 250 s.
    assert found["count"] == 13
    assert found["evidence"][0]["what"] == "still processing 190 s after submission, and " \
                                           "polled anyway"
    assert rule_ids(report) == {"poll-past-timeout"}


def test_polling_a_finished_task_again_and_again_is_flagged(flux2_mock: Any, raw: Raw) -> None:
    task_id = raw.submit()
    flux2_mock.advance(40)
    for _ in range(4):
        assert raw.poll(task_id)["data"]["state"] == "success"
        flux2_mock.advance(5)
    found = finding(flux2_mock.conformance(), "finished-task-repolled")
    assert found["count"] == 3  # the first poll that saw success is fine, then 1 allowed
    assert found["evidence"][0]["what"] == "polled again after it answered success"


def test_polling_a_task_id_never_issued_is_flagged(flux2_mock: Any, raw: Raw) -> None:
    assert raw.poll("task_0123456789abcdef")["code"] == 404
    found = finding(flux2_mock.conformance(), "unknown-task-polled")
    assert found["severity"] == "error"
    assert "task_0123456789abcdef" in found["evidence"][0]["what"]


def test_more_requests_per_minute_than_the_setting_allows(make_served_mock: MakeServedMock) -> None:
    mock = make_served_mock(conformance_requests_per_minute=5)
    raw = Raw(mock)
    for _ in range(7):
        raw.poll("task_0000000000000000")
        mock.advance(1)
    found = finding(mock.conformance(), "rate-limit-exceeded")
    assert found["count"] == 2
    assert found["evidence"][0]["what"] == "request 6 within 60 s (limit 5/min)"


def test_more_tasks_in_flight_than_the_setting_allows(make_served_mock: MakeServedMock) -> None:
    mock = make_served_mock(conformance_max_in_flight=2)
    raw = Raw(mock)
    ids = [raw.submit() for _ in range(3)]
    found = finding(mock.conformance(), "too-many-in-flight")
    assert [e["taskId"] for e in found["evidence"]] == [ids[2]]
    assert found["evidence"][0]["what"] == "task 3 in flight at once (limit 2)"


def test_callback_url_on_a_private_address_is_flagged(flux2_mock: Any, raw: Raw) -> None:
    # callback-drop: nothing is ever sent there (the allowlist would refuse it too).
    task_id = raw.submit(callback_url="http://192.168.1.20/hooks/flux", scenario="callback-drop")
    report = flux2_mock.conformance()
    found = finding(report, "callback-url-unreachable")
    assert found["evidence"][0]["taskId"] == task_id
    assert found["evidence"][0]["what"] == "callback_url http://192.168.1.20/hooks/flux: " \
                                           "a private address"
    assert flux2_mock.callbacks() == []


def test_plain_http_callback_url_is_a_warning(flux2_mock: Any, raw: Raw) -> None:
    raw.submit(callback_url="http://hooks.example.com/flux?token=s3cret", scenario="callback-drop")
    report = flux2_mock.conformance()
    found = finding(report, "callback-url-not-https")
    assert found["severity"] == "warning"
    assert "s3cret" not in str(report)  # query strings are where secrets ride


@pytest.fixture
def failing_receiver() -> Iterator[Receiver]:
    with receiving(then=500) as receiver:
        yield receiver


def test_receiver_answering_500_is_flagged(make_served_mock: MakeServedMock,
                                           failing_receiver: Receiver) -> None:
    mock = make_served_mock()  # its own mock: the retries it schedules stay out of other tests
    task_id = Raw(mock).submit(callback_url=failing_receiver.url)
    mock.advance(40)
    attempts = mock.callbacks()
    assert [a["status"] for a in attempts] == [500]
    found = finding(mock.conformance(), "callback-receiver-failed")
    assert found["evidence"][0]["what"] == "receiver answered 500"
    assert found["evidence"][0]["taskId"] == task_id


def test_receiver_slower_than_the_timeout_is_flagged(make_served_mock: MakeServedMock) -> None:
    mock = make_served_mock(conformance_callback_timeout_s=0.05)
    with receiving(delay=0.3) as receiver:
        Raw(mock).submit(callback_url=receiver.url)
        mock.advance(40)
        found = finding(mock.conformance(), "callback-receiver-failed")
        assert found["evidence"][0]["what"].startswith("receiver took ")


def test_result_never_downloaded_before_expiry_is_flagged(flux2_mock: Any, raw: Raw) -> None:
    task_id = raw.submit()
    flux2_mock.advance(30)
    assert raw.poll(task_id)["data"]["state"] == "success"
    assert "result-never-downloaded" not in rule_ids(flux2_mock.conformance())
    flux2_mock.advance(24 * 3600)
    found = finding(flux2_mock.conformance(), "result-never-downloaded")
    assert found["evidence"][0]["taskId"] == task_id


def test_downloading_after_expiry_does_not_count(flux2_mock: Any, raw: Raw) -> None:
    task_id = raw.submit()
    flux2_mock.advance(30)
    url = raw.poll(task_id)["data"]["resultJson"].split('"')[3]
    flux2_mock.advance(24 * 3600)
    assert requests.get(url, timeout=5).status_code == 410
    assert "result-never-downloaded" in rule_ids(flux2_mock.conformance())


def test_thresholds_scale_with_the_profile(make_served_mock: MakeServedMock) -> None:
    mock = make_served_mock(profile="fast")  # 100x faster than the real API
    raw = Raw(mock)
    patient, hasty = raw.submit(), raw.submit()
    mock.advance(0.15)  # 15 s at this scale
    raw.poll(patient)
    mock.advance(0.05)  # 5 s
    raw.poll(patient)
    raw.poll(hasty)
    mock.advance(0.049)
    raw.poll(hasty)
    report = mock.conformance()
    assert report["thresholds"]["timeScale"] == 0.01
    assert report["thresholds"]["firstPollMs"] == 150
    tasks = {f["rule"]: {e["taskId"] for e in f["evidence"]} for f in report["findings"]}
    assert tasks == {"poll-too-frequent": {hasty}}


def test_an_explicit_time_scale_overrides_the_profile(make_served_mock: MakeServedMock) -> None:
    mock = make_served_mock(profile="fast", conformance_time_scale=1.0)
    raw = Raw(mock)
    task_id = raw.submit()
    mock.advance(1)
    raw.poll(task_id)
    assert "first-poll-too-early" in rule_ids(mock.conformance())


def test_timed_rules_are_skipped_when_the_profile_has_no_time(
        make_served_mock: MakeServedMock) -> None:
    mock = make_served_mock(profile="instant")
    raw = Raw(mock)
    task_id = raw.submit()
    raw.poll(task_id)
    report = mock.conformance()
    skipped = {r["id"] for r in report["rules"] if r["result"] == "skipped"}
    assert skipped == {"first-poll-too-early", "poll-too-frequent", "poll-past-timeout"}
    assert report["findings"] == []


def test_a_key_filter_reports_only_that_key(make_served_mock: MakeServedMock) -> None:
    mock = make_served_mock(api_keys=("team-key-1", "team-key-2"))
    raw = Raw(mock)
    raw.poll("task_nope")  # as team-key-1, the fixture's key
    report = requests.get(mock.url("/_mock/conformance"), timeout=5,
                          headers={"X-Flux2-Api-Key": "team-key-2"}).json()
    assert (report["apiKey"], report["requests"], report["findings"]) == ("te…-2", 0, [])
    mine = requests.get(mock.url("/_mock/conformance"), params={"apiKey": "team-key-1"},
                        timeout=5).json()
    assert mine["requests"] == 1 and not mine["conformant"]
    text = requests.get(mock.url("/_mock/conformance"), timeout=5,
                        params={"apiKey": "team-key-1", "format": "text"}).text
    assert text.startswith("conformance of te…-1: 1 requests, 0 tasks, time scale 1.0")
    assert "NOT CONFORMANT: 1 error(s), 0 warning(s)" in text


@pytest.mark.parametrize(("host", "reason"), [
    ("127.0.0.1", "a loopback address"), ("localhost", "a loopback name"),
    ("[::1]", "a loopback address"), ("10.1.2.3", "a private address"),
    ("169.254.1.1", "a link-local address"), ("printer.local", "a local-network name"),
    ("intranet", "a single-label name, not resolvable on the internet"),
    ("hooks.example.com", None), ("93.184.215.14", None)])
def test_which_callback_hosts_the_real_api_cannot_reach(host: str, reason: str | None) -> None:
    assert unreachable_reason(host) == reason


def test_exempt_hosts_match_loopback_names_ips_and_networks() -> None:
    assert is_exempt("127.0.0.1", ["loopback"]) and is_exempt("localhost", ["loopback"])
    assert is_exempt("10.9.8.7", ["10.0.0.0/8"]) and is_exempt("tunnel.dev", ["tunnel.dev"])
    assert not is_exempt("10.9.8.7", ["loopback"])


def test_429s_of_a_plan_are_flagged_under_the_limit_they_hit(
        make_served_mock: MakeServedMock) -> None:
    mock = make_served_mock(key_plans=("flux2-mock-key=free",))  # 10 requests/min, 3 tasks at once
    raw = Raw(mock)
    for _ in range(3):
        raw.submit()
    assert requests.post(mock.url(SUBMIT), headers=raw.auth(), timeout=5, json={
        "request_type": "async", "input": {"prompt": "one too many"}}).status_code == 429
    mock.advance(40)
    codes = [raw.poll("task_0000000000000000")["code"] for _ in range(8)]
    assert codes[-1] == 429
    report = mock.conformance()
    in_flight = finding(report, "too-many-in-flight")["evidence"]
    assert [e["status"] for e in in_flight] == [429]
    assert "3 concurrent tasks" in in_flight[0]["what"]
    rate = finding(report, "rate-limit-exceeded")["evidence"]
    assert rate and all("10 requests per minute" in e["what"] for e in rate)
