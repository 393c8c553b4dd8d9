"""The control plane shows callback deliveries and counts their attempts."""

from __future__ import annotations

from .conftest import KEY, Control, MakeControl
from .receiver import receiver


def callback_task(control: Control, url: str, scenario: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {KEY}"}
    if scenario:
        headers["X-Mock-Scenario"] = scenario
    response = control.client.post("/api/v1/generateTask/flux-2", headers=headers, json={
        "request_type": "callback", "callback_url": url,
        "input": {"prompt": "A harbour at night"}})
    assert response.status_code == 200, response.get_json()
    task_id: str = response.get_json()["data"]["taskId"]
    return task_id


def deliver(control: Control) -> int:
    made: int = control.app.extensions["flux2_mock"].dispatcher.deliver_due()
    return made


def test_task_detail_lists_deliveries_and_attempts(control: Control) -> None:
    with receiver() as hook:
        task_id = callback_task(control, hook.url)
        assert control.get(f"/_mock/tasks/{task_id}").get_json()["callbacks"] == []
        control.clock.advance(3)
        assert deliver(control) == 1
        (delivery,) = control.get(f"/_mock/tasks/{task_id}").get_json()["callbacks"]
    assert (delivery["delivery"], delivery["state"]) == (1, "delivered")
    (attempt,) = delivery["attempts"]
    assert (attempt["attempt"], attempt["status"], attempt["url"]) == (1, 200, hook.url)
    assert hook.bodies[0]["data"]["taskId"] == task_id


def test_forcing_a_callback_task_sends_its_callback_now(control: Control) -> None:
    with receiver() as hook:
        task_id = callback_task(control, hook.url, scenario="stuck")
        control.clock.advance(10)
        assert deliver(control) == 0  # stuck: nothing is due
        forced = control.post(f"/_mock/tasks/{task_id}/force", {"outcome": "failed",
                                                                "failCode": "NSFW"})
        assert forced.status_code == 200
        assert deliver(control) == 1
    assert [b["data"]["state"] for b in hook.bodies] == ["failed"]
    assert hook.bodies[0]["data"]["failCode"] == "NSFW"


def test_metrics_count_callback_attempts_by_outcome(make_control: MakeControl) -> None:
    control = make_control(pending_ms=0, processing_ms=1000, callback_max_retries=0)
    with receiver() as hook:
        callback_task(control, hook.url)
        callback_task(control, hook.broken_url)
        control.clock.advance(2)
        assert deliver(control) == 2
    text = control.get("/_mock/metrics").get_data(as_text=True)
    assert 'flux2_mock_callback_attempts_total{outcome="delivered"} 1' in text
    assert 'flux2_mock_callback_attempts_total{outcome="rejected"} 1' in text
    assert 'flux2_mock_callback_attempts_total{outcome="unreachable"} 0' in text
