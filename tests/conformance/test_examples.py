"""The reference client in examples/ is conformant: never a false flag, in every mode."""

from __future__ import annotations

from typing import Any

import pytest
from flux2_client import CallbackReceiver, Flux2Client, TaskFailed, TaskTimedOut

JPEG = b"\xff\xd8"


def client_of(mock: Any) -> Flux2Client:
    """The reference client on the fixture's virtual time."""
    return Flux2Client(mock.base_url, mock.api_key, sleep=mock.advance, clock=mock.now)


def test_polling_client_is_conformant_and_gets_its_image(flux2_mock: Any) -> None:
    images = client_of(flux2_mock).generate("a red fox in the snow")
    assert images[0].startswith(JPEG)
    flux2_mock.advance(25 * 3600)  # past the result URLs' expiry: it downloaded in time
    report = flux2_mock.conformance()
    assert report["findings"] == []
    assert {r["result"] for r in report["rules"]} == {"pass"}
    flux2_mock.assert_conformant()


def test_polling_client_handles_a_failed_task_conformantly(flux2_mock: Any) -> None:
    client = client_of(flux2_mock)
    data = client.wait(client.submit("a cat", scenario="fail:CONTENT_VIOLATION"))
    assert data["state"] == "failed"
    with pytest.raises(TaskFailed, match="CONTENT_VIOLATION"):
        client.download(data)
    flux2_mock.assert_conformant()


def test_polling_client_gives_up_on_a_stuck_task_at_3_minutes(flux2_mock: Any) -> None:
    client = client_of(flux2_mock)
    with pytest.raises(TaskTimedOut):
        client.wait(client.submit("never finishes", scenario="stuck"))
    assert 175 <= flux2_mock.now() - flux2_mock.tasks()[0]["createTime"] / 1000 <= 185
    flux2_mock.assert_conformant()


def test_several_clients_at_once_stay_conformant(flux2_mock: Any) -> None:
    client = client_of(flux2_mock)
    ids = [client.submit(f"scene {i}") for i in range(3)]
    for task_id in ids:
        client.download(client.wait(task_id))
    flux2_mock.assert_conformant()


def test_callback_client_is_conformant_with_a_loopback_receiver(flux2_mock: Any) -> None:
    with CallbackReceiver() as receiver:
        images = client_of(flux2_mock).generate_with_callback("a harbour at night", receiver)
    assert images[0].startswith(JPEG)
    assert [a["status"] for a in flux2_mock.callbacks()] == [200]
    # No poll at all: the callback carried the result.
    assert flux2_mock.conformance()["requests"] == 2  # the submission and the download
    flux2_mock.assert_conformant()


def test_callback_client_falls_back_to_polling_when_a_callback_is_lost(flux2_mock: Any) -> None:
    with CallbackReceiver() as receiver:
        images = client_of(flux2_mock).generate_with_callback(
            "a quiet lake", receiver, scenario="callback-drop")
    assert images[0].startswith(JPEG)
    assert flux2_mock.callbacks() == []
    flux2_mock.assert_conformant()


def test_callback_client_ignores_duplicate_deliveries(flux2_mock: Any) -> None:
    with CallbackReceiver() as receiver:
        client_of(flux2_mock).generate_with_callback("two of everything", receiver,
                                                     scenario="callback-duplicate")
        flux2_mock.advance(60)
    assert len(flux2_mock.callbacks()) == 2
    flux2_mock.assert_conformant()


def test_the_same_loopback_receiver_is_flagged_without_the_exemption(make_served_mock: Any) -> None:
    # flux2-mock serve's default: a loopback callback_url is one the real API cannot reach.
    mock = make_served_mock(conformance_callback_exempt_hosts=())
    with CallbackReceiver() as receiver:
        client_of(mock).generate_with_callback("a harbour at night", receiver)
    report = mock.conformance()
    assert {f["rule"] for f in report["findings"]} == {"callback-url-unreachable"}
    with pytest.raises(AssertionError, match="callback-url-unreachable"):
        mock.assert_conformant()
