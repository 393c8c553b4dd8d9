"""No log line shows an API key in full (the start-up banner aside)."""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

import pytest
import requests

from mock_server.domain.keys import key_id, mask_key
from mock_server.serving.log_masking import MaskFilter, install, mask_query, mask_text
from tests.support.serve import ServeProcess

from .conftest import port_of, raw_exchange

KEY = "sk-live-9f8e7d6c5b4a3210"
OTHER = "second-secret-key-000111"


def test_query_strings_keep_ids_and_mask_secrets() -> None:
    assert mask_query(f"apiKey={KEY}&limit=5") == f"apiKey={mask_key(KEY)}&limit=5"
    assert mask_query(f"apiKeyId={key_id(KEY)}") == f"apiKeyId={key_id(KEY)}"
    assert KEY not in mask_query(f"x=1&api_key={quote(KEY)}&token=abc")
    assert KEY not in mask_text(f'"GET /_mock/spend?apiKey={KEY} HTTP/1.1" 200', [])
    assert KEY not in mask_text(f"Authorization: Bearer {KEY}", [])
    assert KEY not in mask_text(f"no such task for {KEY} (odd place)", [KEY])


def test_the_filter_masks_messages_arguments_and_tracebacks() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "key %s in %s", (KEY, "args"),
                               None)
    try:
        raise ValueError(f"boom with {KEY}")
    except ValueError:
        import sys
        record.exc_info = sys.exc_info()
    assert MaskFilter([KEY]).filter(record)
    text = logging.Formatter().format(record)
    assert KEY not in text and mask_key(KEY) in text and "ValueError" in text


def test_a_warning_of_the_app_itself_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    install([KEY], loggers=())
    alone = logging.getLogger("flux2-mock-test-alone")
    alone.propagate = False  # no handler anywhere: logging's last resort writes it
    alone.warning("refused %s", KEY)
    written = capsys.readouterr().err
    assert "refused" in written and KEY not in written and mask_key(KEY) in written


@pytest.mark.e2e
def test_no_access_or_error_line_holds_a_key() -> None:
    server = ServeProcess("--store", "memory", "--access-log", "--api-key", KEY,
                          "--api-key", OTHER).start()
    try:
        for path in ("/_mock/spend", "/_mock/conformance", "/_mock/tasks", "/_mock/journal",
                     "/_mock/reset", "/_mock/scenario-queue"):
            method = "POST" if path == "/_mock/reset" else "GET"
            for key in (KEY, OTHER):
                requests.request(method, server.url(path), params={"apiKey": key}, timeout=10)
        requests.get(server.url("/_mock/tasks"), params={"apiKey": "no-such-" + KEY},
                     timeout=10)
        requests.get(server.url(f"/output/{KEY}/0.jpg"), timeout=10)
        requests.get(server.url("/api/v1/statusTask/flux-2"), params={"taskId": KEY},
                     headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
        port = port_of(server)
        # Request lines the HTTP parser refuses are logged by the server itself.
        raw_exchange(port, f"GET /_mock/tasks?apiKey={KEY} HTTP/1.1 junk\r\n\r\n".encode())
        raw_exchange(port, f"GET /_mock/tasks?apiKey={KEY}\x01 HTTP/1.1\r\n\r\n".encode())
        raw_exchange(port, f"GET /?apiKey={KEY} HTTP/1.1\r\nHost: x\r\nBad Header: {KEY}\r\n"
                     f"\r\n".encode())
        time.sleep(0.5)  # access lines are written after each answer
    finally:
        server.stop()
    lines = [line for line in server.output if "API key:" not in line]  # the banner
    assert sum("/_mock/spend" in line for line in lines) >= 2, "".join(lines)
    leaked = [line for line in lines if KEY in line or OTHER in line]
    assert leaked == [], "".join(leaked)
