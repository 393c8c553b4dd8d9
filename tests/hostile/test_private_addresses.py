"""callback_reject_private holds for every spelling of an address, at submit and at delivery.

Nothing here sends to a non-loopback address: refused URLs are never contacted, and
names are "resolved" by a stand-in that answers loopback only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.callbacks import sender
from mock_server.callbacks.ip_literals import host_address, ipv4_any_form
from mock_server.callbacks.sender import HostPolicy, Sender, private_reason
from tests.support.mock_client import MakeMock, callback_body
from tests.support.receiver import Receiver

LOOPBACK_FORMS = ["127.1", "0x7f.1", "0177.0.0.1", "2130706433", "0x7f000001", "017700000001",
                  "127.0.0.1.", "127.0.1", "0x7F.0.0.1", "127.000.000.001",
                  "\uff11\uff12\uff17.\uff10.\uff10.\uff11", "127\u30020\u30020\u30021",
                  "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "[2002:7f00:1::]",
                  "[64:ff9b::7f00:1]", "[::1]", "[0:0:0:0:0:0:0:1]", "localhost",
                  "LOCALHOST", "api.localhost"]
PRIVATE_FORMS = ["10.1", "10.0.0.7", "192.168.1", "0xc0.0xa8.1.1", "0300.0250.0.1",
                 "3232235777", "172.16.0.1", "100.64.0.1", "100.127.255.254", "169.254.169.254",
                 "0", "0.0.0.0", "0x", "[::]", "[fe80::1%25eth0]", "[fe80::1]", "[fd00::1]",
                 "[::ffff:10.0.0.1]", "[64:ff9b::a00:1]", "[2001:0:4136:e378:8000:63bf:f5ff:fffe]",
                 "224.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.2.1", "240.0.0.1",
                 "08.1", "1.2.3.09", "1.2.3.4.5", "receiver", "api.internal", "box.lan",
                 "db.home.arpa"]


@pytest.mark.parametrize("host", LOOPBACK_FORMS + PRIVATE_FORMS)
def test_every_spelling_of_a_local_address_is_not_public(host: str) -> None:
    reason = private_reason(f"http://{host}:8080/cb")
    assert reason is not None and reason.startswith("host "), host


@pytest.mark.parametrize("host", ["203.0.113.9.nip.io", "hooks.example.com", "8.8.8.8",
                                  "0x08.0x08.0x08.0x08", "134744072", "[2001:4860:4860::8888]",
                                  "[::ffff:8.8.8.8]", "b\u00fccher.de", "1.2.3.4"])
def test_public_addresses_in_any_spelling_pass(host: str) -> None:
    assert private_reason(f"https://{host}/cb") is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 255).map(str),
                          st.integers(0, 255).map(lambda n: f"0x{n:x}"),
                          st.integers(0, 255).map(lambda n: f"0{n:o}"),
                          st.integers(0, 2**32 - 1).map(str),
                          st.integers(0, 2**32 - 1).map(hex)), min_size=1, max_size=4))
def test_ipv4_literals_read_as_the_c_library_reads_them(parts: list[str]) -> None:
    host = ".".join(parts)
    try:
        expected: Any = ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        expected = None
    assert ipv4_any_form(host) == expected, host


@pytest.mark.parametrize("host", [*LOOPBACK_FORMS[:14], "10.1", "192.168.1", "100.64.0.1",
                                  "[fe80::1%25eth0]", "[::ffff:10.0.0.1]"])
def test_submit_refuses_them_with_400_naming_callback_url(make_mock: MakeMock,
                                                          host: str) -> None:
    mock = make_mock(callback_reject_private=True)
    response = mock.submit(callback_body(f"http://{host}:9/cb"))
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["data"]["errors"][0]
    assert error["field"] == "callback_url" and error["rule"] == "public"
    assert mock.advance_and_deliver(3600) == 0


@pytest.mark.parametrize("url", ["http://[x/", "http://[x]/", "http://[::1/", "http://a:99999/",
                                 "http://a:-1/", "http://[1.2.3.4]/", "http://a b/",
                                 "http://a\u001cb/", "http:///path", "http://a/\n",
                                 "http://user@/x", "http://a\\b/", "http://%31%32%37.0.0.1/",
                                 "javascript:alert(1)", "http://[::1]x/", "http://a:80:80/"])
def test_malformed_urls_are_refused_at_submit_whatever_the_settings(make_mock: MakeMock,
                                                                    url: str) -> None:
    mock = make_mock()  # callback_reject_private off
    response = mock.submit(callback_body(url))
    assert response.status_code == 400, (url, response.get_json())
    assert response.get_json()["data"]["errors"][0]["field"] == "callback_url"


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    """Answer lookups of the given names from `answers` (loopback only); record every lookup."""
    asked: list[str] = []
    real = sender.resolve

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        if host in answers:
            return answers[host]
        if host_address(host) is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port)  # an IP literal: the C library reads it, no DNS involved

    monkeypatch.setattr(sender, "resolve", resolve)
    return asked


def test_a_public_looking_name_resolving_to_loopback_is_refused_at_delivery(
        make_mock: MakeMock, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = fake_dns(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    mock = make_mock(callback_reject_private=True, callback_allowed_hosts="hooks.example.com")
    port = receiver.url.split(":")[2].split("/")[0]
    # A public-looking name: it passes submit.
    task_id = mock.task(callback_body(f"http://hooks.example.com:{port}/cb"))
    assert mock.advance_and_deliver(1) == 1
    delivery = mock.callbacks(task_id)["deliveries"][0]
    (attempt,) = delivery["attempts"]
    assert "resolves to 127.0.0.1, a loopback address" in attempt["error"]
    assert "callback_reject_private" in attempt["error"]
    assert delivery["state"] == "abandoned" and attempt["status"] is None
    assert receiver.received == [] and asked == ["hooks.example.com"]


def test_the_name_is_checked_again_on_every_attempt(receiver: Receiver,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {"hooks.example.com": ["127.0.0.1"]}
    fake_dns(monkeypatch, answers)
    port = int(receiver.url.split(":")[2].split("/")[0])
    open_policy = Sender(HostPolicy.parse(["hooks.example.com"]))
    strict = Sender(HostPolicy.parse(["hooks.example.com"], reject_private=True))
    url = f"http://hooks.example.com:{port}/cb"
    assert asyncio.run(open_policy.post(url, b"{}", 5)).status == 200  # the stand-in works
    refused = asyncio.run(strict.post(url, b"{}", 5))
    assert (refused.status, refused.contacted, refused.final) == (None, False, True)
    answers["hooks.example.com"] = ["127.0.0.1", "::1"]
    assert asyncio.run(strict.post(url, b"{}", 5)).final
    assert len(receiver.received) == 1


def test_names_outside_the_allowlist_are_never_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = fake_dns(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    policy = Sender(HostPolicy.parse(["loopback"]))
    for url in ("http://hooks.example.com/cb", "http://random-fuzzed-name.test/cb"):
        result = asyncio.run(policy.post(url, b"{}", 5))
        assert result.final and not result.contacted and "not listed" in (result.error or "")
    assert asked == []  # no DNS query leaves the machine for a name the policy cannot admit


@pytest.mark.parametrize("host", ["127.1", "0x7f.1", "2130706433", "0177.0.0.1"])
def test_the_sender_itself_refuses_odd_loopback_spellings_when_private_is_rejected(
        receiver: Receiver, host: str) -> None:
    port = int(receiver.url.split(":")[2].split("/")[0])
    strict = Sender(HostPolicy.parse([], reject_private=True))
    result = asyncio.run(strict.post(f"http://{host}:{port}/cb", b"{}", 5))
    assert result.final and not result.contacted and "loopback" in (result.error or "")
    assert receiver.received == []


@contextmanager
def redirecting(status: int, location: str) -> Iterator[list[str]]:
    """A loopback server answering every POST with `status` and `Location: location`."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(self.path)
            self.send_response(status)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        seen.append(f"http://127.0.0.1:{server.server_address[1]}/cb")
        yield seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_never_followed(make_mock: MakeMock, receiver: Receiver,
                                      status: int) -> None:
    with redirecting(status, receiver.url) as seen:
        mock = make_mock()
        task_id = mock.task(callback_body(seen[0]))
        assert mock.advance_and_deliver(1) == 1
        (attempt,) = mock.callbacks(task_id)["deliveries"][0]["attempts"]
        assert attempt["status"] == status and seen[1:] == ["/cb"]
        assert receiver.received == []  # the Location was never visited
