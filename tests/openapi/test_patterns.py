"""Every regex in the schemas and OpenAPI documents is in the portable subset, and means one thing.

JSON Schema patterns are ECMA-262 regexes; the mock checks them with Python's `re`.
`\\s`, `\\d`, `\\w` and friends match different characters in the two, so the documents
use explicit classes only (the issue's example: `"http://a\\u001cb"`).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flux2_spec.resources import schemas_dir
from flux2_spec.validation import schema_set
from mock_server.api.openapi import bundled_document
from mock_server.callbacks import sender
from mock_server.callbacks.sender import HostPolicy, Sender, private_reason

# Constructs outside the subset JSON Schema recommends (and that differ between dialects).
UNPORTABLE = re.compile(r"\\[sSdDwWbBAZzGpPhHvVRXKQE]|\(\?|\\[0-9]|\\c|\\x|\[\[:")
URL_PATTERN = schema_set().schema("common.json")["$defs"]["httpUrl"]["pattern"]


def patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            elif key == "patternProperties" and isinstance(value, dict):
                yield from value
            yield from patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from patterns(item)


def documents() -> list[tuple[str, Any]]:
    folder = Path(schemas_dir())
    found: list[tuple[str, Any]] = [(p.name, json.loads(p.read_text("utf-8")))
                                    for p in sorted(folder.glob("*.json"))]
    found += [(p.name, yaml.safe_load(p.read_text("utf-8"))) for p in sorted(folder.glob("*.yaml"))]
    return [*found, ("/openapi.json", bundled_document())]


@pytest.mark.parametrize(("name", "document"), documents(), ids=lambda v: v if
                         isinstance(v, str) else "")
def test_every_pattern_is_in_the_portable_subset(name: str, document: Any) -> None:
    for pattern in patterns(document):
        assert not UNPORTABLE.search(pattern), f"{name}: {pattern[:80]}"
        assert "$" not in pattern[:-1].replace("\\$", ""), f"{name}: $ inside {pattern[:80]}"
        re.compile(pattern)


def test_the_served_document_has_patterns_to_check() -> None:
    assert URL_PATTERN in list(patterns(bundled_document()))


@pytest.mark.parametrize("url", ["http://a\u001cb", "http://a\u001fb/", "http://a/\n",
                                 "http://a/\u2028x", "http://a b", "http://a\u00a0b/",
                                 "http://a/\u0085", "http://a\u3000/", "http://a/\ufeff"])
def test_urls_the_two_dialects_once_read_differently_are_invalid_in_both(url: str) -> None:
    # Invalid for the mock (Python) ...
    assert schema_set().errors("generate-request.json", {
        "request_type": "callback", "callback_url": url, "input": {"prompt": "abc"}})
    # ... and by the document's own classes, read character by character as ECMA-262 does.
    assert any(ord(c) <= 0x20 or 0x7F <= ord(c) <= 0xA0 or c in "\u2028\u3000\ufeff"
               for c in url)


@pytest.fixture
def nowhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """No name resolves: a generated host is never looked up in DNS, let alone contacted."""
    def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(sender, "resolve", resolve)


@pytest.mark.slow  # generating from a long regex takes seconds
@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.from_regex(URL_PATTERN))
def test_every_url_the_pattern_admits_parses_and_is_judged(nowhere: None, url: str) -> None:
    if "\n" in url:
        return  # `not: {pattern: "\\n"}` refuses these
    parts = urlsplit(url)
    assert parts.scheme.lower() in ("http", "https") and parts.hostname
    port = parts.port
    assert port is None or 0 <= port <= 65535
    private_reason(url)  # never raises
    # A policy that admits no address: every URL is judged, none contacted.
    result = asyncio.run(Sender(HostPolicy.parse(["nothing.invalid"])).post(url, b"{}", 1))
    assert result.status is None and not result.contacted and result.final, result
