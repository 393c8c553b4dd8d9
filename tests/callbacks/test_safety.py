"""The sender only reaches allowed hosts, only over http(s), never via redirects or proxies."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from mock_server.callbacks.sender import HostNotAllowed, HostPolicy, Sender, private_reason
from mock_server.config import load_settings
from mock_server.settings import SettingsError
from tests.support.mock_client import MakeMock, MockClient, callback_body
from tests.support.receiver import Receiver, receiving

# Documentation-only addresses and reserved names: URLs that must be REJECTED, never contacted.
FORBIDDEN = ["http://192.0.2.1/callback", "http://callback.example.invalid/callback",
             "https://[2001:db8::1]:8443/callback"]


@pytest.fixture
def no_outside_connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record (and refuse) any socket connect or name lookup that is not loopback."""
    seen: list[Any] = []
    real_connect = socket.socket.connect
    real_lookup = socket.getaddrinfo

    def connect(sock: socket.socket, address: Any) -> None:
        if address[0] not in ("127.0.0.1", "::1"):
            seen.append(address)
            raise AssertionError(f"connected to {address}")
        real_connect(sock, address)

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if str(host).endswith(".invalid"):
            seen.append(host)
            raise AssertionError(f"looked up {host}")
        return real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return seen


@pytest.mark.parametrize("url", FORBIDDEN)
def test_a_host_outside_the_allowlist_is_journaled_and_never_contacted(
        mock: MockClient, no_outside_connections: list[Any], url: str) -> None:
    task_id = mock.task(callback_body(url))
    assert mock.advance_and_deliver(1) == 1
    assert mock.advance_and_deliver(3600) == 0  # it would never be allowed: no retries
    delivery = mock.callbacks(task_id)["deliveries"][0]
    (attempt,) = delivery["attempts"]
    assert attempt["error"].startswith("host not allowed")
    assert "callback_allowed_hosts (loopback)" in attempt["error"]
    assert (attempt["status"], delivery["state"]) == (None, "abandoned")
    assert no_outside_connections == []


def test_localhost_resolves_into_the_loopback_allowlist(mock: MockClient,
                                                        receiver: Receiver) -> None:
    mock.task(callback_body(receiver.url.replace("127.0.0.1", "localhost")))
    assert mock.advance_and_deliver(1) == 1
    assert len(receiver.wait_for(1)) == 1


def test_policy_checks_every_resolved_address() -> None:
    policy = HostPolicy.parse(["10.1.0.0/16", "hooks.example.com"])
    assert policy.allows_address("10.1.2.3")
    assert policy.allows_address("::ffff:10.1.2.3")
    assert not policy.allows_address("10.2.0.1")
    assert not HostPolicy.parse(["loopback"]).allows_address("192.0.2.1")
    assert HostPolicy.parse(["loopback"]).allows_address("127.8.9.10")
    assert HostPolicy.parse(["::1"]).checked_address("::1", 80) == "::1"
    with pytest.raises(HostNotAllowed, match=r"host not allowed: 127\.0\.0\.1 resolves to"):
        policy.checked_address("127.0.0.1", 80)
    assert HostPolicy.parse([]).describe() == "any host"


@pytest.mark.parametrize("entry", ["not a host!", "http://x.example/", "10.0.0.0/99x"])
def test_a_bad_allowlist_entry_is_a_settings_error(entry: str) -> None:
    with pytest.raises(SettingsError, match="callback_allowed_hosts"):
        load_settings(env={}, overrides={"callback_allowed_hosts": entry})


@pytest.mark.parametrize(("name", "value"), [("callback_retry_s", "30,soon"),
                                             ("callback_retry_s", "-1"),
                                             ("callback_timeout_s", 0),
                                             ("callback_max_retries", -1),
                                             ("callback_dispatch", "sometimes")])
def test_bad_retry_settings_are_refused_by_name(name: str, value: Any) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(env={}, overrides={name: value})


def test_only_http_urls_are_ever_posted() -> None:
    result = asyncio.run(Sender(HostPolicy.parse(["loopback"])).post("ftp://127.0.0.1/cb",
                                                                     b"{}", 1))
    assert (result.error, result.contacted, result.final) == \
        ("not an absolute http(s) URL", False, True)


def test_redirects_are_not_followed(mock: MockClient) -> None:
    with receiving([302]) as receiver:
        task_id = mock.task(callback_body(receiver.url))
        mock.advance_and_deliver(1)
        (attempt,) = mock.callbacks(task_id)["deliveries"][0]["attempts"]
        assert attempt["status"] == 302
        assert len(receiver.received) == 1
        assert mock.callbacks(task_id)["deliveries"][0]["state"] == "waiting"  # a retry is due


def test_proxies_from_the_environment_are_ignored(mock: MockClient, receiver: Receiver,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    mock.task(callback_body(receiver.url))
    assert mock.advance_and_deliver(1) == 1
    assert len(receiver.wait_for(1)) == 1


PRIVATE = ["http://127.0.0.1:8080/cb", "http://localhost/cb", "http://10.0.0.7/cb",
           "http://192.168.1.20/cb", "http://172.16.0.1/cb", "http://169.254.169.254/cb",
           "http://[::1]/cb", "http://[fe80::1]/cb", "http://0.0.0.0/cb",
           "http://receiver/cb", "http://api.internal/cb"]


@pytest.mark.parametrize("url", PRIVATE)
def test_reject_private_refuses_local_callback_urls_at_submit(make_mock: MakeMock,
                                                              url: str) -> None:
    mock = make_mock(callback_reject_private=True)
    response = mock.submit(callback_body(url))
    assert response.status_code == 400
    body = response.get_json()
    assert body["data"]["error"].startswith("callback_url must be publicly reachable: host ")
    assert body["data"]["errors"][0]["field"] == "callback_url"
    assert mock.advance_and_deliver(3600) == 0  # no task, nothing to deliver


def test_reject_private_accepts_a_public_looking_url_without_resolving_it(
        make_mock: MakeMock, no_outside_connections: list[Any]) -> None:
    mock = make_mock(callback_reject_private=True)
    assert mock.submit(callback_body("https://hooks.example.com/flux")).status_code == 200
    assert private_reason("https://203.0.113.9.nip.io/cb") is None
    assert no_outside_connections == []


def test_private_urls_are_accepted_by_default(mock: MockClient) -> None:
    assert mock.submit(callback_body("http://10.0.0.7/cb")).status_code == 200
