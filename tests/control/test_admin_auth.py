"""The control plane's protection: open on loopback, an admin token otherwise, never via the API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mock_server.settings import Settings, SettingsError, is_loopback
from tests.support.mock_client import KEY, MakeMock
from tests.support.serve import serving

TOKEN = "admin-s3cret-token"
PROTECTED = ["/_mock/tasks", "/_mock/clock", "/_mock/settings", "/_mock/scenario-queue",
             "/_mock/journal", "/_mock/metrics", "/_mock/tasks/task_x",
             # other parts' /_mock/ endpoints are guarded alike
             "/_mock/conformance", "/_mock/spend", "/_mock/tasks/task_x/callbacks"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "[::1]", "localhost"])
def test_loopback_hosts_need_no_token(host: str) -> None:
    assert is_loopback(host)
    assert Settings(host=host).admin_token == ""


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.com"])
def test_any_other_host_needs_a_token(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(SettingsError, match="needs an admin token"):
        Settings(host=host)
    assert Settings(host=host, admin_token=TOKEN).host == host


def test_the_admin_token_cannot_be_an_api_key() -> None:
    with pytest.raises(SettingsError, match="must differ from every API key"):
        Settings(admin_token=KEY)


def test_with_a_token_every_control_path_but_health_and_ui_needs_it(
        make_mock: MakeMock) -> None:
    mock = make_mock(admin_token=TOKEN)
    for path in PROTECTED:
        refused = mock.get(path)
        assert refused.status_code == 401, path
        assert refused.get_json()["message"] == "Admin token required"
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert mock.get(path, headers=bearer("wrong")).status_code == 401, path
        assert mock.get(path, headers=bearer(KEY)).status_code == 401, path  # an API key
    assert mock.post("/_mock/reset", headers=bearer(KEY)).status_code == 401
    for path in ["/_mock/tasks", "/_mock/clock", "/_mock/metrics", "/_mock/scenario-queue"]:
        assert mock.get(path, headers=bearer(TOKEN)).status_code == 200, path
    for path in ["/_mock/health", "/_mock/ui", "/_mock/ui/dashboard.js"]:
        assert mock.get(path).status_code == 200, path


def test_the_admin_token_is_not_an_api_key(make_mock: MakeMock) -> None:
    mock = make_mock(admin_token=TOKEN)
    response = mock.client.post("/api/v1/generateTask/flux-2", headers=bearer(TOKEN),
                                    json={"request_type": "async", "input": {"prompt": "abc"}})
    assert response.status_code == 401


def test_api_paths_never_reach_control_functions(make_mock: MakeMock) -> None:
    mock = make_mock(admin_token=TOKEN, pending_ms=1000, processing_ms=2000)
    task_id = mock.task()
    auth = bearer(KEY)
    attempts = [
        ("POST", "/api/v1/_mock/reset"), ("POST", "/api/v1/generateTask/_mock/reset"),
        ("GET", "/api/v1/statusTask/_mock?taskId=x"), ("POST", "/api/v1/../_mock/reset"),
        ("POST", "/api/v1/%2e%2e/_mock/reset"),
        ("POST", "/api/v1/statusTask/flux-2/../../_mock/reset"),
        ("GET", "/output/../_mock/tasks"), ("POST", "/api/v1/tasks/" + task_id + "/force"),
    ]
    for method, path in attempts:
        response = mock.client.open(path, method=method, headers=auth,
                                       json={"outcome": "failed"})
        assert response.status_code in (400, 401, 404, 405), (path, response.status_code)
        assert "tasks" not in (response.get_json() or {}).get("data", {}), path
    status = mock.client.get("/api/v1/statusTask/flux-2",
                                query_string={"taskId": "../../_mock/reset"}, headers=auth)
    assert status.status_code == 404
    assert mock.state(task_id) == "pending"  # nothing was reset or forced
    listed = mock.get("/_mock/tasks", headers=bearer(TOKEN)).get_json()["tasks"]
    assert [t["taskId"] for t in listed] == [task_id]


@pytest.mark.e2e
def test_serve_with_a_token_on_loopback_requires_it(tmp_path: Path) -> None:
    with serving("--admin-token", TOKEN, "--workers", "1",
                     store=tmp_path / "tasks.sqlite3") as server:
        url = server.url("/_mock/reset")
        assert requests.post(url, timeout=10).status_code == 401
        assert requests.post(url, headers=bearer(KEY), timeout=10).status_code == 401
        assert requests.post(url, headers=bearer(TOKEN), timeout=10).status_code == 200
        assert requests.get(server.url("/_mock/health"), timeout=10).status_code == 200


@pytest.mark.e2e
def test_serve_refuses_a_non_loopback_host_without_a_token() -> None:
    # Refused while reading settings, before gunicorn is even imported: nothing is bound.
    done = subprocess.run([sys.executable, "-m", "mock_server", "serve", "--host", "0.0.0.0",
                           "--port", "0"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 2
    assert "needs an admin token" in done.stderr and "--admin-token" in done.stderr
    assert "serving" not in done.stdout + done.stderr


@pytest.mark.e2e
def test_serve_refuses_a_token_that_is_an_api_key() -> None:
    done = subprocess.run([sys.executable, "-m", "mock_server", "serve", "--port", "0",
                           "--admin-token", KEY], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 2 and "must differ from every API key" in done.stderr
