"""A reset reaches the callback outbox: deliveries of deleted tasks never keep it busy."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.apps import make_app
from tests.support.serve import auth, text_request

SUBMIT = "/api/v1/generateTask/flux-2"


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_the_dispatcher_is_idle_after_a_reset_deleted_tasks_with_pending_deliveries(
        store: str, tmp_path: Path) -> None:
    app = make_app({"store": "memory" if store == "memory" else str(tmp_path / "t.sqlite3"),
                    "profile": "instant", "callback_dispatch": "manual"})
    client = app.test_client()
    for _ in range(3):
        body = {**text_request(), "request_type": "callback",
                "callback_url": "http://127.0.0.1:9/hook"}
        answer = client.post(SUBMIT, json=body, headers={**auth(), "X-Mock-Scenario": "stuck"})
        assert answer.status_code == 200, answer.get_json()
    dispatcher = app.extensions["flux2_mock"].dispatcher
    outbox = app.extensions["flux2_mock"].storage.outbox
    outbox.register_new()
    assert not outbox.idle()  # three waiting deliveries, for tasks that never finish

    done = client.post("/_mock/reset").get_json()

    assert "outbox" in done["reset"]
    assert outbox.idle()
    assert dispatcher.deliver_due() == 0


def test_a_reset_of_one_key_keeps_the_other_keys_deliveries(tmp_path: Path) -> None:
    app = make_app({"store": str(tmp_path / "t.sqlite3"), "profile": "instant",
                    "callback_dispatch": "manual", "api_keys": ("k-one-key", "k-two-key")})
    client = app.test_client()
    for key in ("k-one-key", "k-two-key"):
        body = {**text_request(), "request_type": "callback",
                "callback_url": "http://127.0.0.1:9/hook"}
        headers = {"Authorization": f"Bearer {key}", "X-Mock-Scenario": "stuck"}
        assert client.post(SUBMIT, json=body, headers=headers).status_code == 200
    outbox = app.extensions["flux2_mock"].storage.outbox
    outbox.register_new()
    client.post("/_mock/reset?apiKey=k-one-key")
    assert not outbox.idle()  # the other key's delivery is still waiting
    client.post("/_mock/reset?apiKey=k-two-key")
    assert outbox.idle()
