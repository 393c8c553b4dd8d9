"""What the `flux2_mock` fixture hands a test: a mock in a thread, or a handle on a running one."""

from __future__ import annotations

import importlib
import pkgutil
import threading
import time
from abc import ABC, abstractmethod
from typing import Any, Protocol, cast

import requests
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from mock_server.app import create_app
from mock_server.conformance.evaluation import render_table
from mock_server.domain.clock import VirtualClock
from mock_server.domain.keys import mask_key
from mock_server.domain.tasks import task_data
from mock_server.state import EXTENSION, MockState
from mock_server.storage.paging import iter_tasks

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
    """What a test may do with the mock."""

    base_url: str
    api_key: str

    def url(self, path: str) -> str: ...
    def now(self) -> float: ...
    def advance(self, seconds: float) -> None: ...
    def tasks(self) -> list[dict[str, Any]]: ...
    def callbacks(self) -> list[dict[str, Any]]: ...
    def conformance(self) -> dict[str, Any]: ...
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


class _Common(ABC):
    base_url: str
    api_key: str

    def url(self, path: str) -> str:
        """Return the absolute URL of `path` on the mock."""
        return self.base_url + "/" + path.lstrip("/")

    @abstractmethod
    def conformance(self) -> dict[str, Any]:
        """Return the conformance report of this mock's API key."""

    def findings(self, *, warnings: bool = True,
                 ignore: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """Return the findings that fail assert_conformant."""
        return [f for f in self.conformance()["findings"] if f["rule"] not in ignore
                and (warnings or f["severity"] == "error")]

    def assert_conformant(self, *, warnings: bool = True, ignore: tuple[str, ...] = ()) -> None:
        """Fail with the report's table if the client broke any rule (warnings too, unless off)."""
        __tracebackhide__ = True
        report = self.conformance()
        if self.findings(warnings=warnings, ignore=ignore):
            raise AssertionError("the client does not use the API as documented:\n"
                                 + render_table(report))


class InProcessMock(_Common):
    """The mock served by a thread of this process, on a virtual clock and a memory store."""

    def __init__(self, app: Any, server: BaseWSGIServer, thread: threading.Thread) -> None:
        self.app = app
        self.state: MockState = app.extensions[EXTENSION]
        self.clock: VirtualClock = cast(VirtualClock, self.state.clock)
        self.server = server
        self.thread = thread
        self.base_url = f"http://127.0.0.1:{server.server_port}"
        self.api_key: str = self.state.settings.api_keys[0]

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
                answer = requests.get(self.url("/_mock/health"), timeout=2)
                if answer.ok:
                    return
                problem = f"health answered {answer.status_code}: {answer.text[:200]}"
            except requests.RequestException as exc:
                problem = str(exc)
            if time.monotonic() > deadline:
                raise RuntimeError(f"the in-process mock did not become ready: {problem}")
            time.sleep(0.01)

    def now(self) -> float:
        """The mock's time, in seconds since the epoch (virtual)."""
        return self.clock.now_ms() / 1000

    def advance(self, seconds: float) -> None:
        """Move time for every task, then deliver the callbacks that fell due."""
        self.clock.advance(seconds)
        self.state.dispatcher.deliver_due(self.clock.now_ms())

    def tasks(self) -> list[dict[str, Any]]:
        """Every task as the status endpoint would answer it now, with its request."""
        now = self.clock.now_ms()
        return [{**task_data(r, now), "request": r.request, "apiKey": mask_key(r.api_key)}
                for r in iter_tasks(self.state.store)]

    def callbacks(self) -> list[dict[str, Any]]:
        """Every callback delivery attempt (with the payload sent), oldest first."""
        dispatcher = self.state.dispatcher
        attempts = [{"taskId": r.task_id, **a.as_json()}
                    for r in iter_tasks(self.state.store)
                    if r.request.get("request_type") == "callback"
                    for d in dispatcher.journal(r.task_id) for a in d.attempts]
        return sorted(attempts, key=lambda a: a["time"])

    def conformance(self) -> dict[str, Any]:
        """The conformance report over everything since the last reset."""
        return self.state.control.conformance(None)

    def reset(self) -> None:
        """Forget every task, journal entry, callback and queued scenario; time goes on."""
        self.state.control.reset()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        self.state.journal.close()


class RemoteMock(_Common):
    """A mock already running elsewhere (`flux2-mock serve`), driven through its control plane."""

    def __init__(self, base_url: str, api_key: str | None = None,
                 admin_token: str | None = None) -> None:
        from mock_server.settings import DEFAULT_API_KEY

        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or DEFAULT_API_KEY
        self.http = requests.Session()
        if admin_token:
            self.http.headers["Authorization"] = f"Bearer {admin_token}"
        health = self.http.get(self.url("/_mock/health"), timeout=10)
        if not health.ok:
            raise RuntimeError(f"no flux2-mock at {self.base_url}: /_mock/health answered "
                               f"{health.status_code}")

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, self.url(path), timeout=30, **kwargs)
        if not response.ok:
            raise RuntimeError(f"{method} {path} on {self.base_url} answered "
                               f"{response.status_code}: {response.text[:300]}")
        return response.json()

    def now(self) -> float:
        return float(self._call("GET", "/_mock/clock")["now"]) / 1000

    def advance(self, seconds: float) -> None:
        self._call("POST", "/_mock/clock/advance", json={"seconds": seconds})

    def tasks(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after: int | None = 0
        while after is not None:
            page = self._call("GET", "/_mock/tasks", params={
                "apiKey": self.api_key, "limit": 500, "after": after})
            found += page["tasks"]
            after = page.get("next")
        return found

    def callbacks(self) -> list[dict[str, Any]]:
        attempts = []
        for task in self.tasks():
            deliveries = self._call("GET", f"/_mock/tasks/{task['taskId']}/callbacks")
            for delivery in deliveries.get("deliveries", []):
                attempts += [{"taskId": task["taskId"], **a} for a in delivery["attempts"]]
        return sorted(attempts, key=lambda a: a["time"])

    def conformance(self) -> dict[str, Any]:
        report: dict[str, Any] = self._call("GET", "/_mock/conformance",
                                            headers={"X-Flux2-Api-Key": self.api_key})
        return report

    def reset(self) -> None:
        # Only this key's part: a running mock may be shared with other clients.
        self._call("POST", "/_mock/reset", params={"apiKey": self.api_key})

    def close(self) -> None:
        self.http.close()
