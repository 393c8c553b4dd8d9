"""The control plane shows callback deliveries and counts their attempts."""

from __future__ import annotations

from tests.support.mock_client import MakeMock, MockClient, callback_body
from tests.support.receiver import receiving


def callback_task(mock: MockClient, url: str, scenario: str | None = None) -> str:
    return mock.task(callback_body(url, "A harbour at night"), scenario=scenario)


def test_task_detail_lists_deliveries_and_attempts(mock: MockClient) -> None:
    with receiving() as hook:
        task_id = callback_task(mock, hook.url)
        assert mock.get(f"/_mock/tasks/{task_id}").get_json()["callbacks"] == []
        mock.clock.advance(3)
        assert mock.deliver() == 1
        (delivery,) = mock.get(f"/_mock/tasks/{task_id}").get_json()["callbacks"]
    assert (delivery["delivery"], delivery["state"]) == (1, "delivered")
    (attempt,) = delivery["attempts"]
    assert (attempt["attempt"], attempt["status"], attempt["url"]) == (1, 200, hook.url)
    assert hook.payloads()[0]["data"]["taskId"] == task_id


def test_forcing_a_callback_task_sends_its_callback_now(mock: MockClient) -> None:
    with receiving() as hook:
        task_id = callback_task(mock, hook.url, scenario="stuck")
        mock.clock.advance(10)
        assert mock.deliver() == 0  # stuck: nothing is due
        forced = mock.post(f"/_mock/tasks/{task_id}/force", {"outcome": "failed",
                                                             "failCode": "NSFW"})
        assert forced.status_code == 200
        assert mock.deliver() == 1
    assert [b["data"]["state"] for b in hook.payloads()] == ["failed"]
    assert hook.payloads()[0]["data"]["failCode"] == "NSFW"


def test_metrics_count_callback_attempts_by_outcome(make_mock: MakeMock) -> None:
    mock = make_mock(pending_ms=0, processing_ms=1000, callback_max_retries=0)
    with receiving() as hook, receiving(then=500) as broken:
        callback_task(mock, hook.url)
        callback_task(mock, broken.url)
        mock.clock.advance(2)
        assert mock.deliver() == 2
    text = mock.get("/_mock/metrics").get_data(as_text=True)
    assert 'flux2_mock_callback_attempts_total{outcome="delivered"} 1' in text
    assert 'flux2_mock_callback_attempts_total{outcome="rejected"} 1' in text
    assert 'flux2_mock_callback_attempts_total{outcome="unreachable"} 0' in text
