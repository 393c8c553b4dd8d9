"""Prometheus metrics: requests by route and status and their latency, counted per process.

Counting a request is a few dict updates in this process's memory. With several
worker processes each one also copies its counts into the SQLite store, from a
background thread at most once a second, and a scrape sums every worker of this
server: another worker's latest requests show up within about a second.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask, request

from mock_server.storage.protocols import MetricsSink

# Upper bounds of the latency histogram's buckets, in seconds.
BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FLUSH_EVERY_S = 1.0
ROUTE_KEY = "flux2_mock.route"
# Label values stay few whatever clients send: routes are patterns, other methods are OTHER.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    """This process's request counts and latency histogram, by route."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, list[float]] = {}  # route -> bucket counts..., +Inf, sum
        self._lock = threading.Lock()
        self.dirty = False

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        with self._lock:
            key = (route, method, status)
            self.requests[key] = self.requests.get(key, 0) + 1
            row = self.latency.get(route)
            if row is None:
                row = self.latency[route] = [0.0] * (len(BUCKETS_S) + 2)
            row[bisect.bisect_left(BUCKETS_S, seconds)] += 1
            row[-1] += seconds
            self.dirty = True

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            self.dirty = False
            return {"requests": [[*k, v] for k, v in self.requests.items()],
                    "latency": {r: list(v) for r, v in self.latency.items()}}

    def merge(self, data: dict[str, Any]) -> None:
        """Add another process's snapshot to these counts."""
        for route, method, status, count in data["requests"]:
            key = (route, method, int(status))
            self.requests[key] = self.requests.get(key, 0) + int(count)
        for route, row in data["latency"].items():
            mine = self.latency.setdefault(route, [0.0] * (len(BUCKETS_S) + 2))
            for index, value in enumerate(row):
                mine[index] += value


class Metrics:
    """Request metrics of this process, shared through a sink when there is one."""

    def __init__(self, sink: MetricsSink | None = None, *, shared: bool = True) -> None:
        # A server that is one process has nothing to share: its own counts are all.
        self.sink = sink if shared else None
        self.local = RequestMetrics()
        self._process = ""
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.local.observe(route, method, status, seconds)
        if self.sink is not None and (self._thread is None or not self._thread.is_alive()):
            self._start()  # lazily, and again in a forked worker, which inherits no thread

    def flush(self) -> None:
        if self.sink is not None and self._process:
            self.sink.write(self._process, self.local.snapshot())

    def combined(self, *, every_instance: bool = False) -> RequestMetrics:
        """Return this process's counts plus every other worker's latest copy.

        `every_instance`: also every other server's on a shared database (PostgreSQL);
        a SQLite file has one server, so it adds nothing there.
        """
        total = RequestMetrics()
        total.merge(self.local.snapshot())
        if self.sink is not None:
            self.flush()
            for snapshot in self.sink.read(skip=self._process):
                total.merge(snapshot)
            for snapshot in self.sink.read_others() if every_instance else ():
                total.merge(snapshot)
        return total

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._process = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
            self._thread = threading.Thread(target=_flush_loop, args=(weakref.ref(self),),
                                            name="flux2-mock-metrics", daemon=True)
            self._thread.start()


def _flush_loop(ref: weakref.ref[Metrics]) -> None:
    while True:
        time.sleep(FLUSH_EVERY_S)
        metrics = ref()
        if metrics is None:
            return
        if metrics.local.dirty:
            # A busy store must not kill the flusher: it tries again next time.
            with contextlib.suppress(Exception):
                metrics.flush()
        del metrics  # hold no reference while sleeping: an unused app can be collected


def instrument(wsgi_app: Callable[..., Iterable[bytes]], metrics: Metrics
               ) -> Callable[..., Iterable[bytes]]:
    """Wrap a WSGI app so that each request is counted by route, method and status."""

    def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        seen: list[str] = []

        def record_status(status: str, headers: Any, exc_info: Any = None) -> Any:
            seen.append(status)
            return start_response(status, headers, exc_info)

        try:
            return wsgi_app(environ, record_status)
        finally:
            status = int(seen[-1].split(None, 1)[0]) if seen else 0
            method = environ.get("REQUEST_METHOD", "")
            metrics.observe(environ.get(ROUTE_KEY, "unmatched"),
                            method if method in METHODS else "OTHER", status,
                            time.perf_counter() - started)

    return counted


def note_route(app: Flask) -> None:
    """Make `app` note each request's route pattern where `instrument` can read it."""

    def _note_route() -> None:
        rule = request.url_rule
        if rule is not None:
            request.environ[ROUTE_KEY] = rule.rule

    # First of all before-request hooks: one that answers early must not hide the route.
    app.before_request_funcs.setdefault(None, []).insert(0, _note_route)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def exposition(requests: RequestMetrics, tasks_by_state: dict[str, int],
               callbacks_by_outcome: dict[str, int] | None) -> str:
    """Render the metrics in the Prometheus text exposition format (version 0.0.4)."""
    return "".join(_lines(requests, tasks_by_state, callbacks_by_outcome))


def _lines(requests: RequestMetrics, tasks_by_state: dict[str, int],
           callbacks_by_outcome: dict[str, int] | None) -> Iterator[str]:
    yield "# HELP flux2_mock_requests_total Requests answered, by route, method and status.\n"
    yield "# TYPE flux2_mock_requests_total counter\n"
    for (route, method, status), count in sorted(requests.requests.items()):
        yield (f'flux2_mock_requests_total{{route="{_label(route)}",method="{_label(method)}",'
               f'status="{status}"}} {count}\n')
    yield "# HELP flux2_mock_request_duration_seconds Time to answer a request, by route.\n"
    yield "# TYPE flux2_mock_request_duration_seconds histogram\n"
    for route, row in sorted(requests.latency.items()):
        label = _label(route)
        cumulative = 0.0
        for bound, hits in zip((*BUCKETS_S, "+Inf"), row[:-1], strict=True):
            cumulative += hits
            yield (f'flux2_mock_request_duration_seconds_bucket{{route="{label}",le="{bound}"}} '
                   f"{cumulative:g}\n")
        yield f'flux2_mock_request_duration_seconds_sum{{route="{label}"}} {row[-1]:.6f}\n'
        yield f'flux2_mock_request_duration_seconds_count{{route="{label}"}} {cumulative:g}\n'
    yield "# HELP flux2_mock_tasks Tasks in the store, by state now.\n"
    yield "# TYPE flux2_mock_tasks gauge\n"
    for state, count in tasks_by_state.items():
        yield f'flux2_mock_tasks{{state="{state}"}} {count}\n'
    if callbacks_by_outcome is not None:
        yield "# HELP flux2_mock_callback_attempts_total Callback deliveries tried, by outcome.\n"
        yield "# TYPE flux2_mock_callback_attempts_total counter\n"
        for outcome, count in sorted(callbacks_by_outcome.items()):
            yield f'flux2_mock_callback_attempts_total{{outcome="{_label(outcome)}"}} {count}\n'
