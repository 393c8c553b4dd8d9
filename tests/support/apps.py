"""Settings every in-process app of the test suite starts from."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask

from mock_server.app import create_app
from mock_server.domain.clock import Clock

# Fuzzers and property tests invent callback URLs on any host: deliver to loopback only.
LOOPBACK_ONLY: dict[str, Any] = {"callback_allowed_hosts": ("loopback",)}

# One app at a time: werkzeug compiles each URL rule with `ast.parse`, and CPython 3.11 keeps
# the AST builder's recursion counter in interpreter-wide state (PyAST_mod2obj), so two threads
# parsing at once can fail with "SystemError: AST constructor recursion depth mismatch" when
# the GIL changes hands mid-build. tests/contract/test_broken_targets.py builds ten at once.
_BUILDING = threading.Lock()


def make_app(settings: Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """Build an in-process mock (memory store unless given) that calls back loopback only."""
    with _BUILDING:
        return create_app({"store": "memory", **LOOPBACK_ONLY, **(settings or {})}, clock=clock)
