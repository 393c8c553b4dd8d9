"""Bearer-key auth: missing, malformed and unknown keys get the documented 401 envelope."""

from __future__ import annotations

import pytest

from tests.support.mock_client import STATUS, SUBMIT, MakeMock, MockClient, body

UNAUTHORIZED = {"code": 401, "message": "Invalid or missing API key"}


@pytest.mark.parametrize(("header", "detail"), [
    (None, "the Authorization header is missing"),
    ("", "the Authorization header is missing"),
    ("flux2-mock-key", "must be 'Bearer <API key>'"),
    ("Basic Zm9vOmJhcg==", "must be 'Bearer <API key>'"),
    ("Bearer", "must be 'Bearer <API key>'"),
    ("Bearer a b", "must be 'Bearer <API key>'"),
    ("Bearer wrong-key", "the API key is not valid"),
    ("Bearer flux2-mock-key2", "the API key is not valid"),
    ("Bearer FLUX2-MOCK-KEY", "the API key is not valid"),
])
@pytest.mark.parametrize("method", ["submit", "status"])
def test_bad_credentials_get_401_envelope(mock: MockClient, header: str | None, detail: str,
                                          method: str) -> None:
    headers = {} if header is None else {"Authorization": header}
    if method == "submit":
        response = mock.client.post(SUBMIT, json=body(), headers=headers)
    else:
        response = mock.client.get(STATUS, query_string={"taskId": "task_x"}, headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    answer = response.get_json()
    assert {k: answer[k] for k in ("code", "message")} == UNAUTHORIZED
    assert detail in answer["data"]["error"]


def test_auth_is_checked_before_the_body(mock: MockClient) -> None:
    response = mock.client.post(SUBMIT, data="not json", headers={"Content-Type": "text/plain"})
    assert response.status_code == 401


def test_default_key_is_accepted_with_any_bearer_case(mock: MockClient) -> None:
    for scheme in ("Bearer", "bearer", "BEARER"):
        response = mock.client.post(SUBMIT, json=body(),
                                    headers={"Authorization": f"{scheme} flux2-mock-key"})
        assert response.status_code == 200


def test_configured_keys_replace_the_default(make_mock: MakeMock) -> None:
    mock = make_mock(api_keys=("alpha", "beta"))
    assert mock.submit(key="alpha").status_code == 200
    assert mock.submit(key="beta").status_code == 200
    assert mock.submit(key="flux2-mock-key").status_code == 401


def test_tasks_belong_to_the_key_that_made_them(make_mock: MakeMock) -> None:
    mock = make_mock(api_keys=("alpha", "beta"))
    task_id = mock.task(key="alpha")
    assert mock.status(task_id, key="alpha").status_code == 200
    response = mock.status(task_id, key="beta")
    assert response.status_code == 404
    assert response.get_json()["message"] == "Task not found"
