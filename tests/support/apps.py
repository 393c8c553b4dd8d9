"""Settings every in-process app of the test suite starts from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from mock_server.app import create_app
from mock_server.domain.clock import Clock

# Fuzzers and property tests invent callback URLs on any host: deliver to loopback only.
LOOPBACK_ONLY: dict[str, Any] = {"callback_allowed_hosts": ("loopback",)}


def make_app(settings: Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """Build an in-process mock (memory store unless given) that calls back loopback only."""
    return create_app({"store": "memory", **LOOPBACK_ONLY, **(settings or {})}, clock=clock)
