"""The proxy's command line: upstream URLs it refuses, and `report --upstream` for CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mock_server.proxy.options import ProxyOptionError, ProxyOptions

from .support import poll, proxy_in_process, request_body, served, submit
from .upstreams import BREAKAGES, FakeUpstream

pytestmark = pytest.mark.e2e  # starts flux2-mock serve (and proxy) processes


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/api", "file:///etc/passwd",
                                 "127.0.0.1:8000", "gopher://localhost", "http://",
                                 "https://user:secret@127.0.0.1", "http://127.0.0.1/?k=v"])
def test_upstream_must_be_a_plain_http_url(url: str) -> None:
    with pytest.raises(ProxyOptionError, match="--upstream"):
        ProxyOptions(url)


def test_cli_refuses_a_non_http_upstream_before_serving() -> None:
    done = subprocess.run([sys.executable, "-m", "mock_server", "proxy", "--port", "0",
                           "--upstream", "ftp://127.0.0.1/"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "--upstream must be an http:// or https:// URL, got ftp:" in done.stderr
    assert "serving" not in done.stdout


def test_cli_refuses_a_database_store() -> None:
    done = subprocess.run([sys.executable, "-m", "mock_server", "proxy", "--port", "0",
                           "--upstream", "http://127.0.0.1:9", "--store",
                           "postgresql://u@127.0.0.1:5/db"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "SQLite file" in done.stderr


def test_public_url_and_spend_are_checked_too() -> None:
    with pytest.raises(ProxyOptionError, match="--public-url"):
        ProxyOptions("http://127.0.0.1:1", public_url="ws://127.0.0.1:2")
    with pytest.raises(ProxyOptionError, match="--max-spend"):
        ProxyOptions("http://127.0.0.1:1", max_spend_usd=-1)


def test_report_upstream_exits_1_on_a_breach(tmp_path: Path) -> None:
    breakage = next(b for b in BREAKAGES if b.rule == "success_result_json")
    with served(FakeUpstream(breakage)) as upstream, \
            proxy_in_process(upstream, tmp_path / "p.sqlite3") as proxy:
        task_id = submit(proxy, request_body()).json()["data"]["taskId"]
        for _ in range(3):
            poll(proxy, task_id)
        done = subprocess.run([sys.executable, "-m", "mock_server", "report", "--base-url",
                               proxy, "--upstream"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "BREACH success_result_json" in done.stdout
    assert "data.resultJson | string | JSON string with resultUrls array" in done.stdout
    assert "NOT AS DOCUMENTED" in done.stdout


def test_report_upstream_exits_0_when_all_held(mock_upstream: str, tmp_path: Path) -> None:
    with proxy_in_process(mock_upstream, tmp_path / "p.sqlite3") as proxy:
        submit(proxy, request_body())
        done = subprocess.run([sys.executable, "-m", "mock_server", "report", "--base-url",
                               proxy, "--upstream", "--json"], capture_output=True, text=True,
                              timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"conformant": true' in done.stdout


def test_an_unreachable_upstream_is_a_502_envelope_and_a_finding(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a loopback port where nothing listens
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with proxy_in_process(dead, tmp_path / "p.sqlite3", max_spend_usd=1.0) as proxy:
        answer = submit(proxy, request_body())
        report = requests.get(proxy + "/_mock/upstream", timeout=10).json()
        meter = requests.get(proxy + "/_mock/spend", timeout=10).json()["guard"]
    assert answer.status_code == 502
    assert answer.json()["code"] == 502 and "did not answer" in answer.json()["data"]["error"]
    (finding,) = report["findings"]
    assert finding["rule"] == "answers_are_json"
    assert "the upstream sent no answer" in finding["message"]
    assert meter["chargedUsd"] == 0.0 and meter["reservedUsd"] == 0.0


def test_admin_token_guards_the_control_plane_but_not_the_relay(mock_upstream: str,
                                                                tmp_path: Path) -> None:
    with proxy_in_process(mock_upstream, tmp_path / "p.sqlite3", public_url=True,
                          settings={"admin_token": "admin-secret"}) as proxy:
        assert requests.get(proxy + "/_mock/upstream", timeout=10).status_code == 401
        assert requests.get(proxy + "/_mock/upstream", timeout=10, headers={
            "Authorization": "Bearer admin-secret"}).status_code == 200
        assert requests.get(proxy + "/_mock/health", timeout=10).status_code == 200
        # The upstream cannot send the admin token: the relay answers on its token alone.
        relay = requests.post(proxy + "/_mock/relay/unknown", json={}, timeout=10)
        assert relay.status_code == 404
