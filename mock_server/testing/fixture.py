"""What the `flux2_mock` fixture hands a test: a mock in a thread, or a handle on a running one."""

from __future__ import annotations

import importlib
import pkgutil
import threading
import time
from typing import Any, Protocol, cast

import requests as http
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from mock_server.app import create_app
from mock_server.domain.clock import VirtualClock
from mock_server.state import EXTENSION, MockState
from mock_server.testing.handle import ControlPlaneMock
from mock_server.testing.records import CallbackAttempt, QueuedScenario, RequestRecord, TaskView

FIXTURE_DEFAULTS: dict[str, Any] = {
    "store": "memory",
    # Virtual time at the real API's pace: the docs' 15 s / 5 s / 3 min apply as written,
    # and a test moves time with advance() instead of waiting.
    "profile": "realistic",
    "seed": 2026,
    # A test's callback receiver is on loopback by necessity: do not flag it.
    "conformance_callback_exempt_hosts": ("loopback",),
    # ...and the only place a test's callbacks should go.
    "callback_allowed_hosts": ("loopback",),
}


class MockHandle(Protocol):
    """What a test may do with the mock (in-process or running elsewhere: the same answers)."""

    base_url: str
    api_key: str

    def url(self, path: str) -> str: ...
    def now(self) -> float: ...
    def advance(self, seconds: float) -> None: ...
    def deliver_due(self) -> int: ...
    def tasks(self) -> list[dict[str, Any]]: ...
    def task(self, task_id: str) -> TaskView: ...
    def callbacks(self) -> list[dict[str, Any]]: ...
    def callback_attempts(self, task_id: str) -> list[CallbackAttempt]: ...
    def queue(self, scenario: str, count: int = 1) -> QueuedScenario: ...
    def force(self, task_id: str, outcome: str, fail_code: str | None = None) -> TaskView: ...
    def requests(self, kind: str | None = None, *,
                 task_id: str | None = None) -> list[RequestRecord]: ...
    def count_requests(self, kind: str | None = None, *, task_id: str | None = None) -> int: ...
    def conformance(self) -> dict[str, Any]: ...
    def findings(self, *, warnings: bool = True,
                 ignore: tuple[str, ...] = ()) -> list[dict[str, Any]]: ...
    def assert_conformant(self, *, warnings: bool = True, ignore: tuple[str, ...] = ()) -> None:
        ...
    def reset(self) -> None: ...
    def close(self) -> None: ...


def import_all_modules() -> None:
    """Import every module of the mock here, in the caller's thread, once.

    Under pytest the mock's modules are rewritten on import (it is a plugin's package), and
    that is not thread-safe: an import first made by the server thread while the test thread
    imports too can fail, leaving the mock answering 500 for good.
    """
    package = importlib.import_module("mock_server")
    for module in pkgutil.walk_packages(package.__path__, prefix="mock_server."):
        if not module.name.endswith("__main__"):  # __main__ would run the command line
            importlib.import_module(module.name)


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # the journal keeps every request; stderr need not


class InProcessMock(ControlPlaneMock):
    """The mock served by a thread of this process, on a virtual clock and a memory store."""

    def __init__(self, app: Any, server: BaseWSGIServer, thread: threading.Thread) -> None:
        self.app = app
        self.state: MockState = app.extensions[EXTENSION]
        self.clock: VirtualClock = cast(VirtualClock, self.state.clock)
        self.server = server
        self.thread = thread
        self.base_url = f"http://127.0.0.1:{server.server_port}"
        self.api_key: str = self.state.settings.api_keys[0]
        self.http = http.Session()

    @classmethod
    def start(cls, settings: dict[str, Any] | None = None) -> InProcessMock:
        """Serve a new mock on a free 127.0.0.1 port and return once it answers."""
        import_all_modules()
        app = create_app({**FIXTURE_DEFAULTS, **(settings or {})}, clock=VirtualClock())
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  name="flux2-mock-fixture", daemon=True)
        thread.start()
        handle = cls(app, server, thread)
        handle.wait_ready()
        return handle

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Return once /_mock/health answers 200; raise RuntimeError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = http.get(self.url("/_mock/health"), timeout=2)
                if answer.ok:
                    return
                problem = f"health answered {answer.status_code}: {answer.text[:200]}"
            except http.RequestException as exc:
                problem = str(exc)
            if time.monotonic() > deadline:
                raise RuntimeError(f"the in-process mock did not become ready: {problem}")
            time.sleep(0.01)

    def _scope(self) -> dict[str, str]:
        return {}  # the mock is this session's alone: every key's tasks and requests

    def reset(self) -> None:
        """Forget every task, request, callback, queued scenario, rate and charge."""
        self._call("POST", "/_mock/reset")

    def close(self) -> None:
        super().close()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        self.state.journal.close()


class RemoteMock(ControlPlaneMock):
    """A mock already running elsewhere (`flux2-mock serve`), driven through its control plane.

    It may be shared with other clients, so a reset forgets only this handle's key.
    """

    def __init__(self, base_url: str, api_key: str | None = None,
                 admin_token: str | None = None) -> None:
        from mock_server.settings import DEFAULT_API_KEY

        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or DEFAULT_API_KEY
        self.http = http.Session()
        if admin_token:
            self.http.headers["Authorization"] = f"Bearer {admin_token}"
        try:
            health = self.http.get(self.url("/_mock/health"), timeout=10)
        except http.ConnectionError:
            raise RuntimeError(f"no flux2-mock answers at {self.base_url}: start one "
                               f"(flux2-mock serve) or drop --flux2-mock-url") from None
        if not health.ok:
            raise RuntimeError(f"no flux2-mock at {self.base_url}: /_mock/health answered "
                               f"{health.status_code}")
