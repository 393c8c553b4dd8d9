"""The application factory."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask

from mock_server.api.service import Flux2Backend
from mock_server.callbacks.dispatcher import Dispatcher, build_dispatcher
from mock_server.control.metrics import Metrics, instrument, note_route, open_metrics
from mock_server.domain.clock import Clock, SharedOffsetClock
from mock_server.domain.errors import register_error_handlers
from mock_server.journal.buffer import Journal, open_journal
from mock_server.paid.http import PaidPart, build_paid_part
from mock_server.settings import Settings, load_settings
from mock_server.storage.memory.runtime import Runtime, open_runtime
from mock_server.storage.memory.tasks import MemoryStore, TaskStore
from mock_server.storage.sqlite.tasks import SQLiteStore


@dataclass
class MockState:
    """Per-app state, kept in `app.extensions['flux2_mock']`."""

    settings: Settings
    store: TaskStore
    clock: Clock
    backend: Flux2Backend
    journal: Journal | None = None
    paid: PaidPart | None = None
    runtime: Runtime | None = None
    metrics: Metrics | None = None
    dispatcher: Dispatcher | None = None


def open_store(path: str) -> TaskStore:
    """Return the store a `--store` value names: `memory`, or a SQLite file."""
    return MemoryStore() if path == "memory" else SQLiteStore(path)


def shared_clock(store: TaskStore) -> SharedOffsetClock:
    """Return the wall clock, advanceable through the control plane for every worker."""
    return SharedOffsetClock(f"{store.path}.clock" if isinstance(store, SQLiteStore) else None)


def _add_control_plane(app: Flask, state: MockState) -> None:
    """Give the control plane its run-time state, request metrics, and dashboard."""
    from mock_server.control import dashboard
    from mock_server.control.auth import guard_control_plane

    guard_control_plane(app)
    state.runtime = open_runtime(state.store)
    state.backend.runtime = state.runtime
    state.metrics = open_metrics(state.store)
    app.wsgi_app = instrument(app.wsgi_app, state.metrics)  # type: ignore[method-assign]
    note_route(app)
    app.register_blueprint(dashboard.bp)


def create_app(settings: Settings | Mapping[str, Any] | None = None, *,
               store: TaskStore | None = None, clock: Clock | None = None) -> Flask:
    """Build the mock: settings, or a mapping applied over the environment's settings."""
    if not isinstance(settings, Settings):
        settings = load_settings(overrides=settings or {})
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        FLUX2_ERROR_STATUS=settings.error_status,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = True  # type: ignore[attr-defined]
    store = store if store is not None else open_store(settings.store_path)
    clock = clock if clock is not None else shared_clock(store)
    state = MockState(settings, store, clock, Flux2Backend(settings, store, clock))
    app.extensions["flux2_mock"] = state
    register_error_handlers(app)

    # The paid part (docs/paid-and-faults.md) admits, charges and faults API requests.
    state.paid = build_paid_part(settings, store, clock, seed=state.backend.seed)
    state.backend.admission = state.paid.admission
    # The request journal (docs/conformance.md) records every API request.
    state.journal = open_journal(store, flush_ms=settings.journal_flush_ms,
                                 max_entries=settings.journal_max_entries)
    from mock_server.api import openapi as openapi_api
    from mock_server.api import views as api
    from mock_server.conformance import report as conformance_api
    from mock_server.control import views as control
    from mock_server.journal import recorder as journal_http
    from mock_server.paid import http as billing_api

    journal_http.install(app, state.journal, clock)
    for blueprint in (api.bp, billing_api.bp, openapi_api.bp, control.bp, conformance_api.bp):
        app.register_blueprint(blueprint)
    _add_control_plane(app, state)
    _add_callbacks(app, state)
    return app


def _add_callbacks(app: Flask, state: MockState) -> None:
    """Give the app its callback dispatcher (docs/callbacks.md) and the journal's endpoints."""
    from mock_server.control import callback_views as callback_api

    state.dispatcher = build_dispatcher(state.settings, state.store, state.clock,
                                        state.backend.profile)
    state.backend.submitted.append(state.dispatcher.task_submitted)
    app.register_blueprint(callback_api.bp)
