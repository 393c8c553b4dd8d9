"""Fixtures: the suite run as a library against real HTTP targets on loopback."""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest

import mock_server
from contract_tests import Options, RunResult, run
from contract_tests.progress import Progress
from tests.support.apps import make_app

from .breakages import KEY, Breakage
from .relay import relay
from .wsgi_target import Req, Resp, Rewrite, served

SEED = 20261124
# CPython 3.11 keeps the AST constructor's recursion depth per interpreter, not per thread:
# two threads building ASTs at once can fail with "SystemError: AST constructor recursion
# depth mismatch" (python/cpython#106905). Werkzeug compiles each URL rule with ast.parse
# when create_app registers it, so the broken targets' apps are built one at a time.
APP_LOCK = threading.Lock()


def run_suite(base_url: str, *, progress: Progress | None = None,
              **options: Any) -> RunResult:
    """Run the contract suite against `base_url` with a fixed seed unless told otherwise."""
    values: dict[str, Any] = {"api_key": KEY, "seed": SEED, **options}
    return run(Options(base_url=base_url, **values), progress=progress)


def statuses(result: RunResult) -> dict[str, str]:
    return {o.check.name: o.status for o in result.outcomes}


def failed(result: RunResult) -> dict[str, str]:
    """Return the failed checks with their reasons (for assertion messages)."""
    return {o.check.name: o.reason(result.unavailable) for o in result.outcomes
            if o.status == "failed"}


@contextmanager
def broken_target(breakage: Breakage) -> Iterator[str]:
    """Serve the mock app (in-process, fast profile) with `breakage` applied; yield its URL."""
    settings = {"store": "memory", "profile": "fast", **breakage.settings}
    with ExitStack() as stack:
        on_request = breakage.on_request
        with APP_LOCK:
            app = make_app(settings)
        target = Rewrite(app)
        if breakage.callback is not None:
            to_relay = stack.enter_context(relay(breakage.callback,
                                                   breakage.callback_content_type))
            on_request = _through_relay(to_relay, on_request)
        if on_request is not None:
            rule = on_request
            target.on_request = lambda req: rule(target, req)
        if breakage.on_response is not None:
            answer = breakage.on_response
            target.on_response = lambda req, resp: answer(target, req, resp)
        yield stack.enter_context(served(target))


def _through_relay(to_relay: Callable[[str], str], then: Any) -> Any:
    def rule(target: Rewrite, req: Req) -> Req | Resp:
        body = req.json
        if req.is_submit and isinstance(body, dict) and isinstance(body.get("callback_url"), str):
            body["callback_url"] = to_relay(body["callback_url"])
            req.with_json(body)
        return then(target, req) if then else req
    return rule


def prepare_in_process_mock() -> None:
    """Import the mock app's modules in this thread before serving it from many threads.

    pytest rewrites assertions on import, which is not thread-safe: the broken targets are
    served from several threads at once and would import lazily-loaded modules side by side.
    """
    for module in pkgutil.walk_packages(mock_server.__path__, "mock_server."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    make_app({"store": "memory"})


@pytest.fixture(scope="session")
def in_process_mock() -> Iterator[str]:
    """The mock app, unchanged, served in a thread (fast profile)."""
    with broken_target(Breakage()) as url:
        yield url
